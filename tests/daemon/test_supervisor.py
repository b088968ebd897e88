import asyncio

from daemon.supervisor import Supervisor


async def test_crashed_task_is_restarted_and_stop_cancels(monkeypatch):
    runs = []

    async def flaky():
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    real_sleep = asyncio.sleep
    monkeypatch.setattr(asyncio, "sleep", lambda _d: real_sleep(0))
    sup = Supervisor()
    sup.start("flaky", flaky)
    for _ in range(50):
        await real_sleep(0)
        if len(runs) >= 3:
            break
    assert len(runs) == 3
    assert sup.names == ["flaky"]
    await sup.stop()
    assert sup.names == []
