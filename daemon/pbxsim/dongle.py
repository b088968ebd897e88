"""chan_dongle in the simulator: a GSM gateway that sends and receives SMS over AMI.

`DongleSendSMS` (Device, Number, Message) is answered at once with the message ID, then the
status events follow as a real modem reports them: `DongleSMSStatus` Sent, then Delivered
when the network's delivery report comes (or NotSent for a scripted failure). `receive()`
makes the modem announce an inbound SMS (`DongleNewSMS`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from daemon.pbxsim.clock import SimClock
from daemon.pbxsim.wire import Action, Fields


class DongleModem:
    """One or more dongles; `outcomes` scripts what happens to an SMS per number."""

    def __init__(self, clock: SimClock, emit: Callable[[Fields], None]) -> None:
        self.clock = clock
        self.emit = emit
        self.devices = {"dongle0"}
        self.outcomes: dict[str, str] = {}  # number -> delivered | sent | notsent
        self.sent: list[dict[str, str]] = []  # every SMS the modem accepted
        self._seq = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def script(self, number: str, outcome: str) -> None:
        """delivered (default), sent (no delivery report ever comes) or notsent."""
        self.outcomes[number] = outcome

    def send_sms(self, action: Action, reply: Callable[[Fields], None]) -> None:
        device, number = action.get("Device"), action.get("Number")
        if device not in self.devices:
            reply([("Response", "Error"), ("Message", f"Device {device} not found")])
            return
        if not number or not action.get("Message"):
            reply([("Response", "Error"), ("Message", "Number and Message are required")])
            return
        self._seq += 1
        sms_id = f"0x{self._seq:08x}"
        self.sent.append({"ID": sms_id, "Number": number, "Message": action.get("Message")})
        reply(
            [
                ("Response", "Success"),
                ("Message", f"[{device}] SMS queued for send"),
                ("ID", sms_id),
            ]
        )
        task = asyncio.get_running_loop().create_task(
            self._report(device, sms_id, self.outcomes.get(number, "delivered")),
            name="pbxsim:dongle-sms",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, device: str, sms_id: str, outcome: str) -> None:
        await self.clock.sleep(1.0)
        self._status(device, sms_id, "NotSent" if outcome == "notsent" else "Sent")
        if outcome == "delivered":
            await self.clock.sleep(3.0)
            self._status(device, sms_id, "Delivered")

    def _status(self, device: str, sms_id: str, status: str) -> None:
        self.emit(
            [
                ("Event", "DongleSMSStatus"),
                ("Privilege", "call,all"),
                ("Device", device),
                ("ID", sms_id),
                ("Status", status),
            ]
        )

    def receive(self, sender: str, text: str, device: str = "dongle0") -> None:
        """An SMS arrives from `sender` (lines as chan_dongle splits them)."""
        lines = text.split("\n")
        self.emit(
            [
                ("Event", "DongleNewSMS"),
                ("Privilege", "call,all"),
                ("Device", device),
                ("From", sender),
                ("LineCount", str(len(lines))),
            ]
            + [(f"MessageLine{i}", line) for i, line in enumerate(lines)]
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
