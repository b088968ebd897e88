"""Load (issue 19, item 7): agents with the panel open, calls ringing in bursts, pages clicked
through by Locust, on one instance or on several sharing one PostgreSQL.

Set-up: a private PostgreSQL database with AGENTS agents, the PBX simulator in this process,
INSTANCES `centralita run` processes with `[cluster] enabled` (tests/daemon/
test_cluster_instances.py's helpers). Every agent logs in and keeps the live socket /ws open
on one of the instances (round robin), so the leader's pop-ups cross to the others through
PostgreSQL. Every BURST_EVERY seconds CALLS inbound calls ring at once, each for another
agent; the pop-up latency is from the agent's DialBegin leaving the simulator's socket to the
"ringing" message arriving on that agent's socket (the sockets are held by
bench/load_agents.py, a process of their own, so that reading them does not slow the
simulator's clock; both note time.time()). Meanwhile Locust (bench/load_locust.py,
headless, in its own process) clicks through dashboard, clients, calls, tasks, kanban and search
as USERS agents, and `centralita import` brings in IMPORT_ROWS new clients. Every agent is
linked to a Telegram chat on the local Bot API server (tests/bot/fake_bot_api.py), so every
ringing call also sends a notification, and BOT_QUESTIONS agents per burst ask the bot
`/find`; the reply time is from the update offered to the bot to its sendMessage. The instances'
memory (VmRSS) is read every 30 s.

Prints pop-up p50/p99/max and how many arrived, page p95 per page and overall from Locust,
and each instance's memory at the start and the end. Targets: pop-up p99 <= 50 ms, page p95
<= 100 ms, memory flat. Exits 1 when a pop-up is lost.

    python bench/load.py [--instances 3] [--agents 200] [--calls 50] [--users 50] [--seconds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import DEFAULT_PG, private_database, seed_agents  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from daemon.pbxsim import PbxSimulator  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.messaging import telegram_links as telegram  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from tests.bot import updates  # noqa: E402
from tests.bot.fake_bot_api import FakeBotApi  # noqa: E402
from tests.daemon.test_cluster_instances import start, write_config  # noqa: E402

FIRST_EXTENSION = 1000
PASSWORD = "bench-password-1"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def open_agents(urls: list[str], usernames: list[str]) -> asyncio.subprocess.Process:
    """Start bench/load_agents.py (the agents' sockets, in a process of their own)."""
    agents = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "load_agents.py"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
        limit=64 * 1024 * 1024,
    )  # fmt: skip
    assert agents.stdin is not None and agents.stdout is not None
    job = {"urls": urls, "usernames": usernames, "password": PASSWORD}
    agents.stdin.write(json.dumps(job).encode() + b"\n")
    await agents.stdin.drain()
    line = (await asyncio.wait_for(agents.stdout.readline(), 300)).decode().strip()
    if not line.startswith("ready "):
        raise SystemExit(f"the agents' sockets did not open: {line or 'no answer'}")
    return agents


async def arrivals_of(agents: asyncio.subprocess.Process) -> dict[str, float]:
    """Stop the agents' process; the moment each pop-up arrived, by linkedid."""
    assert agents.stdin is not None and agents.stdout is not None
    agents.stdin.write(b"stop\n")
    await agents.stdin.drain()
    line = await asyncio.wait_for(agents.stdout.readline(), 60)
    await agents.wait()
    return {str(k): float(v) for k, v in json.loads(line).items()}


CHAT_BASE = 900_000  # agent n's Telegram chat is CHAT_BASE + n


