import asyncio
import logging

import pytest

from daemon.supervisor import Supervisor


async def test_a_crashed_loop_is_logged_and_restarted_and_stop_cancels_it(caplog):
    runs = 0
    running = asyncio.Event()
    cancelled = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError("boom")
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sup = Supervisor(base_delay=0.0)
    sup.start("flaky", flaky)
    await asyncio.wait_for(running.wait(), 10)
    assert runs == 3 and sup.restarts == {"flaky": 2}
    assert sup.names == ["flaky"]
    crashes = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in crashes] == ["task flaky crashed; restarting in 0.0 s"] * 2
    assert all(r.exc_info is not None for r in crashes)  # with the traceback
    await sup.stop()
    assert cancelled.is_set() and sup.names == []


async def test_a_loop_that_returns_has_finished_and_names_are_unique():
    finished = asyncio.Event()

    async def once() -> None:
        finished.set()

    sup = Supervisor(base_delay=0.0)
    task = sup.start("once", once)
    await task
    assert finished.is_set() and sup.names == [] and sup.restarts == {}
    blocker = asyncio.Event()
    sup.start("worker", blocker.wait)
    with pytest.raises(ValueError, match="already running"):
        sup.start("worker", blocker.wait)
    await sup.stop()


async def test_stop_task_lets_a_loop_asked_to_stop_finish_within_its_grace():
    asked = asyncio.Event()
    waiting = asyncio.Event()
    outcome: list[str] = []

    async def polite() -> None:
        waiting.set()
        try:
            await asked.wait()
            outcome.append("finished")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    sup = Supervisor()
    sup.start("polite", polite)
    await waiting.wait()
    asked.set()  # what an owner's stop() does before stop_task
    await sup.stop_task("polite", grace=5.0)
    assert outcome == ["finished"]

    asked.clear()
    waiting.clear()
    sup.start("polite", polite)
    await waiting.wait()
    await sup.stop_task("polite")  # no grace: cancelled at once
    assert outcome == ["finished", "cancelled"]
