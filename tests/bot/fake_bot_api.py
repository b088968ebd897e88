"""A local Telegram Bot API server for tests: real HTTP, the real JSON shapes and error codes.

aiogram is pointed at it with `TelegramAPIServer.from_base(server.base_url)`. It keeps the
messages it "delivered" per chat, so a test can read what a user would see, and it can be
told to fail the next requests with 429 (`parameters.retry_after`) or 5xx answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "centralita_test_bot"


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    status: int = 200


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    times: int = 1


@dataclass
class ChatMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    edits: int = 0


@dataclass
class FakeBotApi:
    token: str = "7000001:TEST-token"
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], ChatMessage] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._failures: dict[str, list[Failure]] = {}
        self._outages: dict[str, tuple[float, list[Failure]]] = {}
        self._next_message_id = 100
        self._updates: list[dict[str, Any]] = []
        self._update_event = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.webhook_url = ""

    # Life -----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # Test controls --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        self._failures.setdefault(method, []).append(
            Failure(status, description, retry_after, times)
        )

    def fail_for(self, method: str, seconds: float, answers: list[Failure]) -> None:
        """An outage: for `seconds` from now every call of `method` gets the next of `answers`
        in turn (e.g. a 429 with retry_after, then a 502); `fail_next` answers come after."""
        self._outages[method] = (time.monotonic() + seconds, list(answers))

    def push_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._update_event.set()

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def chat(self, chat_id: int) -> list[ChatMessage]:
        return [m for (cid, _), m in sorted(self.messages.items()) if cid == chat_id]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[ApiCall]:
        """Wait until `count` successful calls of `method` arrived; return them."""

        async def enough() -> list[ApiCall]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_of(method)) >= count)
            return self.calls_of(method)

        return await asyncio.wait_for(enough(), within)

    # Protocol -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        raw = dict(await request.post()) if request.can_read_body else {}
        raw.update(request.query)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and value[:1] in ("{", "["):
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
        return params

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = ApiCall(method, params, time.monotonic())
        if request.match_info["token"] != self.token:
            call.status = 401
            self.calls.append(call)
            return self._error(401, "Unauthorized")
        response = self._injected_failure(method)
        if response is None:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                response = self._error(404, "Not Found: method not found")
            else:
                response = await handler(params)
        call.status = response.status
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return response

    def _injected_failure(self, method: str) -> web.Response | None:
        outage = self._outages.get(method)
        if outage is not None:
            until, answers = outage
            if time.monotonic() < until and answers:
                answers.append(answers.pop(0))
                failure = answers[-1]
                return self._error(failure.status, failure.description, failure.retry_after)
            del self._outages[method]
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return self._error(failure.status, failure.description, failure.retry_after)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _message_json(self, msg: ChatMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Centralita",
                "username": BOT_USERNAME,
            },
            "chat": {"id": msg.chat_id, "first_name": "Agent", "type": "private"},
            "date": int(time.time()),
            "text": msg.text,
        }
        if msg.edits:
            data["edit_date"] = int(time.time())
        if msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Centralita",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text", ""))
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            return self._error(403, "Forbidden: bot was blocked by the user")
        self._next_message_id += 1
        msg = ChatMessage(chat_id, self._next_message_id, text, params.get("reply_markup"))
        self.messages[(chat_id, msg.message_id)] = msg
        return self._ok(self._message_json(msg))

    async def _m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params.get("chat_id", 0))
        msg = self.messages.get((chat_id, int(params.get("message_id", 0))))
        if msg is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if msg.text == params.get("text") and msg.reply_markup == markup:
            return self._error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg.text = str(params.get("text", ""))
        msg.reply_markup = markup
        msg.edits += 1
        return self._ok(self._message_json(msg))

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        return self._ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        return self._ok(True)

    async def _m_setMyCommands(self, params: dict[str, Any]) -> web.Response:
        return self._ok(True)

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        if not str(params.get("url", "")).startswith("https://"):
            return self._error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook_url = str(params["url"])
        return self._ok(True)

    async def _m_close(self, params: dict[str, Any]) -> web.Response:
        return self._ok(True)

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset", 0) or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._update_event.clear()
            timeout = min(float(params.get("timeout", 0) or 0), 1.0)
            if timeout:
                try:
                    await asyncio.wait_for(self._update_event.wait(), timeout)
                except TimeoutError:
                    pass
        return self._ok(list(self._updates))
