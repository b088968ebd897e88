"""What the root may hand the web panel besides settings, hub and clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from models.core.db import ping
from models.telephony.caller_directory import CallerDirectory

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
    """

    pbx_connected: Callable[[], bool] | None = None
    node_modules: Path = field(default_factory=lambda: _REPO_ROOT / "node_modules")
    uploads_dir: Path | None = None
    db_ping: Callable[[], Awaitable[bool]] = ping
    callers: CallerDirectory | None = None
