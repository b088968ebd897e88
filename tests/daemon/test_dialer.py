"""The auto-dialer (Q1) end to end: lists in the database, the runner, the AMI link over TCP to
the PBX simulator, the tracker storing each call."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import pytest

from daemon.dialer import DialerRunner, channel_calls, live_calls
from daemon.telephony import start_telephony
from models.contacts.clients import ClientInput, create_client
from models.core.errors import Conflict, ValidationFailed
from models.core.settings import Settings
from models.schema.company import TelephonySettings
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import ami_settings, eventually

sim = fx.sim

A, B, C, D = "+34911000001", "+34911000002", "+34911000003", "+34911000004"


@pytest.fixture
async def phone_line(sim, hub, clock, world):
    """The daemon's telephony side linked to the simulator over TCP."""
    settings = Settings(ami=ami_settings(sim))
    async with AsyncExitStack() as stack:
        telephony = await start_telephony(stack, settings, hub, clock)
        await telephony.link.wait_ready(10)
        yield telephony


@pytest.fixture
async def runners(hub, clock, phone_line):
    calls = channel_calls(phone_line.commands.directory)

    started: list[DialerRunner] = []

    async def make() -> DialerRunner:
        runner = DialerRunner(
            hub,
            clock,
            gap_seconds=0.05,
            poll_interval=0.05,
            link_ready=lambda: phone_line.link.is_ready,
            agent_calls=calls,
            live_linkedids=live_calls(phone_line.commands.directory),
        )
        phone_line.listeners.add(runner.on_ami_event)
        await runner.start()
        started.append(runner)
        return runner

    yield make
    for runner in started:
        await runner.stop()


def dialed(sim) -> list[str]:
    """The numbers the PBX was asked to dial, in order (each Originate's Exten)."""
    return [a["Exten"] for a in sim.received("Originate")]


async def entries(list_id: int) -> list[DialerEntry]:
    return list(await DialerEntry.filter(dialer_list_id=list_id).order_by("position"))


def list_running(list_id: int) -> bool:
    """Whether a runner has a task dialing this list (tasks are named for their list)."""
    name = f"dialer:list-{list_id}"
    return any(t.get_name() == name and not t.done() for t in asyncio.all_tasks())


def watch_busy_checks(runner: DialerRunner, extension: str) -> Callable[[], int]:
    """Count the times the runner looks at the agent's calls and finds them busy."""
    look = runner.agent_calls
    busy = 0

    def calls(ext: str) -> set[str]:
        nonlocal busy
        found = look(ext)
        if ext == extension and found:
            busy += 1
        return found

    runner.agent_calls = calls
    return lambda: busy


async def finished(list_id: int) -> bool:
    return (await dialer_ops.get_list(list_id)).status == dialer_ops.FINISHED


