"""A wheel of the project, installed into a fresh virtual environment, serves the front-end
libraries the pages load (Chart.js, SortableJS, SIP.js) without the repository's node_modules.

The wheel is built offline from a copy of the checkout (pip --no-build-isolation, with this
environment's setuptools) and installed without its dependencies; the new environment finds
those in this environment's site-packages through a .pth path line, which does not run this
environment's editable-install hook, so `web` and `daemon` come from the wheel.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import aiohttp
import pytest

from tests.web.conftest import csrf_from

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "node_modules"
WARNING = "front-end libraries will not be served"

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(not NODE_MODULES.is_dir(), reason="needs node_modules (npm ci)"),
    pytest.mark.skipif(not (REPO / ".git").exists(), reason="copies the files of a git checkout"),
]


def vendor_urls() -> set[str]:
    """Every /static/vendor URL in the templates and in our own scripts."""
    found: set[str] = set()
    for folder in (REPO / "web" / "templates", REPO / "web" / "static"):
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".js"):
                found |= set(re.findall(r"/static/vendor/[^\"'`\s)?]+", path.read_text()))
    return found


def source_tree(target: Path) -> Path:
    """Copy the checkout's files (tracked and new, not ignored) to `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)
    (target / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin folder of a fresh virtual environment holding only the project's wheel."""
    base = tmp_path_factory.mktemp("wheel")
    source = source_tree(base / "src")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", base / "dist"],
        cwd=source,
        check=True,
    )
    (wheel,) = (base / "dist").glob("centralita_crm-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    new_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(new_site, "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [*pip, "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
        check=True,
    )
    where = subprocess.run(
        [python, "-c", "import web; print(web.__file__)"],
        cwd=base,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(new_site), f"web is imported from {where}, not from the wheel"
    return venv / "bin"


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CENTRALITA_", "PYTHON"))}


async def test_installed_wheel_serves_the_front_end_libraries(installed, db, db_url, tmp_path):
    # `db`: the test database emptied, so the set-up page below is open (no admin yet).
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "{db_url}"\n'
        '[web]\nhost = "127.0.0.1"\nport = 0\n'
        "[ami]\nsimulator_demo = false\n"
        '[logging]\nlevel = "INFO"\n'
    )
    daemon = await asyncio.create_subprocess_exec(
        installed / "centralita", "--config", config, "run", cwd=tmp_path, env=child_env(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    log: list[str] = []
    url = None
    try:
        # Everything the panel logs while it is built comes before this line.
        while url is None:
            line = (await daemon.stderr.readline()).decode()
            assert line, "the panel stopped before serving:\n" + "".join(log)
            log.append(line)
            if started := re.search(r"web panel on (http://\S+)", line):
                url = started.group(1)
        assert not any(WARNING in line for line in log), "".join(log)

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            urls = vendor_urls()
            assert "/static/vendor/chart.js/dist/chart.umd.min.js" in urls
            for path in sorted(urls):
                async with http.get(url + path) as resp:
                    assert resp.status == 200, path
                    body = await resp.read()
                shipped = NODE_MODULES / path.removeprefix("/static/vendor/")
                assert body == shipped.read_bytes(), path
            # Only the files the pages load are shipped.
            async with http.get(f"{url}/static/vendor/chart.js/package.json") as resp:
                assert resp.status == 404

            # The first administrator, made on the set-up page, may load the web phone.
            async with http.get(f"{url}/setup") as resp:
                token = csrf_from(await resp.text())
            admin = {"name": "Acme", "username": "ana", "password": "long-password-1"}
            async with http.post(
                f"{url}/setup", data={**admin, "csrf_token": token}, allow_redirects=False
            ) as resp:
                assert resp.status == 303
            # The web phone imports SIP.js as an ES module (web/static/widget.js).
            for module in ("index.js", "api/user-agent.js"):
                async with http.get(f"{url}/widget/vendor/sip.js/{module}") as resp:
                    assert resp.status == 200, module
                    body = await resp.read()
                assert body == (NODE_MODULES / "sip.js" / "lib" / module).read_bytes()
            async with http.get(f"{url}/widget/vendor/sip.js/missing.js") as resp:
                assert resp.status == 404
    finally:
        daemon.terminate()
        await daemon.wait()
