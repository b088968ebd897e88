"""The servers of the common mail services (G5), so that adding a mailbox is a choice, not a
lookup: IMAP and SMTP hosts, ports, TLS mode, whether the server files sent mail itself, and
what the service asks of the user (mostly an app password).

`security` is "tls" (TLS from the first byte, ports 993/465), "starttls" (plain, then upgraded:
port 587) or "none" (no encryption: only for a server on the local network).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.core.errors import Message, msg

SECURITY_MODES = ("tls", "starttls", "none")
CUSTOM = "custom"


@dataclass(frozen=True)
class Preset:
    key: str
    label: str  # the service's own name, the same in every language
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    # The server puts what is sent over its SMTP into the Sent folder (Gmail, Outlook): the
    # CRM must not APPEND a second copy.
    server_saves_sent: bool
    hint: Message | None = None


PRESETS: dict[str, Preset] = {
    "gmail": Preset(
        "gmail",
        "Gmail",
        "imap.gmail.com",
        993,
        "tls",
        "smtp.gmail.com",
        465,
        "tls",
        server_saves_sent=True,
        hint=msg(
            "Gmail needs an app password: Google Account → Security → 2-Step Verification → "
            "App passwords. Your usual password is refused."
        ),
    ),
    "outlook": Preset(
        "outlook",
        "Outlook / Microsoft 365",
        "outlook.office365.com",
        993,
        "tls",
        "smtp.office365.com",
        587,
        "starttls",
        server_saves_sent=True,
        hint=msg(
            "Outlook and Microsoft 365: IMAP and authenticated SMTP must be allowed for the "
            "mailbox (Microsoft 365 admin center → Mail → Manage email apps), and with two-step "
            "verification you need an app password."
        ),
    ),
    "yahoo": Preset(
        "yahoo",
        "Yahoo Mail",
        "imap.mail.yahoo.com",
        993,
        "tls",
        "smtp.mail.yahoo.com",
        465,
        "tls",
        server_saves_sent=False,
        hint=msg("Yahoo needs an app password: Account Info → Account Security → App passwords."),
    ),
    "icloud": Preset(
        "icloud",
        "iCloud Mail",
        "imap.mail.me.com",
        993,
        "tls",
        "smtp.mail.me.com",
        587,
        "starttls",
        server_saves_sent=False,
        hint=msg(
            "iCloud needs an app-specific password: appleid.apple.com → Sign-In and Security → "
            "App-Specific Passwords."
        ),
    ),
    "yandex": Preset(
        "yandex",
        "Yandex Mail",
        "imap.yandex.com",
        993,
        "tls",
        "smtp.yandex.com",
        465,
        "tls",
        server_saves_sent=False,
        hint=msg(
            "Yandex: allow mail clients (Mail settings → Email clients → IMAP) and create an app "
            "password (Yandex ID → Security → App passwords)."
        ),
    ),
    "zoho": Preset(
        "zoho",
        "Zoho Mail",
        "imap.zoho.com",
        993,
        "tls",
        "smtp.zoho.com",
        465,
        "tls",
        server_saves_sent=False,
        hint=msg(
            "Zoho: turn on IMAP access (Settings → Mail Accounts → IMAP) and, with two-factor "
            "authentication, use an app-specific password. Accounts in the EU use imap.zoho.eu "
            "and smtp.zoho.eu."
        ),
    ),
    CUSTOM: Preset(
        CUSTOM,
        "",
        "",
        993,
        "tls",
        "",
        587,
        "starttls",
        server_saves_sent=False,
        hint=msg(
            "Your provider's help pages give the IMAP and SMTP servers. Usually IMAP is port 993 "
            "with TLS and SMTP port 587 with STARTTLS (or 465 with TLS)."
        ),
    ),
}