async def wait_db(predicate, within: float = 20.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_a_list_is_dialed_in_order_and_each_number_keeps_its_result_and_call(
    sim, world, clock, runners
):
    sim.script_number(A, "answer", ring=2, talk=5)
    sim.script_number(B, "noanswer")
    sim.script_number(C, "busy")
    sim.script_number(D, "unallocated")
    dialer = await dialer_ops.create_list(world.luis, "Monday", clock=clock, numbers=[A, B, C, D])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await runners()
    await wait_db(lambda: finished(dialer.id))

    rows = await entries(dialer.id)
    assert [(e.e164, e.state, e.result) for e in rows] == [
        (A, "done", "answered"),
        (B, "done", "no_answer"),
        (C, "done", "busy"),
        (D, "done", "failed"),
    ]
    assert rows[3].reason == "the number does not exist"
    assert all(e.call_id is not None for e in rows)
    originates = sim.received("Originate")
    assert [o["Exten"][-9:] for o in originates] == [n[-9:] for n in (A, B, C, D)]
    assert {o["Channel"] for o in originates} == {"PJSIP/101"}  # the agent's phone first


async def test_invalid_numbers_are_skipped_with_the_reason_and_never_dialed(
    sim, world, clock, runners
):
    client = await create_client(
        world.luis, ClientInput(name="Sin Teléfono", phones=[]), clock=clock
    )
    dialer = await dialer_ops.create_list(
        world.luis, "mixed", clock=clock, client_ids=[client.id], numbers=["12", A]
    )
    rows = await entries(dialer.id)
    assert [(e.state, e.result, e.reason) for e in rows[:2]] == [
        ("skipped", "invalid", "no phone number"),
        ("skipped", "invalid", "not a valid phone number"),  # the number is on the entry
    ]
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await runners()
    await wait_db(lambda: finished(dialer.id))
    assert [n[-9:] for n in dialed(sim)] == [A[-9:]]


async def test_an_empty_list_cannot_start(world, clock, db):
    empty = await dialer_ops.create_list(world.luis, "nothing", clock=clock)
    with pytest.raises(ValidationFailed):
        await dialer_ops.start_list(world.luis, empty.id, clock=clock)
    # "12" is written like a number but cannot be dialed ("xx" is refused as no number at all).
    only_bad = await dialer_ops.create_list(world.luis, "bad", clock=clock, numbers=["12"])
    with pytest.raises(ValidationFailed, match="no number left"):
        await dialer_ops.start_list(world.luis, only_bad.id, clock=clock)


async def test_first_number_only_or_all_numbers_as_the_setting_says(world, clock, db):
    client = await create_client(
        world.luis, ClientInput(name="Dos Números", phones=[A, B]), clock=clock
    )
    first = await dialer_ops.create_list(world.luis, "first", clock=clock, client_ids=[client.id])
    assert [e.e164 for e in await entries(first.id)] == [A]
    await TelephonySettings.all().update(is_dial_all_numbers=True)
    both = await dialer_ops.create_list(world.luis, "all", clock=clock, client_ids=[client.id])
    assert [e.e164 for e in await entries(both.id)] == [A, B]


async def test_pause_holds_the_next_call_and_resume_goes_on(sim, world, clock, runners):
    for number in (A, B, C):
        sim.script_number(number, "answer", ring=1, talk=20)
    dialer = await dialer_ops.create_list(world.luis, "p", clock=clock, numbers=[A, B, C])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await runners()
    await eventually(lambda: len(dialed(sim)) == 1)
    await dialer_ops.pause_list(world.luis, dialer.id)

    async def first_done() -> bool:
        return (await entries(dialer.id))[0].state == "done"

    await wait_db(first_done)
    # The runner let the paused list go once its call ended: nothing is left to dial it.
    await eventually(lambda: not list_running(dialer.id))
    assert len(dialed(sim)) == 1
    with pytest.raises(Conflict):
        await dialer_ops.pause_list(world.luis, dialer.id)
    await dialer_ops.skip_entry(world.luis, dialer.id)  # B
    await dialer_ops.resume_list(world.luis, dialer.id, clock=clock)
    await wait_db(lambda: finished(dialer.id))
    assert [n[-9:] for n in dialed(sim)] == [A[-9:], C[-9:]]
    assert [(e.state, e.reason) for e in await entries(dialer.id)][1] == (
        "skipped",
        "skipped by the agent",
    )


async def test_stop_skips_what_is_left(sim, world, clock, runners):
    sim.script_number(A, "answer", ring=1, talk=20)
    dialer = await dialer_ops.create_list(world.luis, "s", clock=clock, numbers=[A, B])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await runners()
    await eventually(lambda: len(dialed(sim)) == 1)
    await dialer_ops.stop_list(world.luis, dialer.id, clock=clock)

    async def first_done() -> bool:
        return (await entries(dialer.id))[0].state == "done"

    await wait_db(first_done)
    rows = await entries(dialer.id)
    assert (rows[1].state, rows[1].reason) == ("skipped", "the list was stopped")
    assert len(dialed(sim)) == 1
    with pytest.raises(Conflict):
        await dialer_ops.resume_list(world.luis, dialer.id, clock=clock)


async def test_after_a_restart_the_list_goes_on_without_dialing_twice_or_skipping(
    sim, world, clock, runners
):
    numbers = [f"+3491100{i:04d}" for i in range(6)]
    for number in numbers:
        sim.script_number(number, "answer", ring=1, talk=30)
    sim.script_number(numbers[2], "answer", ring=1, talk=400)  # 2 s at the fixture's speed
    dialer = await dialer_ops.create_list(world.luis, "r", clock=clock, numbers=numbers)
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    first = await runners()
    await eventually(lambda: len(dialed(sim)) == 3)
    # The process dies while the third call is under way: the runner goes away mid-call.
    await first.stop()
    rows = await entries(dialer.id)
    assert rows[2].state == "dialing"
    await runners()
    await wait_db(lambda: finished(dialer.id))

    rows = await entries(dialer.id)
    assert [n[-9:] for n in dialed(sim)] == [n[-9:] for n in numbers]  # once each, in order
    assert [e.result for e in rows] == ["answered"] * 6
    assert rows[2].call_id is not None


async def test_no_call_while_the_agent_is_on_another_call(sim, world, clock, runners):
    sim.script_number(A, "answer", ring=1, talk=5)
    sim.script_number(B, "answer", ring=1, talk=60)
    busy_call = await sim.outbound_call("101", B)  # the agent dials someone by hand
    dialer = await dialer_ops.create_list(world.luis, "b", clock=clock, numbers=[A])
    runner = await runners()
    await eventually(lambda: runner.agent_calls("101") != set())
    seen_busy = watch_busy_checks(runner, "101")
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    runner.wake()
    # Found the agent busy twice: the runner went round its loop once in between, held.
    await eventually(lambda: seen_busy() >= 2)
    assert dialed(sim) == []
    await busy_call.ended.wait()
    await wait_db(lambda: finished(dialer.id))
    assert [n[-9:] for n in dialed(sim)] == [A[-9:]]


async def test_no_call_outside_the_agents_working_hours(sim, world, clock, runners, caplog):
    caplog.set_level(logging.DEBUG, logger="daemon.dialer")
    # Wednesday 10:00 UTC is outside a Monday-only schedule.
    world.luis.work_schedule = {"kind": "weekly", "days": {"0": [["09:00", "18:00"]]}}
    await world.luis.save()
    dialer = await dialer_ops.create_list(world.luis, "h", clock=clock, numbers=[A])
    await dialer_ops.start_list(world.luis, dialer.id, clock=clock)
    await runners()
    # The runner saw Luis off duty and went to sleep until its next look.
    await eventually(lambda: any("is off duty" in r.getMessage() for r in caplog.records))
    assert dialed(sim) == []
    assert (await entries(dialer.id))[0].state == "pending"
