"""Auto-dialer benchmark (issue 8): many agents dialing lists at once on the PBX simulator.

Everything real but the PBX: database, calls service storing each call, AMI link over TCP,
click-to-call commands, the dialer runner. Prints, per run:
- numbers dialed twice and numbers never dialed (must both be 0), entry results;
- the gap from each call's hang-up to the list's next Originate, measured at the simulator on
  its wall clock (time.perf_counter when the last Hangup event of the call leaves the simulator,
  and when the next Originate action arrives), as median and worst deviation from the
  configured gap. Target: worst deviation <= 200 ms at a 5 s gap.

Scaled time (`--speed`) compresses calls and the gap alike (the gap is divided by the speed),
so deviations measured at speed N are N times too large against the real gap: the default
runs both a scaled run for correctness at scale and a real-time run (speed 1, real 5 s gap)
for the gap figures.

    python bench/bench_dialer.py [--agents 50 --numbers 200 --speed 100]
                                 [--rt-agents 20 --rt-numbers 4] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, private_database, seed_agents  # noqa: E402

from daemon.dialer import DialerRunner, channel_calls, live_calls  # noqa: E402
from daemon.pbxsim import PbxSimulator  # noqa: E402
from daemon.telephony import start_telephony  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import AmiSettings, Settings  # noqa: E402
from models.schema.dialer import DialerEntry  # noqa: E402
from models.schema.users import User  # noqa: E402
from models.telephony import dialer as dialer_ops  # noqa: E402


class TimedSimulator(PbxSimulator):
    """The simulator, noting when each Originate arrives and each call's last hang-up leaves."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.originated: list[tuple[float, str, str]] = []  # (time, extension, number)
        self.hangups: dict[str, float] = {}  # linkedid -> time of its last Hangup
        self.sent_hook = self._on_sent

    def _on_sent(self, fields) -> None:
        if fields and fields[0] == ("Event", "Hangup"):
            linkedid = dict(fields).get("Linkedid", "")
            self.hangups[linkedid] = time.perf_counter()

    def _action_originate(self, session, action) -> None:
        ext = action.get("Channel").split("/", 1)[-1]
        self.originated.append((time.perf_counter(), ext, action.get("Exten")))
        super()._action_originate(session, action)


async def one_run(url: str, agents: int, numbers: int, speed: float, gap: float) -> None:
    await open_db(url)
    await seed_agents(agents, 2000)
    users = list(
        await User.filter(extension__isnull=False).order_by("id").prefetch_related("group")
    )
    sim = TimedSimulator(speed=speed, username="bench", secret="bench-secret")
    await sim.start()
    outcomes = ("answer", "answer", "busy", "noanswer") if speed > 1 else ("answer", "busy")
    lists = {}
    all_numbers: dict[int, list[str]] = {}
    for a, user in enumerate(users):
        nums = [f"+3491{a:03d}{i:04d}" for i in range(numbers)]
        for i, number in enumerate(nums):
            sim.script_number(number, outcomes[i % len(outcomes)], ring=1, talk=2)
        dialer = await dialer_ops.create_list(user, f"bench {a}", clock=SystemClock(), numbers=nums)
        lists[dialer.id] = user.extension
        all_numbers[dialer.id] = nums
    hub = Hub()
    settings = Settings(
        ami=AmiSettings(host="127.0.0.1", port=sim.port, username="bench", secret="bench-secret")
    )
    clock = SystemClock()
    stack = AsyncExitStack()
    telephony = await start_telephony(stack, settings, hub, clock)
    await telephony.link.wait_ready(10)
    runner = DialerRunner(
        hub,
        clock,
        gap_seconds=gap,
        poll_interval=0.2,
        link_ready=lambda: telephony.link.is_ready,
        agent_calls=channel_calls(telephony.commands.directory),
        live_linkedids=live_calls(telephony.commands.directory),
    )
    telephony.listeners.add(runner.on_ami_event)
    await runner.start()
    started = time.perf_counter()
    for list_id in lists:
        owner = next(u for u in users if u.extension == lists[list_id])
        await dialer_ops.start_list(owner, list_id, clock=clock)
    runner.wake()
    while await dialer_ops.running_list_ids():  # noqa: ASYNC110 - the lists live in the database
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    await runner.stop()
    await stack.aclose()
    await sim.close()

    entries = list(await DialerEntry.all().order_by("dialer_list_id", "position"))
    dialed = Counter(n[-9:] for _, _, n in sim.originated)
    expected = [n[-9:] for nums in all_numbers.values() for n in nums]
    twice = sum(1 for n in expected if dialed[n] > 1)
    never = sum(1 for n in expected if dialed[n] == 0)
    results = Counter(e.result for e in entries)
    # Gap: per entry with a successor on its list, next Originate minus this call's last hang-up.
    originate_at = {}
    for at, _ext, number in sim.originated:
        originate_at.setdefault(number[-9:], at)
    deviations = []
    by_list: dict[int, list[DialerEntry]] = {}
    for e in entries:
        by_list.setdefault(e.dialer_list_id, []).append(e)  # type: ignore[attr-defined]
    for rows in by_list.values():
        for this, nxt in zip(rows, rows[1:], strict=False):
            hung = sim.hangups.get(this.linkedid or "")
            nxt_at = originate_at.get((nxt.e164 or "")[-9:])
            if hung is None or nxt_at is None:
                continue
            deviations.append(((nxt_at - hung) - gap) * 1000)
    print(
        f"{agents} agents x {numbers} numbers at speed {speed:g}, gap {gap:g} s: "
        f"{len(sim.originated)} calls in {elapsed:.1f} s; dialed twice {twice}, never dialed "
        f"{never}; results {dict(results)}"
    )
    if deviations:
        worst = max(deviations, key=abs)
        print(
            f"  hang-up -> next Originate minus gap ({len(deviations)} gaps): median "
            f"{statistics.median(deviations):+.1f} ms, worst {worst:+.1f} ms, "
            f"min {min(deviations):+.1f} ms, max {max(deviations):+.1f} ms"
        )
    await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--rt-agents", type=int, default=20)
    parser.add_argument("--rt-numbers", type=int, default=4)
    parser.add_argument("--gap", type=float, default=5.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--skip-scaled", action="store_true")
    parser.add_argument("--skip-realtime", action="store_true")
    args = parser.parse_args()
    if not args.skip_scaled:
        async with private_database(args.backend, args.pg_url, None) as url:
            await one_run(url, args.agents, args.numbers, args.speed, args.gap / args.speed)
    if not args.skip_realtime:
        async with private_database(args.backend, args.pg_url, None) as url:
            await one_run(url, args.rt_agents, args.rt_numbers, 1.0, args.gap)


if __name__ == "__main__":
    asyncio.run(main())
