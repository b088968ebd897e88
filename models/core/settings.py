"""The typed settings object (S3).

Plain data, loaded and validated by ``daemon.config`` and passed explicitly to
every part of the product. Secrets are ``SecretStr``: they print as ``**********``.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str = "sqlite://data/centralita.sqlite3"
    # Seconds a SQLite write waits for a lock held by another process before it fails.
    busy_timeout_seconds: float = Field(30.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("expected a URL starting with sqlite://, postgres:// or postgresql://")
        return value.replace("postgresql://", "postgres://", 1)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = ""
    secret_key: SecretStr = SecretStr("")
    secure_cookies: bool = False
    session_hours: int = Field(12, ge=1, le=24 * 90)
    max_upload_mb: int = Field(20, ge=1, le=2048)
    login_attempts_per_minute: int = Field(10, ge=1)
    # Calls of one REST API token (/api/v1) per minute, a moving window; beyond it, 429.
    api_calls_per_minute: int = Field(600, ge=1)
    # Failed logins of one username within 15 minutes before it is locked for 30 s, then
    # twice as long at each further failure, up to 15 minutes (models/people/login_throttle.py).
    login_failures_per_account: int = Field(5, ge=1)
    # Reverse proxies whose X-Forwarded-For names the real client (addresses or networks).
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
                ) from None
        return value


class AmiSettings(_Section):
    host: str = ""
    port: int = Field(5038, ge=1, le=65535)
    username: str = ""
    secret: SecretStr = SecretStr("")
    agent_channel: str = "PJSIP/{extension}"
    outbound_context: str = "from-internal"
    # Where a transfer sends the caller; empty: the outbound context.
    transfer_context: str = Field("", validate_default=True)
    originate_timeout: int = Field(30, ge=5, le=300)
    action_timeout: float = Field(10.0, gt=0)
    ping_interval: float = Field(20.0, gt=0)
    reconnect_max_delay: float = Field(60.0, gt=0)
    recordings_dir: str = ""
    trunk_channels: list[str] = Field(default_factory=list)
    devices: dict[str, str] = Field(default_factory=dict)
    simulator_port: int = Field(0, ge=0, le=65535)
    simulator_demo: bool = True

    @field_validator("agent_channel")
    @classmethod
    def _has_extension(cls, value: str) -> str:
        if "{extension}" not in value:
            raise ValueError("expected a template containing {extension}, e.g. PJSIP/{extension}")
        return value

    @field_validator("transfer_context")
    @classmethod
    def _transfer_context(cls, value: str, info: ValidationInfo) -> str:
        return value.strip() or str(info.data.get("outbound_context") or "from-internal")


class TelegramSettings(_Section):
    token: SecretStr = SecretStr("")
    api_url: str = "https://api.telegram.org"
    mode: str = Field("polling", pattern="^(polling|webhook)$")
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr = SecretStr("")
    messages_per_second: float = Field(25.0, gt=0)


class DialerSettings(_Section):
    gap_seconds: float = Field(5.0, ge=0, le=3600)


class SmsSettings(_Section):
    driver: str = Field("none", pattern="^(none|dongle|http)$")
    dongle_device: str = "dongle0"
    http_url: str = ""
    http_method: str = Field("POST", pattern="^(GET|POST|PUT)$")
    http_auth_header: SecretStr = SecretStr("")
    http_body_template: str = '{"to": "{to}", "text": "{text}", "ref": "{ref}"}'
    http_content_type: str = "application/json"
    status_secret: SecretStr = SecretStr("")
    max_length: int = Field(160, ge=1, le=10_000)
    long_messages: str = Field("split", pattern="^(split|refuse)$")
    messages_per_second: float = Field(20.0, gt=0)


class MailSettings(_Section):
    """Outgoing mail over SMTP (invitations). An empty `smtp_host` means mail is off."""

    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: str = Field("starttls", pattern="^(starttls|tls|none)$")
    from_address: str = Field("", validate_default=True)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    # Users' mailboxes (G5): the first sync reaches back this many days; folders are polled
    # this often when the server has no IDLE; bigger messages and attachments are skipped.
    first_sync_days: int = Field(30, ge=0, le=3650)
    poll_minutes: float = Field(10.0, gt=0, le=1440)
    max_message_mb: float = Field(40.0, gt=0, le=1024)
    max_attachment_mb: float = Field(25.0, gt=0, le=1024)

    @field_validator("from_address")
    @classmethod
    def _sender_known(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("smtp_host") and "@" not in value:
            if "@" not in info.data.get("smtp_username", ""):
                raise ValueError(
                    "expected an address such as crm@example.com (needed when smtp_host is set "
                    "and smtp_username is not an email address)"
                )
        return value

    @property
    def is_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sender(self) -> str:
        """The From header: `from_address`, else the login when it is an email address."""
        return self.from_address or self.smtp_username


class SecuritySettings(_Section):
    # The key that encrypts secrets kept in the database (mail passwords): a Fernet key
    # (32 url-safe base64 bytes). Empty: one is generated once into data_dir/encryption_key.
    encryption_key: SecretStr = SecretStr("")

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        if raw:
            import base64
            import binascii

            try:
                ok = len(base64.urlsafe_b64decode(raw.encode("ascii"))) == 32
            except (binascii.Error, ValueError):
                ok = False
            if not ok:
                raise ValueError(
                    "expected a Fernet key: 32 bytes in url-safe base64 (44 characters), e.g. "
                    "the output of: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                )
        return SecretStr(raw)


class GoogleSettings(_Section):
    """Google Calendar (G2, K2): the OAuth client of this installation (Google Cloud console,
    "Web application", redirect URI `<public_url>/settings/google/callback`). The endpoints
    are Google's; tests point them at a local server."""

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    # The Calendar API's base ("" = Google's, from the discovery document the library ships).
    api_url: str = ""
    # Without push notifications (public_url not HTTPS), each calendar is asked this often.
    poll_minutes: float = Field(5.0, gt=0, le=1440)
    # Rate-limit answers (403 usageLimits, 429) and 5xx are retried this many times, waiting
    # backoff_seconds, then twice that, and so on.
    retries: int = Field(5, ge=0, le=20)
    backoff_seconds: float = Field(1.0, ge=0, le=600)
    request_timeout_seconds: float = Field(30.0, gt=0, le=600)

    @property
    def is_configured(self) -> bool:
        return bool(self.client_id and self.client_secret.get_secret_value())


