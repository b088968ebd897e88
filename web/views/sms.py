"""SMS pages (C8): the single SMS form (card and widget), bulk SMS to selected clients with its
delivery report, and the gateway's delivery-report webhook (POST /api/sms/status).

The webhook is called by the SMS gateway, not a browser: it carries no session and no CSRF
token, and is authenticated by the shared secret `[sms] status_secret` instead.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from models.core.errors import ValidationFailed
from models.core.settings import SmsSettings
from models.messaging import sms as sms_ops
from web.keys import SETTINGS
from web.templating import flash, gettext, render
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
    return sms_ops.SmsPolicy(settings.max_length, settings.long_messages)


def _enabled(request: web.Request) -> None:
    if _sms_settings(request).driver == "none":
        raise ValidationFailed({"sms": gettext(request, "SMS is not configured.")})


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
        "enabled": settings.driver != "none",
        "max_length": settings.max_length,
        "long_messages": settings.long_messages,
    }


async def send_sms(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        _enabled(request)
        await sms_ops.send_sms(
            user,
            values.get("to", ""),
            values.get("text", ""),
            clock=clock(request),
            policy=policy(request),
            client_id=int_param(values.get("client_id")),
            lead_id=int_param(values.get("lead_id")),
        )
    except ValidationFailed as err:
        return render(request, "sms/form.html", _context(request, values, err.fields), status=422)
    flash(request, gettext(request, "SMS queued for sending."))
    raise web.HTTPSeeOther(safe_next(values.get("next"), "/clients"))


async def bulk_sms(request: web.Request) -> web.Response:
    """From the clients list: the selected ids and the template; then the delivery report."""
    user = current_user(request)
    form = await form_data(request)
    ids = [int(v) for v in form.getall("client_ids", []) if isinstance(v, str) and v.isdigit()]
    template = str(form.get("template") or "")
    context = {"client_ids": ids, "template": template, "errors": {}, "left_out": []}
    if not template:
        return render(request, "sms/bulk.html", context)
    try:
        _enabled(request)
        batch, left_out = await sms_ops.send_bulk(
            user, ids, template, clock=clock(request), policy=policy(request)
        )
    except ValidationFailed as err:
        context["errors"] = err.fields
        return render(request, "sms/bulk.html", context, status=422)
    if left_out:
        flash(request, gettext(request, "Not sent to: ") + "; ".join(left_out))
    raise web.HTTPSeeOther(f"/sms/batches/{batch.id}")


async def batch_report(request: web.Request) -> web.Response:
    user = current_user(request)
    report = await sms_ops.batch_report(user, path_id(request))
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
