"""SMS pages (C8): the single SMS form (card and widget), bulk SMS to selected clients with its
delivery report, and the gateway's delivery-report webhook (POST /api/sms/status).

The webhook is called by the SMS gateway, not a browser: it carries no session and no CSRF
token, and is authenticated by the shared secret `[sms] status_secret` instead.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from models.core.errors import FeatureOff, ValidationFailed
from models.core.settings import SmsSettings
from models.messaging import bulk_sms as bulk_ops
from models.messaging import sms as sms_ops
from models.people.permissions import require
from web.keys import SETTINGS
from web.templating import flash, gettext, render, say, sms_enabled
from web.views import selection
from web.views.common import clock, current_user, form_data, int_param, path_id, safe_next

logger = logging.getLogger(__name__)

STATUS_PATH = "/api/sms/status"
# Words gateways use in delivery reports -> ours.
_REPORTED = {
    "sent": sms_ops.SENT,
    "accepted": sms_ops.SENT,
    "enroute": sms_ops.SENT,
    "delivered": sms_ops.DELIVERED,
    "delivrd": sms_ops.DELIVERED,
    "failed": sms_ops.FAILED,
    "undelivered": sms_ops.FAILED,
    "undeliv": sms_ops.FAILED,
    "rejected": sms_ops.FAILED,
    "expired": sms_ops.FAILED,
}


def _sms_settings(request: web.Request) -> SmsSettings:
    return request.app[SETTINGS].sms


def policy(request: web.Request) -> sms_ops.SmsPolicy:
    settings = _sms_settings(request)
    return sms_ops.SmsPolicy(settings.max_length, settings.long_messages, sms_enabled(request))


async def new_sms_page(request: web.Request) -> web.Response:
    current_user(request)
    q = request.query
    form = {
        "to": q.get("to", ""),
        "client_id": q.get("client_id", ""),
        "lead_id": q.get("lead_id", ""),
        "next": safe_next(q.get("next"), "/clients"),
    }
    return render(request, "sms/form.html", _context(request, form, {}))


def _context(request: web.Request, form: dict, errors: dict) -> dict:
    settings = _sms_settings(request)
    return {
        "form": form,
        "errors": errors,
        "max_length": settings.max_length,
        "long_messages": settings.long_messages,
    }


async def send_sms(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        await sms_ops.send_sms(
            user,
            values.get("to", ""),
            values.get("text", ""),
            clock=clock(request),
            policy=policy(request),
            client_id=int_param(values.get("client_id")),
            lead_id=int_param(values.get("lead_id")),
        )
    except FeatureOff:
        # The page's banner says why and, to administrators, where to turn SMS on.
        return render(request, "sms/form.html", _context(request, values, {}), status=409)
    except ValidationFailed as err:
        return render(request, "sms/form.html", _context(request, values, err.fields), status=422)
    flash(request, gettext(request, "SMS queued for sending."))
    raise web.HTTPSeeOther(safe_next(values.get("next"), "/clients"))


async def bulk_sms(request: web.Request) -> web.Response:
    """From the clients list: the ticked clients (or all matching the list's filters) and the
    template; then the delivery report."""
    user = current_user(request)
    # Refused before the form, not only on sending: the page lists clients to write to.
    require(user, "sms.bulk")
    form = await form_data(request)
    template = str(form.get("template") or "")
    context: dict[str, Any] = {
        "client_ids": [],
        "all_matching": selection.is_all_matching(form),
        "filters": form.get("filters") or "",
        "template": template,
        "errors": {},
    }
    status = 200
    try:
        ids = await selection.selected_clients(user, form)
        context["client_ids"] = ids
        if template:
            batch, left_out = await bulk_ops.send_bulk(
                user, ids, template, clock=clock(request), policy=policy(request)
            )
            if left_out:
                told = "; ".join(say(request, why) for why in left_out)
                flash(request, gettext(request, "Not sent to: ") + told, "warn")
            raise web.HTTPSeeOther(f"/sms/batches/{batch.id}")
    except FeatureOff:
        status = 409  # the page's banner says why
    except ValidationFailed as err:
        context["errors"] = err.fields
        status = 422
    return render(request, "sms/bulk.html", context, status=status)


async def batch_report(request: web.Request) -> web.Response:
    user = current_user(request)
    report = await bulk_ops.batch_report(user, path_id(request))
    return render(request, "sms/report.html", {"report": report})


async def status_webhook(request: web.Request) -> web.Response:
    """A delivery report from the HTTP gateway: JSON or form with ref or id, status, error."""
    expected = _sms_settings(request).status_secret.get_secret_value()
    if not expected:
        return web.json_response({"error": "delivery reports are not enabled"}, status=404)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "expected a JSON object"}, status=400)
    else:
        body = dict(await request.post())
    if not isinstance(body, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    given = request.headers.get("X-Sms-Secret") or str(body.get("secret") or "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        logger.warning("SMS delivery report with a wrong secret from %s", request.remote)
        return web.json_response({"error": "wrong secret"}, status=403)
    status = _REPORTED.get(str(body.get("status", "")).strip().lower())
    if status is None:
        return web.json_response({"error": f"unknown status {body.get('status')!r}"}, status=400)
    # "ref" is ours (the SMS id, "id.part" for a part), "id" or "message_id" the gateway's.
    ours = int_param(str(body.get("ref") or "").split(".")[0])
    theirs = str(body.get("id") or body.get("message_id") or "")
    try:
        found = await sms_ops.apply_status(
            status,
            clock=clock(request),
            sms_id=ours,
            gateway_ref=None if ours is not None else theirs,
            error=str(body.get("error") or ""),
        )
    except ValidationFailed as err:
        return web.json_response({"error": str(err)}, status=400)
    if not found:
        return web.json_response({"error": "no such message"}, status=404)
    return web.json_response({"ok": True, "status": status})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/sms/new", new_sms_page)
    app.router.add_post("/sms/new", send_sms)
    app.router.add_post("/clients/bulk-sms", bulk_sms)
    app.router.add_get(r"/sms/batches/{id:\d+}", batch_report)
    app.router.add_post(STATUS_PATH, status_webhook)
