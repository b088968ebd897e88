"""Who may use which route: every route of the router x anonymous, admin, agent, custom group.

The matrix is generated from the app's router (issue 19): a route without a rule in RULES fails
the suite, and so does a rule for a route that no longer exists. Each route is called as
anonymous, as carmen (a custom group: clients, leads, imports, bulk, calls but no settings,
users or analytics), as luis (agent), as ana (admin), and, where the path names a record, as
luis on ana's record. /api/v1 is called with each user's Bearer token, and once more with ana's
session cookie alone, which must not be enough. The answer must be of the rule's class:
allowed (no 401/403, no way to the login page) or refused (anonymous: to /login for pages, 401
for fetch and the API; logged in: 403, or 404 exactly like a missing record). Never a 5xx.

Mutating routes run after the reading ones, destructive ones last; each caller acts on records
of its own, so a deletion by one never hides what another may do.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from pydantic import SecretStr

from bot.webhook import mount_webhook
from models.core.settings import SmsSettings, TelegramSettings
from models.people import users as user_ops
from models.people.permissions import AGENT, STANDARD_GROUPS
from tests.bot import updates
from tests.web import authz_support as az
from tests.web.api_support import token_of
from tests.web.authz_support import Rule
from tests.web.conftest import csrf_from, http_login, web_settings
from web.app import create_app

# The custom group of the matrix: neither settings nor users, and no analytics (which agents
# have), but every record and the bulk actions (which agents have not).
CUSTOM_RIGHTS = [
    "clients.view_all", "clients.edit_all", "leads.view_all", "import_export", "sms.bulk",
    "calls.view_all",
]  # fmt: skip
AGENT_RIGHTS = STANDARD_GROUPS[AGENT]
SMS_SECRET = "sms-gateway-secret"
TELEGRAM_SECRET = "telegram-webhook-secret"


PUBLIC = Rule("public")
MACHINE = Rule("machine")
USER = Rule("user")
TOKEN = Rule("token")
SETTINGS = Rule("right", "settings.manage")
USERS = Rule("right", "users.manage")
IMPORTS = Rule("right", "import_export")


def right(name: str, **options: Any) -> Rule:
    return Rule("right", name, **options)


RULES: dict[tuple[str, str], Rule] = {
    # Machines, the login, static files.
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/static/vendor/{package}/{path}"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,  # 401: wrong username or password
    ("GET", "/setup"): PUBLIC,  # only until an admin exists; then a redirect to /
    ("POST", "/setup"): PUBLIC,
    ("GET", "/invite/{token}"): PUBLIC,  # the invite's token is the key
    ("POST", "/invite/{token}"): PUBLIC,
    ("POST", "/api/sms/status"): MACHINE,  # the SMS gateway's delivery reports
    ("POST", "/telegram/webhook"): MACHINE,  # Telegram's updates, in webhook mode
    ("POST", "/api/v1/forms/{key}"): PUBLIC,  # web forms: public by design (key, CORS, limits)
    ("POST", "/google/calendar/notify"): PUBLIC,  # Google's pushes: the channel token is the key
    ("OPTIONS", "/api/v1/forms/{key}"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/logout"): Rule("user", also_allowed=(303,)),  # to the login page, logged out
    # Every logged-in user: own records and pages (ownership is the records' rule).
    ("GET", "/"): USER,
    ("POST", "/api/dashboard/layout"): USER,
    ("GET", "/ws"): USER,
    ("GET", "/search"): USER,
    ("GET", "/calendar"): USER,
    ("GET", "/team"): USER,
    ("POST", "/team/{id}/call"): USER,
    ("GET", "/clients"): USER,
    ("GET", "/clients/new"): USER,
    ("POST", "/clients/new"): USER,
    ("GET", "/clients/{id}"): USER,
    ("GET", "/clients/{id}/edit"): USER,
    ("POST", "/clients/{id}/edit"): USER,
    ("POST", "/clients/{id}/delete"): USER,
    ("POST", "/clients/{id}/call"): USER,
    ("POST", "/clients/{id}/notes"): USER,
    ("POST", "/clients/bulk-dialer"): USER,
    ("GET", "/leads"): USER,
    ("GET", "/leads/new"): USER,
    ("POST", "/leads/new"): USER,
    ("GET", "/leads/{id}"): USER,
    # Taking someone else's lead is refused with "already taken by another user" (a flash and
    # a redirect, not a 404: the loser of E1's claim race saw the lead a moment ago); the
    # winner is named only to who may see the lead (tests/models/test_leads.py).
    ("POST", "/leads/{id}/take"): Rule("user", foreign_allowed=True),
    ("POST", "/leads/{id}/convert"): USER,
    ("POST", "/leads/{id}/close"): USER,
    ("POST", "/leads/{id}/notes"): USER,
    ("POST", "/leads/bulk-dialer"): USER,
    ("GET", "/deals"): USER,
    ("GET", "/deals/new"): USER,
    ("POST", "/deals/new"): USER,
    ("GET", "/deals/{id}"): USER,
    ("POST", "/deals/{id}/edit"): USER,
    ("POST", "/deals/{id}/notes"): USER,
    ("POST", "/deals/{id}/delete"): USER,
    ("POST", "/api/deals/{id}/move"): USER,
    ("GET", "/tasks"): USER,
    ("GET", "/tasks/new"): USER,
    ("POST", "/tasks/new"): USER,
    ("GET", "/tasks/{id}"): USER,
    ("POST", "/tasks/{id}"): USER,
    ("POST", "/tasks/{id}/done"): USER,
    ("POST", "/tasks/{id}/delete"): USER,
    ("GET", "/calls"): USER,
    ("GET", "/calls/{id}"): USER,
    ("GET", "/calls/{id}/recording"): USER,
    ("GET", "/api/widget/state"): USER,
    ("GET", "/api/widget/contacts"): USER,
    ("GET", "/api/widget/history"): USER,
    ("GET", "/api/widget/team"): USER,
    ("POST", "/api/calls/originate"): USER,
    ("POST", "/api/calls/transfer"): USER,
    ("POST", "/api/calls/hangup"): USER,
    ("POST", "/api/calls/save-caller"): USER,
    ("POST", "/api/calls/note"): USER,
    ("GET", "/widget/vendor/sip.js/{path}"): USER,
    ("GET", "/dialer"): USER,
    ("GET", "/dialer/{id}"): USER,
    ("POST", "/dialer/{id}/{action}"): USER,
    ("GET", "/api/dialer/lists"): USER,
    ("POST", "/api/dialer/lists"): USER,
    ("POST", "/api/dialer/lists/{id}/{action}"): USER,
    ("GET", "/sms/new"): USER,
    ("POST", "/sms/new"): USER,  # 409 here: no SMS gateway configured
    ("GET", "/sms/batches/{id}"): USER,
    ("GET", "/emails/new"): USER,
    ("POST", "/emails/new"): USER,
    ("GET", "/emails/{id}"): USER,
    ("GET", "/emails/{id}/body"): USER,
    ("GET", "/emails/{id}/reply"): USER,
    ("GET", "/emails/{id}/attachments/{aid}"): USER,
    ("GET", "/emails/bulk/{ref}"): USER,
    ("GET", "/settings"): USER,
    ("GET", "/settings/profile"): USER,
    ("POST", "/settings/profile"): USER,
    ("POST", "/settings/photo"): USER,
    ("GET", "/uploads/photos/{name}"): USER,
    ("GET", "/settings/hours"): USER,
    ("POST", "/settings/hours"): USER,
    ("POST", "/settings/password"): USER,  # 429 once the wrong current passwords pile up
    ("POST", "/settings/sessions/others"): USER,
    ("POST", "/settings/sessions/{id}/end"): USER,  # only one's own sessions (404 otherwise)
    ("POST", "/settings/telegram/code"): USER,
    ("POST", "/settings/telegram/unlink"): USER,
    # Settings -> Google Calendar: one's own connection only (no id in the paths).
    ("GET", "/settings/google"): USER,
    ("POST", "/settings/google"): USER,
    ("POST", "/settings/google/connect"): USER,
    ("GET", "/settings/google/callback"): USER,  # a wrong state: back to the page, flashed
    ("POST", "/settings/google/sync"): USER,
    ("POST", "/settings/google/disconnect"): USER,
    ("GET", "/settings/api-tokens"): USER,
    ("POST", "/settings/api-tokens"): USER,
    ("POST", "/settings/api-tokens/{id}/revoke"): USER,
    # Settings -> Mail: one's own mailboxes; the exclusion list is the company's.
    ("GET", "/settings/mail"): USER,
    ("GET", "/settings/mail/new"): USER,
    ("POST", "/settings/mail"): USER,
    ("POST", "/settings/mail/test"): USER,  # 422 for the empty form, as adding one
    ("GET", "/settings/mail/{id}"): USER,
    ("POST", "/settings/mail/{id}"): USER,
    ("POST", "/settings/mail/{id}/shares"): USER,
    # 503 for whoever passes: the connection test is not wired into the test app (no probe).
    ("POST", "/settings/mail/{id}/test"): Rule("user", also_allowed=(503,)),
    ("POST", "/settings/mail/{id}/delete"): USER,
    ("POST", "/settings/mail/exclusions"): SETTINGS,
    ("POST", "/settings/mail/exclusions/{id}/delete"): SETTINGS,
    # Rights.
    ("GET", "/analytics"): right("analytics.view"),
    ("GET", "/analytics/{report}"): right("analytics.view"),
    ("POST", "/clients/bulk-sms"): right("sms.bulk"),
    ("POST", "/clients/bulk-email"): right("sms.bulk"),
    ("POST", "/emails/bulk"): right("sms.bulk"),
    ("GET", "/imports/new"): IMPORTS,
    ("POST", "/imports/upload"): IMPORTS,
    ("POST", "/imports/start"): right("import_export", also_allowed=(404,)),  # no upload: 404
    ("GET", "/imports/{id}"): IMPORTS,
    ("GET", "/imports/{id}/progress"): IMPORTS,
    ("GET", "/imports/{id}/rejected.csv"): IMPORTS,
    ("POST", "/imports/{id}/cancel"): IMPORTS,
    ("POST", "/imports/{id}/resume"): IMPORTS,
    ("GET", "/export/{kind}.{fmt}"): IMPORTS,
    ("POST", "/team/users"): USERS,
    ("POST", "/team/invites"): USERS,
    ("POST", "/team/{id}/group"): USERS,
    ("POST", "/team/{id}/active"): USERS,
    ("GET", "/settings/company"): SETTINGS,
    ("POST", "/settings/company"): SETTINGS,
    ("GET", "/settings/telephony"): SETTINGS,
    ("POST", "/settings/telephony"): SETTINGS,
    ("POST", "/settings/telephony/check"): SETTINGS,
    ("GET", "/settings/groups"): SETTINGS,
    ("POST", "/settings/groups"): SETTINGS,
    ("POST", "/settings/groups/{id}"): SETTINGS,
    ("GET", "/settings/custom-fields"): SETTINGS,
    ("POST", "/settings/custom-fields"): SETTINGS,
    ("POST", "/settings/custom-fields/{id}/delete"): SETTINGS,
    ("GET", "/settings/forms"): SETTINGS,
    ("POST", "/settings/forms"): SETTINGS,
    ("POST", "/settings/forms/{id}"): SETTINGS,
    ("POST", "/settings/forms/{id}/delete"): SETTINGS,
    ("GET", "/settings/webhooks"): SETTINGS,
    ("POST", "/settings/webhooks"): SETTINGS,
    ("GET", "/settings/webhooks/{id}"): SETTINGS,
    ("POST", "/settings/webhooks/{id}"): SETTINGS,
    ("POST", "/settings/webhooks/{id}/secret"): SETTINGS,
    ("POST", "/settings/webhooks/{id}/pause"): SETTINGS,
    ("POST", "/settings/webhooks/{id}/resume"): SETTINGS,
    ("POST", "/settings/webhooks/{id}/test"): SETTINGS,
    ("POST", "/settings/webhooks/{id}/delete"): SETTINGS,
    # The public API: a Bearer token, then the same ownership rules as the panel.
    ("GET", "/api/v1/clients"): TOKEN,
    ("POST", "/api/v1/clients"): TOKEN,
    ("GET", "/api/v1/clients/{id}"): TOKEN,
    ("PATCH", "/api/v1/clients/{id}"): TOKEN,
    ("DELETE", "/api/v1/clients/{id}"): TOKEN,
    ("GET", "/api/v1/clients/{id}/notes"): TOKEN,
    ("POST", "/api/v1/clients/{id}/notes"): TOKEN,
    ("GET", "/api/v1/leads"): TOKEN,
    ("POST", "/api/v1/leads"): TOKEN,
    ("GET", "/api/v1/leads/{id}"): TOKEN,
    ("PATCH", "/api/v1/leads/{id}"): TOKEN,
    ("POST", "/api/v1/leads/{id}/claim"): TOKEN,
    ("POST", "/api/v1/leads/{id}/close"): TOKEN,
    ("GET", "/api/v1/leads/{id}/notes"): TOKEN,
    ("POST", "/api/v1/leads/{id}/notes"): TOKEN,
    ("GET", "/api/v1/deals"): TOKEN,
    ("POST", "/api/v1/deals"): TOKEN,
    ("GET", "/api/v1/deals/{id}"): TOKEN,
    ("PATCH", "/api/v1/deals/{id}"): TOKEN,
    ("DELETE", "/api/v1/deals/{id}"): TOKEN,
    ("GET", "/api/v1/tasks"): TOKEN,
    ("POST", "/api/v1/tasks"): TOKEN,
    ("GET", "/api/v1/tasks/{id}"): TOKEN,
    ("POST", "/api/v1/tasks/{id}/done"): TOKEN,
    ("DELETE", "/api/v1/tasks/{id}"): TOKEN,
    ("GET", "/api/v1/calls"): TOKEN,
    ("GET", "/api/v1/calls/{id}"): TOKEN,
    ("GET", "/api/v1/users"): TOKEN,
    ("GET", "/api/v1/users/{id}"): Rule("token", foreign_allowed=True),  # colleagues are public
}

# What a request carries beyond its CSRF token, so that the check it must pass is reached (an
# empty note or a missing group is refused before anyone's rights are looked at).
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/clients/{id}/notes"): {"text": "Hola"},
    ("POST", "/leads/{id}/notes"): {"text": "Hola"},
    ("POST", "/deals/{id}/notes"): {"text": "Hola"},
    ("POST", "/team/{id}/group"): {"group_id": "{group}"},
}
JSON: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/deals/{id}/move"): {"status": "won"},
    ("POST", "/api/sms/status"): {"status": "no-such-status"},  # a 400 once past the secret
    ("POST", "/telegram/webhook"): updates.message(5550001, "hola"),  # nobody answers it
    ("POST", "/api/v1/clients/{id}/notes"): {"text": "Hola"},
    ("POST", "/api/v1/leads/{id}/notes"): {"text": "Hola"},
}
# Machines prove who they are with a shared secret in a header.
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/sms/status"): {"X-Sms-Secret": SMS_SECRET},
    ("POST", "/telegram/webhook"): {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
}
# Run last, in this order within the last phase: they end records, sessions or the login.
DESTRUCTIVE = ("/delete", "/revoke", "/end", "/close", "/convert", "/cancel", "/active")


def _phase(method: str, canonical: str) -> tuple[int, str, str]:
    if canonical in ("/settings/sessions/others", "/logout"):
        return (4 if canonical == "/logout" else 3, method, canonical)
    if method == "DELETE" or canonical.endswith(DESTRUCTIVE):
        return (2, method, canonical)
    return (0 if method in ("GET", "OPTIONS") else 1, method, canonical)


def matrix_app(tmp_path, hub, clock) -> tuple[web.Application, Bot]:
    """The real app as the daemon builds it with every machine endpoint on: SMS delivery
    reports, and Telegram in webhook mode (its update reaches an empty dispatcher)."""
    settings = web_settings(tmp_path).model_copy(
        update={
            "sms": SmsSettings(status_secret=SecretStr(SMS_SECRET)),
            "telegram": TelegramSettings(mode="webhook", webhook_secret=SecretStr(TELEGRAM_SECRET)),
        }
    )
    app = create_app(settings, hub=hub, clock=clock)
    bot = Bot("123456:matrix-token-never-used")
    path, secret = settings.telegram.webhook_path, TELEGRAM_SECRET
    mount_webhook(app, Dispatcher(), bot, path=path, secret=secret)
    return app, bot


@pytest.fixture
async def matrix(world, hub, clock, tmp_path):
    """The app on a free port, its records, and the four callers logged in (ana last)."""
    app, bot = matrix_app(tmp_path, hub, clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await user_ops.create_group("Ventas", CUSTOM_RIGHTS)
    carmen = await user_ops.create_user("carmen", world.password, group_name="Ventas")
    pedro = await user_ops.create_user("pedro", world.password)  # whom /team/{id}/... acts on
    shared = await az.shared_records(app, pedro)
    shared["group"] = str(shared["/settings/groups/"])
    callers: list[az.Caller] = []
    try:
        for n, user in enumerate((None, carmen, world.luis, world.ana)):
            http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            caller = az.Caller(user.username if user else "anonymous", http, user)
            callers.append(caller)
            # Anonymous asks for marta's records: real ones, which it must not reach.
            caller.ids = shared | await az.own_records(user or world.marta, n, clock, tmp_path)
            if user is None:
                async with http.get(url + "/login") as resp:
                    caller.csrf = csrf_from(await resp.text())
                continue
            await user.fetch_related("group")
            await http_login(http, url, user.username, world.password)
            async with http.get(url + "/settings/profile") as resp:
                caller.csrf = csrf_from(await resp.text())
            caller.token = await token_of(user, clock)
        rights = {"carmen": set(CUSTOM_RIGHTS), "luis": set(AGENT_RIGHTS)}
        yield az.Matrix(url, az.routes(app), callers, rights)
    finally:
        for caller in callers:
            await caller.http.close()
        await runner.cleanup()
        await bot.session.close()


async def test_every_route_has_a_rule_and_every_rule_a_route(hub, clock, tmp_path):
    app, bot = matrix_app(tmp_path, hub, clock)
    await bot.session.close()
    routes = set(az.routes(app))
    missing = [f"add a rule for {m} {p}" for m, p in sorted(routes - RULES.keys())]
    stale = [
        f"no route {m} {p} any more: remove its rule" for m, p in sorted(RULES.keys() - routes)
    ]
    assert not missing + stale, "\n".join(missing + stale)


async def test_every_caller_gets_what_the_rules_say_on_every_route(matrix):
    """Each route of the router as each caller (about 800 requests); a failure names the
    route, the caller, the answer and what the rule expected."""
    for key in sorted(matrix.routes, key=lambda key: _phase(*key)):
        rule = RULES.get(key)
        if rule is None:
            matrix.failures.append(f"add a rule for {key[0]} {key[1]}")
            continue
        body = az.Body(FORMS.get(key, {}), JSON.get(key), HEADERS.get(key, {}), key not in HEADERS)
        await matrix.check(*key, rule, body)
    assert matrix.failures == [], "\n".join(matrix.failures)
    assert matrix.requests > 4 * len(matrix.routes), matrix.requests
