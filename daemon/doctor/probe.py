"""One short AMI session for the doctor: connect, log in, send actions, watch events, log off.

Separate from the daemon's AMI link on purpose: the doctor must see what a fresh connection
sees (the banner, the login's answer, the events sent after login), also when the link is down
or refused, and must never disturb the link's event stream. Framing and parsing are
daemon.ami.wire's, as everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

from daemon.ami.wire import Framer, encode, parse_message

Answer = dict[str, str] | list[dict[str, str]]


class ProbeClosedError(ConnectionError):
    """The PBX closed the connection before answering."""


class AmiProbe:
    """``async with AmiProbe(host, port, timeout) as probe: await probe.login(user, secret)``."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.banner = ""
        self.events: list[dict[str, str]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[Answer]] = {}
        self._lists: dict[str, list[dict[str, str]]] = {}
        self._seen = asyncio.Event()
        self._ids = itertools.count(1)
        self._closed = False

    async def __aenter__(self) -> AmiProbe:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the TCP connection and read the banner (OSError / TimeoutError when it fails)."""
        reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout
        )
        self._reader = reader
        line = await asyncio.wait_for(reader.readline(), self.timeout)
        self.banner = line.decode("utf-8", "replace").strip()
        self._task = asyncio.get_running_loop().create_task(self._read(), name="doctor-ami-read")

    async def login(self, username: str, secret: str) -> dict[str, str]:
        answer = await self.send(
            {"Action": "Login", "Username": username, "Secret": secret, "Events": "on"}
        )
        assert isinstance(answer, dict)
        return answer

    async def send(self, action: dict[str, Any], *, limit: float | None = None) -> Answer:
        """One action's answer: a dict, or for a list action (``EventList: start``) its events.

        A list action refused at once (``Response: Error``) answers the dict of the refusal.
        """
        if self._writer is None or self._closed:
            raise ProbeClosedError("not connected")
        action_id = f"doctor-{next(self._ids)}"
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self._writer.write(encode({**action, "ActionID": action_id}))
        try:
            return await asyncio.wait_for(future, limit or self.timeout)
        finally:
            self._pending.pop(action_id, None)
            self._lists.pop(action_id, None)

    async def wait_for(
        self, predicate: Callable[[dict[str, str]], bool], within: float, start: int = 0
    ) -> dict[str, str] | None:
        """The first event from index `start` on that `predicate` accepts, within `within` s."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        at = start
        while True:
            while at < len(self.events):
                if predicate(self.events[at]):
                    return self.events[at]
                at += 1
            left = end - loop.time()
            if left <= 0 or self._closed:
                return None
            self._seen.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._seen.wait(), left)

    async def close(self) -> None:
        if self._writer is not None and not self._closed:
            with contextlib.suppress(Exception):
                self._writer.write(encode({"Action": "Logoff"}))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
            self._writer = None
        self._closed = True

    async def _read(self) -> None:
        assert self._reader is not None
        framer = Framer()
        framer.feed_text(self.banner + "\r\n")  # the banner was read already
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    break
                for block in framer.feed(data):
                    message = parse_message(block)
                    if message is not None:
                        self._dispatch(message)
        except ConnectionError:
            pass
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ProbeClosedError("the PBX closed the connection"))
            self._seen.set()

    def _dispatch(self, message: dict[str, str]) -> None:
        action_id = message.get("ActionID", "")
        future = self._pending.get(action_id)
        if future is None or future.done():
            self.events.append(message)
            self._seen.set()
            return
        if "Response" in message:
            if message.get("EventList", "").lower() == "start":
                self._lists[action_id] = []
                return
            future.set_result(message)
            return
        items = self._lists.get(action_id)
        if items is None:
            self.events.append(message)
            self._seen.set()
            return
        if message.get("EventList", "").lower() == "complete":
            future.set_result(items)
        else:
            items.append(message)
