"""JSON endpoints of the call widget (L2-L6): contacts, history, team, and acting on calls.

Every state-changing endpoint goes through the CSRF middleware (the widget sends the token in
the X-CSRF-Token header); domain errors become JSON errors in the errors middleware.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiohttp import web

from models.core.errors import NotFound, TelephonyError, ValidationFailed
from models.core.events import ClickToCall, ClickToCallProgress, HangupCall, TransferCall
from models.core.secret_box import SecretUnreadable
from models.people.profile import sip_password_of
from models.people.schedule import is_working
from models.people.team import roster
from models.people.users import get_telephony
from models.sales.contact_search import search_contacts
from models.schema.users import User
from models.telephony import call_history as call_list
from models.telephony import live_board as live_calls
from models.telephony.live_board import may_handle_call
from web.keys import CLOCK, HUB, SERVICES, SETTINGS
from web.static import LIBRARIES
from web.templating import say
from web.views.calling import pbx_is_up
from web.views.common import current_user, now
from web.views.live import LIVE, card_json
from web.views.settings_mail import secret_box

logger = logging.getLogger(__name__)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValidationFailed({"body": "expected a JSON object"}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "expected a JSON object"})
    return body


def _text(body: dict[str, Any], name: str, limit: int = 200) -> str:
    value = body.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _sip_credentials(request: web.Request, user: User, webrtc: bool) -> dict[str, str]:
    """The web phone's SIP login, for this user's own browser only and only in WebRTC mode.

    SIP over WebSocket authenticates the browser itself (digest, RFC 3261), so the browser
    must hold the password: it is sent here, over the user's session, never into a page.
    """
    if not webrtc or not user.extension:
        return {"sip_username": "", "sip_password": "", "sip_problem": ""}
    try:
        password = sip_password_of(user, secret_box(request))
    except SecretUnreadable:
        logger.warning("the SIP password of user %s does not decrypt with this key", user.id)
        return {"sip_username": user.extension, "sip_password": "", "sip_problem": "unreadable"}
    problem = "" if password else "missing"
    return {"sip_username": user.extension, "sip_password": password, "sip_problem": problem}


async def widget_state(request: web.Request) -> web.Response:
    """What the widget needs to draw itself: mode, PBX link, the user's live calls."""
    user = current_user(request)
    telephony = await get_telephony()
    relay = request.app[LIVE]
    calls = relay.board.calls_of(user.extension) if user.extension else []
    working = is_working(user, now(request))
    webrtc = telephony.widget_mode == "webrtc"
    return web.json_response(
        {
            "mode": telephony.widget_mode,
            "extension": user.extension or "",
            "pbx_up": pbx_is_up(request),
            "working": working,
            "webrtc_ws_url": telephony.webrtc_ws_url if webrtc else "",
            **_sip_credentials(request, user, webrtc),
            # SMS (issue 8) is on only when a gateway driver is configured.
            "sms_enabled": request.app[SETTINGS].sms.driver != "none",
            "calls": [relay.ringing(c) for c in calls],
        },
        headers={"Cache-Control": "no-store"},  # it may carry the SIP password
    )


async def contacts(request: web.Request) -> web.Response:
    user = current_user(request)
    found = await search_contacts(user, request.query.get("q", ""))
    return web.json_response(
        {
            "contacts": [
                {
                    "kind": c.kind,
                    "id": c.id,
                    "name": c.name,
                    "company": c.company_name,
                    "phones": list(c.phones),
                    "url": f"/{c.kind}s/{c.id}",
                }
                for c in found
            ]
        }
    )


async def history(request: web.Request) -> web.Response:
    user = current_user(request)
    rows = await call_list.recent_calls(user, 20)
    return web.json_response(
        {
            "calls": [
                {
                    "id": c.id,
                    "direction": c.direction,
                    "number": c.from_number if c.direction == "in" else c.to_number,
                    "name": (
                        c.client.name if c.client else c.lead.name if c.lead else c.caller_name
                    ),
                    "result": c.result,
                    "started_at": c.started_at.isoformat(),
                    "talk_seconds": c.talk_seconds,
                }
                for c in rows
            ]
        }
    )


async def team(request: web.Request) -> web.Response:
    user = current_user(request)
    board = request.app[LIVE].board
    members = [u for u in await roster() if u.id != user.id and u.extension]
    return web.json_response(
        {
            "team": [
                {
                    "id": u.id,
                    "name": str(u),
                    "extension": u.extension,
                    "state": board.state_of(u.extension or ""),
                }
                for u in members
            ]
        }
    )


async def originate(request: web.Request) -> web.Response:
    """Click-to-call (L5): the PBX rings the agent's phone, then dials the number.

    Progress (ringing your phone, dialing, connected, failed) arrives over the websocket as
    ClickToCallProgress; a refusal at once is also published there so every tab shows it.
    """
    user = current_user(request)
    body = await _json_body(request)
    telephony = await get_telephony()
    live_calls.check_may_place_call(user, telephony.widget_mode, now(request))
    target = await live_calls.dial_target(_text(body, "number", 64))
    request_id = uuid.uuid4().hex
    hub = request.app[HUB]
    assert user.extension is not None
    try:
        await hub.send(ClickToCall(user.id, user.extension, target, request_id))
    except TelephonyError as err:
        logger.warning("click-to-call %s by %s refused: %s", request_id, user.username, err)
        if not hub.can_handle(ClickToCall):
            # The PBX link reports its own refusals as progress; without it, say so here.
            hub.publish(ClickToCallProgress(request_id, user.id, "failed", reason=str(err)))
        return web.json_response(
            {"request_id": request_id, "number": target, "error": str(err)}, status=409
        )
    logger.info(
        "click-to-call %s: %s (ext %s) -> %s", request_id, user.username, user.extension, target
    )
    return web.json_response({"request_id": request_id, "number": target}, status=202)


