"""`centralita import` when another program takes the database half-way (issue 15).

The import runs in a child process, as an operator runs it; once its first chunk is committed
the test takes the database from another connection (tests/db_lock.py) and releases it when
the import has said that it failed. What was written stays, the command says how much and how
to undo it, and `centralita import-cancel` does.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

from tests.daemon.test_cli_demo import REPO, RUN_MAIN, centralita, cli_db  # noqa: F401
from tests.daemon.test_cli_import import _write_csv
from tests.db_lock import DatabaseLock, is_sqlite

ROWS = 20_000  # four chunks of 5,000: the lock is taken while some are still to come


async def _start_import(tmp_path, url, source) -> asyncio.subprocess.Process:
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[database]\nbusy_timeout_seconds = 0.2\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    env.update({"CENTRALITA_DATABASE__URL": url, "PYTHONPATH": str(REPO)})
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_MAIN,
        "--config",
        str(config),
        "import",
        str(source),
        "--map",
        "Nombre=name,Teléfono=phones",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )


async def test_an_import_that_fails_on_a_held_database_says_what_it_wrote_and_how_to_undo(
    tmp_path,
    cli_db,  # noqa: F811
):
    url, query = cli_db
    assert centralita(tmp_path, url, "import-list").returncode == 0  # migrated beforehand
    source = _write_csv(
        tmp_path / "clientes.csv",
        [["Nombre", "Teléfono"]] + [[f"Cliente {n}", f"6{n:08d}"] for n in range(ROWS)],
    )
    lock = DatabaseLock(url, ("client",))
    child = await _start_import(tmp_path, url, source)
    stderr: list[str] = []
    try:
        async with asyncio.timeout(120):
            while not await query(  # noqa: ASYNC110 - polling the database
                "SELECT 1 FROM import_batch WHERE processed_rows > 0"
            ):
                await asyncio.sleep(0.02)
            await lock.take()  # waits for the chunk under way, if any
            if not is_sqlite(url):
                # PostgreSQL waits as long as the lock is held, until its lock_timeout or an
                # operator ends the wait: the test ends it, as they would.
                for pid in await lock.wait_for_writer():
                    await lock.cancel_backend(pid)
            assert child.stderr is not None
            while "failed: the database is busy" not in "".join(stderr):
                line = await child.stderr.readline()
                assert line, "".join(stderr)
                stderr.append(line.decode())
            await lock.release()
            out, rest = await child.communicate()
    finally:
        await lock.release()
        if child.returncode is None:
            child.kill()
            await child.wait()
    said = "".join(stderr) + rest.decode()
    assert child.returncode == 1, said
    assert "centralita import: import 1 failed: the database was busy" in said
    written = await query("SELECT COUNT(*) FROM client")
    handled = re.search(r"(\d+) of 20000 rows were handled before it stopped \((\d+) created", said)
    assert handled is not None, said
    assert int(handled.group(1)) == int(handled.group(2)) == written[0][0] > 0
    assert "undo them with: centralita import-cancel 1" in said
    assert await query("SELECT status FROM import_batch") == [("failed",)]

    undone = centralita(tmp_path, url, "import-cancel", "1")
    assert undone.returncode == 0, undone.stderr
    assert await query("SELECT COUNT(*) FROM client") == [(0,)]
