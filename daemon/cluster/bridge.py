"""The hubs of several `centralita run` instances joined through PostgreSQL LISTEN/NOTIFY.

Each instance runs one `HubBridge` on a dedicated asyncpg connection (not Tortoise's pool):

- Events: whatever is published on the local hub goes out on `<prefix>_events`; what another
  instance sent is published on the local hub. An event that came in is never sent out again
  (the bridge remembers the identity of the objects it published itself), so each hub sees
  each event exactly once.
- Commands: `forward_commands(*types)` puts a forwarder on the local hub for each type. It
  sends the command on `<prefix>_commands` and waits for the answer on this instance's reply
  channel. An instance that serves commands (`become_leader`, or `serve_commands(True)` with
  a real handler on its hub) claims the request (a row of `cluster_claim`: exactly one
  instance executes it), says so, runs its handler and answers with the return value or the
  error. CrmError subclasses come back as themselves with their message (still translatable);
  any other error as a CrmError with its text. Nobody claims within `command_timeout`:
  TelephonyError "the PBX link is not running on any instance".
- A payload of 8000 bytes or more (PostgreSQL's NOTIFY limit) is stored in `cluster_message`
  and the notification carries its id; rows older than an hour are deleted now and then. The
  bridge creates both tables itself (PostgreSQL only).
- The connection can drop (PostgreSQL restarted, the backend killed): the bridge reconnects
  with backoff and listens again. Events published meanwhile are LOST, not queued; how many
  is logged when the link is back. Commands wait for the link within their timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from daemon.cluster.codec import from_plain, to_plain
from daemon.cluster.commands import (
    _NOT_RUNNING,
    CommandRelay,
    _Offline,
    _Pending,
)
from models.core.errors import TelephonyError, msg
from models.core.hub import Hub, Subscription

logger = logging.getLogger(__name__)

NOTIFY_LIMIT = 7900  # bytes; PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
BACKOFF = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
KEEPALIVE_SECONDS = 30.0
CLEANUP_EVERY = 20  # keepalives, i.e. every ten minutes
QUERY_TIMEOUT = 15.0
_LINK_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_message (
    id bigserial PRIMARY KEY, payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS cluster_claim (
    request_id text PRIMARY KEY, instance_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
"""
_CLEANUP = """
DELETE FROM cluster_message WHERE created_at < now() - interval '1 hour';
DELETE FROM cluster_claim WHERE created_at < now() - interval '1 hour';
"""


def asyncpg_dsn(dsn: str) -> str:
    """The settings' `postgres://` URL as asyncpg wants it (`postgresql://`)."""
    scheme, sep, rest = dsn.partition("://")
    return f"postgresql://{rest}" if sep and scheme == "postgres" else dsn


@dataclass
class _Relayed:
    """Objects this bridge published on its hub, by identity (events compare by value)."""

    refs: dict[int, Callable[[], Any]] = field(default_factory=dict)

    def add(self, obj: Any) -> None:
        key = id(obj)
        try:
            ref: Callable[[], Any] = weakref.ref(obj, lambda _r: self.refs.pop(key, None))
        except TypeError:  # no weak references (slots): keep it until it comes by
            ref = lambda: obj  # noqa: E731
        self.refs[key] = ref

    def take(self, obj: Any) -> bool:
        ref = self.refs.pop(id(obj), None)
        return ref is not None and ref() is obj


