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
  (attended transfer, pickup); the channel moves with its pop-up;
* end: the last live channel of a Linkedid hangs up; exactly one `Ended` per call.

Time comes from each event's `Timestamp` when the manager sends it, else from the `now`
argument, else from the clock given at construction.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from daemon.ami.tracker_outcome import build_record, to_datetime
from daemon.ami.tracker_state import Call, Chan
from daemon.ami.tracker_types import (
    HELPER,
    Answered,
    ChannelRoles,
    Ended,
    LiveCall,
    Ringing,
    StoppedRinging,
    Transferred,
    Transition,
    local_pair_key,
)

logger = logging.getLogger(__name__)

UNKNOWN = "<unknown>"
ANSWERED_ELSEWHERE = 26  # Q.850: the call was answered by another phone
DEFAULT_REQUEST_VARIABLES = ("CENTRALITA_REQ", "CRM_CALL_ID")
RECORDING_HEADERS = ("MixMonitorFilename", "Recording", "RecordingFile")


def _real(value: str | None) -> str:
    return "" if not value or value == UNKNOWN else value


def _linkedid_age(linkedid: str) -> float:
    """Linkedids are `[system-]epoch.seq`: the smaller one is the older call."""
    tail = linkedid.rsplit("-", 1)[-1]
    secs, _, seq = tail.partition(".")
    try:
        return float(secs) + float(seq or 0) / 1e9
    except ValueError:
        return float("inf")


