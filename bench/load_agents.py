"""The agents of bench/load.py with the panel open, in a process of their own: each logs in
and keeps the live socket /ws open; the moment each "ringing" pop-up arrives is noted.

Run by bench/load.py (not by hand): it reads a JSON job on stdin's first line
({"urls": [...], "usernames": [...], "password": "..."}), prints "ready N" once every socket is
open, and when stdin gets "stop" prints one JSON line {linkedid: arrival time} and ends.
Arrival times are time.time(), as the simulator's send times in bench/load.py.

Kept apart from the simulator so that the figure is the product's latency: 200 sockets read in
the process that also plays the PBX made that process the bottleneck of its own measurement.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.web.conftest import http_login  # noqa: E402


async def agent_socket(
    session: aiohttp.ClientSession,
    url: str,
    username: str,
    password: str,
    arrivals: dict[str, float],
    ready: list[str],
) -> None:
    await http_login(session, url, username, password)
    async with session.ws_connect(url + "/ws", origin=url, heartbeat=30) as ws:
        ready.append(username)
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if data.get("type") == "ringing":
                arrivals.setdefault(data.get("linkedid", ""), time.time())


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    job = json.loads(await reader.readline())
    urls, usernames, password = job["urls"], job["usernames"], job["password"]
    arrivals: dict[str, float] = {}
    ready: list[str] = []
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in usernames]
    sockets = [
        asyncio.create_task(agent_socket(s, urls[i % len(urls)], name, password, arrivals, ready))
        for i, (s, name) in enumerate(zip(sessions, usernames, strict=True))
    ]
    while len(ready) < len(usernames):
        failed = [t for t in sockets if t.done()]
        if failed:
            print(f"failed {failed[0].exception()!r}", flush=True)
            return
        await asyncio.sleep(0.2)
    print(f"ready {len(ready)}", flush=True)
    while (await reader.readline()).strip() not in (b"stop", b""):
        pass
    print(json.dumps(arrivals), flush=True)
    for task in sockets:
        task.cancel()
    await asyncio.gather(*sockets, return_exceptions=True)
    for s in sessions:
        await s.close()


if __name__ == "__main__":
    asyncio.run(main())
