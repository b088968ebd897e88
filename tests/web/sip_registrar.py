"""A SIP registrar over WebSocket (RFC 7118), as a PBX's WSS transport: the edge of the machine.

It challenges each REGISTER with digest authentication (RFC 3261 section 22) and accepts the
one that proves the extension's password, so the browser's SIP stack is tested for real.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from aiohttp import WSMsgType, web

REALM = "centralita-test"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324  (SIP digest is MD5 by spec)


def _headers(message: str) -> tuple[str, dict[str, str]]:
    head = message.split("\r\n\r\n", 1)[0].split("\r\n")
    fields: dict[str, str] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return head[0], fields


class SipRegistrar:
    def __init__(self, passwords: dict[str, str] | None = None) -> None:
        self.passwords = passwords or {"101": "sip-secret-101"}
        self.requests: list[str] = []
        self.registered: set[str] = set()
        self.nonce = secrets.token_hex(8)
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.url = ""

    async def __aenter__(self) -> SipRegistrar:
        app = web.Application()
        app.router.add_get("/ws", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):  # an open socket would hold the shutdown
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("sip",))
        await ws.prepare(request)
        self._sockets.add(ws)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            self.requests.append(msg.data)
            start, fields = _headers(msg.data)
            if not start.startswith("REGISTER "):
                continue
            await ws.send_str(self._answer(start, fields))
        self._sockets.discard(ws)
        return ws

    def _answer(self, start: str, fields: dict[str, str]) -> str:
        to = fields["to"]
        common = [
            f"Via: {fields['via']}",
            f"From: {fields['from']}",
            f"To: {to}{'' if ';tag=' in to else ';tag=' + secrets.token_hex(4)}",
            f"Call-ID: {fields['call-id']}",
            f"CSeq: {fields['cseq']}",
        ]
        auth = fields.get("authorization", "")
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', auth))
        user = params.get("username", "")
        if user in self.passwords:
            ha1 = _md5(f"{user}:{REALM}:{self.passwords[user]}")
            ha2 = _md5(f"REGISTER:{params.get('uri', '')}")
            if params.get("response") == _md5(f"{ha1}:{self.nonce}:{ha2}"):
                self.registered.add(user)
                lines = ["SIP/2.0 200 OK", *common, f"Contact: {fields['contact']};expires=600"]
                return "\r\n".join([*lines, "Content-Length: 0", "", ""])
        challenge = f'WWW-Authenticate: Digest realm="{REALM}", nonce="{self.nonce}", algorithm=MD5'
        lines = ["SIP/2.0 401 Unauthorized", *common, challenge, "Content-Length: 0", "", ""]
        return "\r\n".join(lines)
