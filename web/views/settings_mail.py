"""Settings -> Mail (G5): the user's mailboxes (an admin's: everyone's), adding one from a
preset, editing, sharing, testing the connection (of a saved mailbox, or of what the form holds
before saving), removing; the company's exclusion list.

The rules live in models/messaging/mail_accounts.py; this module reads forms and shows pages.
The password field is never filled back; an empty one on edit keeps the stored password.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.core.errors import Conflict, ValidationFailed
from models.core.secret_box import SecretBox, SecretUnreadable, secret_box_for
from models.messaging import mail_accounts as accounts
from models.messaging import mail_exclusions as exclusions
from models.messaging.mail_presets import CUSTOM, PRESETS
from models.people import users as user_ops
from models.people.permissions import has_right
from models.schema.mail import MailAccount
from web.keys import HUB, SERVICES, SETTINGS
from web.templating import flash, gettext, render, say
from web.views.common import current_user, form_data, int_param, path_id, text_values

FLAGS = ("server_saves_sent", "leads_from_senders", "leads_from_recipients", "enabled")
# A probe waits at most this long for each server, whatever [mail] timeout_seconds says.
PROBE_SECONDS = 15.0


def secret_box(request: web.Request) -> SecretBox:
    box = request.app[SERVICES].secret_box
    if box is not None:
        return box
    settings = request.app[SETTINGS]
    return secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)


def _presets_data(request: web.Request) -> str:
    """The presets for mail_settings.js (hosts, ports, modes and the hint, translated)."""
    return json.dumps(
        {
            key: {
                "imap_host": p.imap_host,
                "imap_port": p.imap_port,
                "imap_security": p.imap_security,
                "smtp_host": p.smtp_host,
                "smtp_port": p.smtp_port,
                "smtp_security": p.smtp_security,
                "server_saves_sent": p.server_saves_sent,
                "hint": say(request, p.hint) if p.hint else "",
            }
            for key, p in PRESETS.items()
        }
    )


def _account_form(account: MailAccount, shared: list[int]) -> dict[str, Any]:
    form: dict[str, Any] = {
        key: str(getattr(account, key))
        for key in (
            "address",
            "display_name",
            "provider",
            "login",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "signature",
            "first_sync_days",
        )
    }
    form.update({flag: getattr(account, flag) for flag in FLAGS})
    form["shares"] = shared
    return form


def _account_input(form: MultiDictProxy[Any]) -> accounts.AccountInput:
    values = text_values(form)
    provider = values.get("provider", CUSTOM)
    # Without JavaScript a preset's servers are left to the domain: so is whether it files
    # sent mail itself.
    from_preset = provider != CUSTOM and not values.get("imap_host", "").strip()
    password = form.get("password", "")
    return accounts.AccountInput(
        address=values.get("address", ""),
        password=password if isinstance(password, str) else "",
        provider=provider,
        login=values.get("login", ""),
        display_name=values.get("display_name", ""),
        imap_host=values.get("imap_host", ""),
        imap_port=values.get("imap_port", ""),
        imap_security=values.get("imap_security", ""),
        smtp_host=values.get("smtp_host", ""),
        smtp_port=values.get("smtp_port", ""),
        smtp_security=values.get("smtp_security", ""),
        server_saves_sent=None if from_preset else form.get("server_saves_sent") == "1",
        signature=values.get("signature", ""),
        leads_from_senders=form.get("leads_from_senders") == "1",
        leads_from_recipients=form.get("leads_from_recipients") == "1",
        first_sync_days=values.get("first_sync_days", "30") or "30",
        enabled=form.get("enabled") == "1",
    )


def _typed_back(form: MultiDictProxy[Any]) -> dict[str, Any]:
    values: dict[str, Any] = dict(text_values(form))  # never the password
    values.update({flag: form.get(flag) == "1" for flag in FLAGS})
    values["shares"] = [int_param(v) for v in form.getall("shares", []) if isinstance(v, str)]
    return values


def _errors(err: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(err, ValidationFailed):
        return dict(err.fields)
    return {err.field or "__all__": err.args[0]}


async def mail_page(request: web.Request, *, form=None, errors=None, status=200):
    user = current_user(request)
    managed = await accounts.accounts_managed_by(user)
    managed_ids = {a.id for a in managed}
    shared_with_me = [a for a in await accounts.accounts_usable_by(user) if a.id not in managed_ids]
    is_manager = has_right(user, accounts.MANAGE_ALL)
    context = {
        "section": "mail",
        "accounts": managed,
        "shared_with_me": shared_with_me,
        "is_manager": is_manager,
        "exclusions": await exclusions.list_exclusions() if is_manager else [],
        "form": form or {},
        "errors": errors or {},
        "max_accounts": accounts.MAX_ACCOUNTS,
    }
    return render(request, "settings/mail.html", context, status=status)


async def _form_page(
    request: web.Request,
    *,
    account: MailAccount | None,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    probe: Any = None,
    typed_test: bool = False,
    retype_password: bool = False,
    status: int = 200,
) -> web.Response:
    user = current_user(request)
    is_manager = has_right(user, accounts.MANAGE_ALL)
    team = await user_ops.list_users(active_only=True)
    preset = PRESETS.get(str(form.get("provider", CUSTOM)), PRESETS[CUSTOM])
    context = {
        "section": "mail",
        "account": account,
        "form": form,
        "errors": errors or {},
        "provider_options": [
            (key, p.label or gettext(request, "Other (custom IMAP/SMTP)"))
            for key, p in PRESETS.items()
        ],
        "presets_data": _presets_data(request),
        "hint": say(request, preset.hint) if preset.hint else "",
        "team": team,
        "owner_options": (
            [(str(u.id), str(u)) for u in team] if is_manager and account is None else []
        ),
        "probe": probe,
        "typed_test": typed_test,
        "retype_password": retype_password,
        "can_probe": request.app[SERVICES].mail_probe is not None,
    }
    return render(request, "settings/mail_form.html", context, status=status)


async def new_account_page(request: web.Request) -> web.Response:
    user = current_user(request)
    provider = request.query.get("provider", "gmail")
    if provider not in PRESETS:
        provider = CUSTOM
    preset = PRESETS[provider]
    form: dict[str, Any] = {
        "provider": provider,
        "owner_id": str(user.id),
        "imap_host": preset.imap_host,
        "imap_port": str(preset.imap_port),
        "imap_security": preset.imap_security,
        "smtp_host": preset.smtp_host,
        "smtp_port": str(preset.smtp_port),
        "smtp_security": preset.smtp_security,
        "server_saves_sent": preset.server_saves_sent,
        "leads_from_senders": True,
        "leads_from_recipients": False,
        "enabled": True,
        "first_sync_days": str(request.app[SETTINGS].mail.first_sync_days),
    }
    return await _form_page(request, account=None, form=form)


async def add_account(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    owner = user
    owner_id = int_param(str(form.get("owner_id", "")))
    if owner_id is not None and owner_id != user.id and has_right(user, accounts.MANAGE_ALL):
        owner = await user_ops.get_user(owner_id)
    try:
        account = await accounts.create_account(
            owner, _account_input(form), box=secret_box(request), actor=user, hub=request.app[HUB]
        )
    except (ValidationFailed, Conflict) as err:
        return await _form_page(
            request, account=None, form=_typed_back(form), errors=_errors(err), status=422
        )
    flash(request, gettext(request, "Mailbox added. Test the connection to check the login."))
    raise web.HTTPSeeOther(f"/settings/mail/{account.id}")


async def account_page(request: web.Request) -> web.Response:
    account = await accounts.managed_account(current_user(request), path_id(request))
    form = _account_form(account, await accounts.shared_user_ids(account))
    return await _form_page(request, account=account, form=form)


async def save_account(request: web.Request) -> web.Response:
    user = current_user(request)
    account = await accounts.managed_account(user, path_id(request))
    form = await form_data(request)
    try:
        await accounts.update_account(
            user, account.id, _account_input(form), box=secret_box(request), hub=request.app[HUB]
        )
    except (ValidationFailed, Conflict) as err:
        values = _typed_back(form)
        values["shares"] = await accounts.shared_user_ids(account)
        return await _form_page(
            request, account=account, form=values, errors=_errors(err), status=422
        )
    flash(request, gettext(request, "Mailbox saved."))
    raise web.HTTPSeeOther(f"/settings/mail/{account.id}")


async def save_shares(request: web.Request) -> web.Response:
    user = current_user(request)
    account = await accounts.managed_account(user, path_id(request))
    form = await form_data(request)
    ids = [int_param(v) for v in form.getall("shares", []) if isinstance(v, str)]
    try:
        await accounts.set_shares(
            user, account.id, [i for i in ids if i is not None], hub=request.app[HUB]
        )
    except ValidationFailed as err:
        values = _account_form(account, [i for i in ids if i is not None])
        return await _form_page(
            request, account=account, form=values, errors=err.fields, status=422
        )
    flash(request, gettext(request, "Sharing saved."))
    raise web.HTTPSeeOther(f"/settings/mail/{account.id}")


async def _probe_and_show(
    request: web.Request,
    *,
    account: MailAccount | None,
    form: dict[str, Any],
    target: accounts.LoginTarget,
    typed_password: str = "",
    **page: Any,
) -> web.Response:
    """Log in to both servers of `target` and show the form with the result; the stored
    password of `account` is used when none was typed."""
    probe = request.app[SERVICES].mail_probe
    if probe is None:
        errors = {"__all__": gettext(request, "The connection test is not available here.")}
        return await _form_page(request, account=account, form=form, errors=errors, status=503)
    password = typed_password
    if not password and account is not None:
        try:
            password = accounts.password_of(account, secret_box(request))
        except SecretUnreadable:
            errors = {
                "password": gettext(request, "The stored password cannot be read: enter it again.")
            }
            return await _form_page(request, account=account, form=form, errors=errors, status=409)
    timeout = min(request.app[SETTINGS].mail.timeout_seconds, PROBE_SECONDS)
    result = await probe(target.imap, target.smtp, target.login, password, timeout=timeout)
    return await _form_page(request, account=account, form=form, probe=result, **page)


async def test_account(request: web.Request) -> web.Response:
    account = await accounts.managed_account(current_user(request), path_id(request))
    form = _account_form(account, await accounts.shared_user_ids(account))
    target = accounts.LoginTarget(
        accounts.imap_endpoint(account), accounts.smtp_endpoint(account), account.login
    )
    return await _probe_and_show(request, account=account, form=form, target=target)


async def test_typed_account(request: web.Request) -> web.Response:
    """The connection test of what the form holds, before saving (the new form, or the edit
    form named by `account_id`, whose stored password is used when none is typed): checked as
    the save checks it, then probed; the form again with what was typed, never the password."""
    user = current_user(request)
    form = await form_data(request)
    account = None
    if "account_id" in form:
        account_id = int_param(str(form.get("account_id", "")), default=0)
        account = await accounts.managed_account(user, account_id or 0)
    values = _typed_back(form)
    if account is not None:
        values["shares"] = await accounts.shared_user_ids(account)
    data = _account_input(form)
    try:
        target = accounts.login_target(data, has_stored_password=account is not None)
    except ValidationFailed as err:
        return await _form_page(
            request, account=account, form=values, errors=dict(err.fields), status=422
        )
    return await _probe_and_show(
        request,
        account=account,
        form=values,
        target=target,
        typed_password=data.password,
        typed_test=True,
        retype_password=bool(data.password),
    )


async def delete_account(request: web.Request) -> web.Response:
    user = current_user(request)
    await accounts.delete_account(user, path_id(request), hub=request.app[HUB])
    flash(request, gettext(request, "Mailbox removed."))
    raise web.HTTPSeeOther("/settings/mail")


async def add_exclusion(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await form_data(request)
    try:
        await exclusions.add_exclusion(user, str(form.get("pattern", "")))
    except (ValidationFailed, Conflict) as err:
        return await mail_page(request, form=text_values(form), errors=_errors(err), status=422)
    flash(request, gettext(request, "Added to the exclusion list."))
    raise web.HTTPSeeOther("/settings/mail#exclusions")


async def remove_exclusion(request: web.Request) -> web.Response:
    await exclusions.remove_exclusion(current_user(request), path_id(request))
    flash(request, gettext(request, "Removed from the exclusion list."))
    raise web.HTTPSeeOther("/settings/mail#exclusions")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings/mail", mail_page)
    app.router.add_get("/settings/mail/new", new_account_page)
    app.router.add_post("/settings/mail", add_account)
    app.router.add_post("/settings/mail/test", test_typed_account)
    app.router.add_get(r"/settings/mail/{id:\d+}", account_page)
    app.router.add_post(r"/settings/mail/{id:\d+}", save_account)
    app.router.add_post(r"/settings/mail/{id:\d+}/shares", save_shares)
    app.router.add_post(r"/settings/mail/{id:\d+}/test", test_account)
    app.router.add_post(r"/settings/mail/{id:\d+}/delete", delete_account)
    app.router.add_post("/settings/mail/exclusions", add_exclusion)
    app.router.add_post(r"/settings/mail/exclusions/{id:\d+}/delete", remove_exclusion)
