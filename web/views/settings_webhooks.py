"""Settings -> Webhooks (X3): an admin's outgoing webhook subscriptions, each one's delivery log,
a test event, pause and resume, a new secret, removal.

The rules live in models/messaging/webhooks.py; this module reads forms and shows pages. A
secret is shown once, on the page that answers the form that made it (never a redirect: it is
kept nowhere in plain), and that page is not cached.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.core.errors import ValidationFailed
from models.core.secret_box import SecretBox, secret_box_for
from models.messaging import webhooks as hooks
from models.schema.integrations import WebhookSubscription
from web.keys import SERVICES, SETTINGS
from web.labels import N_
from web.templating import flash, gettext, render
from web.views.common import clock, current_user, form_data, path_id, text_values

EVENT_LABELS = {
    "call.ringing": N_("Call ringing"),
    "call.answered": N_("Call answered"),
    "call.ended": N_("Call ended"),
    "call.missed": N_("Call missed"),
    "lead.created": N_("Lead created"),
    "deal.moved": N_("Deal moved"),
    "deal.won": N_("Deal won"),
    "deal.lost": N_("Deal lost"),
    "task.done": N_("Task done"),
    "client.created": N_("Client created"),
    hooks.TEST_EVENT: N_("Test event"),
}
STATUS_LABELS = {
    hooks.PENDING: N_("Pending"),
    hooks.DELIVERED: N_("Delivered"),
    hooks.FAILED: N_("Failed"),
}


def secret_box(request: web.Request) -> SecretBox:
    box = request.app[SERVICES].secret_box
    if box is not None:
        return box
    settings = request.app[SETTINGS]
    return secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)


def _events(request: web.Request) -> list[tuple[str, str]]:
    return [(key, gettext(request, EVENT_LABELS[key])) for key in hooks.EVENT_TYPES]


def _values(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": subscription.url,
        "description": subscription.description,
        "event_types": list(subscription.event_types or []),
    }


async def _posted(request: web.Request) -> dict[str, Any]:
    form = await form_data(request)
    values: dict[str, Any] = text_values(form)
    values["event_types"] = [v for v in form.getall("event_types", []) if isinstance(v, str)]
    return values


def _no_store(response: web.Response) -> web.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


async def webhooks_page(
    request: web.Request,
    *,
    fresh: tuple[int, str] | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    editing: tuple[int, dict[str, Any], dict[str, Any]] | None = None,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    rows = await hooks.subscriptions(user)
    context = {
        "section": "webhooks",
        "subscriptions": [
            {
                "row": s,
                "values": editing[1] if editing and editing[0] == s.id else _values(s),
                "errors": editing[2] if editing and editing[0] == s.id else {},
                "labels": [gettext(request, EVENT_LABELS[e]) for e in s.event_types or []],
            }
            for s in rows
        ],
        "events": _events(request),
        "fresh": fresh,
        "form": form or {"event_types": []},
        "errors": errors or {},
    }
    return _no_store(render(request, "settings/webhooks.html", context, status=status))


async def create(request: web.Request) -> web.Response:
    user = current_user(request)
    values = await _posted(request)
    try:
        subscription, secret = await hooks.create_subscription(
            user,
            url=values.get("url", ""),
            event_types=values["event_types"],
            description=values.get("description", ""),
            box=secret_box(request),
        )
    except ValidationFailed as err:
        return await webhooks_page(request, form=values, errors=err.fields, status=422)
    return await webhooks_page(request, fresh=(subscription.id, secret))


async def save(request: web.Request) -> web.Response:
    user = current_user(request)
    subscription_id = path_id(request)
    values = await _posted(request)
    try:
        await hooks.update_subscription(
            user,
            subscription_id,
            url=values.get("url", ""),
            event_types=values["event_types"],
            description=values.get("description", ""),
        )
    except ValidationFailed as err:
        return await webhooks_page(
            request, editing=(subscription_id, values, err.fields), status=422
        )
    flash(request, gettext(request, "Webhook saved."))
    raise web.HTTPSeeOther(f"/settings/webhooks#webhook-{subscription_id}")


async def rotate(request: web.Request) -> web.Response:
    user = current_user(request)
    subscription_id = path_id(request)
    secret = await hooks.rotate_secret(user, subscription_id, box=secret_box(request))
    return await webhooks_page(request, fresh=(subscription_id, secret))


async def pause(request: web.Request) -> web.Response:
    subscription = await hooks.set_enabled(current_user(request), path_id(request), False)
    flash(request, gettext(request, "Webhook paused: no events are sent to it."))
    raise web.HTTPSeeOther(f"/settings/webhooks#webhook-{subscription.id}")


async def resume(request: web.Request) -> web.Response:
    subscription = await hooks.set_enabled(current_user(request), path_id(request), True)
    flash(request, gettext(request, "Webhook resumed."))
    raise web.HTTPSeeOther(f"/settings/webhooks#webhook-{subscription.id}")


async def delete(request: web.Request) -> web.Response:
    await hooks.delete_subscription(current_user(request), path_id(request))
    flash(request, gettext(request, "Webhook removed."))
    raise web.HTTPSeeOther("/settings/webhooks")


async def send_test(request: web.Request) -> web.Response:
    subscription_id = path_id(request)
    await hooks.send_test(current_user(request), subscription_id, clock=clock(request))
    flash(request, gettext(request, "Test event queued: its result appears in the log below."))
    raise web.HTTPSeeOther(f"/settings/webhooks/{subscription_id}")


async def log_page(request: web.Request) -> web.Response:
    user = current_user(request)
    subscription = await hooks.get_subscription(user, path_id(request))
    rows = await hooks.deliveries(user, subscription.id)
    context = {
        "section": "webhooks",
        "s": subscription,
        "deliveries": [
            {
                "row": d,
                "event": gettext(request, EVENT_LABELS.get(d.event_type, d.event_type)),
                "status": gettext(request, STATUS_LABELS.get(d.status, d.status)),
            }
            for d in rows
        ],
    }
    return render(request, "settings/webhooks_log.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings/webhooks", webhooks_page)
    app.router.add_post("/settings/webhooks", create)
    app.router.add_get(r"/settings/webhooks/{id:\d+}", log_page)
    app.router.add_post(r"/settings/webhooks/{id:\d+}", save)
    app.router.add_post(r"/settings/webhooks/{id:\d+}/secret", rotate)
    app.router.add_post(r"/settings/webhooks/{id:\d+}/pause", pause)
    app.router.add_post(r"/settings/webhooks/{id:\d+}/resume", resume)
    app.router.add_post(r"/settings/webhooks/{id:\d+}/test", send_test)
    app.router.add_post(r"/settings/webhooks/{id:\d+}/delete", delete)
