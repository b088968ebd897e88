"""Jinja2 set-up: templates, the `_` translation function and the values every page sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from models.contacts import timeline_text
from models.contacts.timeline import TimelineItem
from models.core.errors import Message
from models.core.labels import CALL_RESULT_LABELS
from models.people.permissions import RIGHTS, is_admin, rights_of
from web.i18n import LANGUAGES, Formatter
from web.keys import CATALOGS, REQ_LANG, REQ_SESSION, REQ_USER, SETTINGS
from web.static import STATIC_URLS

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@jinja2.pass_context
def _gettext(context: Any, message: str, **variables: Any) -> str:
    request: web.Request = context["request"]
    text = translator(request).gettext(message)
    return text % variables if variables else text


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int, **variables: Any) -> str:
    request: web.Request = context["request"]
    text = translator(request).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


@jinja2.pass_context
def _static(context: Any, filename: str) -> str:
    """The URL of one of our static files, with a version hash so browsers refetch changes."""
    request: web.Request = context["request"]
    return request.app[STATIC_URLS].url(filename)


def translator(request: web.Request):
    return request.app[CATALOGS].get(request.get(REQ_LANG, "es"))


def gettext(request: web.Request, message: str, **variables: Any) -> str:
    """Translate a message in Python code (flash messages, errors)."""
    text = translator(request).gettext(message)
    return text % variables if variables else text


def say(request: web.Request, message: str) -> str:
    """A message from the domain or a view in the reader's language.

    A domain Message (models/core/errors.py) is rendered from its msgid and values with the
    domain catalog (models/locale); any other text is looked up in the panel's catalog.
    """
    if isinstance(message, Message):
        return message.in_language(request.get(REQ_LANG, "es"))
    return translator(request).gettext(message)


def gettext_for(request: web.Request, lang: str, message: str) -> str:
    """Translate into a given language (the one a user just chose, say)."""
    return request.app[CATALOGS].get(lang).gettext(message)


def formatter(request: web.Request) -> Formatter:
    user = request.get(REQ_USER)
    return Formatter(request.get(REQ_LANG, "es"), user.time_zone if user else "UTC")


def sms_enabled(request: web.Request) -> bool:
    """Whether an SMS gateway is configured (`[sms] driver` other than "none"): without one
    every SMS entry point says so instead of offering to send."""
    return request.app[SETTINGS].sms.driver != "none"


def _context(request: web.Request) -> dict[str, Any]:
    """What every page sees; built here so that pages rendered by middlewares get it too."""
    user = request.get(REQ_USER)
    session = request.get(REQ_SESSION)
    rights = rights_of(user) if user is not None else frozenset()
    flash = session.pop("flash", None) if session is not None else None
    if flash:
        session.mark()
    return {
        "request": request,
        "user": user,
        "rights": rights,
        "is_admin": bool(user is not None and is_admin(user)),
        "csrf_token": session.csrf if session is not None else "",
        "lang": request.get(REQ_LANG, "es"),
        "languages": LANGUAGES,
        "fmt": formatter(request),
        "flash": flash,
        "path": request.path,
        "all_rights": RIGHTS,
        "secure": request.app[SETTINGS].web.secure_cookies,
        "sms_enabled": sms_enabled(request),
    }


@jinja2.pass_context
def _field_errors(context: Any, errors: dict[str, str] | None, name: str) -> Markup:
    if not errors or name not in errors:
        return Markup("")
    message = say(context["request"], errors[name])
    return Markup('<p class="field-error" role="alert">%s</p>') % message


@jinja2.pass_context
def _timeline_text(context: Any, item: TimelineItem) -> str:
    """A timeline entry in the reader's language and time zone (models/contacts/timeline_text.py).

    Plain text: the page escapes it, names typed by users included.
    """
    fmt: Formatter = context["fmt"]
    return timeline_text.render(
        item.detail,
        item.summary,
        translator(context["request"]).gettext,
        when=fmt.datetime,
        money=fmt.money,
    )


def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined if app.get("debug_templates") else jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pairs"] = lambda values: [(v, v) for v in values]
    env.globals.update(
        static=_static,
        _=_gettext,
        ngettext=_ngettext,
        field_error=_field_errors,
        timeline_text=_timeline_text,
        # The message of a call result key ("no_answer" -> "not answered"), to pass to _().
        result_label=lambda key: CALL_RESULT_LABELS.get(key, key),
    )


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    return aiohttp_jinja2.render_template(
        template, request, {**_context(request), **(context or {})}, status=status
    )


def flash(request: web.Request, message: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page."""
    session = request[REQ_SESSION]
    session["flash"] = {"text": message, "kind": kind}
    session.mark()