class ClusterSettings(_Section):
    """Several instances on one PostgreSQL (X4): one leader (PBX link, dialer, scheduler,
    outbox, mail and calendar sync, Telegram polling), every instance serves the panel."""

    enabled: bool = False
    # How long an import stays its instance's after the instance stops answering; then
    # another marks it interrupted (to resume or undo). Renewed every third of it.
    import_lease_seconds: float = Field(default=30.0, ge=3.0, le=3600.0)


class TranscriptionSettings(_Section):
    """Speech recognition of call recordings (X2), after the call, off the event loop."""

    engine: str = Field("none", pattern="^(none|pocketsphinx|http)$")
    language: str = Field("en", pattern="^[a-z]{2}(-[A-Za-z]{2})?$")
    # pocketsphinx: empty is the package's English model; a folder holding an acoustic model
    # (with its mdef), a language model (*.lm.bin, *.lm or *.lm.gz) and a dictionary (*.dict).
    pocketsphinx_model_dir: str = ""
    # http: an OpenAI-compatible server's base, e.g. http://127.0.0.1:8000 (POST
    # <http_url>/v1/audio/transcriptions).
    http_url: str = ""
    http_model: str = "whisper-1"
    http_api_key: SecretStr = SecretStr("")
    timeout_seconds: float = Field(600.0, gt=0, le=86_400)
    # Longer recordings are not transcribed (the call records why).
    max_audio_minutes: float = Field(60.0, gt=0, le=24 * 60)
    # How often the worker looks for calls due, besides each call's end.
    poll_seconds: float = Field(60.0, gt=0, le=86_400)

    @field_validator("http_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value


class LoggingSettings(_Section):
    level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")


class Settings(_Section):
    """Every configuration key of the product, by section."""

    data_dir: Path = Path("data")
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    ami: AmiSettings = AmiSettings()
    telegram: TelegramSettings = TelegramSettings()
    logging: LoggingSettings = LoggingSettings()
    dialer: DialerSettings = DialerSettings()
    sms: SmsSettings = SmsSettings()
    mail: MailSettings = MailSettings()
    security: SecuritySettings = SecuritySettings()
    google: GoogleSettings = GoogleSettings()
    cluster: ClusterSettings = ClusterSettings()
    transcription: TranscriptionSettings = TranscriptionSettings()

    @field_validator("cluster")
    @classmethod
    def _cluster_on_postgres(cls, value: ClusterSettings, info: ValidationInfo) -> ClusterSettings:
        database = info.data.get("database")
        if value.enabled and database is not None and not database.url.startswith("postgres"):
            raise ValueError("several instances need PostgreSQL: set [database] url to postgres://")
        return value

    @property
    def uses_simulator(self) -> bool:
        return not self.ami.host

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict, secrets masked, for printing and logging."""
        return self.model_dump(mode="json")
