"""What the root may hand the web panel besides settings, hub and clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.core.db import ping
from models.core.secret_box import SecretBox
from models.telephony.caller_directory import CallerDirectory
from models.telephony.pbx_health import PbxHealth
from models.work.calendar_api import CalendarApiFactory, GoogleAuthorization

_REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WebServices:
    """Optional collaborators of the panel.

    `pbx_connected` tells whether the PBX link is up (the root knows it); when it is
    not given the panel asks the hub whether a click-to-call handler is registered.
    `node_modules` is where `npm ci` installed the front-end libraries.
    `uploads_dir` is where profile photos are kept (default: settings.data_dir/uploads).
    `db_ping` answers /healthz (the root may pass one that also checks a replica).
    `callers` is the daemon's caller directory: its extension directory names the user behind
    each call event, and its per-number locks keep an agent saving a caller and the call being
    stored from making two leads. Without one, the panel loads its own when it starts.
    `secret_box` encrypts the secrets the panel stores (mailbox passwords); without one the
    panel uses the installation's key ([security] encryption_key or data_dir/encryption_key).
    `mail_probe` tests a mailbox's IMAP and SMTP login for Settings -> Mail (the root passes
    daemon.mail_probe.probe); without one the panel says the test is unavailable.
    `pbx_health` is the PBX doctor (daemon/doctor): its latest findings for the dashboard and
    Settings -> Telephony, and a new check on demand; without one neither shows them.
    `google_auth` runs the OAuth flow with Google and `google_api` opens a user's Google
    Calendar from their refresh token (daemon/google_calendar), for Settings -> Google
    Calendar; without them the page says Google Calendar is not set up.
    `role` says whether this instance leads the others ("leader" or "follower", several
    instances on one PostgreSQL); /healthz reports it.
    """

    pbx_connected: Callable[[], bool] | None = None
    node_modules: Path = field(default_factory=lambda: _REPO_ROOT / "node_modules")
    uploads_dir: Path | None = None
    db_ping: Callable[[], Awaitable[bool]] = ping
    callers: CallerDirectory | None = None
    secret_box: SecretBox | None = None
    mail_probe: Callable[..., Awaitable[Any]] | None = None
    pbx_health: PbxHealth | None = None
    google_auth: GoogleAuthorization | None = None
    google_api: CalendarApiFactory | None = None
    role: Callable[[], str] | None = None
