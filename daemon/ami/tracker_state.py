"""The tracker's memory: one `Chan` per Asterisk channel, one `Call` per Linkedid.

Plain mutable objects with slots: the tracker touches them on every event, so they stay
cheap. Times are epoch seconds (floats); datetimes are made only for what leaves the tracker.
"""

from __future__ import annotations

from typing import Any

from daemon.ami.tracker_types import AGENT, HELPER, OUTSIDE


class Chan:
    """One channel as the tracker knows it."""

    __slots__ = (
        "uid",
        "name",
        "kind",
        "ext",
        "cid_num",
        "cid_name",
        "exten",
        "state",
        "created",
        "called",
        "hung",
        "cause",
        "bridges",
        "call",
        "pinned",
        "dial_status",
        "pair",
        "home",
    )

    def __init__(self, uid: str, name: str, kind: str, ext: str, created: float) -> None:
        self.uid = uid
        self.name = name
        self.kind = kind
        self.ext = ext
        self.cid_num = ""
        self.cid_name = ""  # CallerIDName: only an outside caller's names the customer
        self.exten = ""  # the first extension its dialplan ran: the number dialled / the DID
        self.state = 0
        self.created = created
        self.called = False  # rung by the PBX (a Dial target or an Originate), not a caller
        self.hung = False
        self.cause: int | None = None
        self.bridges: set[str] = set()
        self.call: Call | None = None
        self.pinned = False  # moved by a transfer: ignore a stale Linkedid on later events
        self.dial_status = ""
        self.pair: str | None = None  # Local pair key
        self.home = ""  # the Linkedid it was born in (it may be moved into another call)

    @property
    def is_party(self) -> bool:
        return self.kind is not HELPER

    @property
    def is_agent(self) -> bool:
        return self.kind is AGENT

    @property
    def is_outside(self) -> bool:
        return self.kind is OUTSIDE

    def label(self) -> str:
        """How a record names this party: the extension for agents, the number otherwise."""
        return self.ext if self.kind is AGENT else (self.cid_num or self.exten)


class Call:
    """Everything known about one Linkedid."""

    __slots__ = (
        "linkedid",
        "started",
        "chans",
        "live",
        "request_id",
        "action_id",
        "originate_exten",
        "dialed",
        "popups",
        "rang",
        "connected",
        "connected_since",
        "talk",
        "answered_at",
        "first_pairs",
        "agents_in_talk",
        "agents_ever_talked",
        "transfers",
        "pending_blind",
        "open_transfer",
        "recording",
        "history",
        "ended_at",
    )

    def __init__(self, linkedid: str, started: float) -> None:
        self.linkedid = linkedid
        self.started = started
        self.chans: dict[str, Chan] = {}  # every channel that was part of the call, in order
        self.live: set[str] = set()
        self.request_id: str | None = None  # the click-to-call variable
        self.action_id: str | None = None  # the Originate's ActionID
        self.originate_exten = ""
        self.dialed = ""  # the number our click-to-call asked for (known before any ringing)
        self.popups: dict[str, str] = {}  # extension -> "ringing" | "answered" | "closed"
        self.rang: list[str] = []
        self.connected = False
        self.connected_since = 0.0
        self.talk = 0.0
        self.answered_at: float | None = None
        self.first_pairs: list[tuple[Chan, Chan]] = []
        self.agents_in_talk: set[str] = set()
        self.agents_ever_talked: list[str] = []
        self.transfers: list[dict[str, Any]] = []
        self.pending_blind: dict[str, Any] | None = None
        self.open_transfer: dict[str, Any] | None = None
        self.recording = ""
        # Every channel that was ever part of the call, in order, including those Asterisk
        # later moved into another call (a merge): the call's record is built from them.
        self.history: dict[str, Chan] = {}
        self.ended_at: float | None = None

    def parties(self) -> list[Chan]:
        return [c for c in self.chans.values() if c.kind is not HELPER]

    def caller(self) -> Chan | None:
        """The party that placed the call, or None when the PBX originated it.

        The channel whose Uniqueid is the Linkedid comes first when it is a party that
        was not rung (it is what Asterisk says started the call); otherwise the first
        party that was never rung.
        """
        first = self.chans.get(self.linkedid)
        if first is not None and first.kind is not HELPER and not first.called:
            return first
        for chan in self.chans.values():
            if chan.kind is not HELPER and not chan.called:
                return chan
        return None

    def a_side(self) -> Chan | None:
        """Who the call is from: the caller, or the first party an Originate rang."""
        caller = self.caller()
        if caller is not None:
            return caller
        for chan in self.chans.values():
            if chan.kind is not HELPER:
                return chan
        return None

    def b_side(self, a_side: Chan | None) -> Chan | None:
        """The first party rung on behalf of the A side."""
        for chan in self.chans.values():
            if chan.kind is not HELPER and chan.called and chan is not a_side:
                return chan
        return None

    def direction(self) -> str:
        a = self.a_side()
        if a is None:
            return "internal"
        if a.kind is OUTSIDE:
            return "in" if self.caller() is a else "out"
        for chan in self.chans.values():
            if chan.kind is OUTSIDE:
                return "out"
        if (
            self.caller() is None
            and self.b_side(a) is None
            and (self.request_id or self.action_id or self.originate_exten)
        ):
            # Our click-to-call rings the agent first: outbound until it dials a colleague.
            return "out"
        return "internal"

    def did(self) -> str:
        caller = self.caller()
        if caller is not None and caller.kind is OUTSIDE:
            return caller.exten
        return ""

    def peer_number(self) -> str:
        """The number a ringing agent should see: the caller, else whom the call is for."""
        caller = self.caller()
        if caller is not None:
            return caller.label()
        a = self.a_side()
        if a is not None and a.kind is OUTSIDE:
            return a.label()
        b = self.b_side(a)
        if b is not None and b.kind is OUTSIDE:
            return b.label()
        return self.dialed or self.originate_exten

    def dialled_by(self, agent: Chan) -> str:
        """Whom an agent's own outbound call is for: the outside party the PBX rang for it,
        else the number the agent dialled (its channel's extension)."""
        for chan in self.chans.values():
            if chan.kind is OUTSIDE and chan.called:
                return chan.label()
        return agent.exten or self.dialed or self.originate_exten

    def name_of(self, number: str) -> str:
        """The CallerIDName of the outside caller with this number. Only a caller's name is
        its own: a leg the PBX dialled carries the name of whoever dialled it."""
        for chan in self.chans.values():
            if chan.kind is OUTSIDE and not chan.called and chan.label() == number:
                return chan.cid_name
        return ""

    def numbers(self, direction: str) -> tuple[str, str]:
        """(from, to): caller and DID inbound; extension and number dialled otherwise."""
        caller = self.caller()
        if direction == "in":
            return (caller.label(), caller.exten) if caller is not None else ("", "")
        a_side = self.a_side()
        from_number = a_side.label() if a_side is not None else ""
        if direction == "out":
            far = next((c for c in self.chans.values() if c.is_outside and c is not a_side), None)
            return from_number, far.label() if far is not None else self.originate_exten
        if caller is not None and caller.exten:
            return from_number, caller.exten
        b_side = self.b_side(a_side)
        return from_number, b_side.label() if b_side is not None else self.originate_exten
