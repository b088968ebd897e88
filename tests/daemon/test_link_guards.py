"""The four defects of panoramisk 1.4, each shown on a bare Manager and guarded in our link.

Every pair runs the same scenario over real TCP against the simulator: first a bare
panoramisk Manager (the defect shows), then our AmiLink (it does not).
"""

from __future__ import annotations

import asyncio

import pytest
from panoramisk import Manager

from models.core.errors import TelephonyError
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import eventually

sim = fx.sim
make_link = fx.make_link

ORIGINATE = {
    "Action": "Originate",
    "Channel": "PJSIP/101",
    "Context": "from-internal",
    "Exten": "+34911234567",
    "Priority": "1",
    "CallerID": '"+34911234567" <101>',
}


@pytest.fixture
async def bare(sim):
    """bare(**config) -> a logged-in panoramisk Manager with a catch-all event recorder."""
    managers: list[Manager] = []

    async def factory(**config):
        events: list = []
        lost: list = []
        options = {"ping_delay": 3600, "ping_interval": 3600, "reconnect_timeout": 0}
        options.update(config)
        manager = Manager(
            host="127.0.0.1",
            port=sim.port,
            username=sim.username,
            secret=sim.secret,
            loop=asyncio.get_running_loop(),
            on_disconnect=lambda _m, exc: lost.append(exc),
            **options,
        )
        manager.register_event("*", lambda _m, event: events.append(event))
        managers.append(manager)
        await manager.connect()
        await eventually(lambda: manager.authenticated)
        return manager, events, lost

    yield factory
    for manager in managers:
        manager.close()
        manager.connection_lost = lambda exc: None  # no reconnect after the test


# (a) Originate without an explicit Async header


async def test_bare_panoramisk_drops_the_connection_on_originate_without_async(sim, bare):
    manager, _, lost = await bare()
    future = manager.send_action(dict(ORIGINATE))
    await eventually(lambda: lost)  # KeyError('async') in data_received killed the connection
    assert not future.done()


async def test_link_originate_without_async_keeps_the_connection(sim, make_link):
    link, _, _ = await make_link()
    answer = await link.send_action(dict(ORIGINATE))
    assert answer["Message"] == "Originate successfully queued"
    assert sim.received("Originate")[0]["Async"] == "true"  # always sent explicitly
    await link.send_action({"Action": "Ping"})
    assert link.is_ready and sim.logins == 1


# (b) a UTF-8 character split across two TCP reads


def _split_event(name: str) -> list[bytes]:
    data = (
        "Event: Newchannel\r\nChannel: PJSIP/carrier-00000001\r\n"
        f"CallerIDNum: +34911234567\r\nCallerIDName: {name}\r\nUniqueid: 1.1\r\n\r\n"
    ).encode()
    middle = data.index(name.encode()) + len(name.encode()) // 2
    while data[middle] & 0xC0 != 0x80:  # make the cut fall inside a character
        middle += 1
    return [data[:middle], data[middle:]]


@pytest.mark.parametrize("name", ["José Núñez", "Иван"])
async def test_bare_panoramisk_loses_a_split_utf8_character(sim, bare, name):
    _, events, _ = await bare()
    await sim.send_chunks(_split_event(name))
    await eventually(lambda: [e for e in events if e.event == "Newchannel"])
    received = [e for e in events if e.event == "Newchannel"][0]["CallerIDName"]
    assert received != name and len(received) == len(name) - 1


@pytest.mark.parametrize("name", ["José Núñez", "Иван"])
async def test_link_keeps_a_split_utf8_character(sim, make_link, name):
    _, rec, _ = await make_link()
    await sim.send_chunks(_split_event(name))
    await eventually(lambda: rec.named("Newchannel"))
    assert rec.named("Newchannel")[0]["CallerIDName"] == name


# (c) unanswered actions re-sent after a reconnect; half-answered ones never complete


async def test_bare_panoramisk_sends_an_unanswered_originate_again(sim, bare):
    manager, _, _ = await bare()
    sim.answer_actions = False
    manager.send_action(dict(ORIGINATE, Async="true"))
    await eventually(lambda: len(sim.received("Originate")) == 1)
    sim.answer_actions = True
    await sim.drop_clients()
    await eventually(lambda: len(sim.received("Originate")) == 2)  # the agent's phone rings twice


async def test_link_never_sends_an_originate_twice(sim, make_link):
    link, _, _ = await make_link()
    sim.answer_actions = False
    pending = asyncio.ensure_future(link.send_action(dict(ORIGINATE)))
    await eventually(lambda: len(sim.received("Originate")) == 1)
    sim.answer_actions = True
    await sim.drop_clients()
    with pytest.raises(TelephonyError, match="dropped before Originate was answered"):
        await pending
    await eventually(lambda: sim.logins == 2 and link.is_ready)
    await link.send_action({"Action": "Ping"})  # anything re-sent would have arrived before this
    assert len(sim.received("Originate")) == 1


PARTIAL_LIST = (
    b"Response: Success\r\nActionID: partial-1\r\nEventList: start\r\n"
    b"Message: Channels will follow\r\n\r\n"
)


async def test_bare_panoramisk_never_completes_a_half_answered_action(sim, bare):
    manager, _, _ = await bare()
    sim.answer_actions = False
    future = manager.send_action({"Action": "CoreShowChannels", "ActionID": "partial-1"})
    await eventually(lambda: sim.received("CoreShowChannels"))
    sim.send_raw(PARTIAL_LIST)
    await asyncio.sleep(0.05)
    sim.answer_actions = True
    await sim.drop_clients()
    await eventually(lambda: sim.logins == 2)
    await asyncio.wait_for(manager.send_action({"Action": "Ping"}), 5)
    assert not future.done()  # whoever awaits it waits forever


async def test_link_fails_a_half_answered_action_when_the_connection_drops(sim, make_link):
    link, _, _ = await make_link()
    sim.answer_actions = False
    pending = asyncio.ensure_future(
        link.send_action({"Action": "CoreShowChannels", "ActionID": "partial-1"})
    )
    await eventually(lambda: len(sim.received("CoreShowChannels")) == 2)  # resync + ours
    sim.send_raw(PARTIAL_LIST)
    await asyncio.sleep(0.05)
    sim.answer_actions = True
    await sim.drop_clients()
    with pytest.raises(TelephonyError, match="dropped before CoreShowChannels"):
        await pending


# (d) ping answers never checked


async def test_bare_panoramisk_does_not_notice_unanswered_pings(sim, bare):
    manager, _, lost = await bare(ping_delay=1, ping_interval=1)
    sim.answer_pings = False
    await eventually(lambda: len(sim.received("Ping")) >= 2)
    assert sim.logins == 1 and not lost  # a half-dead PBX goes unnoticed


async def test_link_watchdog_drops_a_connection_whose_pings_go_unanswered(sim, make_link):
    link, _, _ = await make_link(ping_interval=0.2, action_timeout=0.2)
    sim.answer_pings = False
    await eventually(lambda: sim.logins >= 2)
    sim.answer_pings = True
    await eventually(lambda: link.is_ready)
    assert len(sim.received("Ping")) >= 1
