"""`centralita run` killed with SIGKILL in the middle of an import: the import's worker
processes die with it (they held the upload open), and what the CRM wrote in its data
directory is private to its user (0700 directories, 0600 files).

The real product in a child process: initialised by `centralita init`, started by
`centralita run`, driven over HTTP as a browser would, killed by the test.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import stat
import sys
from pathlib import Path

import aiohttp

from models.importing.parallel import PARALLEL_MIN_ROWS, default_workers
from tests.daemon.test_cli_demo import REPO, RUN_MAIN, centralita, cli_db  # noqa: F401
from tests.daemon.test_pbxsim_cli import free_port
from tests.web.conftest import csrf_from
from tests.web.import_flow import start_import_over_http

PASSWORD = "secret-pass-1"


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _stat(int(entry.name))
            if state is not None and state[1] == pid and state[0] != "Z":
                found.append(int(entry.name))
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def _alive(pid: int) -> bool:
    state = _stat(pid)
    return state is not None and state[0] != "Z"  # a zombie has ended: it only awaits its reaper


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in command


async def _eventually(check, *, within: float, what: str):
    """Poll `check()` until it returns something true; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(paths: list[Path]) -> dict[str, str]:
    return {str(p): oct(_mode(p)) for p in paths if p.exists()}


async def _start_import(url: str, source: Path) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{url}/login") as resp:
            token = csrf_from(await resp.text())
        login = {"username": "ana", "password": PASSWORD, "csrf_token": token}
        async with http.post(f"{url}/login", data=login, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
        await start_import_over_http(http, url, source)


async def test_a_killed_crm_takes_its_import_workers_along_and_keeps_its_files_private(
    tmp_path,
    cli_db,  # noqa: F811
):
    assert default_workers() > 0, "this machine checks imports in one process: no worker"
    url, _ = cli_db
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)  # as an older version left it
    (data / "notes.txt").write_text("left by hand")
    (data / "notes.txt").chmod(0o644)
    done = centralita(
        tmp_path, url, "init", "--name", "Acme", "--admin", "ana", "--password", PASSWORD,
        "--extension", "100",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = tmp_path / "clientes.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Nombre", "Teléfono"])
        writer.writerows([f"Cliente {n}", f"+34 6{n:08d}"] for n in range(2 * PARALLEL_MIN_ROWS))

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    env.update(
        CENTRALITA_DATABASE__URL=url,
        CENTRALITA_WEB__PORT=str(port),
        CENTRALITA_AMI__SIMULATOR_DEMO="false",
        PYTHONPATH=str(REPO),
    )
    crm = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", RUN_MAIN, "--config", str(tmp_path / "config.toml"), "run"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        web = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            try:
                async with aiohttp.ClientSession() as http, http.get(f"{web}/healthz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        for _ in range(600):
            if await healthy():
                break
            assert crm.returncode is None, "centralita run stopped"
            await asyncio.sleep(0.1)
        await _start_import(web, source)
        workers = await _eventually(
            lambda: [p for p in _children(crm.pid) if _is_worker(p)],
            within=60,
            what="the import's worker processes start",
        )
        crm.send_signal(signal.SIGKILL)
        await asyncio.wait_for(crm.wait(), 10)
        await _eventually(
            lambda: not any(_alive(p) for p in workers),
            within=10,
            what=f"the workers {workers} die with their parent",
        )
    finally:
        if crm.returncode is None:
            crm.kill()
            await crm.wait()

    assert _mode(data) == 0o700
    assert _mode(data / "notes.txt") == 0o600  # tightened at start
    private = [data / "secret_key", data / "imports", *(data / "imports").iterdir()]
    if url.startswith("sqlite://"):
        database = Path(url[len("sqlite://") :])
        private += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    assert any(p.name.endswith(".csv") for p in (data / "imports").iterdir())  # the upload
    assert _modes(private) == {
        str(p): oct(0o700 if p.is_dir() else 0o600) for p in private if p.exists()
    }
    exported = centralita(tmp_path, url, "export", "clients", "-o", str(tmp_path / "out.csv"))
    assert exported.returncode == 0, exported.stderr
    assert _mode(tmp_path / "out.csv") == 0o600
