"""Live pop-ups over a websocket (L3): the call follows the agent on every open tab.

One hub subscription for the whole panel fans out to the sockets of the user whose extension
the event concerns (every tab of that user, nobody else). The relay also keeps the `LiveBoard`
(calls under way, extension states) that the widget's endpoints read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from models.core.clock import Clock
from models.core.errors import in_language
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallerCard,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    ClickToCallProgress,
    ExtensionStateChanged,
    MailArrived,
    MailSkipped,
    TaskReminderDue,
    UsersChanged,
)
from models.core.hub import Hub, Subscription
from models.people import users as user_ops
from models.people.schedule import is_working
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory
from models.telephony.extensions import ExtensionDirectory
from models.telephony.live_board import LiveBoard, LiveCall
from models.work.reminders import recent_reminders
from web.i18n import Catalogs
from web.keys import CATALOGS, CLOCK, HUB, SERVICES, SETTINGS
from web.views.common import current_user
from web.views.live_reminders import reminder_message

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    CallRang,
    CallAnswered,
    CallStoppedRinging,
    CallTransferred,
    CallEnded,
    CallMissed,
    ClickToCallProgress,
    ExtensionStateChanged,
    MailArrived,
    MailSkipped,
    TaskReminderDue,
)
# The company's widget mode changes rarely: cached briefly so that a ringing event costs no
# database query on the way to the sockets (who has which extension comes from the extension
# directory, reloaded when users change).
_CACHE_SECONDS = 15.0


def card_json(card: CallerCard) -> dict[str, Any]:
    return {
        "number": card.number,
        "e164": card.e164,
        "client_id": card.client_id,
        "lead_id": card.lead_id,
        "name": card.name,
        "company": card.company,
        "open_deals": list(card.open_deals),
        "last_note": card.last_note,
        "last_call_at": card.last_call_at.isoformat() if card.last_call_at else None,
        "last_call_result": card.last_call_result,
        "caller_name": card.caller_name,
        "known": card.is_known,
        # An auto-lead still named after its number: the pop-up offers to name it.
        "unnamed": card.client_id is None
        and card.lead_id is not None
        and card.name in ("", card.number, card.e164),
    }


def mail_message(event: MailArrived | MailSkipped) -> dict[str, Any]:
    """The panel's notice of mail for the users of a mailbox (widget_popups.js shows it)."""
    if isinstance(event, MailSkipped):
        return {
            "type": "mail_skipped",
            "account_id": event.account_id,
            "folder": event.folder,
            "uid": event.uid,
            "reason": event.reason,
        }
    return {
        "type": "mail",
        "email_id": event.email_id,
        "url": f"/emails/{event.email_id}",
        "sender": event.sender,
        "subject": event.subject,
        "client_id": event.client_id,
        "lead_id": event.lead_id,
        "lead_created": event.lead_created,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class LiveRelay:
    """Hub events in, JSON messages out to the right users' sockets."""

    def __init__(self, hub: Hub, clock: Clock, catalogs: Catalogs | None = None) -> None:
        self.hub = hub
        self.clock = clock
        self.catalogs = catalogs or Catalogs()
        self.board = LiveBoard()
        self.sockets: dict[int, set[web.WebSocketResponse]] = {}
        self.languages: dict[int, str] = {}  # user id -> language, as of their last socket
        self._sub: Subscription | None = None
        self.extensions = ExtensionDirectory()  # replaced by the shared one at start
        self._mode = "softphone"
        self._mode_at = 0.0

    async def start(self) -> None:
        self._sub = self.hub.subscribe("web-live", self.on_event, *EVENT_TYPES)

    async def stop(self) -> None:
        if self._sub is not None:
            await self.hub.unsubscribe(self._sub)
            self._sub = None
        await self.close_all()

    async def close_all(self) -> None:
        sockets = [ws for group in self.sockets.values() for ws in group]
        self.sockets.clear()
        for ws in sockets:
            await ws.close(code=1001, message=b"server shutting down")

    def add(self, user_id: int, ws: web.WebSocketResponse) -> None:
        self.sockets.setdefault(user_id, set()).add(ws)

    def remove(self, user_id: int, ws: web.WebSocketResponse) -> None:
        group = self.sockets.get(user_id)
        if group is not None:
            group.discard(ws)
            if not group:
                del self.sockets[user_id]

    def forget_caches(self) -> None:
        """After a change of the widget mode (tests, settings pages)."""
        self._mode_at = 0.0

    async def widget_mode(self) -> str:
        now = time.monotonic()
        if now - self._mode_at > _CACHE_SECONDS:
            self._mode = (await user_ops.get_telephony()).widget_mode
            self._mode_at = now
        return self._mode

    async def _quiet(self, user: User, call: LiveCall | None) -> bool:
        """Outside working hours, in the working-hours mode, inbound pop-ups stay silent."""
        if call is None or call.direction != "in":
            return False
        if await self.widget_mode() != "working_hours":
            return False
        return not is_working(user, self.clock.now())

    async def on_event(self, event: Any) -> None:
        if isinstance(event, MailArrived | MailSkipped):
            for user_id in event.user_ids:
                await self.send(user_id, mail_message(event))
            return
        if isinstance(event, TaskReminderDue):
            if event.user_id in self.sockets:
                now = self.clock.now()
                await self.send(event.user_id, reminder_message(event, self.catalogs, now))
            return
        call_before = self.board.calls.get(getattr(event, "linkedid", ""))
        ringing_before = dict(call_before.legs) if call_before else {}
        call = self.board.apply(event)
        for extension, message in self._messages(event, call, ringing_before):
            user = await self.extensions.user(extension)
            if user is None or user.id not in self.sockets:
                continue
            if await self._quiet(user, call):
                continue
            await self.send(user.id, message)
        if isinstance(event, ClickToCallProgress):
            await self.send(
                event.user_id,
                {
                    "type": "c2c",
                    "request_id": event.request_id,
                    "stage": event.stage,
                    # The PBX link's reasons are messages: said in this user's language.
                    "reason": in_language(event.reason, self.languages.get(event.user_id, "es")),
                    "linkedid": event.linkedid,
                },
            )

    def _messages(
        self, event: Any, call: LiveCall | None, legs_before: dict[str, str]
    ) -> Iterable[tuple[str, dict[str, Any]]]:
        if isinstance(event, CallRang):
            assert call is not None
            yield event.extension, self.ringing(call)
        elif isinstance(event, CallAnswered):
            yield event.extension, {"type": "answered", "linkedid": event.linkedid}
            for extension, state in legs_before.items():
                if extension != event.extension and state == "ringing":
                    yield extension, self._stopped(event.linkedid, event.extension)
        elif isinstance(event, CallStoppedRinging):
            yield event.extension, self._stopped(event.linkedid, event.answered_by)
        elif isinstance(event, CallTransferred):
            yield (
                event.from_extension,
                {"type": "transferred", "linkedid": event.linkedid, "to": event.to_extension},
            )
            if call is not None:
                message = self.ringing(call)
                message["transferred_from"] = event.from_extension
                yield event.to_extension, message
        elif isinstance(event, CallEnded):
            yield (
                event.extension,
                {
                    "type": "ended",
                    "linkedid": event.linkedid,
                    "call_id": event.call_id,
                    "result": event.result,
                    "talk_seconds": event.talk_seconds,
                    "wait_seconds": event.wait_seconds,
                },
            )
        elif isinstance(event, CallMissed):
            yield (
                event.extension,
                {
                    "type": "missed",
                    "linkedid": event.linkedid,
                    "call_id": event.call_id,
                    "card": card_json(event.card),
                },
            )

    @staticmethod
    def _stopped(linkedid: str, answered_by: str) -> dict[str, Any]:
        return {"type": "stopped", "linkedid": linkedid, "answered_by": answered_by}

    @staticmethod
    def ringing(call: LiveCall) -> dict[str, Any]:
        return {
            "type": "ringing",
            "linkedid": call.linkedid,
            "direction": call.direction,
            "did": call.did,
            "number": call.number,
            "card": card_json(call.card),
            "answered": call.answered_at is not None,
            "started_at": _iso(call.started_at),
        }

    async def send(self, user_id: int, message: dict[str, Any]) -> None:
        """To every open tab of the user; a dead socket is dropped, never raised."""
        group = self.sockets.get(user_id)
        if not group:
            return
        text = json.dumps(message)
        for ws in list(group):
            if ws.closed:
                self.remove(user_id, ws)
                continue
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError) as err:
                logger.info("dropping a live socket of user %s: %s", user_id, err)
                self.remove(user_id, ws)


