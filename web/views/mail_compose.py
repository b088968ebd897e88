"""Writing mail (C6, C8): the compose form from a client's or lead's card, a reply from an
email's page, and a bulk send to clients ticked in the clients list (recipients shown with
their addresses, editable and removable, then a page of per-recipient results).

The rules (mailboxes one may use, recipients, the 100 limit, who may see what) are in
models/messaging/mail_compose.py; these views only turn forms into calls and errors into
fields."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.core.errors import ValidationFailed
from models.messaging import mail_compose as compose_ops
from models.messaging import mail_drafts
from models.schema.users import User
from web.templating import flash, gettext, render
from web.views import selection
from web.views.common import clock, current_user, form_data, int_param, path_id, safe_next

logger = logging.getLogger(__name__)

SETTINGS_MAIL = "/settings/mail"
MAX_FORM_ROWS = 1000  # rows a bulk form may carry (the send itself takes at most 100)


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _mailboxes(user: User) -> list[tuple[int, str]]:
    boxes = await mail_drafts.sending_mailboxes(user)
    return [
        (b.id, f"{b.display_name} <{b.address}>" if b.display_name else b.address) for b in boxes
    ]


def _back(draft: mail_drafts.Draft) -> str:
    if draft.reply_to_email_id is not None:
        return f"/emails/{draft.reply_to_email_id}"
    if draft.client_id is not None:
        return f"/clients/{draft.client_id}"
    if draft.lead_id is not None:
        return f"/leads/{draft.lead_id}"
    return "/clients"


async def _compose_page(
    request: web.Request,
    form: dict[str, str],
    errors: dict[str, str],
    about: str,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    context = {
        "form": form,
        "errors": errors,
        "about": about,
        "mailboxes": await _mailboxes(user),
        "settings_mail": SETTINGS_MAIL,
    }
    return render(request, "emails/compose.html", context, status=status)


def _form_of(
    draft: mail_drafts.Draft, mailboxes: list[tuple[int, str]], back: str
) -> dict[str, str]:
    account = (
        draft.account_id if draft.account_id is not None else (mailboxes[0][0] if mailboxes else "")
    )
    return {
        "account_id": str(account),
        "to": draft.to,
        "subject": draft.subject,
        "body": draft.body,
        "client_id": str(draft.client_id or ""),
        "lead_id": str(draft.lead_id or ""),
        "reply_to": str(draft.reply_to_email_id or ""),
        "next": back,
    }


async def new_email_page(request: web.Request) -> web.Response:
    """The form from a card: /emails/new?client_id=N (or lead_id=N), To prefilled."""
    user = current_user(request)
    q = request.query
    client_id = int_param(q.get("client_id"))
    lead_id = None if client_id is not None else int_param(q.get("lead_id"))
    draft = await mail_drafts.draft_for(user, client_id=client_id, lead_id=lead_id)
    back = safe_next(q.get("next"), _back(draft))
    form = _form_of(draft, await _mailboxes(user), back)
    return await _compose_page(request, form, {}, draft.about)


async def reply_page(request: web.Request) -> web.Response:
    """The form answering one email: to its sender, "Re:", threaded, the parent quoted."""
    user = current_user(request)
    draft = await mail_drafts.draft_for(user, reply_to_email_id=path_id(request))
    form = _form_of(draft, await _mailboxes(user), _back(draft))
    return await _compose_page(request, form, {}, draft.about)


async def send_email(request: web.Request) -> web.Response:
    user = current_user(request)
    posted = await form_data(request)
    names = ("account_id", "to", "subject", "body", "client_id", "lead_id", "reply_to", "next")
    form = {name: _text(posted, name) for name in names}
    client_id = int_param(form["client_id"])
    lead_id = int_param(form["lead_id"])
    reply_to = int_param(form["reply_to"])
    try:
        await compose_ops.compose(
            user,
            int_param(form["account_id"]) or 0,
            [form["to"]],
            form["subject"],
            form["body"],
            client_id=client_id,
            lead_id=lead_id,
            reply_to_email_id=reply_to,
            clock=clock(request),
        )
    except ValidationFailed as err:
        about = await mail_drafts.name_of(user, client_id, lead_id)
        return await _compose_page(request, form, err.fields, about, status=422)
    flash(request, gettext(request, "Email queued for sending."))
    raise web.HTTPSeeOther(safe_next(form["next"], "/clients"))


@dataclass
class _Row:
    """One recipient line of the bulk form."""

    index: int
    client_id: int
    name: str
    address: str
    removed: bool = False


async def bulk_from_clients(request: web.Request) -> web.Response:
    """From the clients list: the ticked clients (or all matching) as editable recipients."""
    user = current_user(request)
    posted = await form_data(request)
    ids = await selection.selected_clients(user, posted)
    candidates = await mail_drafts.bulk_candidates(user, ids)
    rows = [_Row(i, c.client_id, c.name, c.address) for i, c in enumerate(candidates)]
    errors: dict[str, str] = {}
    status = 200
    if not rows:
        errors["recipients"] = gettext(request, "Select at least one client in the list.")
        status = 422
    mailboxes = await _mailboxes(user)
    form = {"account_id": str(mailboxes[0][0]) if mailboxes else "", "subject": "", "body": ""}
    return await _bulk_page(request, rows, form, errors, status=status)


async def _bulk_page(
    request: web.Request,
    rows: list[_Row],
    form: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    kept = sum(1 for r in rows if not r.removed)
    if kept > compose_ops.MAX_RECIPIENTS and "recipients" not in errors:
        errors["recipients"] = gettext(
            request,
            "At most %(max)s recipients per send: remove some (%(count)s now).",
            max=compose_ops.MAX_RECIPIENTS,
            count=kept,
        )
    context = {
        "rows": rows,
        "form": form,
        "errors": errors,
        "kept": kept,
        "max_recipients": compose_ops.MAX_RECIPIENTS,
        "mailboxes": await _mailboxes(user),
        "settings_mail": SETTINGS_MAIL,
    }
    return render(request, "emails/compose_bulk.html", context, status=status)


def _posted_rows(posted: MultiDictProxy[Any]) -> list[_Row]:
    count = min(int_param(_text(posted, "rows"), default=0) or 0, MAX_FORM_ROWS)
    rows = []
    for i in range(max(0, count)):
        client_id = int_param(_text(posted, f"r-{i}-client"))
        if client_id is None:
            continue
        address = _text(posted, f"r-{i}-address").strip()[:254]
        removed = _text(posted, f"r-{i}-remove") == "1"
        rows.append(_Row(i, client_id, "", address, removed))
    return rows


async def send_bulk(request: web.Request) -> web.Response:
    user = current_user(request)
    posted = await form_data(request)
    form = {name: _text(posted, name) for name in ("account_id", "subject", "body")}
    rows = _posted_rows(posted)
    names = {
        c.client_id: c.name
        for c in await mail_drafts.bulk_candidates(user, [r.client_id for r in rows])
    }
    for row in rows:
        row.name = names.get(row.client_id, "")
    sending = [r for r in rows if not r.removed and r.address]
    no_address = [r for r in rows if not r.removed and not r.address]
    recipients = [compose_ops.BulkRecipient(r.address, client_id=r.client_id) for r in sending]
    try:
        ref = await compose_ops.compose_bulk(
            user,
            int_param(form["account_id"]) or 0,
            recipients,
            form["subject"],
            form["body"],
            clock=clock(request),
        )
    except ValidationFailed as err:
        errors: dict[str, str] = {}
        for key, text in err.fields.items():
            if key.startswith("recipient-"):
                position = int(key.removeprefix("recipient-"))
                key = f"r-{sending[position].index}-address"
            errors[key] = text
        return await _bulk_page(request, rows, form, errors, status=422)
    if no_address:
        told = ", ".join(r.name or str(r.client_id) for r in no_address)
        flash(request, gettext(request, "Not sent (no address): %(names)s", names=told), "warn")
    raise web.HTTPSeeOther(f"/emails/bulk/{ref}")


async def bulk_results_page(request: web.Request) -> web.Response:
    user = current_user(request)
    results = await compose_ops.bulk_results(user, request.match_info["ref"])
    counts = {s: 0 for s in (compose_ops.QUEUED, compose_ops.SENT, compose_ops.FAILED)}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    context = {"results": results, "counts": counts, "pending": counts[compose_ops.QUEUED] > 0}
    return render(request, "emails/bulk_results.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/emails/new", new_email_page)
    app.router.add_post("/emails/new", send_email)
    app.router.add_get(r"/emails/{id:\d+}/reply", reply_page)
    app.router.add_post("/clients/bulk-email", bulk_from_clients)
    app.router.add_post("/emails/bulk", send_bulk)
    app.router.add_get(r"/emails/bulk/{ref:[0-9a-f-]{36}}", bulk_results_page)
