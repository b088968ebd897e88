"""`centralita api-token create | list | revoke` end to end: the real CLI in child processes
over one database. The token is printed once, on stdout alone; only its hash is stored."""

from __future__ import annotations

import asyncio
import hashlib

from tests.daemon.test_cli_demo import cli_db  # noqa: F401  (fixture)
from tests.daemon.test_cli_mail import run


async def cli(tmp_path, url, *args):
    return await asyncio.to_thread(run, tmp_path, url, *args)


async def test_create_list_and_revoke_a_token(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    added = await cli(tmp_path, url, "user", "add", "luis", "--password", "x-pass-1")
    assert added.returncode == 0, added.stderr

    made = await cli(tmp_path, url, "api-token", "create", "luis", "--name", "zapier",
                     "--scope", "write")  # fmt: skip
    assert made.returncode == 0, made.stderr
    plain = made.stdout.strip()
    assert plain.startswith("ctl_") and "\n" not in plain  # a script can read it as is
    assert "not shown again" in made.stderr
    rows = await query("SELECT id, token_hash, scope, name, revoked_at FROM api_token")
    assert len(rows) == 1
    token_id, token_hash, scope, name, revoked = rows[0]
    assert token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert (scope, name, revoked) == ("write", "zapier", None)

    listed = await cli(tmp_path, url, "api-token", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{token_id}\tluis\tzapier\t{plain[:12]}" in listed.stdout
    assert plain not in listed.stdout and "active" in listed.stdout

    gone = await cli(tmp_path, url, "api-token", "revoke", str(token_id))
    assert gone.returncode == 0, gone.stderr
    assert f"Token {token_id} revoked" in gone.stdout
    assert (await query("SELECT revoked_at FROM api_token"))[0][0] is not None


async def test_refusals_name_what_is_wrong(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    nobody = await cli(tmp_path, url, "api-token", "create", "ghost")
    assert nobody.returncode == 2 and "no user named 'ghost'" in nobody.stderr
    bad = await cli(tmp_path, url, "api-token", "create", "ghost", "--scope", "admin")
    assert bad.returncode == 2 and "--scope" in bad.stderr
    missing = await cli(tmp_path, url, "api-token", "revoke", "4242")
    assert missing.returncode == 2 and "no token with id 4242" in missing.stderr
    assert await query("SELECT COUNT(*) FROM api_token") == [(0,)]
