"""Several instances' hubs joined through PostgreSQL (daemon/cluster/): the JSON codec, then
three hubs with three bridges in one process, each on its own asyncpg connection.

The bridge tests need PostgreSQL in both passes of the suite (CENTRALITA_TEST_DB when it is a
PostgreSQL URL, else the local server): when it cannot be reached they fail, never skip.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import types
import typing
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest

from daemon.cluster.bridge import HubBridge, asyncpg_dsn
from daemon.cluster.codec import KNOWN, UnknownMessage, decode, encode
from models.core import events
from models.core.errors import (
    CrmError,
    Message,
    NotFound,
    TelephonyError,
    ValidationFailed,
    msg,
)
from models.core.events import CallerCard, CallRang, ClickToCall, LeadCreated, UsersChanged
from models.core.hub import Hub

_CHOICE = os.environ.get("CENTRALITA_TEST_DB", "")
PG_URL = _CHOICE if _CHOICE.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/test"

MADRID = timezone(timedelta(hours=1))
EVERY_CLASS = sorted(
    (
        obj
        for obj in vars(events).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    ),
    key=lambda cls: cls.__name__,
)


def sample(tp: Any, name: str) -> Any:
    """A realistic value of type `tp` for the field `name` (fails on a type it cannot make:
    a new kind of field then needs a line here, and the codec a look)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)), name)
    if dataclasses.is_dataclass(tp):
        return build(tp)
    if tp is str:
        return f"{name} «Núñez» 100"
    if tp is bool:
        return True
    if tp is int:
        return 4242
    if tp is float:
        return 2.5
    if tp is datetime:
        return datetime(2026, 11, 25, 10, 30, 15, 123456, tzinfo=MADRID)
    if tp is Any:
        return {"free": [1, "two", None]}
    if origin is tuple:
        return tuple(sample(args[0], name) for _ in range(2))
    if origin is dict:
        return {
            "id": 12,
            "title": "Fibra 600 Mb",
            "amount": "1500.50",
            "status": "negotiation",
            "tags": ["vip"],
        }
    raise AssertionError(f"no sample for {name}: {tp!r}")


def build(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: sample(hints[f.name], f.name) for f in dataclasses.fields(cls) if f.init})


def test_every_event_and_command_class_is_known():
    assert {cls.__name__ for cls in EVERY_CLASS} == set(KNOWN)


@pytest.mark.parametrize("cls", EVERY_CLASS, ids=lambda cls: cls.__name__)
def test_every_class_comes_back_equal_with_every_field_filled(cls):
    original = build(cls)
    text = encode(original)
    back = decode(text)
    assert back == original
    assert type(back) is cls
    assert '"t":"' + cls.__name__ + '"' in text  # compact JSON naming the class


@pytest.mark.parametrize("cls", EVERY_CLASS, ids=lambda cls: cls.__name__)
def test_every_class_comes_back_equal_with_only_its_required_fields(cls):
    hints = typing.get_type_hints(cls)
    required = {
        f.name: sample(hints[f.name], f.name)
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    original = cls(**required)
    assert decode(encode(original)) == original


def test_a_ringing_call_keeps_its_card_deals_and_times():
    card = events.CallerCard(
        number="+34911234567",
        e164="+34911234567",
        client_id=3,
        name="Ferretería Núñez",
        open_deals=({"id": 1, "title": "Centralita", "amount": "99.90", "currency": "EUR"},),
        last_call_at=datetime(2026, 11, 24, 18, 5, tzinfo=MADRID),
    )
    rang = events.CallRang("1700000000.12", "in", "101", 2, card, did="+34900100200")
    back = decode(encode(rang))
    assert back == rang
    assert isinstance(back.card.open_deals, tuple)
    assert back.card.open_deals[0]["amount"] == "99.90"
    assert back.card.last_call_at.utcoffset() == timedelta(hours=1)


def test_a_reason_stays_a_message_the_reader_sees_in_their_language():
    reason = msg("the agent hung up before the client answered")
    progress = events.ClickToCallProgress("req-1", 2, "failed", reason)
    back = decode(encode(progress))
    assert isinstance(back.reason, Message)
    assert back.reason.msgid == reason.msgid
    assert back.reason.in_language("es") == reason.in_language("es")


def test_an_unknown_type_is_refused():
    with pytest.raises(UnknownMessage):
        decode('{"t":"CallTeleported","f":{"linkedid":"1"}}')
    with pytest.raises(UnknownMessage):
        decode("not json at all")
    with pytest.raises(TypeError):
        encode({"t": "CallRang"})


# -- the bridge ------------------------------------------------------------------------------


class Seen:
    """What one hub's subscribers saw, with a way to wait for something to arrive."""

    def __init__(self, hub: Hub) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Condition()
        hub.subscribe("test-seen", self._on)

    async def _on(self, event: Any) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def arrived(self, *wanted: Any) -> None:
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: all(w in self.events for w in wanted))

    def count(self, event: Any) -> int:
        return sum(1 for e in self.events if e == event)


