"""Telephony commands carried out over AMI: click-to-call (L5), transfer (L4) and hang-up.

``TelephonyCommands.register(hub)`` makes it the handler of ClickToCall, TransferCall and
HangupCall. Feed it the link's events (``on_event``/``on_resync``, next to the calls service):
it follows each click-to-call through its OriginateResponse and Dial events and publishes
ClickToCallProgress (ringing_agent, dialing, connected, failed with a reason).

A transfer redirects the client's leg into ``[ami] transfer_context`` (by default the outbound
context), once ShowDialPlan has confirmed the colleague's extension exists there.

Click-to-call is the external-softphone flow: Originate rings the agent's extension
(``[ami] agent_channel``), and once the agent answers, the PBX dials the client's number in
``[ami] outbound_context``. The request id is the Originate's ActionID and the value of the
inherited channel variable ``__CENTRALITA_REQ`` (the double underscore makes every leg
carry it), so the recorded call can be matched to the request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

from daemon.ami.directory import ChannelDirectory
from models.contacts.phones import dial_string, parse_phone
from models.core.errors import Message, TelephonyError, msg
from models.core.events import ClickToCall, ClickToCallProgress, HangupCall, TransferCall
from models.core.hub import Hub
from models.core.settings import AmiSettings
from models.people import users as user_ops

logger = logging.getLogger(__name__)

REQUEST_VARIABLE = "CENTRALITA_REQ"
_INTERNAL = re.compile(r"^[0-9*#]{2,6}$")
# OriginateResponse Reason codes (Asterisk's AST_CONTROL_* values).
# Why a click-to-call failed, as message templates (msgids; %(ext)s is the agent's extension).
# Progress events carry them as messages, so each front-end shows them in its reader's language.
_AGENT_FAILURE = {
    0: msg("the extension %(ext)s is not reachable (phone offline or unknown extension)"),
    1: msg("the agent's phone hung up"),
    3: msg("the agent did not answer extension %(ext)s"),
    5: msg("the agent's phone %(ext)s is busy"),
    8: msg("the PBX is congested"),
}
_AGENT_UNRINGABLE = msg("the PBX could not ring extension %(ext)s")
_DIAL_FAILURE = {
    "BUSY": msg("the number is busy"),
    "NOANSWER": msg("nobody answered"),
    "CONGESTION": msg("the network is congested"),
    "CHANUNAVAIL": msg("the number is unreachable"),
    "CANCEL": msg("the call was cancelled"),
}
_CAUSE_FAILURE = {
    1: msg("the number does not exist"),
    17: msg("the number is busy"),
    34: msg("the network is congested"),
}
_NOT_CONNECTED = msg("the call could not be connected")
_DROPPED = msg("the PBX connection dropped; the call did not go through")
_AGENT_LEFT = msg("the agent hung up before the client answered")


class ActionSender(Protocol):
    async def send_action(self, action: dict[str, Any], *, limit: float | None = None) -> Any: ...

    @property
    def is_ready(self) -> bool: ...


@dataclass
class _Request:
    cmd: ClickToCall
    linkedid: str | None = None
    agent_channel: str = ""
    dialed_channel: str = ""
    stage: str = "requested"
    dial_status: str = ""


class TelephonyCommands:
    def __init__(self, link: ActionSender, hub: Hub, settings: AmiSettings) -> None:
        self.link = link
        self.hub = hub
        self.settings = settings
        self.directory = ChannelDirectory(settings.agent_channel)
        self._requests: dict[str, _Request] = {}

    def register(self, hub: Hub | None = None) -> None:
        hub = hub or self.hub
        hub.handle(ClickToCall, self.click_to_call)
        hub.handle(TransferCall, self.transfer)
        hub.handle(HangupCall, self.hangup)

    # -- click-to-call ----------------------------------------------------------------

    async def click_to_call(self, cmd: ClickToCall) -> str:
        """Ask the PBX to ring the agent, then the client. Returns the request id.

        Raises TelephonyError with the reason when the request cannot be carried out.
        """
        try:
            action = await self._originate_action(cmd)
        except TelephonyError as err:
            self._progress(cmd, "failed", _reason_of(err))
            raise
        request = _Request(cmd)
        self._requests[cmd.request_id] = request  # before sending: events may beat the answer
        try:
            answer = await self.link.send_action(action)
        except TelephonyError as err:
            self._fail(request, _reason_of(err))
            raise
        if answer.get("Response") != "Success":
            reason = msg(
                "the PBX refused the call: %(answer)s",
                answer=answer.get("Message") or answer.get("Response"),
            )
            self._fail(request, reason)
            raise TelephonyError(reason)
        if request.stage == "requested":
            request.stage = "ringing_agent"
            self._progress(cmd, "ringing_agent", linkedid=request.linkedid)
        logger.info("click-to-call %s: ringing extension %s", cmd.request_id, cmd.extension)
        return cmd.request_id

    async def _originate_action(self, cmd: ClickToCall) -> dict[str, Any]:
        if not cmd.extension:
            raise TelephonyError(
                msg("you have no extension: ask an admin to set one in your profile")
            )
        exten = await self._dial_format(cmd.number)
        if not self.link.is_ready:
            raise TelephonyError(self._down_reason())
        return {
            "Action": "Originate",
            "ActionID": cmd.request_id,
            "Channel": self.settings.agent_channel.format(extension=cmd.extension),
            "Context": self.settings.outbound_context,
            "Exten": exten,
            "Priority": "1",
            "CallerID": f'"{exten}" <{cmd.extension}>',
            "Timeout": str(self.settings.originate_timeout * 1000),
            "Async": "true",
            "Variable": f"__{REQUEST_VARIABLE}={cmd.request_id}",
        }

    async def _dial_format(self, number: str) -> str:
        typed = (number or "").strip()
        if _INTERNAL.match(typed) and await user_ops.user_by_extension(typed) is not None:
            return typed  # a colleague's extension
        company = await user_ops.get_company()
        parsed = parse_phone(typed, company.default_region)
        if parsed.e164 is None:
            raise TelephonyError(
                msg("cannot call %(number)s: it is not a valid phone number", number=repr(typed))
            )
        telephony = await user_ops.get_telephony()
        return dial_string(
            parsed.e164,
            without_country_prefix=telephony.is_dial_without_country_prefix,
            region=company.default_region,
            outbound_prefix=telephony.outbound_prefix,
        )

    def _down_reason(self) -> Message:
        if not self.settings.host:
            return msg("no PBX is configured ([ami] host is empty)")
        return msg(
            "the PBX at %(host)s:%(port)s is not connected",
            host=self.settings.host,
            port=self.settings.port,
        )

    def _progress(
        self, cmd: ClickToCall, stage: str, reason: str = "", linkedid: str | None = None
    ) -> None:
        self.hub.publish(ClickToCallProgress(cmd.request_id, cmd.user_id, stage, reason, linkedid))

    def _fail(self, request: _Request, reason: str) -> None:
        self._requests.pop(request.cmd.request_id, None)
        request.stage = "failed"
        logger.info("click-to-call %s failed: %s", request.cmd.request_id, reason)
        self._progress(request.cmd, "failed", reason, request.linkedid)

    # -- following the call -----------------------------------------------------------

    async def on_event(self, event: dict[str, str]) -> None:
        self.directory.on_event(event)
        if self._requests:
            self._follow(event)

    async def on_resync(self, snapshot: list[dict[str, str]]) -> None:
        self.directory.on_resync(snapshot)
        # Requests whose call is not live on the PBX after a reconnect ended (or never
        # started) while the link was down: say so rather than leave the caller waiting.
        live = {row.get("Linkedid") for row in snapshot}
        for request in list(self._requests.values()):
            if request.linkedid not in live:
                self._fail(request, _DROPPED)

    def _follow(self, event: dict[str, str]) -> None:
        kind = event.get("Event")
        if kind == "OriginateResponse":
            request = self._requests.get(event.get("ActionID", ""))
            if request is not None:
                self._originate_response(request, event)
            return
        if kind == "VarSet" and event.get("Variable", "").lstrip("_") == REQUEST_VARIABLE:
            request = self._requests.get(event.get("Value", ""))
            if request is not None and request.linkedid is None:
                request.linkedid = event.get("Linkedid")
                request.agent_channel = event.get("Channel", "")
            return
        request = self._by_linkedid(event.get("Linkedid", ""))
        if request is None:
            return
        channel = event.get("Channel", "")
        if kind == "DialBegin" and channel and channel == request.agent_channel:
            request.dialed_channel = event.get("DestChannel", "")
        elif kind == "DialEnd" and channel == request.agent_channel and request.dialed_channel:
            status = event.get("DialStatus", "")
            if status == "ANSWER":
                request.stage = "connected"
                self._progress(request.cmd, "connected", linkedid=request.linkedid)
            else:
                request.dial_status = status  # the reason waits for the hang-up cause
        elif kind == "Hangup":
            self._hangup(request, channel, event)

    def _originate_response(self, request: _Request, event: dict[str, str]) -> None:
        if event.get("Response") == "Success":
            request.agent_channel = request.agent_channel or event.get("Channel", "")
            request.linkedid = request.linkedid or event.get("Uniqueid")
            request.stage = "dialing"
            self._progress(request.cmd, "dialing", linkedid=request.linkedid)
            return
        code = int(event.get("Reason") or 0)
        template = _AGENT_FAILURE.get(code, _AGENT_UNRINGABLE)
        self._fail(request, msg(template.msgid, ext=request.cmd.extension))

    def _hangup(self, request: _Request, channel: str, event: dict[str, str]) -> None:
        if channel == request.dialed_channel and request.stage != "connected":
            cause = int(event.get("Cause") or 0)
            reason = _CAUSE_FAILURE.get(cause) or _DIAL_FAILURE.get(request.dial_status)
            self._fail(request, reason or _NOT_CONNECTED)
        elif channel == request.agent_channel:
            if request.stage == "connected":
                self._requests.pop(request.cmd.request_id, None)
            elif request.stage == "dialing":
                self._fail(request, _AGENT_LEFT)

    def _by_linkedid(self, linkedid: str) -> _Request | None:
        if not linkedid:
            return None
        for request in self._requests.values():
            if request.linkedid == linkedid:
                return request
        return None

    # -- transfer and hang-up ---------------------------------------------------------

    async def transfer(self, cmd: TransferCall) -> None:
        """Blind transfer (L4): the party talking to `extension` is redirected to `to_extension`
        in `[ami] transfer_context`.

        Asterisk does not check a Redirect's destination: a caller sent to an extension the
        context lacks is hung up. So the PBX is asked first (ShowDialPlan); when it does not
        know the destination the call is left alone, still with the agent, who is told why.
        """
        if await user_ops.user_by_extension(cmd.to_extension) is None:
            raise TelephonyError(
                msg("no active colleague has extension %(extension)s", extension=cmd.to_extension)
            )
        leg = self.directory.agent_leg(cmd.linkedid, cmd.extension)
        if leg is None:
            raise TelephonyError(_not_in_call(cmd.extension))
        peer = self.directory.bridged_peer(leg)
        if peer is None:
            raise TelephonyError(
                msg("the call is not connected yet: transfer it once the client answers")
            )
        context = self.settings.transfer_context
        await self._check_destination(cmd.linkedid, context, cmd.to_extension)
        await self._expect_success(
            {
                "Action": "Redirect",
                "Channel": peer.name,
                "Context": context,
                "Exten": cmd.to_extension,
                "Priority": "1",
            },
            msg("the PBX could not transfer the call: %(answer)s"),
        )
        logger.info(
            "call %s: transferred from %s to %s@%s",
            cmd.linkedid,
            cmd.extension,
            cmd.to_extension,
            context,
        )

    async def _check_destination(self, linkedid: str, context: str, extension: str) -> None:
        """Raise TelephonyError when the PBX's dialplan has no `extension` in `context`.

        Asterisk answers ShowDialPlan with a list (ListDialplan ... ShowDialPlanComplete) when
        the extension exists, `Did not find context X` or `Did not find extension E@X` when
        not. Any other refusal (an AMI user without the `reporting` write right is refused
        with `Permission denied`) cannot tell: the transfer goes ahead unchecked, as it did
        before the check existed, and the log says so.
        """
        if not self.link.is_ready:
            raise TelephonyError(self._down_reason())
        answer = await self.link.send_action(
            {"Action": "ShowDialPlan", "Context": context, "Extension": extension}
        )
        if isinstance(answer, list) or answer.get("Response") == "Success":
            return
        text = answer.get("Message", "")
        if text.startswith("Did not find context"):
            logger.warning(
                "call %s: not transferred: the PBX has no context %s ([ami] transfer_context)",
                linkedid,
                context,
            )
            raise TelephonyError(
                msg(
                    "the call was not transferred: the PBX has no dialplan context %(context)s "
                    "(ask an admin to check [ami] transfer_context); the call stays with you",
                    context=context,
                )
            )
        if "not find extension" in text or "No dialplan items" in text:
            logger.info("call %s: not transferred: no %s@%s on PBX", linkedid, extension, context)
            raise TelephonyError(
                msg(
                    "the call was not transferred: the PBX has no extension %(extension)s in "
                    "context %(context)s; the call stays with you",
                    extension=extension,
                    context=context,
                )
            )
        logger.warning(
            "call %s: the PBX refused ShowDialPlan (%s): transferring to %s@%s unchecked "
            "(give the AMI user the reporting write right)",
            linkedid,
            text or answer.get("Response"),
            extension,
            context,
        )

    async def hangup(self, cmd: HangupCall) -> None:
        leg = self.directory.agent_leg(cmd.linkedid, cmd.extension)
        if leg is None:
            raise TelephonyError(_not_in_call(cmd.extension))
        await self._expect_success(
            {"Action": "Hangup", "Channel": leg.name, "Cause": "16"},
            msg("the PBX could not hang up the call: %(answer)s"),
        )
        logger.info("call %s: hung up extension %s's leg", cmd.linkedid, cmd.extension)

    async def _expect_success(self, action: dict[str, Any], failure: Message) -> None:
        """Send `action`; a refusal raises `failure` (a message with an %(answer)s slot)."""
        if not self.link.is_ready:
            raise TelephonyError(self._down_reason())
        answer = await self.link.send_action(action)
        if answer.get("Response") != "Success":
            raise TelephonyError(msg(failure.msgid, answer=answer.get("Message", "")))


def _not_in_call(extension: str) -> Message:
    return msg("extension %(extension)s is not in this call any more", extension=extension)


def _reason_of(err: TelephonyError) -> str:
    """The refusal as the message it was raised with (kept translatable), else its text."""
    reason = err.args[0] if err.args else ""
    return reason if isinstance(reason, Message) else str(err)