class BotLoad:
    """The bot's side of the load: every agent linked to a Telegram chat (the local Bot API
    server, tests/bot/fake_bot_api.py), so each ringing call sends a notification, and agents
    asking the bot `/find` with a word of their own; the reply is found by that word."""

    def __init__(self) -> None:
        self.api = FakeBotApi()
        self.asked: dict[str, float] = {}  # the word -> time.monotonic() when asked

    def config(self) -> str:
        return f'[telegram]\ntoken = "{self.api.token}"\napi_url = "{self.api.base_url}"\n'

    async def link(self, agents: list) -> None:
        clock = SystemClock()
        for n, agent in enumerate(agents):
            code = await telegram.create_link_code(agent, clock=clock)
            await telegram.link_chat(code, CHAT_BASE + n, clock=clock)

    def ask(self, agent_number: int, serial: int) -> None:
        word = f"zq{serial:06d}"
        self.asked[word] = time.monotonic()
        self.api.push_update(updates.message(CHAT_BASE + agent_number, f"/find {word}"))

    def report(self) -> str:
        replies: dict[str, float] = {}
        notifications = 0
        for call in self.api.calls_of("sendMessage"):
            text = str(call.params.get("text", ""))
            found = re.search(r"zq\d{6}", text)
            if found:
                replies.setdefault(found.group(0), call.at)
            else:
                notifications += 1
        waits = [(replies[w] - t) * 1000 for w, t in self.asked.items() if w in replies]
        return (
            f"bot: {notifications} messages sent (call notifications), "
            f"{len(waits)}/{len(self.asked)} /find answered, "
            f"p50 {percentile(waits, 0.5):.0f} ms, p95 {percentile(waits, 0.95):.0f} ms"
        )


