"""The live board the widget reads: who rings, who talks, and every extension's state."""

from __future__ import annotations

from models.core.events import (
    CallAnswered,
    CallEnded,
    CallerCard,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    ExtensionStateChanged,
)
from models.telephony.live_board import LiveBoard

CARD = CallerCard(number="+34911234567")


def test_a_ring_group_call_through_answer_transfer_and_end():
    board = LiveBoard()
    board.apply(ExtensionStateChanged("103", "UNAVAILABLE"))
    board.apply(ExtensionStateChanged("104", "INUSE"))
    board.apply(CallRang("L1", "in", "101", 2, CARD))
    board.apply(CallRang("L1", "in", "102", 3, CARD))
    assert [board.state_of(e) for e in ("101", "102", "103", "104", "105")] == [
        "ringing",
        "ringing",
        "offline",
        "on_call",
        "free",
    ]
    board.apply(CallAnswered("L1", "102", 3))
    board.apply(CallStoppedRinging("L1", "101", 2, answered_by="102"))
    assert (board.state_of("101"), board.state_of("102")) == ("free", "on_call")
    board.apply(CallTransferred("L1", "102", "101"))
    assert (board.state_of("101"), board.state_of("102")) == ("on_call", "free")
    assert [c.linkedid for c in board.calls_of("101")] == ["L1"]
    ended = board.apply(CallEnded("L1", 5, "101", 2, "answered", talk_seconds=30))
    assert ended is not None and ended.linkedid == "L1"
    assert board.calls == {} and board.state_of("101") == "free"


def test_a_known_card_is_not_replaced_by_an_unknown_one():
    board = LiveBoard()
    known = CallerCard(number="+34911234567", client_id=7, name="Sol")
    board.apply(CallRang("L2", "in", "101", 2, known))
    board.apply(CallRang("L2", "in", "102", 3, CARD))
    assert board.calls["L2"].card.name == "Sol"