@dataclasses.dataclass
class Cluster:
    hubs: list[Hub]
    bridges: list[HubBridge]
    seen: list[Seen]


@pytest.fixture
async def cluster():
    prefix = f"t{uuid.uuid4().hex[:12]}"  # runs in parallel never hear each other
    hubs = [Hub() for _ in range(3)]
    seen = [Seen(h) for h in hubs]
    bridges = [HubBridge(h, PG_URL, command_timeout=10, channel_prefix=prefix) for h in hubs]
    started: list[HubBridge] = []
    try:
        for bridge in bridges:
            await bridge.start()
            started.append(bridge)
            bridge.forward_commands()
        yield Cluster(hubs, bridges, seen)
    finally:
        for bridge in started:
            await bridge.stop()
        for h in hubs:
            await h.close()


def test_the_settings_url_is_turned_into_one_asyncpg_takes():
    assert asyncpg_dsn("postgres://crm:pw@db:5432/crm") == "postgresql://crm:pw@db:5432/crm"
    assert asyncpg_dsn("postgresql://crm@db/crm") == "postgresql://crm@db/crm"


async def test_an_event_reaches_every_other_hub_once_and_is_not_echoed(cluster):
    (a, b, c), (seen_a, seen_b, seen_c) = cluster.hubs, cluster.seen
    lead = LeadCreated(7, "web", 3)
    a.publish(lead)
    await seen_b.arrived(lead)
    await seen_c.arrived(lead)
    # B and C each publish a marker after the lead: an echo of the lead by B or C would have
    # been sent before their marker, so once the markers are everywhere any echo is too.
    from_b, from_c = UsersChanged(1001), UsersChanged(1002)
    b.publish(from_b)
    c.publish(from_c)
    await seen_a.arrived(from_b, from_c)
    await seen_b.arrived(from_c)
    await seen_c.arrived(from_b)
    for seen in cluster.seen:
        assert [seen.count(e) for e in (lead, from_b, from_c)] == [1, 1, 1]


async def test_a_ringing_call_arrives_equal_to_the_original(cluster):
    card = CallerCard(
        number="+34911234567",
        e164="+34911234567",
        client_id=3,
        name="Ferretería Núñez",
        open_deals=({"id": 1, "title": "Centralita", "amount": "99.90"},),
        last_call_at=datetime(2026, 11, 24, 18, 5, tzinfo=MADRID),
    )
    rang = CallRang("1700000000.12", "in", "101", 2, card, at=datetime.now(MADRID))
    cluster.hubs[0].publish(rang)
    await cluster.seen[1].arrived(rang)
    got = next(e for e in cluster.seen[1].events if e == rang)
    assert got is not rang and got.card.last_call_at == card.last_call_at


async def test_an_event_too_big_for_notify_goes_through_the_table(cluster):
    mark = uuid.uuid4().hex
    card = CallerCard(number="+34911234567", last_note=mark + "ñ" * 10_000)  # 20 KB of UTF-8
    rang = CallRang("1700000000.13", "in", "101", 2, card)
    cluster.hubs[0].publish(rang)
    await cluster.seen[1].arrived(rang)
    await cluster.seen[2].arrived(rang)
    conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM cluster_message WHERE payload LIKE '%' || $1 || '%'", mark
        )
    finally:
        await conn.close()
    assert stored == 1


def _dialer(calls: list[ClickToCall], who: str):
    async def dial(cmd: ClickToCall) -> str:
        calls.append(cmd)
        return f"{who} dials {cmd.number}"

    return dial


def click(n: int = 1) -> ClickToCall:
    return ClickToCall(
        user_id=2, extension="101", number="+3491123456" + str(n), request_id=f"r{n}"
    )


