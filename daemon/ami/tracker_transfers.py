"""Transfer events: BlindTransfer (counted once the target rings) and AttendedTransfer
(attended, or blonde when the target still rings), which may merge two calls into one: both
stay on the list, each with the transfer that joined its party to the other call's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daemon.ami.tracker_core import TrackerCore
from daemon.ami.tracker_state import Call, Chan
from daemon.ami.tracker_types import Transferred


def _linkedid_age(linkedid: str) -> float:
    """Linkedids are `[system-]epoch.seq`: the smaller one is the older call."""
    tail = linkedid.rsplit("-", 1)[-1]
    secs, _, seq = tail.partition(".")
    try:
        return float(secs) + float(seq or 0) / 1e9
    except ValueError:
        return float("inf")


class TransferHandlers(TrackerCore):
    """The handlers of the two transfer events."""

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
        main = min(calls.values(), key=lambda c: _linkedid_age(c.linkedid))
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
            # The other call (a consultation, or a second caller the agent held) is a call of
            # its own on the list: its party went on with the one left in the older call.
            stays = [
                c
                for c in main.parties()
                if not c.hung and c.uid not in transferers and c.home == main.linkedid
            ]
            other.transfers.append(
                {
                    "from": entry["from"],
                    "to": stays[0].label() if len(stays) == 1 else "",
                    "kind": kind,
                }
            )
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