class CallTracker:
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
        self._chans: dict[str, Chan] = {}
        self._calls: dict[str, Call] = {}
        self._bridges: dict[str, set[str]] = {}
        self._pairs: dict[str, list[Chan]] = {}
        # Ended Linkedids and hung-up Uniqueids, so that a late event does not bring them back.
        # Kept apart: the first channel's Uniqueid is the Linkedid of a call still going on.
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._hung: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_ended
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

    @property
    def live_calls(self) -> int:
        return len(self._calls)

    # -- plumbing ---------------------------------------------------------------------

    def _time(self, event: Mapping[str, str], now: datetime | None) -> float:
        stamp = event.get("Timestamp")
        if stamp:
            try:
                return float(stamp)
            except ValueError:
                pass
        return now.timestamp() if now is not None else self._clock()

    def _forget(self, memory: OrderedDict[str, None], key: str) -> None:
        memory[key] = None
        if len(memory) > self._remember:
            memory.popitem(last=False)

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
        elif linkedid and chan.call.linkedid != linkedid and not chan.pinned:  # type: ignore[union-attr]
            self._move(chan, linkedid, t, out)
        return chan

    def _create(
        self, uid: str, name: str, linkedid: str, event: Mapping[str, str], prefix: str, t: float
    ) -> Chan:
        kind, ext = self.roles.classify(name)
        chan = Chan(uid, name, kind, ext, t)
        chan.home = linkedid
        chan.cid_num = _real(event.get(prefix + "CallerIDNum"))
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

    def _attach(self, chan: Chan, call: Call) -> None:
        chan.call = call
        call.chans[chan.uid] = chan
        call.live.add(chan.uid)

    def _move(self, chan: Chan, linkedid: str, t: float, out: list[Any]) -> None:
        """Asterisk moved a channel into another call (merge): follow it, pop-up included."""
        old = chan.call
        assert old is not None
        new = self._calls.get(linkedid)
        if new is None:
            if linkedid in self._ended:
                return
            new = self._calls[linkedid] = Call(linkedid, chan.created)
        old.chans.pop(chan.uid, None)
        old.live.discard(chan.uid)
        popup = old.popups.get(chan.ext) if chan.is_agent else None
        if popup == "ringing":
            old.popups[chan.ext] = "closed"
            out.append(StoppedRinging(old.linkedid, chan.ext))
        self._attach(chan, new)
        if popup == "ringing" and chan.state == 5:
            self._ring(new, chan, out)
        elif popup == "answered":
            new.popups.setdefault(chan.ext, "answered")
        self._recompute(old, t, out)
        self._recompute(new, t, out)
        if not old.live:
            self._end(old, t, out)

    # -- event handlers ---------------------------------------------------------------

    def _on_channel_event(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        self._chan(event, t, out)

    def _on_callerid(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        chan = self._chan(event, t, out)
        if chan is not None:
            number = _real(event.get("CallerIDNum"))
            if number:
                chan.cid_num = number

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
            if popup == "ringing":
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

    def _on_varset(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        variable = event.get("Variable", "").lstrip("_")
        if variable in self._request_vars:
            chan = self._chan(event, t, out)
            if chan is not None and event.get("Value"):
                chan.call.request_id = event["Value"]  # type: ignore[union-attr]
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
        chan = self._chans.get(_real(event.get("Uniqueid")))
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
        call.originate_exten = _real(event.get("Exten")) or call.originate_exten

    def _on_blind_transfer(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        if event.get("Result") != "Success":
            return
        transferer = self._chans.get(event.get("TransfererUniqueid", ""))
        transferee = self._chans.get(event.get("TransfereeUniqueid", ""))
        anchor = transferee or transferer
        if anchor is None:
            return
        anchor.call.pending_blind = {  # type: ignore[union-attr]
            "from": transferer.label() if transferer else "",
            "to": event.get("Extension", ""),
            "kind": "blind",
        }

    def _on_attended_transfer(self, event: Mapping[str, str], t: float, out: list[Any]) -> None:
        if event.get("Result") != "Success":
            return
        first = self._chans.get(event.get("OrigTransfererUniqueid", ""))
        second = self._chans.get(event.get("SecondTransfererUniqueid", ""))
        if first is None and second is None:
            return
        calls = {c.call.linkedid: c.call for c in (first, second) if c is not None}
        main = min(calls.values(), key=lambda c: _linkedid_age(c.linkedid))  # type: ignore[arg-type]
        other = next((c for c in calls.values() if c is not main), None)
        transferers = {c.uid for c in (first, second) if c is not None}
        named = [
            self._chans.get(event.get("TransferTargetUniqueid", "")),
            self._chans.get(event.get("TransfereeUniqueid", "")),
        ]
        if other is None:
            candidates = [c for c in main.parties() if not c.hung and c.uid not in transferers]
        else:
            candidates = [
                c
                for c in (*main.parties(), *other.parties())
                if not c.hung and c.uid not in transferers and c.home == other.linkedid
            ]
        if other is None:
            # One Linkedid (Atxfer): the target is the one Asterisk names, else the newest.
            candidates = [c for c in named[:1] if c in candidates] or candidates[-1:]
        else:
            # Two calls merge into the older one: what is new to it is the party of the
            # other call, whichever role Asterisk gives it (xfer_abcbac names it transferee).
            candidates = [c for c in named if c in candidates] or candidates
        target = candidates[0] if len(candidates) == 1 else None
        kind = "blonde" if event.get("DestType") == "App" else "attended"
        to = target.label() if target is not None else (second.exten if second else "")
        transferer = first or second
        entry = {"from": transferer.label() if transferer else "", "to": to, "kind": kind}
        main.transfers.append(entry)  # type: ignore[union-attr]
        main.open_transfer = entry  # type: ignore[union-attr]
        main.pending_blind = None  # type: ignore[union-attr]
        out.append(Transferred(main.linkedid, entry["from"], to, kind))  # type: ignore[union-attr]
        if other is not None:
            # The consultation call is folded into the transferred one: no record of its own.
            other.absorbed = True
            for chan in [c for c in other.parties() if not c.hung and c.uid not in transferers]:
                chan.pinned = True
                self._move_pinned(chan, main, t, out)  # type: ignore[arg-type]
        if target is not None and target.ext and target.ext in main.agents_in_talk:  # type: ignore[union-attr]
            main.open_transfer = None  # type: ignore[union-attr]

    def _move_pinned(self, chan: Chan, into: Call, t: float, out: list[Any]) -> None:
        if chan.call is into:
            return
        chan.pinned = False
        self._move(chan, into.linkedid, t, out)
        chan.pinned = True

    # -- call state -------------------------------------------------------------------

    def _ring(self, call: Call, chan: Chan, out: list[Any]) -> None:
        ext = chan.ext
        if call.popups.get(ext) in ("ringing", "answered"):
            return
        call.popups[ext] = "ringing"
        if ext not in call.rang:
            call.rang.append(ext)
        if call.pending_blind is not None and call.answered_at is not None:
            self._confirm_blind(call, out)
        out.append(
            Ringing(
                linkedid=call.linkedid,
                extension=ext,
                direction=call.direction(),
                caller_number=self._shown_number(call, chan),
                did=call.did(),
                action_id=call.request_id or call.action_id,
            )
        )

    def _shown_number(self, call: Call, ringing: Chan) -> str:
        """Who the ringing agent will talk to: after a transfer, whoever is still on the line."""
        caller = call.caller()
        moved_on = call.transfers or call.pending_blind is not None
        if call.answered_at is not None and (caller is None or caller.hung or moved_on):
            leaving = {t["from"] for t in call.transfers}
            if call.pending_blind is not None:
                leaving.add(call.pending_blind["from"])
            remaining = [
                c
                for c in call.chans.values()
                if c.is_party and not c.hung and c is not ringing and c.label() not in leaving
            ]
            remaining.sort(key=lambda c: not c.is_outside)  # the customer first
            if remaining:
                return remaining[0].label()
        return call.peer_number()

    def _confirm_blind(self, call: Call, out: list[Any]) -> None:
        entry = call.pending_blind
        assert entry is not None
        call.pending_blind = None
        call.transfers.append(entry)
        call.open_transfer = entry
        out.append(Transferred(call.linkedid, entry["from"], entry["to"], entry["kind"]))

    def _answer_popup(self, call: Call, chan: Chan, out: list[Any]) -> None:
        call.popups[chan.ext] = "answered"
        out.append(Answered(call.linkedid, chan.ext))
        for ext, state in list(call.popups.items()):
            if state == "ringing":
                self._close_popup(call, ext, chan.ext, out)

    def _close_popup(self, call: Call, ext: str, answered_by: str, out: list[Any]) -> None:
        call.popups[ext] = "closed"
        out.append(StoppedRinging(call.linkedid, ext, answered_by))

    def _hangup(self, chan: Chan, cause: int | None, t: float, out: list[Any]) -> None:
        if chan.hung:
            return
        chan.hung = True
        chan.cause = cause
        for bridge in chan.bridges:
            members = self._bridges.get(bridge)
            if members is not None:
                members.discard(chan.uid)
                if not members:
                    del self._bridges[bridge]
        chan.bridges = set()
        self._chans.pop(chan.uid, None)
        self._forget(self._hung, chan.uid)
        if chan.pair is not None:
            halves = self._pairs.get(chan.pair)
            if halves is not None and all(h.hung for h in halves):
                del self._pairs[chan.pair]
        call = chan.call
        assert call is not None
        call.live.discard(chan.uid)
        if chan.is_agent and call.popups.get(chan.ext) == "ringing":
            if not any(
                c.ext == chan.ext and not c.hung and c.state == 5 for c in call.chans.values()
            ):
                if call.answered_at is None and self._picked_up_elsewhere(call, chan, cause):
                    # Picked up by another phone: close it once we see who (next bridge).
                    call.popups[chan.ext] = "elsewhere"
                else:
                    self._close_popup(call, chan.ext, "", out)
        self._recompute(call, t, out)
        if not call.live:
            self._end(call, t, out)

    def _reach(self, start: Chan) -> list[Chan]:
        """Parties connected to `start` through bridges and Local helper pairs."""
        found: list[Chan] = []
        seen_bridges: set[str] = set()
        seen_helpers: set[str] = set()
        stack = list(start.bridges)
        while stack:
            bridge = stack.pop()
            if bridge in seen_bridges:
                continue
            seen_bridges.add(bridge)
            for uid in self._bridges.get(bridge, ()):
                chan = self._chans.get(uid)
                if chan is None or chan is start or chan.hung:
                    continue
                if chan.kind is not HELPER:
                    if chan not in found:
                        found.append(chan)
                    continue
                if uid in seen_helpers:
                    continue
                seen_helpers.add(uid)
                for half in self._pairs.get(chan.pair or "", ()):
                    if half is chan or half.hung:
                        continue
                    if half.kind is not HELPER:
                        if half is not start and half not in found:
                            found.append(half)
                    else:
                        seen_helpers.add(half.uid)
                        stack.extend(half.bridges)
        return found

    def _recompute(self, call: Call, t: float, out: list[Any]) -> None:
        """Re-evaluate who talks to whom after a bridge, hang-up or move."""
        pairs: list[tuple[Chan, Chan]] = []
        parties = [c for c in call.chans.values() if c.kind is not HELPER and c.bridges]
        if len(parties) >= 2 or call.connected:
            for chan in parties:
                for other in self._reach(chan):
                    if other.call is call and (other, chan) not in pairs:
                        pairs.append((chan, other))
        answered_before = call.answered_at is not None
        if pairs and not call.connected:
            call.connected = True
            call.connected_since = t
            if call.answered_at is None:
                call.answered_at = t
                call.first_pairs = pairs
                self._close_elsewhere(call, pairs, out)
        elif not pairs and call.connected:
            call.connected = False
            call.talk += t - call.connected_since
        talking: list[Chan] = []
        for left, right in pairs:
            for chan in (left, right):
                if chan.is_agent and chan not in talking:
                    talking.append(chan)
        now_exts = {c.ext for c in talking}
        for chan in talking:
            ext = chan.ext
            if ext in call.agents_in_talk:
                continue
            if ext not in call.agents_ever_talked:
                if answered_before:
                    self._took_over(call, ext, now_exts, out)
                call.agents_ever_talked.append(ext)
            if call.popups.get(ext) == "ringing":
                self._answer_popup(call, chan, out)
        call.agents_in_talk = now_exts

    @staticmethod
    def _picked_up_elsewhere(call: Call, chan: Chan, cause: int | None) -> bool:
        """Asterisk says "answered elsewhere" (26); a SIP Replaces pickup just cancels the
        ringing phone (cause 0) while the caller stays on the line."""
        if cause == ANSWERED_ELSEWHERE:
            return True
        a_side = call.a_side()
        return (
            cause == 0
            and chan.dial_status == "CANCEL"
            and a_side is not None
            and a_side is not chan
            and not a_side.hung
        )

    def _close_elsewhere(self, call: Call, pairs: list[tuple[Chan, Chan]], out: list[Any]) -> None:
        by = next((c.ext for pair in pairs for c in pair if c.is_agent and c.called), "")
        if not by:
            by = next((c.ext for pair in pairs for c in pair if c.is_agent), "")
        for ext, state in list(call.popups.items()):
            if state == "elsewhere":
                self._close_popup(call, ext, by if by != ext else "", out)

    def _took_over(self, call: Call, ext: str, now_exts: set[str], out: list[Any]) -> None:
        """A new agent joins a conversation already under way: the end of a transfer."""
        if call.pending_blind is not None:
            self._confirm_blind(call, out)
        if call.open_transfer is not None:
            call.open_transfer["to"] = ext
            call.open_transfer = None
            return
        if (
            ext in call.rang
            and call.agents_ever_talked
            and not (set(call.agents_ever_talked) & now_exts)
        ):
            # Everyone who talked before has left and nobody announced a transfer: a
            # Redirect of the remaining party (AMI shows no transfer event for it).
            entry = {"from": call.agents_ever_talked[-1], "to": ext, "kind": "blind"}
            call.transfers.append(entry)
            out.append(Transferred(call.linkedid, entry["from"], ext, "blind"))

    def _end(self, call: Call, t: float, out: list[Any]) -> None:
        if self._calls.get(call.linkedid) is not call:
            return
        del self._calls[call.linkedid]
        self._forget(self._ended, call.linkedid)
        call.ended_at = t
        for ext, state in list(call.popups.items()):
            if state in ("ringing", "elsewhere"):
                self._close_popup(call, ext, "", out)
        if self._recordable(call):
            out.append(Ended(build_record(call, t)))

    @staticmethod
    def _recordable(call: Call) -> bool:
        if call.absorbed:
            return False
        parties = call.parties()
        if not parties:
            return False
        if len(parties) == 1 and call.caller() is None:
            # Only the first leg of an Originate rang: worth a record only when it was our
            # click-to-call (the requester must learn it failed), not a PBX-internal one.
            return bool(call.request_id or call.action_id)
        return True

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