async def test_a_click_to_call_on_b_is_carried_out_once_by_the_leader(cluster):
    (_, b, _), (bridge_a, _, _) = cluster.hubs, cluster.bridges
    calls: list[ClickToCall] = []
    bridge_a.become_leader({ClickToCall: _dialer(calls, "A")})
    assert await b.send(click()) == "A dials +34911234561"
    assert calls == [click()]


async def test_with_two_leaders_only_one_carries_a_command_out(cluster):
    (_, b, _), (bridge_a, _, bridge_c) = cluster.hubs, cluster.bridges
    calls: list[ClickToCall] = []
    bridge_a.become_leader({ClickToCall: _dialer(calls, "A")})
    bridge_c.become_leader({ClickToCall: _dialer(calls, "C")})
    answer = await b.send(click())
    # B's marker follows its command: once A and C have it, both have seen the command.
    marker = UsersChanged(77)
    b.publish(marker)
    await cluster.seen[0].arrived(marker)
    await cluster.seen[2].arrived(marker)
    await bridge_a.drain()
    await bridge_c.drain()
    assert calls == [click()]
    assert answer in ("A dials +34911234561", "C dials +34911234561")


async def test_the_leaders_error_is_raised_on_b_with_the_same_words(cluster):
    (_, b, _), (bridge_a, _, _) = cluster.hubs, cluster.bridges

    async def refuse(cmd: ClickToCall) -> str:
        raise TelephonyError(msg("the PBX refused the call: %(answer)s", answer="Busy"))

    bridge_a.become_leader({ClickToCall: refuse})
    with pytest.raises(TelephonyError) as caught:
        await b.send(click())
    refused = msg("the PBX refused the call: %(answer)s", answer="Busy")
    assert str(caught.value) == refused
    assert caught.value.in_language("es") == refused.in_language("es")

    async def broken(cmd: ClickToCall) -> str:
        raise RuntimeError("the AMI socket is gone")

    bridge_a.become_leader({ClickToCall: broken})
    with pytest.raises(CrmError, match="the AMI socket is gone"):
        await b.send(click())

    async def missing(cmd: ClickToCall) -> str:
        raise NotFound(msg("user not found"))

    bridge_a.become_leader({ClickToCall: missing})
    with pytest.raises(NotFound, match="user not found"):
        await b.send(click())

    async def invalid(cmd: ClickToCall) -> str:
        raise ValidationFailed({"number": msg("not a valid phone number")})

    bridge_a.become_leader({ClickToCall: invalid})
    with pytest.raises(ValidationFailed) as refused_number:
        await b.send(click())
    assert refused_number.value.fields == {"number": "not a valid phone number"}


async def test_without_a_leader_the_command_times_out_saying_so(cluster):
    b, bridge_b = cluster.hubs[1], cluster.bridges[1]
    bridge_b.command_timeout = 0.5
    with pytest.raises(CrmError, match="the PBX link is not running on any instance"):
        await b.send(click())


async def test_after_a_handover_commands_go_to_the_new_leader(cluster):
    (a, b, _), (bridge_a, _, bridge_c) = cluster.hubs, cluster.bridges
    calls_a: list[ClickToCall] = []
    calls_c: list[ClickToCall] = []
    bridge_a.become_leader({ClickToCall: _dialer(calls_a, "A")})
    assert await b.send(click(1)) == "A dials +34911234561"
    bridge_a.become_follower()
    bridge_c.become_leader({ClickToCall: _dialer(calls_c, "C")})
    assert await b.send(click(2)) == "C dials +34911234562"
    assert await a.send(click(3)) == "C dials +34911234563"  # A forwards again
    assert calls_a == [click(1)]
    assert calls_c == [click(2), click(3)]


async def test_after_the_connection_is_killed_the_bridge_reconnects_and_relays(cluster):
    bridge_a = cluster.bridges[0]
    generation = bridge_a.generation
    admin = await asyncpg.connect(asyncpg_dsn(PG_URL))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            f"centralita-cluster-{bridge_a.instance_id}",
        )
    finally:
        await admin.close()
    assert killed == 1
    async with asyncio.timeout(10):
        await bridge_a.wait_connected(after=generation)
    lead = LeadCreated(8, "call", None)
    cluster.hubs[0].publish(lead)
    await cluster.seen[1].arrived(lead)
    assert cluster.seen[1].count(lead) == 1
