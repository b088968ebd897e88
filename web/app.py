"""The application factory of the web panel.

Everything from outside the web reaches it as objects passed in: the settings, the hub (click-to-
call and live events), the clock, and optional services. The database is opened by the caller.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import ModuleType

from aiohttp import web

from models.core.clock import Clock
from models.core.hub import Hub
from models.core.settings import Settings
from web import api as api_v1
from web import middlewares, security_headers, session_sockets, static
from web.i18n import Catalogs
from web.keys import CATALOGS, CLOCK, HUB, LOGIN_POLICY, SERVICES, SESSIONS, SETTINGS
from web.security import LoginPolicy, SessionCodec, load_secret
from web.services import WebServices
from web.templating import setup_templates
from web.views import (
    account_security,
    api_tokens,
    auth,
    calendar,
    call_detail,
    clients,
    custom_fields,
    dashboard,
    deals,
    form_endpoint,
    health,
    imports,
    leads,
    live,
    pbx_doctor,
    profile_telegram,
    search,
    settings_forms,
    settings_google,
    settings_mail,
    settings_pages,
    settings_webhooks,
    tasks,
    team,
    widget_api,
)
from web.views import analytics as analytics_views
from web.views import calls as calls_views
from web.views import dialer as dialer_views
from web.views import emails as email_views
from web.views import mail_compose as mail_compose_views
from web.views import sms as sms_views

logger = logging.getLogger(__name__)

# One module per section; each has setup_routes(app). Later sections add themselves here.
VIEW_MODULES: list[ModuleType] = [
    health,
    auth,
    dashboard,
    clients,
    custom_fields,
    leads,
    deals,
    calendar,
    tasks,
    team,
    settings_pages,
    settings_mail,  # Settings -> Mail: mailboxes, sharing, exclusion list (issue 16)
    account_security,  # password, the profile's list of sessions, log out everywhere else
    profile_telegram,  # the profile's Telegram section: link code, linked chat, unlink
    live,
    widget_api,
    calls_views,  # the call widget, live pop-ups and the calls page (issue 5)
    call_detail,  # one call's page (/calls/ID: recording, transcript, notes)
    dialer_views,  # auto-dialer lists (issue 8)
    sms_views,  # SMS form, bulk SMS, delivery reports (issue 8)
    analytics_views,  # analytics reports N1-N7
    imports,  # import and export of clients and leads (issue 7)
    search,  # the search box at the top: clients and leads, grouped
    email_views,  # one email: its page, its sandboxed body, its attachments (issue 16)
    mail_compose_views,  # writing mail: from a card, a reply, bulk to clients (issue 16)
    settings_forms,  # Settings -> Web forms: form sources and their snippets (issue 18)
    form_endpoint,  # POST /api/v1/forms/{key}: leads from web forms (issue 18)
    pbx_doctor,  # the PBX doctor: Settings -> Telephony's check, the dashboard box (issue 21)
    api_v1,  # the public REST API under /api/v1, Bearer tokens, OpenAPI (issue 18)
    api_tokens,  # the profile's API tokens section (issue 18)
    settings_webhooks,  # Settings -> Webhooks: subscriptions, secrets, delivery log (issue 18)
    settings_google,  # Settings -> Google Calendar: connect, calendar, push notifications (G2)
]


def create_app(
    settings: Settings, *, hub: Hub, clock: Clock, services: WebServices | None = None
) -> web.Application:
    services = services or WebServices()
    # Uploads are limited per form by the views; this is the hard cap of any request body.
    app = web.Application(
        client_max_size=settings.web.max_upload_mb * 1024 * 1024 + 64 * 1024,
        middlewares=[
            middlewares.errors_middleware,
            middlewares.session_middleware,
            middlewares.auth_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[HUB] = hub
    app[CLOCK] = clock
    app[SERVICES] = services
    app[SESSIONS] = SessionCodec(
        load_secret(settings),
        lifetime=timedelta(hours=settings.web.session_hours),
        secure=settings.web.secure_cookies,
    )
    app[LOGIN_POLICY] = LoginPolicy.from_settings(settings)
    app[CATALOGS] = Catalogs()
    app[middlewares.SETUP_DONE] = {}
    setup_templates(app)
    security_headers.setup(app)
    session_sockets.setup(app)
    static.setup_routes(app)
    for module in VIEW_MODULES:
        module.setup_routes(app)
    return app
