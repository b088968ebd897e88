"""One email's page (C7): subject, who, when, the files, the body; its HTML and its files.

The HTML body is never part of the page: it is sanitized (models/messaging/mail_view.py) and
served by /emails/{id}/body into an `<iframe sandbox>` with its own policy (no script at all,
images of this site only unless the reader chose to show remote ones, inline styles allowed).
A message the user may not read answers exactly like a missing one (404).
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from models.core.errors import NotFound
from models.messaging import mail_view
from models.messaging.mail_files import file_path
from models.schema.activity import EmailMessage
from models.schema.mail import MailAttachment
from web.keys import SETTINGS
from web.templating import render
from web.views.common import current_user, path_id

logger = logging.getLogger(__name__)

# The frame's sandbox: no scripts, no forms; links open in a new tab outside it. Same-origin
# is kept so that the message's own images (this site's attachment URLs) load with the
# session; without scripts nothing inside can use that origin.
FRAME_SANDBOX = "allow-same-origin allow-popups allow-popups-to-escape-sandbox"
# Images a browser shows as they are; any other file is offered as a download of bytes.
_SHOWN_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def body_policy(remote_images: bool) -> str:
    images = "img-src 'self' data:" + (" https: http:" if remote_images else "")
    return "; ".join(
        (
            "default-src 'none'",
            images,
            "style-src 'unsafe-inline'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
            f"sandbox {FRAME_SANDBOX}",
        )
    )


def files_dir(request: web.Request) -> Path:
    return request.app[SETTINGS].data_dir / "mail"


def _remote_images(request: web.Request) -> bool:
    return request.query.get("images") == "1"


def _cid_urls(email: EmailMessage, attachments: list[MailAttachment]) -> dict[str, str]:
    return {
        a.content_id: f"/emails/{email.id}/attachments/{a.id}"
        for a in attachments
        if a.content_id and not a.skipped and a.path
    }


async def email_page(request: web.Request) -> web.Response:
    user = current_user(request)
    email = await mail_view.visible_email(user, path_id(request))
    attachments = await mail_view.attachments_of(email)
    client, lead = await mail_view.contact_of(user, email)
    remote = _remote_images(request)
    blocked = 0
    if email.body_html:
        blocked = mail_view.sanitize(email.body_html, _cid_urls(email, attachments)).blocked_images
    inline_ids = {a.content_id for a in attachments if a.content_id} & _cids_in(email.body_html)
    context = {
        "email": email,
        "client": client,
        "lead": lead,
        "files": [a for a in attachments if a.content_id not in inline_ids or not a.content_id],
        "remote_images": remote,
        "blocked_images": blocked,
        "frame_sandbox": FRAME_SANDBOX,
        "size_text": size_text,
    }
    return render(request, "emails/message.html", context)


def _cids_in(html: str) -> set[str]:
    """The content ids the HTML shows as images (those files are part of the body)."""
    found: set[str] = set()
    lowered = html.lower()
    start = lowered.find("cid:")
    while start != -1:
        end = start + 4
        while end < len(html) and html[end] not in "\"' >)":
            end += 1
        found.add(html[start + 4 : end].strip("<>"))
        start = lowered.find("cid:", end)
    return found


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


async def email_body(request: web.Request) -> web.Response:
    """The message's body alone, for the page's sandboxed frame."""
    user = current_user(request)
    email = await mail_view.visible_email(user, path_id(request))
    remote = _remote_images(request)
    if email.body_html:
        attachments = await mail_view.attachments_of(email)
        inner = mail_view.safe_html(
            email.body_html, _cid_urls(email, attachments), remote_images=remote
        )
    else:
        inner = f'<pre style="white-space: pre-wrap">{escape(email.body)}</pre>'
    page = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer"></head>'
        f'<body style="margin: 0; font-family: sans-serif">{inner}</body></html>'
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={
            "Content-Security-Policy": body_policy(remote),
            "X-Frame-Options": "SAMEORIGIN",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "private, no-store",
        },
    )


def content_disposition(filename: str) -> str:
    """`attachment` with the name as ASCII for old clients and as UTF-8 (RFC 6266 / 5987)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{ascii_name or 'file'}\"; filename*=UTF-8''{quote(filename)}"


async def email_attachment(request: web.Request) -> web.StreamResponse:
    """A file of a message, for those who may read the message."""
    user = current_user(request)
    attachment = await mail_view.visible_attachment(user, path_id(request), path_id(request, "aid"))
    path = file_path(files_dir(request), attachment.path) if not attachment.skipped else None
    if path is None or not path.is_file():
        raise NotFound("attachment file missing")
    kind = attachment.content_type.lower()
    return web.FileResponse(
        path,
        headers={
            "Content-Type": kind if kind in _SHOWN_TYPES else "application/octet-stream",
            "Content-Disposition": content_disposition(attachment.filename or "file"),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/emails/{id:\d+}", email_page)
    app.router.add_get(r"/emails/{id:\d+}/body", email_body)
    app.router.add_get(r"/emails/{id:\d+}/attachments/{aid:\d+}", email_attachment)
