"""Settings: profile (G1), working hours (G3), telephony (G4), company (G6), groups (G7)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from aiohttp import web

from models.core.errors import Conflict, ValidationFailed
from models.people import company_settings as settings_ops
from models.people import profile, schedule, sessions, team
from models.people import users as user_ops
from models.people.permissions import RIGHTS, require
from web.i18n import LANGUAGES
from web.keys import REQ_LOGIN, SERVICES, SETTINGS
from web.templating import flash, gettext, gettext_for, render
from web.views.common import (
    current_user,
    form_data,
    int_param,
    now,
    path_id,
    text_values,
    users_changed,
)
from web.views.pbx_doctor import doctor_context
from web.views.settings_mail import secret_box

WEEKDAYS = range(7)


def uploads_dir(request: web.Request):
    services = request.app[SERVICES]
    return services.uploads_dir or (request.app[SETTINGS].data_dir / "uploads")


def _profile_form(user) -> dict:
    return {
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "position": user.position,
        "extension": user.extension or "",
        "language": user.language,
    }


async def _session_rows(request: web.Request, user) -> list[dict[str, Any]]:
    """The user's open sessions for the profile page, this browser's marked."""
    current = request[REQ_LOGIN].id
    return [
        {
            "id": row.id,
            "device": sessions.device_of(row.user_agent),
            "address": row.address,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "is_current": row.id == current,
        }
        for row in await sessions.sessions_of(user, now(request))
    ]


async def profile_page(request: web.Request, *, form=None, errors=None, status=200):
    user = current_user(request)
    context = {
        "section": "profile",
        "form": form or _profile_form(user),
        "errors": errors or {},
        "language_options": list(LANGUAGES.items()),
        "max_mb": request.app[SETTINGS].web.max_upload_mb,
        "sessions": await _session_rows(request, user),
        "sip_password_saved": bool(user.sip_password_sealed),
    }
    return render(request, "settings/profile.html", context, status=status)


async def save_profile(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    # The SIP password is never rendered back, not even into a form with errors.
    sip_password = values.pop("sip_password", "")
    forget_sip = values.pop("forget_sip_password", "") == "1"
    try:
        profile.check_sip_password(sip_password)
        await profile.update_profile(
            user,
            full_name=values.get("full_name", ""),
            email=values.get("email", ""),
            phone=values.get("phone", ""),
            position=values.get("position", ""),
            extension=values.get("extension", ""),
            language=values.get("language", "es"),
        )
        if sip_password or forget_sip:
            await profile.set_sip_password(user, sip_password, secret_box(request))
    except ValidationFailed as err:
        return await profile_page(request, form=values, errors=err.fields, status=422)
    except Conflict as err:
        return await profile_page(
            request, form=values, errors={err.field or "__all__": str(err)}, status=409
        )
    users_changed(request, user.id)
    # Said in the language just chosen, which the next page will use.
    flash(request, gettext_for(request, user.language, "Profile saved."))
    raise web.HTTPSeeOther("/settings/profile")


async def upload_photo(request: web.Request) -> web.Response:
    user = current_user(request)
    limit = request.app[SETTINGS].web.max_upload_mb * 1024 * 1024
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        return await profile_page(
            request,
            errors={
                "photo": gettext(
                    request, "The photo is larger than %(mb)s MB.", mb=limit // (1024 * 1024)
                )
            },
            status=413,
        )
    form = await form_data(request)
    upload = form.get("photo")
    if not isinstance(upload, web.FileField):
        return await profile_page(
            request, errors={"photo": gettext(request, "Choose a file.")}, status=422
        )
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        message = gettext(request, "The photo is larger than %(mb)s MB.", mb=limit // (1024 * 1024))
        return await profile_page(request, errors={"photo": message}, status=413)
    try:
        await profile.set_photo(user, data, upload.content_type, uploads_dir(request), limit)
    except ValidationFailed as err:
        return await profile_page(request, errors=err.fields, status=422)
    flash(request, gettext(request, "Photo saved."))
    raise web.HTTPSeeOther("/settings/profile")


async def photo(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = (uploads_dir(request) / name).resolve()
    if "/" in name or not path.is_file() or not path.is_relative_to(uploads_dir(request).resolve()):
        raise web.HTTPNotFound()
    return web.FileResponse(
        path,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _hours_form(user) -> dict:
    data = user.work_schedule or {}
    form: dict = {
        "time_zone": user.time_zone,
        "first_weekday": str(user.first_weekday),
        "kind": data.get("kind", "weekly"),
    }
    if data.get("kind") == "weekly":
        for day, intervals in data.get("days", {}).items():
            if intervals:
                form[f"start_{day}"], form[f"end_{day}"] = intervals[0]
    if data.get("kind") == "rotation":
        form["rotation_start"] = data["start"]
        form["pattern"] = "\n".join(
            ", ".join(f"{a}-{b}" for a, b in day) if day else "off" for day in data["pattern"]
        )
    return form


async def hours_page(request: web.Request, *, form=None, errors=None, status=200):
    user = current_user(request)
    context = {
        "section": "hours",
        "form": form or _hours_form(user),
        "errors": errors or {},
        "zones": sorted(available_timezones()),
        "weekdays": list(WEEKDAYS),
        "working_now": schedule.is_working(user, now(request)),
        "has_schedule": bool(user.work_schedule),
        "preset_start": now(request).date().isoformat(),
    }
    return render(request, "settings/hours.html", context, status=status)


def _pattern(text: str) -> list[list[list[str]]]:
    days: list[list[list[str]]] = []
    for line in text.strip().splitlines():
        line = line.strip().lower()
        if not line or line in ("off", "libre", "-"):
            days.append([])
            continue
        shifts = []
        for part in line.split(","):
            start, _, end = part.strip().partition("-")
            shifts.append([start.strip(), end.strip()])
        days.append(shifts)
    return days


async def save_hours(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    kind = values.get("kind", "weekly")
    data: dict[str, Any]
    if kind == "rotation":
        data = {
            "kind": "rotation",
            "start": values.get("rotation_start", ""),
            "pattern": _pattern(values.get("pattern", "")),
        }
    elif kind == "none":
        data = {}
    else:
        days = {
            str(d): [[values.get(f"start_{d}", ""), values.get(f"end_{d}", "")]]
            for d in WEEKDAYS
            if values.get(f"start_{d}") and values.get(f"end_{d}")
        }
        data = {"kind": "weekly", "days": days}
    try:
        await profile.set_working_hours(
            user,
            time_zone=values.get("time_zone", ""),
            first_weekday=int_param(values.get("first_weekday"), default=0) or 0,
            schedule=data,
        )
    except ValidationFailed as err:
        return await hours_page(request, form=values, errors=err.fields, status=422)
    users_changed(request, user.id)
    flash(request, gettext(request, "Working hours saved."))
    raise web.HTTPSeeOther("/settings/hours")


async def telephony_page(request: web.Request, *, errors=None, form=None, status=200):
    user = current_user(request)
    require(user, "settings.manage")
    tel = await user_ops.get_telephony()
    form = form or {
        k: getattr(tel, k)
        for k in (
            "widget_mode",
            "is_autolead_inbound",
            "is_autolead_outbound",
            "is_autolead_sms",
            "is_dial_without_country_prefix",
            "is_dial_all_numbers",
            "outbound_prefix",
            "webrtc_ws_url",
            "is_transcribe_calls",
        )
    }
    context = {
        "section": "telephony",
        "form": form,
        "errors": errors or {},
        "modes": settings_ops.WIDGET_MODES,
        "doctor": doctor_context(request),
        "transcription_engine": request.app[SETTINGS].transcription.engine,
    }
    return render(request, "settings/telephony.html", context, status=status)


async def save_telephony(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    flags = (
        "is_autolead_inbound",
        "is_autolead_outbound",
        "is_autolead_sms",
        "is_dial_without_country_prefix",
        "is_dial_all_numbers",
        "is_transcribe_calls",
    )
    fields = {f: form.get(f) == "1" for f in flags}
    try:
        await settings_ops.update_telephony(
            user,
            widget_mode=values.get("widget_mode", ""),
            outbound_prefix=values.get("outbound_prefix", "").strip(),
            webrtc_ws_url=values.get("webrtc_ws_url", "").strip(),
            **fields,
        )
    except ValidationFailed as err:
        return await telephony_page(
            request, errors=err.fields, form={**values, **fields}, status=422
        )
    flash(request, gettext(request, "Telephony settings saved."))
    raise web.HTTPSeeOther("/settings/telephony")


async def company_page(request: web.Request, *, errors=None, form=None, status=200):
    user = current_user(request)
    require(user, "settings.manage")
    company = await user_ops.get_company()
    form = form or {
        "name": company.name,
        "default_currency": company.default_currency,
        "extra_currencies": ", ".join(company.extra_currencies),
        "default_region": company.default_region,
    }
    context = {
        "section": "company",
        "form": form,
        "errors": errors or {},
        "currencies": settings_ops.known_currencies(),
    }
    return render(request, "settings/company.html", context, status=status)


async def save_company(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    values = text_values(form)
    try:
        await settings_ops.update_company(
            user,
            name=values.get("name", ""),
            default_currency=values.get("default_currency", ""),
            extra_currencies=values.get("extra_currencies", "").replace(";", ",").split(","),
            default_region=values.get("default_region", ""),
        )
    except ValidationFailed as err:
        return await company_page(request, errors=err.fields, form=values, status=422)
    flash(request, gettext(request, "Company settings saved."))
    raise web.HTTPSeeOther("/settings/company")


async def groups_page(request: web.Request, *, errors=None, form=None, status=200):
    user = current_user(request)
    require(user, "settings.manage")
    context = {
        "section": "groups",
        "groups": await team.list_groups(),
        "rights": RIGHTS,
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "settings/groups.html", context, status=status)


async def add_group(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    rights = [r for r in form.getall("rights", []) if isinstance(r, str)]
    try:
        await settings_ops.add_group(user, str(form.get("name", "")).strip(), rights)
    except ValidationFailed as err:
        return await groups_page(request, errors=err.fields, form=text_values(form), status=422)
    except Conflict as err:
        return await groups_page(
            request, errors={"name": str(err)}, form=text_values(form), status=409
        )
    flash(request, gettext(request, "Group created."))
    raise web.HTTPSeeOther("/settings/groups")


async def save_group(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    rights = [r for r in form.getall("rights", []) if isinstance(r, str)]
    await settings_ops.set_group_rights(user, path_id(request), rights)
    flash(request, gettext(request, "Group rights saved."))
    raise web.HTTPSeeOther("/settings/groups")


async def settings_index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/settings/profile")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings", settings_index)
    app.router.add_get("/settings/profile", profile_page)
    app.router.add_post("/settings/profile", save_profile)
    app.router.add_post("/settings/photo", upload_photo)
    app.router.add_get("/uploads/photos/{name}", photo)
    app.router.add_get("/settings/hours", hours_page)
    app.router.add_post("/settings/hours", save_hours)
    app.router.add_get("/settings/telephony", telephony_page)
    app.router.add_post("/settings/telephony", save_telephony)
    app.router.add_get("/settings/company", company_page)
    app.router.add_post("/settings/company", save_company)
    app.router.add_get("/settings/groups", groups_page)
    app.router.add_post("/settings/groups", add_group)
    app.router.add_post(r"/settings/groups/{id:\d+}", save_group)
