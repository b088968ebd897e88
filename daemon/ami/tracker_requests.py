"""What our click-to-calls and the dialplan say about a call: the request variable of an
Originate (and the number it dials, told in advance), its OriginateResponse, and the recording
file (MixMonitor's variable or a dialplan UserEvent).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from daemon.ami.tracker_core import TrackerCore
from daemon.ami.tracker_state import Chan

UNKNOWN = "<unknown>"
RECORDING_HEADERS = ("MixMonitorFilename", "Recording", "RecordingFile")
# Click-to-calls remembered until their channel appears (one refused by the PBX never does).
_EXPECTED_ORIGINATES = 1000


def real(value: str | None) -> str:
    """A header's value, "" for none or Asterisk's `<unknown>`."""
    return "" if not value or value == UNKNOWN else value


class RequestHandlers(TrackerCore):
    """The handlers of VarSet, UserEvent and OriginateResponse."""

    _request_vars: frozenset[str]

    def __init__(self, remember_ended: int) -> None:
        super().__init__(remember_ended)
        # Click-to-call request id -> the number it dials (`expect_originate`), until its
        # channel shows the request variable.
        self._expected: OrderedDict[str, str] = OrderedDict()

    def expect_originate(self, request_id: str, number: str) -> None:
        """Our click-to-call `request_id` is about to dial `number`.

        Asterisk rings the agent's phone before it dials anybody, and its events name the
        number only once the agent answered: the pop-up learns it here, by the request
        variable every leg of the Originate carries.
        """
        if not request_id or not number:
            return
        self._expected[request_id] = number
        while len(self._expected) > _EXPECTED_ORIGINATES:
            self._expected.popitem(last=False)

    if TYPE_CHECKING:  # CallTracker's (daemon/ami/tracker.py): the channel an event is about

        def _chan(
            self, event: Mapping[str, str], t: float, out: list[Any], prefix: str = ""
        ) -> Chan | None: ...

    def _on_varset(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        variable = event.get("Variable", "").lstrip("_")
        if variable in self._request_vars:
            chan = self._chan(event, t, out)
            if chan is not None and event.get("Value"):
                call = chan.call
                assert call is not None
                call.request_id = event["Value"]
                call.dialed = call.dialed or self._expected.pop(call.request_id, "")
        elif variable == "MIXMONITOR_FILENAME":
            chan = self._chan(event, t, out)
            if chan is not None and event.get("Value"):
                chan.call.recording = event["Value"]  # type: ignore[union-attr]

    def _on_user_event(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        for header in RECORDING_HEADERS:
            if event.get(header):
                chan = self._chan(event, t, out)
                if chan is not None:
                    chan.call.recording = event[header]  # type: ignore[union-attr]
                return

    def _on_originate_response(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chans.get(real(event.get("Uniqueid")))
        if chan is None:
            # A failed Originate names the channel it tried without its sequence suffix.
            prefix = event.get("Channel", "") + "-"
            chan = next(
                (c for c in self._chans.values() if c.is_agent and c.name.startswith(prefix)),
                None,
            )
        if chan is None or not chan.is_agent:
            return  # not an agent's leg: not a click-to-call of ours
        call = chan.call
        assert call is not None
        call.action_id = event.get("ActionID") or call.action_id
        call.originate_exten = real(event.get("Exten")) or call.originate_exten
