"""Security headers on every response the panel sends (issue 14, item 20).

Set by one `on_response_prepare` hook rather than a middleware, because the hook also sees
what never passes through a handler's return: static files, websocket handshakes, redirects
and error pages raised past the middlewares, aiohttp's own 500 page.

The Content-Security-Policy allows scripts, styles, images, media and fonts of the panel's
own origin only: no inline script, no inline style, no `eval`. Pages keep their JavaScript in
web/static (event handlers are attached there, never written as `onclick=` attributes) and
their styles in the CSS files. `connect-src` allows the panel's own origin (fetch and the
live-event websocket) and, on pages of a logged-in user while the widget is in WebRTC mode,
the SIP WebSocket server of the telephony settings. Nothing may frame the panel
(`frame-ancestors 'none'` and `X-Frame-Options: DENY`); links to other sites carry no
referrer; the browser must not guess content types; only the panel itself may use the
microphone (the web phone).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiohttp import web

from models.people.users import get_telephony
from web.keys import REQ_USER

_BASE = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "media-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
}
_HOST = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


def content_security_policy(sip_server: str = "") -> str:
    connect = "connect-src 'self'" + (f" {sip_server}" if sip_server else "")
    return "; ".join([*_BASE, connect])


def websocket_origin(url: str) -> str:
    """The origin (`wss://pbx.example.com:8089`) of the SIP server's address, or "" when it is
    not a plain ws:// or wss:// address: nothing an admin typed can add words to the policy."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = parts.netloc.rsplit("@", 1)[-1]
    if port is not None:
        host = host[: -len(f":{port}")]
    if parts.scheme not in ("ws", "wss") or not _HOST.match(host):
        return ""
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


async def _sip_server(request: web.Request, response: web.StreamResponse) -> str:
    """The web phone's server, on the pages that carry the widget (a logged-in user's)."""
    if request.get(REQ_USER) is None or response.content_type != "text/html":
        return ""
    telephony = await get_telephony()
    if telephony.widget_mode != "webrtc" or not telephony.webrtc_ws_url:
        return ""
    return websocket_origin(telephony.webrtc_ws_url)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy(
            await _sip_server(request, response)
        )
    for name, value in STATIC_HEADERS.items():
        headers.setdefault(name, value)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