async def run(args: argparse.Namespace, url: str, tmp: Path) -> int:
    bot = BotLoad() if args.bot else None
    if bot is not None:
        await bot.api.start()
    await open_db(url)
    agents = await seed_agents(args.agents, FIRST_EXTENSION, PASSWORD)
    await user_ops.create_user("admin", PASSWORD, group_name="Admin")
    if bot is not None:
        await bot.link(agents)
    await close_db()

    sim = PbxSimulator(speed=1.0)
    await sim.start()
    sent: dict[str, float] = {}

    def on_sent(fields: list[tuple[str, str]]) -> None:
        event = dict(fields)
        if event.get("Event") == "DialBegin" and event.get("Linkedid") not in sent:
            sent[event["Linkedid"]] = time.time()

    sim.sent_hook = on_sent
    key = Fernet.generate_key().decode()
    procs, urls = [], []
    for i in range(args.instances):
        # Every agent logs in from this one address: no login throttle for the bench.
        extra = "login_attempts_per_minute = 1000000\nlogin_failures_per_account = 1000000\n"
        config = write_config(tmp, i, sim, key, extra)
        if bot is not None:
            with Path(config).open("a", encoding="utf-8") as out:  # noqa: ASYNC230 (set-up)
                out.write(bot.config())
        proc, web_url = await start(config, url, tmp)
        procs.append(proc)
        urls.append(web_url)
    sockets = await open_agents(urls, [u.username for u in agents])
    print(f"{len(agents)} agents connected over {len(urls)} instance(s)", flush=True)

    env = dict(
        os.environ,
        LOAD_URLS=",".join(urls),
        LOAD_AGENTS=str(args.agents),
        LOAD_FIRST_EXTENSION=str(FIRST_EXTENSION),
        LOAD_PASSWORD=PASSWORD,
        LOAD_PAGE_TIMES=str(tmp / "page_times.json"),
    )
    stats_prefix = tmp / "locust"
    locust = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_locust.py"),
        "--headless", "-u", str(args.users), "-r", str(max(1, args.users // 5)),
        "-t", f"{args.seconds}s", "--csv", str(stats_prefix), "--only-summary",
        "--host", urls[0],
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    importing = None
    if args.import_rows:  # an import of new clients runs beside the load, as an admin would
        source = tmp / "import.csv"
        lines = ["Nombre,Telefono"] + [
            f"Cliente {i},+346{30000000 + i}" for i in range(args.import_rows)
        ]
        source.write_text("\n".join(lines), encoding="utf-8")  # noqa: ASYNC240 (set-up)
        config = tmp / "import.toml"
        config.write_text(f'data_dir = "{tmp / "data"}"\n', encoding="utf-8")  # noqa: ASYNC240
        env_import = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
        env_import["CENTRALITA_DATABASE__URL"] = url
        importing = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon.cli", "--config", str(config), "import", str(source),
            "--map", "Nombre=name,Telefono=phone",
            env=env_import, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        import_started = time.monotonic()
    memory = {i: [rss_mb(p.pid)] for i, p in enumerate(procs)}
    started = time.monotonic()
    burst = 0
    next_memory = started + 30
    while time.monotonic() - started < args.seconds:
        ringing = [agents[(burst * args.calls + i) % len(agents)] for i in range(args.calls)]
        for i, agent in enumerate(ringing):
            await sim.inbound_call(
                f"+3462{burst:03d}{i:04d}", "900100200", [agent.extension or ""],
                answer_by=agent.extension, answer_after=1.5, talk=3.0,
            )  # fmt: skip
        if bot is not None:  # agents asking the bot while their colleagues' phones ring
            for i in range(args.bot_questions):
                bot.ask((burst * 7 + i * 13) % len(agents), burst * args.bot_questions + i)
        burst += 1
        await asyncio.sleep(args.burst_every)
        if time.monotonic() >= next_memory:
            for i, p in enumerate(procs):
                memory[i].append(rss_mb(p.pid))
            next_memory += 30
    await locust.wait()
    if importing is not None:
        out, _ = await importing.communicate()
        took = time.monotonic() - import_started
        summary = [line for line in out.decode().splitlines() if "created" in line]
        print(f"import of {args.import_rows} rows beside the load: {took:.0f} s; {summary}")
    await asyncio.sleep(5)  # the last burst's pop-ups
    for i, p in enumerate(procs):
        memory[i].append(rss_mb(p.pid))

    arrivals = await arrivals_of(sockets)
    latencies = [(arrivals[k] - t) * 1000 for k, t in sent.items() if k in arrivals]
    lost = len(sent) - len(latencies)
    print(
        f"pop-ups: {len(latencies)}/{len(sent)} arrived, p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies or [0]):.1f} ms "
        "(target p99 <= 50 ms)"
    )
    if sent:  # which bursts were slow: the worst pop-up of each, in order
        first = min(sent.values())
        worst: dict[int, float] = {}
        for k, t in sent.items():
            if k in arrivals:
                n = int((t - first) // args.burst_every)
                worst[n] = max(worst.get(n, 0.0), (arrivals[k] - t) * 1000)
        print(
            "  worst pop-up of each burst (ms): "
            + " ".join(f"{worst[n]:.0f}" for n in sorted(worst))
        )
    if bot is not None:
        print(bot.report(), flush=True)
    text = Path(f"{stats_prefix}_stats.csv").read_text()  # noqa: ASYNC240 (small, once)
    for row in csv.DictReader(text.splitlines()):
        if row["Name"].startswith("/login"):
            continue
        print(
            f"  {row['Name']:<16} {row['Request Count']:>6} requests, "
            f"{row['Failure Count']} failed, p50 {row['50%']} ms, p95 {row['95%']} ms, "
            f"p99 {row['99%']} ms, {float(row['Requests/s']):.1f} req/s"
        )
    page_times = tmp / "page_times.json"
    if page_times.exists():
        times = json.loads(page_times.read_text())  # noqa: ASYNC240 (once, at the end)
        print(
            f"  pages (all but the log-in): {len(times)} requests, "
            f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms, "
            f"p99 {percentile(times, 0.99):.0f} ms (target p95 <= 100 ms)"
        )
    for i, values in memory.items():
        print(
            f"  instance {i}: memory {values[0]:.0f} -> {values[-1]:.0f} MB "
            f"(median {statistics.median(values):.0f}, max {max(values):.0f})"
        )
    for p in procs:
        p.terminate()
    for p in procs:
        await p.wait()
    await sim.close()
    if bot is not None:
        await bot.api.stop()
    return 1 if lost else 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--burst-every", type=float, default=15.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--workdir", default="", help="keep configs and instance logs here")
    parser.add_argument("--import-rows", type=int, default=20000, help="0: no import")
    parser.add_argument("--bot", action=argparse.BooleanOptionalAction, default=True,
                        help="agents linked to Telegram (the local Bot API server)")  # fmt: skip
    parser.add_argument("--bot-questions", type=int, default=10, help="/find asked per burst")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="centralita_load_") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)  # kept: the instances' logs
        work.mkdir(parents=True, exist_ok=True)
        async with private_database("postgres", args.pg_url, None) as url:
            return await run(args, url, work)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
