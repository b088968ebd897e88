"""A crash of the daemon during a dialer call (issue 19, item 5): the process that placed the
call dies (no clean shutdown: the entry stays `dialing`, the calls it was following are lost
with its tracker); the new process finds the call again, from the PBX's live channels at its
first resync or from the call stored when it ends, records the entry's real result with the
call, never dials the number again and goes on with the list."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest

from daemon.dialer import DialerRunner, channel_calls, live_calls
from daemon.pbxsim import PbxSimulator
from daemon.telephony import Telephony, start_telephony
from models.core.hub import Hub
from models.core.settings import Settings
from models.schema.calls import Call
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import ami_settings, eventually

sim = fx.sim

A, B, C = "+34911000001", "+34911000002", "+34911000003"


class PbxClock:
    """The daemon's clock reading the simulator's: a real daemon and its PBX share the time of
    day, and the simulator runs faster than real time."""

    def __init__(self, simulator: PbxSimulator) -> None:
        self.sim = simulator

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.sim.clock.epoch(), UTC)


class Process:
    """One daemon process as far as the dialer goes: its hub, PBX link, tracker and runner."""

    def __init__(self, sim: PbxSimulator, clock: PbxClock, **runner_options: float) -> None:
        self.sim, self.clock, self.options = sim, clock, runner_options
        self.hub = Hub()
        self.stack = AsyncExitStack()
        self.telephony: Telephony | None = None
        self.runner: DialerRunner | None = None

    async def start(self) -> DialerRunner:
        settings = Settings(ami=ami_settings(self.sim))
        self.telephony = telephony = await start_telephony(
            self.stack, settings, self.hub, self.clock
        )
        directory = telephony.commands.directory
        self.runner = DialerRunner(
            self.hub,
            self.clock,
            gap_seconds=0.05,
            poll_interval=0.05,
            link_ready=lambda: telephony.link.is_ready,
            agent_calls=channel_calls(directory),
            live_linkedids=live_calls(directory),
            **self.options,
        )
        telephony.listeners.add(self.runner.on_ami_event)
        await self.runner.start()
        return self.runner

    async def kill(self) -> None:
        """Gone at once, as after SIGKILL: nothing more is stored or recorded by this process.
        The AMI link drops first (the calls it follows are no longer heard of), then its tasks
        go away without finishing what they were doing."""
        assert self.telephony is not None and self.runner is not None
        await self.telephony.link.stop()
        await self.runner.stop()
        await self.stack.aclose()
        await self.hub.close()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        await self.stack.aclose()
        await self.hub.close()


@pytest.fixture
async def processes(sim, world):
    clock = PbxClock(sim)
    started: list[Process] = []

    def make(**runner_options: float) -> Process:
        process = Process(sim, clock, **runner_options)
        started.append(process)
        return process

    yield make
    for process in started:
        await process.stop()


def dialed(sim) -> list[str]:
    return [a["Exten"][-9:] for a in sim.received("Originate")]


async def entries(list_id: int) -> list[DialerEntry]:
    return list(await DialerEntry.filter(dialer_list_id=list_id).order_by("position"))


async def wait_db(predicate, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def first_entry_done(list_id: int) -> DialerEntry:
    async def done() -> bool:
        return (await entries(list_id))[0].state == "done"

    await wait_db(done)
    return (await entries(list_id))[0]


async def crash_during_first_call(sim, world, processes, up: Callable[[], bool]) -> int:
    """A list of A then B started; the process dies once `up()` says A's call is where the test
    wants it. Returns the list's id."""
    clock = PbxClock(sim)
    dialer = await dialer_ops.create_list(world.luis, "crash", clock=clock, numbers=[A, B])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    first = processes()
    await first.start()
    await eventually(up)
    await first.kill()
    assert [e.state for e in await entries(dialer.id)] == ["dialing", "pending"]
    return dialer.id


def talking(sim) -> bool:
    return any(c.bridge is not None for c in sim.pbx.channels.values())


def client_ringing(sim) -> bool:
    return any(c.state == 5 and "carrier" in c.name for c in sim.pbx.channels.values())


def agent_ringing(sim) -> bool:
    return any(c.state == 5 and c.name.startswith("PJSIP/101-") for c in sim.pbx.channels.values())


