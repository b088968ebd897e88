"""The authorization matrix's machinery: the app's routes, a record of each kind per user, the
concrete URL of a route for one caller, and what its answer means (allowed or refused).

The rules themselves (who may use which route) live in tests/web/test_authorization_matrix.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from models.contacts import clients as client_ops
from models.core.clock import Clock
from models.people import api_tokens, sessions
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.schema.activity import EmailMessage
from models.schema.calls import Call
from models.schema.clients import CustomField
from models.schema.dialer import DialerList, SmsBatch
from models.schema.imports import ImportBatch
from models.schema.integrations import FormSource, WebhookSubscription
from models.schema.mail import MailAccount, MailAttachment, MailExclusion
from models.schema.users import Group, User
from models.work import tasks as task_ops
from web.views.settings_pages import uploads_dir

LOGIN_REDIRECT = "/login"
# Files that exist, so that an allowed GET of a file route is a 200, not a 404.
VENDOR_FILE = "/static/vendor/chart.js/dist/chart.umd.min.js"
STATIC_FILE = "/static/app.css"
SIPJS_FILE = "/widget/vendor/sip.js/index.js"
PHOTO = "authz-photo.png"
ORIGIN = "https://www.acme.example"  # the sample web form's site (CORS)
WEBSOCKET_HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@dataclass(frozen=True)
class Rule:
    """Who may use one route: `public` (anyone, even anonymous), `machine` (whoever sends the
    shared secret of its Body's headers, and nobody without it), `user` (anyone logged in),
    `right` (holders of `right`), `token` (a Bearer token of any active user: /api/v1)."""

    kind: str
    right: str = ""
    also_allowed: tuple[int, ...] = ()  # statuses that still mean "passed the check" here
    foreign_allowed: bool = False  # luis may use it on ana's record (not an ownership rule)


@dataclass(frozen=True)
class Body:
    """What a request carries besides its CSRF token ("{group}" and the like: from the ids)."""

    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # a machine's shared secret
    session: bool = True  # False: a machine's request, with no CSRF token


def routes(app: web.Application) -> list[tuple[str, str]]:
    """Every (method, canonical path) of the router. HEAD is left out: aiohttp adds it beside
    each GET (checked here), so it is allowed exactly when the GET is."""
    found: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        methods = {route.method for route in resource}
        if isinstance(resource, StaticResource):
            methods = {"GET"}
        assert "HEAD" not in methods or "GET" in methods, resource.canonical
        found |= {(method, resource.canonical) for method in methods if method != "HEAD"}
    return sorted(found)


@dataclass
class Caller:
    """One identity of the matrix: a browser session (logged in or not) and, for /api/v1, the
    Bearer token of the same user (none for anonymous)."""

    name: str
    http: aiohttp.ClientSession
    user: User | None = None
    token: str | None = None
    csrf: str = ""
    ids: dict[str, Any] = field(default_factory=dict)  # path prefix -> own record id


async def own_records(user: User, n: int, clock: Clock, data_dir: Path) -> dict[str, Any]:
    """A record of each kind that belongs to `user` (n keeps phones and addresses apart),
    keyed by the path prefix that shows it; a call's recording and a mail's attachment are
    real files under `data_dir`."""
    phone = f"+3491100{n:02d}"
    client, api_client, deals_client = [
        await client_ops.create_client(
            user, client_ops.ClientInput(name=f"Cliente {n}", phones=[phone + end]), clock=clock
        )
        for end in ("01", "03", "04")
    ]  # the panel's, the API's (each deletes its own), and one for deals (deleted by nobody)
    lead = await lead_ops.create_lead(
        user, lead_ops.LeadInput(name=f"Interesado {n}", phones=[phone + "02"]), clock=clock
    )
    deal, api_deal = [
        await deal_ops.create_deal(user, deals_client.id, "Trato", "10", None, clock=clock)
        for _ in range(2)
    ]
    due = clock.now() + timedelta(hours=1)
    task, api_task = [
        await task_ops.create_task(
            user, task_ops.TaskInput(title="Llamar", due_at=due), clock=clock
        )
        for _ in range(2)
    ]
    _, spare_session = await sessions.open_session(user, clock.now(), lifetime=timedelta(hours=1))
    recording, attached = f"call-{n}.wav", f"file-{n}.pdf"
    for folder, name in (("recordings", recording), ("mail", attached)):
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
        (data_dir / folder / name).write_bytes(
            b"RIFF....WAVE" if folder == "recordings" else b"%PDF"
        )
    call = await Call.create(
        direction="in", from_number=phone + "01", result="answered", started_at=clock.now(),
        agent=user, client=client, recording_path=recording,
    )  # fmt: skip
    dialer = await DialerList.create(name="Lista", owner=user, created_at=clock.now())
    batch = await ImportBatch.create(kind="clients", file_name="a.csv", status="done", user=user)
    sms_batch = await SmsBatch.create(author=user, template="Hola", created_at=clock.now())
    address = f"user{n}@acme.example"
    account = await MailAccount.create(
        owner=user, address=address, login=address,
        imap_host="imap.acme.example", imap_port=993, smtp_host="smtp.acme.example", smtp_port=587,
    )  # fmt: skip
    bulk_ref = f"0b7c3a52-5d1e-4f0e-9a57-3c2f4e1d8b{n:02d}"
    email = await EmailMessage.create(
        direction="out", account=account, sender=address, recipients="c@x.example",
        subject="Oferta", body="Hola", user=user, client=client, created_at=clock.now(),
        status="sent", has_attachments=True, bulk_ref=bulk_ref,
    )  # fmt: skip
    attachment = await MailAttachment.create(
        email=email, filename="a.pdf", content_type="application/pdf", size=4, path=attached
    )
    # A second token, for the revoke route (the first one is the caller's own for /api/v1).
    spare_token, _ = await api_tokens.create_token(user, name="spare", clock=clock)
    return {
        "/clients/": client.id,
        "/api/v1/clients/": api_client.id,
        "/leads/": lead.id,
        "/api/v1/leads/": lead.id,
        "/deals/": deal.id,
        "/api/deals/": deal.id,
        "/api/v1/deals/": api_deal.id,
        "/tasks/": task.id,
        "/api/v1/tasks/": api_task.id,
        "/calls/": call.id,
        "/api/v1/calls/": call.id,
        "/api/v1/users/": user.id,
        "/dialer/": dialer.id,
        "/api/dialer/lists/": dialer.id,
        "/imports/": batch.id,
        "/sms/batches/": sms_batch.id,
        "/settings/mail/": account.id,
        "/emails/bulk/": bulk_ref,
        "/emails/": email.id,
        "/settings/api-tokens/": spare_token.id,
        "/settings/sessions/": spare_session.id,  # not the caller's own: ending it is no logout
        "attachment": attachment.id,
    }


async def shared_records(app: web.Application, team_target: User) -> dict[str, Any]:
    """Records that belong to nobody in particular (settings an admin keeps)."""
    field_row = await CustomField.create(key="size", label="Size")
    webhook = await WebhookSubscription.create(
        url="https://hooks.example/crm", event_types=["lead.created"], secret_encrypted="-"
    )
    form = await FormSource.create(key="authz-form-key", name="Web", allowed_origins=[ORIGIN])
    exclusion = await MailExclusion.create(pattern="@bank.example")
    spare_group = await Group.create(name="Spare", rights=["clients.view_all"])
    folder = uploads_dir(_FakeRequest(app))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PHOTO).write_bytes(b"\x89PNG\r\n\x1a\n")
    return {
        "/settings/custom-fields/": field_row.id,
        "/settings/webhooks/": webhook.id,
        "/settings/forms/": form.id,
        "/settings/mail/exclusions/": exclusion.id,
        "/settings/groups/": spare_group.id,
        "/team/": team_target.id,
        "form_key": form.key,
    }


class _FakeRequest:
    """Just enough of a request for uploads_dir(): the app."""

    def __init__(self, app: web.Application) -> None:
        self.app = app


def concrete(method: str, canonical: str, ids: dict[str, Any]) -> str:
    """The URL path of one route for a caller whose records (and the shared ones) are `ids`."""
    fixed = {
        "/static": STATIC_FILE,
        "/static/vendor/{package}/{path}": VENDOR_FILE,
        "/widget/vendor/sip.js/{path}": SIPJS_FILE,
        "/uploads/photos/{name}": f"/uploads/photos/{PHOTO}",
        "/export/{kind}.{fmt}": "/export/clients.csv",
        "/analytics/{report}": "/analytics/deals",
        "/invite/{token}": "/invite/no-such-invite",
        "/api/v1/forms/{key}": f"/api/v1/forms/{ids['form_key']}",
    }
    if canonical in fixed:
        return fixed[canonical]
    path = canonical.replace("{action}", "pause")
    if "{" not in path:
        return path
    prefix = max((p for p in ids if path.startswith(p)), key=len, default=None)
    assert prefix, f"add a sample record for {method} {canonical} (authz_support.own_records)"
    path = re.sub(r"\{(id|ref)\}", str(ids[prefix]), path)
    path = path.replace("{aid}", str(ids["attachment"]))
    assert "{" not in path, path
    return path


@dataclass
class Answer:
    status: int
    location: str = ""

    @property
    def to_login(self) -> bool:
        return self.status in (302, 303) and self.location.startswith(LOGIN_REDIRECT)

    def __str__(self) -> str:
        return f"{self.status} {self.location}".strip()


async def send(base: str, caller: Caller, method: str, path: str, body: Body) -> Answer:
    """One request as `caller` would make it: a session with its CSRF token for the panel, a
    Bearer token for /api/v1 (JSON), a websocket handshake for /ws, a CORS preflight."""
    headers: dict[str, str] = {}
    data: dict[str, str] | None = None
    sent_json: Any = body.json
    if path == "/ws":
        headers = dict(WEBSOCKET_HANDSHAKE)
    elif method == "OPTIONS":
        headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    elif path.startswith("/api/v1/"):
        if caller.token:
            headers["Authorization"] = f"Bearer {caller.token}"
        if method in ("POST", "PATCH") and sent_json is None:
            sent_json = {}
    elif method != "GET" and body.session:
        headers["X-CSRF-Token"] = caller.csrf
        if sent_json is None:
            data = {"csrf_token": caller.csrf}
            data |= {key: value.format_map(caller.ids) for key, value in body.form.items()}
    headers |= body.headers
    async with caller.http.request(
        method, base + path, headers=headers, data=data, json=sent_json, allow_redirects=False
    ) as resp:
        await resp.read()
        return Answer(resp.status, resp.headers.get("Location", ""))


def refusal_ok(caller: Caller, path: str, rule: Rule, answer: Answer) -> bool:
    """Anonymous (and a cookie on the API): to the login page, or 401 for fetch, the API and
    the websocket. Logged in: 403, or 404 exactly like a record that does not exist. A
    machine without the secret: 401 or 403."""
    if rule.kind == "machine":
        return answer.status in (401, 403)
    if caller.user is None or caller.token is None and path.startswith("/api/v1/"):
        if path.startswith("/api/") or path == "/ws":
            return answer.status == 401
        return answer.to_login
    return answer.status in (403, 404)


def allowed_ok(rule: Rule, answer: Answer) -> bool:
    """Past the permission check: neither refused (401, 403, 404) nor sent to log in. A 4xx
    for the cheap, empty form is fine."""
    if answer.status in rule.also_allowed:
        return True
    return not (answer.status >= 500 or answer.status in (401, 403, 404) or answer.to_login)


@dataclass
class Matrix:
    """The running server, its callers (anonymous, carmen, luis, ana: ana last) and the
    verdicts; `rights`: each logged-in caller's rights by name (the admin has them all)."""

    url: str
    routes: list[tuple[str, str]]
    callers: list[Caller]
    rights: dict[str, set[str]]
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    async def check(self, method: str, canonical: str, rule: Rule, body: Body) -> None:
        """The route as each caller; before ana, luis on ana's record (when the path names
        one) and, on the API, ana's session cookie without her token."""
        ana = self.callers[-1]
        luis = next(c for c in self.callers if c.name == "luis")
        for caller in self.callers:
            path = concrete(method, canonical, caller.ids)
            if caller is ana and path != concrete(method, canonical, luis.ids):
                foreign = Caller("luis on ana's record", luis.http, luis.user, luis.token)
                foreign.csrf = luis.csrf
                allowed = rule.foreign_allowed and self._may(rule, luis)
                await self._one(foreign, method, path, body, rule, allowed)
            if caller is ana and rule.kind == "token":
                cookie_only = Caller("ana's session without a token", ana.http, ana.user)
                await self._one(cookie_only, method, path, body, rule, False)
            if caller is ana and rule.kind == "machine":
                stranger = Caller("a caller without the secret", ana.http, ana.user)
                no_secret = Body(body.form, body.json, session=False)
                await self._one(stranger, method, path, no_secret, rule, False)
            await self._one(caller, method, path, body, rule, self._may(rule, caller))

    def _may(self, rule: Rule, caller: Caller) -> bool:
        if rule.kind in ("public", "machine"):
            return True
        if caller.user is None:
            return False
        if rule.kind == "right" and caller.name in self.rights:
            return rule.right in self.rights[caller.name]
        return True

    async def _one(
        self, caller: Caller, method: str, path: str, body: Body, rule: Rule, allowed: bool
    ) -> None:
        answer = await send(self.url, caller, method, path, body)
        self.requests += 1
        if rule.kind == "public":
            ok = answer.status < 500 and not answer.to_login
        else:
            ok = allowed_ok(rule, answer) if allowed else refusal_ok(caller, path, rule, answer)
        if answer.status >= 500 and answer.status not in rule.also_allowed:
            ok = False
        if not ok:
            verdict = "allowed" if allowed else "refused"
            self.failures.append(f"{method} {path} as {caller.name}: {answer}, expected {verdict}")
