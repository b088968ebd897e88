"""The call tracker: AMI events in, call transitions out. Pure: no I/O, no asyncio, no DB.

Keyed by Linkedid (the Uniqueid of a call's first channel, carried by every channel that
joins it). Channels are classified once (agent phone, outside party, Local helper, see
`ChannelRoles`); the tracker then follows:

* ringing: an agent's channel in state Ringing, or a dialled agent that goes straight Up,
  opens one pop-up per agent per call (`Ringing`); it closes when the agent answers
  (`Answered`), a colleague answers (`StoppedRinging(answered_by=...)`), the dial to it
  ends, or the call ends;
* answer: two parties connected through bridges (and Local helper pairs). A phone or
  trunk that is Up alone (queue music, a call-acceptance prompt) has not been answered;
* transfers: `BlindTransfer` (counted once the target rings), `AttendedTransfer`
  (attended, or blonde when the target still rings) and redirects without any transfer
  event (a new agent takes over after everyone who talked before has left);
* Linkedid changes: Asterisk moves a channel into the older call when calls are merged
  (attended transfer, pickup); the channel moves with its pop-up, and the call it left is
  still recorded with it (a consultation call, or a second caller an agent joined to the
  first, is a call of its own on the list, carrying the transfer);
* end: the last live channel of a Linkedid hangs up; exactly one `Ended` per call.

Time comes from each event's `Timestamp` when the manager sends it, else from the `now`
argument, else from the clock given at construction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from daemon.ami.tracker_outcome import to_datetime
from daemon.ami.tracker_requests import RequestHandlers
from daemon.ami.tracker_requests import real as _real
from daemon.ami.tracker_state import Call, Chan
from daemon.ami.tracker_transfers import TransferHandlers
from daemon.ami.tracker_types import (
    ChannelRoles,
    LiveCall,
    Transition,
    local_pair_key,
)

logger = logging.getLogger(__name__)

DEFAULT_REQUEST_VARIABLES = ("CENTRALITA_REQ", "CRM_CALL_ID")


class CallTracker(TransferHandlers, RequestHandlers):
    """Follows every call of one Asterisk and reports what users would notice."""

    def __init__(
        self,
        agent_extensions: Callable[[], Iterable[str] | None] | None = None,
        *,
        roles: ChannelRoles | None = None,
        agent_channel: str | Iterable[str] = "PJSIP/{extension}",
        request_variables: Iterable[str] = DEFAULT_REQUEST_VARIABLES,
        clock: Callable[[], float] = time.time,
        remember_ended: int = 10_000,
    ) -> None:
        if roles is None:
            templates = (agent_channel,) if isinstance(agent_channel, str) else agent_channel
            roles = ChannelRoles(agent_channels=tuple(templates))
        if agent_extensions is not None:
            roles.agent_extensions = agent_extensions
        self.roles = roles
        self._request_vars = frozenset(v.lstrip("_") for v in request_variables)
        self._clock = clock
        super().__init__(remember_ended)
        self._unknown_logged: set[str] = set()
        self._handlers: dict[str, Callable[[Mapping[str, str], float, list[Any]], None]] = {
            "Newchannel": self._on_channel_event,
            "NewCallerid": self._on_callerid,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "BridgeDestroy": self._on_bridge_destroy,
            "Hangup": self._on_hangup,
            "VarSet": self._on_varset,
            "OriginateResponse": self._on_originate_response,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
            "UserEvent": self._on_user_event,
        }

    # -- public interface -------------------------------------------------------------

    def feed(self, event: Mapping[str, str], now: datetime | None = None) -> list[Transition]:
        """Process one AMI event; never raises (a bad event is logged and skipped)."""
        name = event.get("Event")
        handler = self._handlers.get(name)  # type: ignore[arg-type]
        if handler is None:
            if name not in self._unknown_logged and len(self._unknown_logged) < 1000:
                self._unknown_logged.add(str(name))
                logger.debug("ignoring AMI events of type %s", name)
            return []
        out: list[Transition] = []
        try:
            stamp = event.get("Timestamp")
            handler(event, self._time(event, now) if not stamp else float(stamp), out)
        except Exception:
            logger.warning(
                "skipped a malformed %s event (Linkedid %s)",
                name,
                event.get("Linkedid", "?"),
                exc_info=True,
            )
        return out

    def resync(
        self, channels: Iterable[Mapping[str, str]], now: datetime | None = None
    ) -> list[Transition]:
        """Reconcile with a `CoreShowChannels` listing taken after (re)connecting.

        Channels we track that the PBX no longer has hung up while the link was down:
        their calls end (and are recorded) now. Channels we do not know are adopted, with
        their age taken from `Duration`, so a call that began meanwhile is tracked to its
        end. A call is never recorded twice: ended Linkedids are remembered.
        """
        t = now.timestamp() if now is not None else self._clock()
        listing = [c for c in channels if c.get("Uniqueid")]
        present = {c["Uniqueid"] for c in listing}
        out: list[Transition] = []
        try:
            for chan in [c for c in self._chans.values() if c.uid not in present]:
                self._hangup(chan, None, t, out)
            for item in listing:
                self._adopt(item, t, out)
        except Exception:
            logger.warning("resync from CoreShowChannels failed part way", exc_info=True)
        return out

    def snapshot(self) -> list[LiveCall]:
        """The calls in progress, oldest first."""
        result = []
        for call in self._calls.values():
            if not call.parties():
                continue
            direction = call.direction()
            from_number, to_number = call.numbers(direction)
            result.append(
                LiveCall(
                    linkedid=call.linkedid,
                    direction=direction,
                    from_number=from_number,
                    to_number=to_number,
                    did=call.did(),
                    started_at=to_datetime(call.started),  # type: ignore[arg-type]
                    answered_at=to_datetime(call.answered_at),
                    ringing=tuple(e for e, s in call.popups.items() if s == "ringing"),
                    talking=tuple(sorted(call.agents_in_talk)),
                    action_id=call.request_id or call.action_id,
                )
            )
        return result

    # -- plumbing ---------------------------------------------------------------------

    def _time(self, event: Mapping[str, str], now: datetime | None) -> float:
        stamp = event.get("Timestamp")
        if stamp:
            try:
                return float(stamp)
            except ValueError:
                pass
        return now.timestamp() if now is not None else self._clock()

    def _chan(
        self, event: Mapping[str, str], t: float, out: list[Any], prefix: str = ""
    ) -> Chan | None:
        """The channel an event is about, created on first sight (we may join mid-call)."""
        uid = event.get(prefix + "Uniqueid")
        if not uid:
            return None
        linkedid = event.get(prefix + "Linkedid") or ""
        chan = self._chans.get(uid)
        if chan is None:
            name = event.get(prefix + "Channel")
            if not name or uid in self._hung or (linkedid or uid) in self._ended:
                return None
            chan = self._create(uid, name, linkedid or uid, event, prefix, t)
        else:
            if linkedid and chan.call.linkedid != linkedid and not chan.pinned:  # type: ignore[union-attr]
                self._move(chan, linkedid, t, out)
            if not chan.exten:
                # Some trunks start in `s`; the number dialled shows up once the dialplan runs.
                exten = _real(event.get(prefix + "Exten"))
                if exten and exten != "s":
                    chan.exten = exten
        return chan

    def _create(
        self, uid: str, name: str, linkedid: str, event: Mapping[str, str], prefix: str, t: float
    ) -> Chan:
        kind, ext = self.roles.classify(name)
        chan = Chan(uid, name, kind, ext, t)
        chan.home = linkedid
        chan.cid_num = _real(event.get(prefix + "CallerIDNum"))
        chan.cid_name = _real(event.get(prefix + "CallerIDName"))
        chan.exten = _real(event.get(prefix + "Exten"))
        if chan.exten == "s":
            chan.exten = ""
        state = event.get(prefix + "ChannelState")
        chan.state = int(state) if state and state.isdigit() else 0
        self._chans[uid] = chan
        call = self._calls.get(linkedid)
        if call is None:
            call = self._calls[linkedid] = Call(linkedid, t)
        self._attach(chan, call)
        key = local_pair_key(name)
        if key is not None:
            chan.pair = key
            self._pairs.setdefault(key, []).append(chan)
        return chan

    # -- event handlers ---------------------------------------------------------------

    def _on_channel_event(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        self._chan(event, t, out)

    def _on_callerid(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chan(event, t, out)
        if chan is not None:
            number = _real(event.get("CallerIDNum"))
            if number:
                chan.cid_num = number
            if "CallerIDName" in event:
                chan.cid_name = _real(event["CallerIDName"])

    def _on_newstate(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chan(event, t, out)
        if chan is None:
            return
        state = event.get("ChannelState", "")
        chan.state = int(state) if state.isdigit() else chan.state
        if chan.state == 5:
            chan.called = True
            if chan.is_agent:
                self._ring(chan.call, chan, out)  # type: ignore[arg-type]
        elif chan.state == 6 and chan.is_agent:
            call = chan.call
            assert call is not None
            popup = call.popups.get(chan.ext)
            if popup is None and chan.called:
                # Answered without ever ringing (auto-answer): still one pop-up.
                self._ring(call, chan, out)
                popup = "ringing"
            if popup == "ringing" and chan.called:
                # A phone that was rung picked up. An agent dialling out is answered when the
                # far party is connected (a dialplan may answer its channel before dialling).
                self._answer_popup(call, chan, out)

    def _on_dial_begin(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        self._chan(event, t, out)
        dest = self._chan(event, t, out, prefix="Dest")
        if dest is None:
            return
        dest.called = True
        dest.dial_status = ""
        if dest.is_agent and dest.state == 5:
            self._ring(dest.call, dest, out)  # type: ignore[arg-type]
        elif dest.is_outside:
            # An agent dialling out from their own phone: a pop-up with whom they call.
            call = dest.call
            assert call is not None
            caller = call.caller()
            if caller is not None and caller.is_agent and not caller.hung:
                self._ring(call, caller, out, dialling=True)

    def _on_dial_end(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        self._chan(event, t, out)
        dest = self._chan(event, t, out, prefix="Dest")
        if dest is None:
            return
        status = event.get("DialStatus", "")
        dest.dial_status = status
        if not dest.is_agent:
            return
        call = dest.call
        assert call is not None
        if call.popups.get(dest.ext) == "ringing":
            if status == "ANSWER":
                self._answer_popup(call, dest, out)
            elif status != "CANCEL" or dest.hung:
                self._close_popup(call, dest.ext, "", out)
            # CANCEL: its Hangup follows at once and its cause tells whether someone else
            # (a pickup) answered, which the pop-up should say.

    def _on_bridge_enter(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chan(event, t, out)
        bridge = event.get("BridgeUniqueid")
        if chan is None or not bridge:
            return
        self._bridges.setdefault(bridge, set()).add(chan.uid)
        chan.bridges.add(bridge)
        self._recompute(chan.call, t, out)  # type: ignore[arg-type]

    def _on_bridge_leave(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chan(event, t, out)
        bridge = event.get("BridgeUniqueid")
        if chan is None or not bridge:
            return
        members = self._bridges.get(bridge)
        if members is not None:
            members.discard(chan.uid)
            if not members:  # BridgeDestroy may never come (events lost): do not keep it
                del self._bridges[bridge]
        chan.bridges.discard(bridge)
        self._recompute(chan.call, t, out)  # type: ignore[arg-type]

    def _on_bridge_destroy(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        members = self._bridges.pop(event.get("BridgeUniqueid", ""), None)
        for uid in members or ():
            chan = self._chans.get(uid)
            if chan is not None:
                chan.bridges.discard(event["BridgeUniqueid"])
                self._recompute(chan.call, t, out)  # type: ignore[arg-type]

    def _on_hangup(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chans.get(event.get("Uniqueid", ""))
        if chan is None:
            return  # never seen alive: nothing to close
        linkedid = event.get("Linkedid")
        if linkedid and chan.call.linkedid != linkedid and not chan.pinned:  # type: ignore[union-attr]
            self._move(chan, linkedid, t, out)
        cause = event.get("Cause", "")
        self._hangup(chan, int(cause) if cause.isdigit() else None, t, out)

    def _adopt(self, item: Mapping[str, str], t: float, out: list[Any]) -> None:
        uid = item["Uniqueid"]
        known = self._chans.get(uid)
        if known is not None:
            return
        age = _duration_seconds(item.get("Duration", ""))
        chan = self._chan(item, t - age, out)
        if chan is None:
            return
        call = chan.call
        assert call is not None
        call.started = min(call.started, t - age)
        if chan.state == 5:
            chan.called = True
            if chan.is_agent:
                self._ring(chan.call, chan, out)  # type: ignore[arg-type]
        bridge = item.get("BridgeId")
        if bridge:
            members = self._bridges.setdefault(bridge, set())
            members.add(uid)
            chan.bridges.add(bridge)
            # Two parties have talked since the younger of them exists, at the earliest.
            since = max(self._chans[m].created for m in members if m in self._chans)
            self._recompute(call, since, out)


def _duration_seconds(value: str) -> float:
    """`HH:MM:SS` (CoreShowChannel Duration) -> seconds; 0 when absent or odd."""
    try:
        hours, minutes, seconds = (int(p) for p in value.split(":"))
    except ValueError:
        return 0.0
    return float(hours * 3600 + minutes * 60 + seconds)
