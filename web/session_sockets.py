"""Open websockets by the session that opened them: a session that ends closes its sockets.

A websocket is checked once, when it opens; after that it would carry the pop-ups of a session
that was logged out. Every websocket a logged-in request opens is noted here (by a response
hook, so the socket's own view needs no code for it), and a named task closes those whose
session has ended: at once when this panel ended it (logout, password change, "log out
everywhere else", a deactivation announced by `UsersChanged`), and within a minute when
another process did (`centralita user passwd`, another instance).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

from aiohttp import web

from models.core.clock import Clock
from models.core.events import UsersChanged
from models.people import sessions
from web.keys import CLOCK, HUB, REQ_LOGIN

logger = logging.getLogger(__name__)

CHECK_EVERY = 60.0
# Private close code (4000-4999), read as "401": the session behind this socket has ended.
CLOSE_SESSION_ENDED = 4401


class SessionSockets:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._by_session: dict[int, weakref.WeakSet[web.WebSocketResponse]] = {}
        self._wake = asyncio.Event()

    def add(self, session_id: int, ws: web.WebSocketResponse) -> None:
        self._by_session.setdefault(session_id, weakref.WeakSet()).add(ws)

    def check_soon(self) -> None:
        """A session may have ended: look at the open sockets now, not in a minute."""
        self._wake.set()

    async def on_users_changed(self, event: UsersChanged) -> None:
        self.check_soon()  # a user deactivated: their sessions are gone

    async def close_ended(self) -> int:
        """Close the sockets whose session has ended; returns how many were closed."""
        for session_id, group in list(self._by_session.items()):
            for ws in [ws for ws in group if ws.closed]:
                group.discard(ws)
            if not group:
                del self._by_session[session_id]
        if not self._by_session:
            return 0
        alive = await sessions.live_among(self._by_session, self.clock.now())
        ended = [
            ws
            for session_id in set(self._by_session) - alive
            for ws in self._by_session.pop(session_id)
        ]
        if ended:
            logger.info("closing %d live socket(s) of ended sessions", len(ended))
            await asyncio.gather(
                *(ws.close(code=CLOSE_SESSION_ENDED, message=b"session ended") for ws in ended),
                return_exceptions=True,
            )
        return len(ended)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), CHECK_EVERY)
            self._wake.clear()
            try:
                await self.close_ended()
            except Exception:
                logger.exception("checking the sessions of open live sockets failed")


SESSION_SOCKETS = web.AppKey("session_sockets", SessionSockets)


async def _watch(app: web.Application) -> AsyncIterator[None]:
    registry = app[SESSION_SOCKETS]
    hub = app[HUB]
    subscription = hub.subscribe("web-session-sockets", registry.on_users_changed, UsersChanged)
    task = asyncio.create_task(registry.run(), name="web-session-sockets")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await hub.unsubscribe(subscription)


async def _note_socket(request: web.Request, response: web.StreamResponse) -> None:
    """Called as any response starts: a websocket opened by a logged-in session is noted."""
    login = request.get(REQ_LOGIN)
    if login is not None and isinstance(response, web.WebSocketResponse):
        request.app[SESSION_SOCKETS].add(login.id, response)


def setup(app: web.Application) -> None:
    app[SESSION_SOCKETS] = SessionSockets(app[CLOCK])
    app.cleanup_ctx.append(_watch)
    app.on_response_prepare.append(_note_socket)