async def _call_in_hand(request: web.Request, user: User, linkedid: str):
    """The live call the user may act on (it rings or rang for them); 404 otherwise, the same
    for another agent's call as for none, so that calls cannot be probed."""
    if not linkedid:
        raise ValidationFailed({"linkedid": "which call?"})
    live = request.app[LIVE].board.calls.get(linkedid)
    stored = await live_calls.stored_call(linkedid)
    if (live is None and stored is None) or not may_handle_call(user, live, stored):
        raise NotFound(f"call {linkedid} not found")
    return live


async def transfer(request: web.Request) -> web.Response:
    """Transfer (L4) the call to a colleague's extension."""
    user = current_user(request)
    body = await _json_body(request)
    linkedid = _text(body, "linkedid", 64)
    to_extension = _text(body, "to_extension", 20)
    live = await _call_in_hand(request, user, linkedid)
    if live is None:
        raise ValidationFailed({"linkedid": "the call is over"})
    if not to_extension or await live_calls.colleague_with_extension(to_extension) is None:
        raise ValidationFailed({"to_extension": "no colleague has this extension"})
    if to_extension == user.extension:
        raise ValidationFailed({"to_extension": "the call is already yours"})
    mine = user.extension or ""
    from_extension = mine if mine in live.legs else next(iter(live.legs), "")
    await request.app[HUB].send(TransferCall(linkedid, from_extension, to_extension))
    logger.info(
        "%s transfers call %s from %s to %s", user.username, linkedid, from_extension, to_extension
    )
    return web.json_response({"ok": True})


async def hangup(request: web.Request) -> web.Response:
    user = current_user(request)
    body = await _json_body(request)
    linkedid = _text(body, "linkedid", 64)
    live = await _call_in_hand(request, user, linkedid)
    if live is None:
        raise ValidationFailed({"linkedid": "the call is over"})
    mine = user.extension or ""
    extension = mine if mine in live.legs else next(iter(live.legs), "")
    await request.app[HUB].send(HangupCall(linkedid, extension))
    logger.info("%s hangs up call %s", user.username, linkedid)
    return web.json_response({"ok": True})


async def save_caller(request: web.Request) -> web.Response:
    """Save the unknown caller as a client or a lead during the call (L3)."""
    user = current_user(request)
    body = await _json_body(request)
    linkedid = _text(body, "linkedid", 64)
    live = await _call_in_hand(request, user, linkedid)
    number = live.number if live is not None else _text(body, "number", 64)
    callers = request.app[SERVICES].callers
    assert callers is not None  # set when the panel starts (web/views/live.py)
    try:
        saved = await live_calls.save_caller(
            user,
            linkedid=linkedid,
            number=number,
            kind=_text(body, "kind", 10),
            name=_text(body, "name"),
            company_name=_text(body, "company"),
            clock=request.app[CLOCK],
            callers=callers,
            hub=request.app[HUB],
        )
    except ValidationFailed as err:
        # Shown as it is under the pop-up's form: each message names its field itself
        # ("Phone: “abc123” is not a phone number").
        fields = {name: say(request, text) for name, text in err.fields.items()}
        return web.json_response(
            {"error": "; ".join(fields.values()), "fields": fields}, status=422
        )
    # The pop-up's card of the saved caller: the same card the phone rang with.
    card = await callers.caller_card(number)
    relay = request.app[LIVE]
    relay.board.set_card(linkedid, card)
    await relay.send(user.id, {"type": "card", "linkedid": linkedid, "card": card_json(card)})
    return web.json_response(
        {
            "client_id": saved.client_id,
            "lead_id": saved.lead_id,
            "reused": saved.reused,
            "url": f"/clients/{saved.client_id}" if saved.client_id else f"/leads/{saved.lead_id}",
            "card": card_json(card),
        }
    )


async def call_note(request: web.Request) -> web.Response:
    """A note typed during the call; it lands on the caller's timeline."""
    user = current_user(request)
    body = await _json_body(request)
    linkedid = _text(body, "linkedid", 64)
    live = await _call_in_hand(request, user, linkedid)
    note = await live_calls.add_call_note(
        user,
        _text(body, "text", 10_000),
        linkedid=linkedid,
        card=live.card if live is not None else None,
        clock=request.app[CLOCK],
    )
    return web.json_response({"note_id": note.id}, status=201)


# The WebRTC phone's SIP library, where web.static finds the front-end libraries
# (the package's own copy, or node_modules; package.json pins it).
async def sipjs_file(request: web.Request) -> web.StreamResponse:
    path = request.app[LIBRARIES].file("sip.js", request.match_info["path"], under="lib")
    if path is None or path.suffix != ".js":
        raise web.HTTPNotFound(text="sip.js is missing: run `npm ci` in the project directory")
    return web.FileResponse(
        path,
        headers={"Cache-Control": "public, max-age=86400", "Content-Type": "text/javascript"},
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/widget/state", widget_state)
    app.router.add_get("/api/widget/contacts", contacts)
    app.router.add_get("/api/widget/history", history)
    app.router.add_get("/api/widget/team", team)
    app.router.add_post("/api/calls/originate", originate)
    app.router.add_post("/api/calls/transfer", transfer)
    app.router.add_post("/api/calls/hangup", hangup)
    app.router.add_post("/api/calls/save-caller", save_caller)
    app.router.add_post("/api/calls/note", call_note)
    app.router.add_get("/widget/vendor/sip.js/{path:.+}", sipjs_file)