class HubBridge(CommandRelay):
    """Joins this instance's hub to the others' (see the module docstring)."""

    def __init__(
        self,
        hub: Hub,
        dsn: str,
        *,
        instance_id: str | None = None,
        command_timeout: float = 40.0,
        channel_prefix: str = "centralita",
    ) -> None:
        self.hub = hub
        self.dsn = asyncpg_dsn(dsn)
        self.instance_id = instance_id or uuid.uuid4().hex
        self.command_timeout = command_timeout
        self.events_channel = f"{channel_prefix}_events"
        self.commands_channel = f"{channel_prefix}_commands"
        self._reply_prefix = f"{channel_prefix}_reply_"
        self.reply_channel = self._reply_prefix + self.instance_id
        self._conn: asyncpg.Connection | None = None
        self._generation = 0
        self._state = asyncio.Condition()
        self._lock = asyncio.Lock()  # one query at a time on the connection
        self._lost = asyncio.Event()
        self._inbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._relayed = _Relayed()
        self._pending: dict[str, _Pending] = {}
        self._forwarded: set[type] = set()
        self._is_serving = False
        self._is_stopped = False
        self._dropped = 0
        self._sub: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[None]] = set()  # commands being executed

    # -- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and listen (raises when PostgreSQL cannot be reached), then relay."""
        await self._connect()
        loop = asyncio.get_running_loop()
        for name, work in (
            ("supervise", self._supervise),
            ("receive", self._receive),
            ("keepalive", self._keepalive),
        ):
            self._tasks.append(loop.create_task(work(), name=f"cluster:{name}"))
        self._sub = self.hub.subscribe("cluster-bridge", self._on_local_event)
        logger.info("cluster bridge %s started", self.instance_id)

    async def stop(self) -> None:
        self._is_stopped = True
        if self._sub is not None:
            await self.hub.unsubscribe(self._sub)
            self._sub = None
        tasks = [*self._tasks, *self._running]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(TelephonyError(msg(_NOT_RUNNING)))
        async with self._state:  # whoever waits for a connection learns it will not come
            conn, self._conn = self._conn, None
            self._state.notify_all()
        if conn is not None:
            try:
                await conn.close(timeout=5)
            except Exception:  # noqa: BLE001 - closing: whatever happens, it is gone
                conn.terminate()
        logger.info("cluster bridge %s stopped", self.instance_id)

    @property
    def generation(self) -> int:
        """How many connections the bridge has opened (1 after start; +1 per reconnect)."""
        return self._generation

    async def wait_connected(self, after: int = 0) -> int:
        """Wait until a connection newer than generation `after` is up; its generation."""
        async with self._state:
            await self._state.wait_for(
                lambda: self._is_stopped or (self._conn is not None and self._generation > after)
            )
            return self._generation

    async def drain(self) -> None:
        """Wait until the forwarded commands this instance is executing are done."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self.dsn,
            timeout=QUERY_TIMEOUT,
            server_settings={"application_name": f"centralita-cluster-{self.instance_id}"},
        )
        try:
            async with conn.transaction():  # two instances starting at once: one creates
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cluster_tables'))")
                await conn.execute(_SCHEMA)
            for channel in (self.events_channel, self.commands_channel, self.reply_channel):
                await conn.add_listener(channel, self._on_notify)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._on_terminated)
        async with self._state:
            self._conn = conn
            self._generation += 1
            self._lost.clear()
            self._state.notify_all()

    def _on_terminated(self, conn: asyncpg.Connection) -> None:
        if conn is self._conn:
            self._lose(conn, None)

    def _lose(self, conn: asyncpg.Connection, err: BaseException | None) -> None:
        if conn is self._conn and not self._lost.is_set():
            logger.warning("cluster bridge lost PostgreSQL (%s); reconnecting", err or "closed")
            self._lost.set()

    async def _supervise(self) -> None:
        while True:
            await self._lost.wait()
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.terminate()
            attempt = 0
            while self._conn is None:
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
                try:
                    await self._connect()
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - whatever it was, try again later
                    logger.warning("cluster bridge: reconnect %d failed: %s", attempt, err)
            dropped, self._dropped = self._dropped, 0
            level = logging.WARNING if dropped else logging.INFO
            logger.log(level, "cluster bridge reconnected; %d events dropped meanwhile", dropped)

    async def _keepalive(self) -> None:
        """A dead link shows up here even when nothing is being sent; old rows go."""
        beats = 0
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            beats += 1
            with contextlib.suppress(_Offline):
                await self._sql("execute", _CLEANUP if beats % CLEANUP_EVERY == 1 else "SELECT 1")

    # -- the connection ----------------------------------------------------------------

    async def _sql(self, method: str, query: str, *args: Any) -> Any:
        async with self._lock:
            conn = self._conn
            if conn is None or conn.is_closed():
                raise _Offline
            try:
                return await getattr(conn, method)(query, *args, timeout=QUERY_TIMEOUT)
            except _LINK_ERRORS as err:
                self._lose(conn, err)
                raise _Offline from err

    async def _notify(self, channel: str, envelope: dict[str, Any]) -> None:
        text = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        if len(text.encode()) < NOTIFY_LIMIT:
            await self._sql("fetchval", "SELECT pg_notify($1, $2)", channel, text)
            return
        await self._sql(
            "fetchval",
            "WITH m AS (INSERT INTO cluster_message (payload) VALUES ($2) RETURNING id) "
            "SELECT pg_notify($1, '@' || m.id || ' ' || $3::text) FROM m",
            channel,
            text,
            self.instance_id,
        )

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self._inbox.put_nowait((channel, payload))

    # -- events --------------------------------------------------------------------------

    async def _on_local_event(self, event: Any) -> None:
        if self._relayed.take(event):
            return  # it came from another instance
        envelope = {"k": "e", "i": self.instance_id, "b": to_plain(event)}
        try:
            await self._notify(self.events_channel, envelope)
        except _Offline:
            self._dropped += 1

    async def _receive(self) -> None:
        while True:
            channel, payload = await self._inbox.get()
            try:
                await self._dispatch(payload)
            except asyncio.CancelledError:
                raise
            except _Offline:
                logger.warning("cluster message on %s lost: PostgreSQL is unreachable", channel)
            except Exception:
                logger.exception("cluster message on %s failed: %.300s", channel, payload)

    async def _dispatch(self, payload: str) -> None:
        text = payload
        if payload.startswith("@"):
            row_id, _, sender = payload[1:].partition(" ")
            if sender == self.instance_id:
                return
            text = await self._sql(
                "fetchval", "SELECT payload FROM cluster_message WHERE id = $1", int(row_id)
            )
            if text is None:
                logger.warning("cluster message %s is gone (older than an hour?)", row_id)
                return
        envelope = json.loads(text)
        if envelope["i"] == self.instance_id:
            return
        kind = envelope["k"]
        if kind == "e":
            event = from_plain(envelope["b"])
            self._relayed.add(event)
            self.hub.publish(event)
        elif kind == "c":
            self._maybe_execute(envelope)
        elif (pending := self._pending.get(envelope["r"])) is not None:
            if kind == "a":
                pending.claimed_by = envelope["i"]
            elif kind == "r" and not pending.future.done():
                pending.future.set_result(envelope)
