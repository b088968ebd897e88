"""The tracker's core: pop-ups, connections, transfers taking effect, ends of calls.

`CallTracker` (daemon.ami.tracker) reads events and calls into this; it holds the state.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from daemon.ami.tracker_outcome import build_record
from daemon.ami.tracker_state import Call, Chan
from daemon.ami.tracker_types import (
    HELPER,
    Answered,
    Ended,
    Ringing,
    StoppedRinging,
    Transferred,
)

ANSWERED_ELSEWHERE = 26  # Q.850: the call was answered by another phone


class TrackerCore:
    """The state of every live channel, bridge and call, and the rules that move it."""

    def __init__(self, remember_ended: int) -> None:
        self._chans: dict[str, Chan] = {}
        self._calls: dict[str, Call] = {}
        self._bridges: dict[str, set[str]] = {}
        self._pairs: dict[str, list[Chan]] = {}
        # Ended Linkedids and hung-up Uniqueids, so that a late event does not bring them back.
        # Kept apart: the first channel's Uniqueid is the Linkedid of a call still going on.
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._hung: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_ended

    @property
    def live_calls(self) -> int:
        return len(self._calls)

    def _forget(self, memory: OrderedDict[str, None], key: str) -> None:
        memory[key] = None
        if len(memory) > self._remember:
            memory.popitem(last=False)

    def _attach(self, chan: Chan, call: Call) -> None:
        chan.call = call
        call.chans[chan.uid] = chan
        call.history.setdefault(chan.uid, chan)
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

    def _ring(self, call: Call, chan: Chan, out: list[Any], *, dialling: bool = False) -> None:
        """Open the agent's pop-up: its phone rings, or (`dialling`) it dials out itself."""
        ext = chan.ext
        if call.popups.get(ext) in ("ringing", "answered"):
            return
        call.popups[ext] = "ringing"
        if dialling:
            # The agent's own outbound call: its phone did not ring, the number it dialled did.
            number = call.dialled_by(chan)
        else:
            if ext not in call.rang:
                call.rang.append(ext)
            if call.pending_blind is not None and call.answered_at is not None:
                self._confirm_blind(call, out)
            number = self._shown_number(call, chan)
        out.append(
            Ringing(
                linkedid=call.linkedid,
                extension=ext,
                direction=call.direction(),
                caller_number=number,
                did=call.did(),
                action_id=call.request_id or call.action_id,
                caller_name=call.name_of(number),
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
        # The record covers every channel the call had, also those a merge took away (the
        # consultation call of an attended transfer is a call of its own, whose parties
        # went on talking in the other call).
        call.chans = dict(call.history)
        if self._recordable(call):
            out.append(Ended(build_record(call, t)))

    @staticmethod
    def _recordable(call: Call) -> bool:
        parties = call.parties()
        if not parties:
            return False
        if call.rang:
            # An agent's phone rang (a pop-up opened): the call is on the list, whoever
            # placed it, even when nobody answered or a merge took its parties away.
            return True
        if len(parties) == 1 and call.caller() is None:
            # Only the first leg of an Originate, which never rang (busy, unreachable): worth
            # a record only when it was our click-to-call (the requester must learn it failed).
            return bool(call.request_id or call.action_id)
        if len(parties) == 1 and parties[0].is_agent:
            # An agent alone with the PBX (voicemail, a feature code, an echo test): no call.
            return False
        return True
