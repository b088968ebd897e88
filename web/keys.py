"""Typed keys of the application state and of per-request values, collected in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import Settings
from models.schema.sessions import UserSession
from models.schema.users import User

if TYPE_CHECKING:
    from web.i18n import Catalogs
    from web.security import LoginPolicy, Session, SessionCodec
    from web.services import WebServices

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
CLOCK = web.AppKey("clock", Clock)
# Types defined in modules that import these keys: annotated, not passed (an import cycle).
SERVICES: web.AppKey[WebServices] = web.AppKey("services")
SESSIONS: web.AppKey[SessionCodec] = web.AppKey("sessions")
LOGIN_POLICY: web.AppKey[LoginPolicy] = web.AppKey("login_policy")
CATALOGS: web.AppKey[Catalogs] = web.AppKey("catalogs")

# Per-request values set by the middlewares (request[...]).
REQ_SESSION: web.RequestKey[Session] = web.RequestKey("crm_session")
REQ_USER = web.RequestKey("crm_user", User)
# The server-side session of a logged-in request (models/people/sessions.py).
REQ_LOGIN = web.RequestKey("crm_login", UserSession)
REQ_LANG = web.RequestKey("crm_lang", str)
