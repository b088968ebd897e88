"""A mailbox as typed (the settings form, the command line), checked: the one place that says
which servers, ports, security modes, addresses and texts a mailbox may have. Saving is
models/messaging/mail_accounts.py's; this module only reads and checks, so the connection test
can check what was typed exactly as the save would, without saving.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from typing import cast

from models.core.errors import ValidationFailed, msg
from models.messaging.mail import check_address
from models.messaging.mail_presets import CUSTOM, PRESETS, SECURITY_MODES, Preset

__all__ = [
    "MAX_SIGNATURE",
    "AccountInput",
    "LoginTarget",
    "ServerEndpoint",
    "clean",
    "login_target",
    "require_password",
]

MAX_SIGNATURE = 5000


@dataclass(frozen=True)
class ServerEndpoint:
    host: str
    port: int
    security: str  # tls | starttls | none

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class AccountInput:
    """A mailbox as typed (form or command line). Hosts left empty are taken from the preset
    `provider`; ports may come as text; `server_saves_sent` None means the preset's answer."""

    address: str
    password: str = ""
    provider: str = CUSTOM
    login: str = ""
    display_name: str = ""
    imap_host: str = ""
    imap_port: int | str = ""
    imap_security: str = ""
    smtp_host: str = ""
    smtp_port: int | str = ""
    smtp_security: str = ""
    server_saves_sent: bool | None = None
    signature: str = ""
    leads_from_senders: bool = True
    leads_from_recipients: bool = False
    first_sync_days: int | str = 30
    enabled: bool = True


def _host(value: str, name: str, errors: dict[str, str]) -> str:
    host = value.strip().lower().rstrip(".")
    if not host:
        errors[name] = msg("enter the server's name, such as imap.example.com")
        return host
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host.strip("[]")
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or not all(
        label
        and len(label) <= 63
        and all(c.isalnum() or c == "-" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    ):
        errors[name] = msg("not a server name: %(value)s", value=value.strip()[:80])
    return host


def _number(value: int | str, name: str, low: int, high: int, errors: dict[str, str]) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        errors[name] = msg("a whole number from %(low)s to %(high)s", low=low, high=high)
    return number


def _security(value: str, name: str, errors: dict[str, str]) -> str:
    if value not in SECURITY_MODES:
        errors[name] = msg("choose tls, starttls or none")
    return value


def _with_preset(data: AccountInput) -> tuple[AccountInput, Preset]:
    """`data` with the blanks filled from its preset (the form without JavaScript, the CLI)."""
    preset = PRESETS.get(data.provider)
    if preset is None:
        raise ValidationFailed({"provider": msg("unknown mail service")})
    if not data.imap_host.strip():
        data.imap_host = preset.imap_host
        data.imap_port = data.imap_port or preset.imap_port
        data.imap_security = data.imap_security or preset.imap_security
    if not data.smtp_host.strip():
        data.smtp_host = preset.smtp_host
        data.smtp_port = data.smtp_port or preset.smtp_port
        data.smtp_security = data.smtp_security or preset.smtp_security
    data.imap_port = data.imap_port or preset.imap_port
    data.smtp_port = data.smtp_port or preset.smtp_port
    data.imap_security = data.imap_security or preset.imap_security
    data.smtp_security = data.smtp_security or preset.smtp_security
    return data, preset


def clean(data: AccountInput) -> dict[str, object]:
    """The row's values from `data`, or ValidationFailed naming every field that is wrong."""
    data, preset = _with_preset(data)
    errors: dict[str, str] = {}
    try:
        address = check_address(data.address).lower()
    except ValidationFailed:
        address = data.address.strip()
        errors["address"] = msg("not an email address")
    login = data.login.strip() or address
    if len(login) > 254 or any(c in login for c in "\r\n"):
        errors["login"] = msg("at most %(max)s characters on one line", max=254)
    display_name = data.display_name.strip()
    if len(display_name) > 150 or any(c in display_name for c in "\r\n"):
        errors["display_name"] = msg("at most %(max)s characters on one line", max=150)
    signature = data.signature.replace("\r\n", "\n").rstrip()
    if len(signature) > MAX_SIGNATURE:
        errors["signature"] = msg("at most %(max)s characters", max=MAX_SIGNATURE)
    if any(c in data.password for c in "\r\n\0"):
        errors["password"] = msg("the password cannot hold a line break")
    for name, text in (
        ("address", address),
        ("login", login),
        ("display_name", display_name),
        ("signature", signature.replace("\n", "").replace("\t", "")),
    ):
        if name not in errors and any(unicodedata.category(c) == "Cc" for c in text):
            errors[name] = msg("remove the control characters")
    values: dict[str, object] = {
        "address": address,
        "login": login,
        "display_name": display_name,
        "provider": data.provider,
        "imap_host": _host(data.imap_host, "imap_host", errors),
        "imap_port": _number(data.imap_port, "imap_port", 1, 65535, errors),
        "imap_security": _security(data.imap_security, "imap_security", errors),
        "smtp_host": _host(data.smtp_host, "smtp_host", errors),
        "smtp_port": _number(data.smtp_port, "smtp_port", 1, 65535, errors),
        "smtp_security": _security(data.smtp_security, "smtp_security", errors),
        "server_saves_sent": (
            preset.server_saves_sent if data.server_saves_sent is None else data.server_saves_sent
        ),
        "signature": signature,
        "leads_from_senders": data.leads_from_senders,
        "leads_from_recipients": data.leads_from_recipients,
        "first_sync_days": _number(data.first_sync_days, "first_sync_days", 0, 3650, errors),
        "enabled": data.enabled,
    }
    if errors:
        raise ValidationFailed(errors)
    return values


def require_password(data: AccountInput) -> None:
    if not data.password:
        raise ValidationFailed({"password": msg("enter the password (an app password)")})


@dataclass(frozen=True)
class LoginTarget:
    """Where and as whom a mailbox logs in (the connection test before saving)."""

    imap: ServerEndpoint
    smtp: ServerEndpoint
    login: str


def login_target(data: AccountInput, *, has_stored_password: bool = False) -> LoginTarget:
    """The servers and login `data` names, checked exactly as create_account checks them
    (ValidationFailed naming every wrong field; the password is required unless a stored one
    will be used). Nothing is saved."""
    values = clean(data)
    if not has_stored_password:
        require_password(data)
    return LoginTarget(
        imap=ServerEndpoint(
            str(values["imap_host"]), cast(int, values["imap_port"]), str(values["imap_security"])
        ),
        smtp=ServerEndpoint(
            str(values["smtp_host"]), cast(int, values["smtp_port"]), str(values["smtp_security"])
        ),
        login=str(values["login"]),
    )