async def test_a_call_still_up_after_the_crash_is_found_on_the_pbx_and_its_result_kept(
    sim, world, processes
):
    sim.script_number(A, "answer", ring=1, talk=1000)  # 5 s at the fixture's speed
    sim.script_number(B, "answer", ring=1, talk=5)
    list_id = await crash_during_first_call(sim, world, processes, lambda: talking(sim))
    linkedid = (await entries(list_id))[0].linkedid
    assert linkedid  # stored as soon as the PBX named the call, before its end

    await processes().start()
    loop = asyncio.get_running_loop()
    await eventually(lambda: not sim.pbx.channels)  # the client hangs up after the restart
    hung_up = loop.time()
    entry = await first_entry_done(list_id)
    resolved_after = loop.time() - hung_up
    assert (entry.result, entry.reason) == ("answered", "")
    call = await Call.get(id=entry.call_id)
    assert (call.linkedid, call.peer_e164, call.agent_extension) == (linkedid, A, "101")
    assert call.talk_seconds >= 990  # the whole conversation, also what went on meanwhile
    assert resolved_after < 5.0  # as soon as the call is stored, not after a timeout
    await wait_db(lambda: finished(list_id))
    assert dialed(sim) == [A[-9:], B[-9:]]  # A never dialed again
    assert [e.result for e in await entries(list_id)] == ["answered", "answered"]


async def test_a_number_still_ringing_at_the_crash_keeps_its_no_answer(sim, world, processes):
    sim.scripts.ring_timeout = 1000  # the client's phone rings 5 s, nobody answers
    sim.script_number(A, "noanswer")
    sim.script_number(B, "answer", ring=1, talk=5)
    list_id = await crash_during_first_call(sim, world, processes, lambda: client_ringing(sim))

    await processes().start()
    entry = await first_entry_done(list_id)
    assert (entry.result, entry.reason) == ("no_answer", "")
    assert (await Call.get(id=entry.call_id)).peer_e164 == A
    await wait_db(lambda: finished(list_id))
    assert dialed(sim) == [A[-9:], B[-9:]]


async def test_the_agents_phone_still_ringing_at_the_crash_is_followed_to_the_end(
    sim, world, processes
):
    """Killed before the agent picked up: the call's linked id was not known yet; the agent's
    phone on the PBX is what tells the new process the call goes on."""
    sim.scripts.agent_answer_after = 800  # the agent picks up 4 s later
    sim.script_number(A, "answer", ring=1, talk=20)
    sim.script_number(B, "answer", ring=1, talk=5)
    list_id = await crash_during_first_call(sim, world, processes, lambda: agent_ringing(sim))

    await processes(restart_grace=0.5).start()
    entry = await first_entry_done(list_id)
    assert (entry.result, entry.reason) == ("answered", "")
    call = await Call.get(id=entry.call_id)
    assert (call.peer_e164, call.agent_extension) == (A, "101")
    await wait_db(lambda: finished(list_id))
    assert dialed(sim) == [A[-9:], B[-9:]]


async def test_a_call_that_ended_while_the_daemon_was_down_is_recorded_lost_and_not_redialed(
    sim, world, processes
):
    sim.script_number(A, "answer", ring=1, talk=100)
    sim.script_number(B, "answer", ring=1, talk=5)
    list_id = await crash_during_first_call(sim, world, processes, lambda: talking(sim))
    await eventually(lambda: not sim.pbx.channels)  # over before the daemon is back

    loop = asyncio.get_running_loop()
    restarted = loop.time()
    await processes(restart_grace=0.5).start()
    entry = await first_entry_done(list_id)
    took = loop.time() - restarted
    assert (entry.result, entry.call_id) == ("failed", None)
    assert entry.reason == dialer_ops.ENDED_IN_RESTART.msgid
    assert dialer_ops.reason_text(entry.reason, "es").startswith("la llamada terminó")
    assert 0.5 <= took < 5.0  # the grace, not the 3 minutes of the runner before
    await wait_db(lambda: finished(list_id))
    assert dialed(sim) == [A[-9:], B[-9:]]
    assert (await entries(list_id))[1].result == "answered"


async def test_while_the_pbx_cannot_be_reached_the_entry_waits_then_says_so(sim, world, db):
    """No link after the restart: the PBX cannot tell whether the call goes on, so the entry
    waits (the list could not dial anyway) for `resolve_timeout`, then says why it gave up."""
    clock = PbxClock(sim)
    dialer = await dialer_ops.create_list(world.luis, "down", clock=clock, numbers=[A])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await DialerEntry.filter(dialer_list_id=dialer.id).update(
        state="dialing", request_id="dial-lost", dialed_at=clock.now()
    )
    hub = Hub()
    runner = DialerRunner(
        hub, clock, poll_interval=0.05, resolve_timeout=0.5, link_ready=lambda: False
    )
    await runner.start()
    try:
        entry = await first_entry_done(dialer.id)
    finally:
        await runner.stop()
        await hub.close()
    assert (entry.result, entry.reason) == ("failed", dialer_ops.PBX_AWAY_IN_RESTART.msgid)
    assert sim.received("Originate") == []


async def finished(list_id: int) -> bool:
    return (await dialer_ops.get_list(list_id)).status == dialer_ops.FINISHED
