"""A PostgreSQL server of the bench's own (initdb, pg_ctl), so that it can really be restarted
while the CRM uses it: the system's server is shared and is not ours to restart.

Uses the server binaries PostgreSQL installs (`pg_config --bindir`, else
/usr/lib/postgresql/*/bin). As root, the server runs as the `postgres` system user (PostgreSQL
refuses to run as root). Trust authentication, loopback only, a socket directory of its own.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_bindir() -> Path:
    """Where initdb and pg_ctl are; SystemExit saying what to install when they are not."""
    config = shutil.which("pg_config")
    if config:
        found = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(found.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    raise SystemExit(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: "
        "apt-get install postgresql (they are in /usr/lib/postgresql/*/bin)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """`async with PrivatePostgres() as pg:` a running server; `pg.url` a database on it."""

    def __init__(self, database: str = "faults") -> None:
        self.bindir = server_bindir()
        self.port = _free_port()
        self.database = database
        self._tmp = tempfile.mkdtemp(prefix="centralita_pg_")
        self.data = Path(self._tmp) / "data"
        self.socket_dir = Path(self._tmp) / "socket"
        self.log = Path(self._tmp) / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chmod(self._tmp, 0o755)
            self.socket_dir.mkdir()
            os.chown(self._tmp, user.pw_uid, user.pw_gid)
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self.socket_dir.mkdir()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    async def _run(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self._as,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {out.decode(errors='replace')}\n{log}")

    def _pg_ctl(self, action: str, *extra: str) -> list[str]:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.socket_dir} -c fsync=off"
        )
        return [
            str(self.bindir / "pg_ctl"), action, "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "60", *extra,
        ]  # fmt: skip

    async def start(self) -> None:
        await self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        await self._run(*self._pg_ctl("start"))
        await self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", self.database,
        )  # fmt: skip

    async def restart(self, mode: str = "fast") -> None:
        """Stop (`fast`: every session ended; `immediate`: as a crash) and start again."""
        await self._run(*self._pg_ctl("restart", "-m", mode))

    async def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self._run(*self._pg_ctl("stop", "-m", "immediate"))

    async def __aenter__(self) -> PrivatePostgres:
        try:
            await self.start()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            await self.stop()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
