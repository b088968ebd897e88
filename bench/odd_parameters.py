"""Every odd value on every GET page and list of the panel, as an admin and as an agent: how
many requests were made, and that none answered 5xx.

    python bench/odd_parameters.py                                # SQLite, then PostgreSQL
    python bench/odd_parameters.py --backend sqlite --random 10   # plus 10 seeded random values
    python bench/odd_parameters.py --random 40 --seed 7           # other random values

The suite's tests/web/test_odd_parameters.py sends each page a few of its odd values (a fixed
choice, to stay within the suite's time budget); this sends every one of them to every page,
the long fuzz the suite used to run, with the same pages, records, parameters and rules (it
imports them from that test). `--random N` adds N random values per page, made by a generator
seeded with `--seed` (the same values for the same seed): strings of other scripts, control and
combining characters, numbers past any column, impossible dates and times. A 5xx answer, or a
download cut after its headers (counted as 599), is printed with its URL and the run exits 1.
The limit it compares to: the same number of requests to /healthz, a page that reads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402

from bench._common import add_database_arguments, bench_database, run_each_backend  # noqa: E402
from models.core.clock import FixedClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from tests.web.conftest import http_login, start_server, web_settings  # noqa: E402
from tests.web.test_odd_parameters import (  # noqa: E402
    _get,
    _pages,
    _urls,
    _world_records,
    fuzz_urls,
)

PASSWORD = "bench-password-1"
USERS = ("ana", "luis")  # an admin (sees everything), an agent (sees their own)
CONCURRENCY = 4
MAX_QUOTED = 600

# What random values are made of: each value takes one or two of these pools.
_POOLS = (
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "ñáéíóúüçÑÁÉÍÓÚ",  # Spanish letters
    "שלוםمرحبا漢字かなカナ한글",  # right-to-left scripts, CJK
    "😀👍🏽🇪🇸\u200d\ufe0f",  # emoji, joiners, selectors
    "\u0301\u0308\u0327",  # combining accents with nothing to sit on
    "\x00\x01\x07\x1b\x7f\t\n\r",  # control characters, NUL
    "ﷺﷻ\ufb01ſ\u2126K",  # letters that grow or change under NFKD / case folding
    "%_\\'\";-*/()[]{}<>&=+?#",  # SQL LIKE, quoting and URL characters
)


def random_value(rng: random.Random) -> str:
    """One odd value: a string of up to 400 characters, a number past any column, or an
    impossible date or time. A string stays under MAX_QUOTED bytes once in a URL, so that a
    page's every parameter at once stays under the server's 8 KB request line (past it
    aiohttp itself answers 400, before the panel sees anything)."""
    kind = rng.randrange(4)
    if kind == 0:
        text = "".join(rng.choice(rng.choice(_POOLS)) for _ in range(rng.randint(1, 400)))
        while len(quote(text)) > MAX_QUOTED:
            text = text[: len(text) * 3 // 4]
        return text
    if kind == 1:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(10, 60)))
        return rng.choice(("", "-", "+", "0x", "1e", "-0.")) + digits
    if kind == 2:
        year, month, day = rng.randint(-1, 99999), rng.randint(0, 99), rng.randint(0, 99)
        return f"{year:04d}-{month:02d}-{day:02d}"
    hour, minute = rng.randint(24, 99), rng.randint(60, 99)
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{hour}:{minute}:61"


async def _world(clock) -> SimpleNamespace:
    """The suite's named world, as far as the fuzz needs it: a company, an admin, an agent."""
    await user_ops.ensure_standard_groups()
    await Company.create(
        name="Acme Telecom", default_currency="EUR", extra_currencies=["USD"], default_region="ES"
    )
    await TelephonySettings.create()
    ana = await user_ops.create_user("ana", PASSWORD, group_name="Admin", extension="100")
    await user_ops.create_user("luis", PASSWORD, extension="101")
    return SimpleNamespace(ana=ana)


async def _visit_all(http, base: str, urls: list[str]) -> tuple[Counter, list[str], float]:
    """Every URL once, 4 at a time: answers by status, the 5xx ones, seconds taken."""
    statuses: Counter = Counter()
    failures: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def visit(url: str) -> None:
        async with gate:
            status, _ = await _get(http, base + url)
        statuses[status] += 1
        if status >= 500:
            failures.append(f"{status} {url}")

    started = time.perf_counter()
    await asyncio.gather(*(visit(url) for url in urls))
    return statuses, failures, time.perf_counter() - started


def _by_class(statuses: Counter) -> str:
    classes: Counter = Counter()
    for status, count in statuses.items():
        classes[f"{status // 100}xx"] += count
    return ", ".join(f"{name} {classes[name]}" for name in sorted(classes))


async def run(backend: str, args: argparse.Namespace) -> int:
    """The fuzz on one database; returns how many requests answered 5xx."""
    clock = FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # the suite's Wednesday
    failed = 0
    async with bench_database(backend, args) as url:
        await open_db(url)
        hub = Hub()
        try:
            ids = await _world_records(await _world(clock), clock)
            with tempfile.TemporaryDirectory(prefix="centralita_bench_") as data_dir:
                runner, srv = await start_server(web_settings(Path(data_dir)), hub, clock)
                try:
                    failed = await _fuzz(backend, args, srv, ids)
                finally:
                    await runner.cleanup()
        finally:
            await hub.close()
            await close_db()
    return failed


async def _fuzz(backend: str, args: argparse.Namespace, srv, ids) -> int:
    pages = _pages(srv.app, ids)
    rng = random.Random(args.seed)
    extra = [tuple(random_value(rng) for _ in range(args.random)) for _ in pages]
    total = failed = 0
    for username in USERS:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await http_login(http, srv.url, username, PASSWORD)
            urls = fuzz_urls(pages, username, every_value=True)
            if args.random:
                urls += [
                    url
                    for (path, names), values in zip(pages, extra, strict=True)
                    for url in _urls(path, names, values)[1:]
                ]
            urls = list(dict.fromkeys(urls))
            statuses, failures, seconds = await _visit_all(http, srv.url, urls)
            _, _, floor = await _visit_all(http, srv.url, ["/healthz"] * len(urls))
        total += len(urls)
        failed += len(failures)
        print(
            f"  {username}: {len(urls):,} requests over {len(pages)} pages in {seconds:.1f} s "
            f"({len(urls) / seconds:.0f}/s; /healthz as often: {floor:.1f} s, ratio "
            f"{seconds / floor:.1f}); answers: {_by_class(statuses)}",
            flush=True,
        )
        for failure in sorted(failures):
            print(f"    {failure[:300]}", flush=True)
    verdict = "none answered 5xx" if not failed else f"{failed} answered 5xx (listed above)"
    print(f"{backend}: {total:,} requests, {verdict}", flush=True)
    return failed


def _child(backend: str, args: argparse.Namespace) -> None:
    if asyncio.run(run(backend, args)):
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--random", type=int, default=0, help="random values added per page")
    parser.add_argument("--seed", type=int, default=16, help="seed of the random values")
    add_database_arguments(parser)
    run_each_backend(_child, parser.parse_args())


if __name__ == "__main__":
    main()
