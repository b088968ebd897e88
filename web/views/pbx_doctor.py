"""The PBX doctor in the panel (issue 21): Settings -> Telephony -> "Check the connection" runs
the checks now and shows their lines; admins see the problems on the dashboard until fixed.

The checks run in the daemon; the panel reads them through `WebServices.pbx_health` (the
`PbxHealth` shape of models/telephony/pbx_health.py). Without one, neither shows anything.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.core.errors import in_language
from models.people.permissions import has_right, require
from models.telephony.pbx_health import HealthReport, PbxHealth, status_label
from web.keys import REQ_LANG, SERVICES
from web.templating import flash, gettext
from web.views.common import current_user

RIGHT = "settings.manage"


def _health(request: web.Request) -> PbxHealth | None:
    return request.app[SERVICES].pbx_health


def _rows(report: HealthReport, lang: str, *, problems_only: bool = False) -> list[dict[str, Any]]:
    findings = report.problems if problems_only else report.findings
    return [
        {
            "status": f.status,
            "label": in_language(status_label(f.status), lang),
            "title": in_language(f.title, lang),
            "message": in_language(f.message, lang),
            "fix": in_language(f.fix, lang),
            "where": f.where,
        }
        for f in findings
    ]


def doctor_context(request: web.Request) -> dict[str, Any]:
    """For Settings -> Telephony: is the doctor there, and the lines of its latest report."""
    health = _health(request)
    report = health.latest if health is not None else None
    lang = request.get(REQ_LANG, "es")
    return {
        "is_available": health is not None,
        "checked_at": report.checked_at if report is not None else None,
        "rows": _rows(report, lang) if report is not None else [],
    }


def dashboard_problems(request: web.Request) -> list[dict[str, Any]]:
    """The PBX problems an admin sees above the dashboard's widgets (none for other users)."""
    health = _health(request)
    if health is None or health.latest is None or not has_right(current_user(request), RIGHT):
        return []
    return _rows(health.latest, request.get(REQ_LANG, "es"), problems_only=True)


async def check_now(request: web.Request) -> web.Response:
    """Run every check now; the Telephony page shows the new lines."""
    require(current_user(request), RIGHT)
    health = _health(request)
    if health is None:
        flash(request, gettext(request, "The connection check is not available here."), "error")
        raise web.HTTPSeeOther("/settings/telephony")
    report = await health.check_now()
    if report.is_healthy:
        flash(request, gettext(request, "Connection checked: no problem found."))
    else:
        flash(
            request,
            gettext(
                request,
                "Connection checked: %(count)s problem(s) found.",
                count=len(report.problems),
            ),
            "error",
        )
    raise web.HTTPSeeOther("/settings/telephony#pbx-doctor")


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/settings/telephony/check", check_now)
