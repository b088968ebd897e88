"""The command side of the hub bridge (daemon/cluster/bridge.py): a click-to-call, transfer
or hang-up asked on any instance is carried out once, by the instance that serves commands
(the leader), and its answer or error comes back to the asker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daemon.cluster.codec import KNOWN, error_from_plain, error_to_plain, from_plain, to_plain
from models.core.errors import CrmError, TelephonyError, msg
from models.core.events import ClickToCall, HangupCall, TransferCall
from models.core.hub import Hub

logger = logging.getLogger(__name__)

CommandHandler = Callable[[Any], Awaitable[Any]]
DEFAULT_COMMANDS: tuple[type, ...] = (ClickToCall, TransferCall, HangupCall)
_NOT_RUNNING = "the PBX link is not running on any instance"


class _Offline(Exception):
    """The bridge's connection is down."""


@dataclass
class _Pending:
    """A forwarded command waiting for its answer."""

    future: asyncio.Future[dict[str, Any]]
    claimed_by: str | None = None
    is_sent: bool = False


class CommandRelay:
    """Mixed into HubBridge, which provides the connection and these attributes."""

    hub: Hub
    instance_id: str
    command_timeout: float
    commands_channel: str
    _reply_prefix: str
    _forwarded: set[type]
    _pending: dict[str, _Pending]
    _running: set[asyncio.Task[None]]
    _is_serving: bool
    _is_stopped: bool

    if TYPE_CHECKING:  # HubBridge's connection methods, used here

        async def wait_connected(self, after: int = 0) -> int: ...

        async def _notify(self, channel: str, envelope: dict[str, Any]) -> None: ...

        async def _sql(self, method: str, query: str, *args: Any) -> Any: ...

    # -- commands: the asking side -----------------------------------------------------

    def forward_commands(self, *types: type) -> None:
        """Send these commands (ClickToCall, TransferCall, HangupCall when none are named)
        to the instance that runs them, unless this hub has a real handler for one."""
        for command_type in types or DEFAULT_COMMANDS:
            self._forwarded.add(command_type)
            if not self.has_real_handler(command_type):
                self.hub.handle(command_type, self._forward)

    def has_real_handler(self, command_type: type) -> bool:
        handler = self.hub.handler_of(command_type)
        return handler is not None and handler != self._forward

    async def _forward(self, command: Any) -> Any:
        request_id = uuid.uuid4().hex
        pending = _Pending(asyncio.get_running_loop().create_future())
        self._pending[request_id] = pending
        envelope = {"k": "c", "i": self.instance_id, "r": request_id, "b": to_plain(command)}
        try:
            async with asyncio.timeout(self.command_timeout):
                generation = 0
                while not pending.is_sent:
                    # After a failed send, wait for the next connection (never spin).
                    generation = await self.wait_connected(generation)
                    if self._is_stopped:
                        raise TelephonyError(msg(_NOT_RUNNING))
                    with contextlib.suppress(_Offline):
                        await self._notify(self.commands_channel, envelope)
                        pending.is_sent = True
                reply = await pending.future
        except TimeoutError:
            logger.warning("command %s (%s) got no answer", type(command).__name__, request_id)
            if not pending.is_sent:
                raise TelephonyError(
                    msg("the instances cannot reach each other: PostgreSQL is unreachable")
                ) from None
            if pending.claimed_by:
                raise TelephonyError(
                    msg("the instance running the PBX link did not answer in time")
                ) from None
            raise TelephonyError(msg(_NOT_RUNNING)) from None
        finally:
            self._pending.pop(request_id, None)
        if "err" in reply:
            raise error_from_plain(reply["err"])
        return from_plain(reply["ok"])

    # -- commands: the serving side ----------------------------------------------------

    def serve_commands(self, is_serving: bool = True) -> None:
        """Execute commands other instances forward, for the types this hub really handles."""
        self._is_serving = is_serving

    def become_leader(self, handlers: dict[type, CommandHandler | None]) -> None:
        """Install the real handlers on the hub (replacing forwarders) and serve them.
        A handler that is None or our own forwarder (nothing real to install) is skipped."""
        for command_type, handler in handlers.items():
            self._forwarded.add(command_type)
            if handler is not None and handler != self._forward:
                self.hub.handle(command_type, handler)
        self.serve_commands(True)

    def become_follower(self) -> None:
        """Stop serving; every forwarded type is forwarded again (real handlers replaced)."""
        self.serve_commands(False)
        for command_type in self._forwarded:
            self.hub.handle(command_type, self._forward)

    def _maybe_execute(self, envelope: dict[str, Any]) -> None:
        command_type = KNOWN.get(envelope["b"].get("t", ""))
        if not self._is_serving or command_type is None:
            return
        if not self.has_real_handler(command_type):
            return
        task = asyncio.get_running_loop().create_task(
            self._execute(envelope), name=f"cluster:command:{envelope['r']}"
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, envelope: dict[str, Any]) -> None:
        request_id, asker = envelope["r"], envelope["i"]
        reply_to = self._reply_prefix + asker
        try:
            claimed = await self._sql(
                "fetchval",
                "INSERT INTO cluster_claim (request_id, instance_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING request_id",
                request_id,
                self.instance_id,
            )
            if claimed is None:
                return  # another instance runs it
            await self._notify(reply_to, {"k": "a", "i": self.instance_id, "r": request_id})
            reply: dict[str, Any] = {"k": "r", "i": self.instance_id, "r": request_id}
            try:
                reply["ok"] = to_plain(await self.hub.send(from_plain(envelope["b"])))
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if not isinstance(err, CrmError):
                    logger.exception("forwarded command %s failed", request_id)
                reply["err"] = error_to_plain(err)
            await self._notify(reply_to, reply)
        except _Offline:
            logger.warning("forwarded command %s: PostgreSQL unreachable, no answer", request_id)