LIVE = web.AppKey("live_relay", LiveRelay)


async def live_socket(request: web.Request) -> web.WebSocketResponse:
    user = current_user(request)
    origin = request.headers.get("Origin")
    public = request.app[SETTINGS].web.public_url.rstrip("/")
    if origin and origin.split("://", 1)[-1] != request.host and origin != public:
        # A page of another site must not open a socket with this user's cookie.
        logger.warning("live socket refused: origin %s is not %s", origin, request.host)
        raise web.HTTPForbidden(text="cross-origin websocket refused")
    relay = request.app[LIVE]
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    relay.add(user.id, ws)
    relay.languages[user.id] = user.language
    try:
        # A tab opened while the phone rings shows the pop-up at once.
        if user.extension:
            for call in relay.board.calls_of(user.extension):
                message = relay.ringing(call)
                message["answered"] = call.legs.get(user.extension) == "talking"
                await ws.send_str(json.dumps(message))
        # Reminders announced while no page was open (the page skips those it showed).
        for reminder in await recent_reminders(user, relay.clock):
            message = reminder_message(reminder, relay.catalogs, relay.clock.now(), replay=True)
            await ws.send_str(json.dumps(message))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str('{"type":"pong"}')
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        relay.remove(user.id, ws)
    return ws


async def _relay_ctx(app: web.Application) -> AsyncIterator[None]:
    relay = app[LIVE]
    services = app[SERVICES]
    own: Subscription | None = None
    if services.callers is None:  # no daemon (tests, a panel of its own): keep one here
        services.callers = await CallerDirectory.load()
        own = app[HUB].subscribe(
            "web-extensions", services.callers.extensions.on_event, UsersChanged
        )
    relay.extensions = services.callers.extensions
    await relay.start()
    yield
    await relay.stop()
    if own is not None:
        await app[HUB].unsubscribe(own)


async def _close_sockets(app: web.Application) -> None:
    # Open sockets would hold the server's shutdown until its timeout.
    await app[LIVE].close_all()


def setup_routes(app: web.Application) -> None:
    app[LIVE] = LiveRelay(app[HUB], app[CLOCK], app[CATALOGS])
    app.cleanup_ctx.append(_relay_ctx)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", live_socket)
