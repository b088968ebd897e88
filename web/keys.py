"""Typed keys of the application state and of per-request values, collected in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import Settings
from models.schema.users import User

if TYPE_CHECKING:
    pass

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
CLOCK = web.AppKey("clock", Clock)
SERVICES = web.AppKey("services", "WebServices")
SESSIONS = web.AppKey("sessions", "SessionCodec")
LOGIN_LIMITER = web.AppKey("login_limiter", "LoginLimiter")
CATALOGS = web.AppKey("catalogs", "Catalogs")

# Per-request values set by the middlewares (request[...]).
REQ_SESSION = web.RequestKey("crm_session", "Session")
REQ_USER = web.RequestKey("crm_user", User)
REQ_LANG = web.RequestKey("crm_lang", str)
