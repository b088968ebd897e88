"""A real Dovecot IMAP server for tests: a separate process on free loopback ports, with its own
configuration, users and Maildirs in a temporary directory (nothing under /etc/dovecot is read).

It speaks IMAP with IDLE on a plain port (with STARTTLS) and an implicit-TLS port, both with a
self-signed certificate made at start. Users live in a passwd-file with plain passwords and each
has a Maildir with a SPECIAL-USE \\Sent folder. Mail is delivered with `doveadm save`, as a local
delivery agent would, so a client in IDLE is told at once.

Run as root (the CI does), the mail and login processes run as `nobody`; run as anyone else,
everything runs as that user.
"""

from __future__ import annotations

import datetime as dt
import grp
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


def dovecot_installed() -> bool:
    return Path(DOVECOT).exists() and Path(DOVEADM).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _self_signed(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = centralita-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = 0
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
mailbox_idle_check_interval = 1 secs
imap_capability = {capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay after failed logins from 127.0.0.1: tests try wrong passwords on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


_WITHOUT_IDLE = "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS SPECIAL-USE"


@dataclass
class Dovecot:
    """A Dovecot of our own. `host`, `port` (plain, STARTTLS offered), `tls_port` (implicit TLS);
    `add_user` and `deliver` work before and after `start`."""

    root: Path
    idle: bool = True  # False: a server that does not announce IDLE (clients must poll)
    host: str = "127.0.0.1"
    port: int = 0
    tls_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None
    _serial: int = 0
    _files: int = 0

    def __post_init__(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam("nobody")
        else:
            account = pwd.getpwuid(os.geteuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.user = account.pw_name
        self.group = grp.getgrgid(self.gid).gr_name
        self.config = self.root / "dovecot.conf"

    # ---- life ----------------------------------------------------------------------------
    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the mail processes (nobody) walk through it to the Maildirs
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        self._chown(self.root / "mail")
        _self_signed(self.root / "cert.pem", self.root / "key.pem")
        self._write_users()
        for _attempt in range(3):  # a port taken between choosing it and binding: try others
            self.port, self.tls_port = _free_port(), _free_port()
            self.config.write_text(
                _CONFIG.format(
                    root=self.root,
                    port=self.port,
                    tls_port=self.tls_port,
                    user=self.user,
                    group=self.group,
                    uid=self.uid,
                    capability="+SPECIAL-USE" if self.idle else _WITHOUT_IDLE,
                )
            )
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_listening():
                return
            self.stop()
        raise RuntimeError(f"Dovecot did not start: {self.log_tail()}")

    def _wait_listening(self, timeout: float = 15.0) -> bool:
        assert self._process is not None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    sock.settimeout(5)
                    if sock.recv(200).startswith(b"* OK"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)  # polling a port coming up: there is no signal to wait on
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        if self._process is not None and self._process.poll() is not None:
            assert self._process.stderr is not None
            text += self._process.stderr.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # ---- users and mail ------------------------------------------------------------------
    def home(self, user: str) -> Path:
        return self.root / "mail" / user

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    def add_user(self, name: str, password: str) -> None:
        """A mail user (login `name`); read by Dovecot at the next login, no restart."""
        if ":" in name + password or "\n" in name + password or "/" in name or name[:1] == ".":
            raise ValueError("a user name or password cannot hold ':', '/' or a newline")
        self.passwords[name] = password
        if self.config.exists():
            self._write_users()

    def new_user(self, prefix: str = "user", password: str = "") -> tuple[str, str]:
        """A fresh user with a name no other test uses: (login, password). The session shares
        one server, so each test takes its own mailboxes."""
        self._serial += 1
        login = f"{prefix}{self._serial}@mail.test"
        password = password or f"pw-{self._serial}-{os.urandom(4).hex()}"
        self.add_user(login, password)
        return login, password

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate (127.0.0.1 and
        localhost)."""
        return ssl.create_default_context(cafile=str(self.root / "cert.pem"))

    def _write_users(self) -> None:
        # One passwd-file per user: Dovecot looks at a file at most once a second, so a user
        # added to a shared file could stay unknown for a moment; a new file is read at once.
        users = self.root / "users"
        users.mkdir(exist_ok=True)
        users.chmod(0o755)
        for name, password in self.passwords.items():
            home = self.home(name)
            if not home.exists():
                home.mkdir(parents=True)
                self._chown(home)
            line = f"{name}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}::\n"
            path = users / name
            if path.exists() and path.read_text() == line:
                continue
            temporary = users / f".{name}.tmp"
            temporary.write_text(line)
            temporary.chmod(0o644)
            temporary.replace(path)

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def doveadm(self, *args: str, stdin: bytes | None = None) -> str:
        result = subprocess.run(
            [DOVEADM, "-c", str(self.config), *args],
            input=stdin,
            capture_output=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        return result.stdout.decode(errors="replace")

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in a user's folder as a delivery agent would (clients in IDLE see it)."""
        if self._process is None:
            raise RuntimeError("start Dovecot before delivering mail")
        self.doveadm("save", "-u", user, "-m", folder, stdin=raw)

    def fill(
        self,
        user: str,
        messages: list[bytes],
        folder: str = "INBOX",
        received_at: dt.datetime | None = None,
    ) -> None:
        """Many messages at once, written straight into the Maildir (Dovecot gives them UIDs
        at the next SELECT): fast enough for a 10,000-message mailbox. `received_at` sets
        their INTERNALDATE (what IMAP's SEARCH SINCE looks at); default now."""
        if folder == "INBOX":
            base = self.maildir(user)
        else:
            base = self.maildir(user) / f".{folder.replace('/', '.')}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        for raw in messages:
            self._files += 1
            path = base / "new" / f"{stamp}.M{self._files}P{os.getpid()}.centralita-test"
            path.write_bytes(raw)
            if received_at is not None:
                os.utime(path, (received_at.timestamp(), received_at.timestamp()))
        if os.geteuid() == 0:
            for directory, _dirs, files in os.walk(self.maildir(user)):
                os.chown(directory, self.uid, self.gid)
                for name in files:
                    os.chown(os.path.join(directory, name), self.uid, self.gid)

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        """Renumber a folder as a server may after a restore: the UIDs are no longer valid."""
        self.doveadm("mailbox", "update", "--uid-validity", str(value), "-u", user, folder)


def start_dovecot(*, idle: bool = True) -> Dovecot:
    root = Path(tempfile.mkdtemp(prefix="centralita-dovecot-"))
    server = Dovecot(root=root, idle=idle)
    try:
        server.start()
    except BaseException:
        server.cleanup()
        raise
    return server
