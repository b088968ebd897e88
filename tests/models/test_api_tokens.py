"""API tokens in the domain: only a hash is kept, a token names its user and scope, revoked
or deactivated ones authenticate nobody, and the last use is written at most once a minute."""

from __future__ import annotations

import hashlib

import pytest

from models.core.errors import NotFound, PermissionDenied, ValidationFailed
from models.people import api_tokens
from models.schema.integrations import ApiToken


async def test_a_token_is_kept_only_as_its_hash(world, clock):
    row, plain = await api_tokens.create_token(world.luis, name="web", scope="write", clock=clock)
    assert plain.startswith("ctl_") and len(plain) > 40
    stored = await ApiToken.get(id=row.id)
    assert stored.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert stored.token_prefix == plain[:12]
    user, scope = await api_tokens.authenticate(plain, clock=clock, address="10.0.0.7")
    assert (user.id, scope) == (world.luis.id, "write")
    assert user.group.name  # the group comes along: the permission rules need it
    _, other = await api_tokens.create_token(world.luis, clock=clock)
    assert other != plain


async def test_a_bad_scope_or_name_is_refused_naming_the_field(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await api_tokens.create_token(world.luis, name="n" * 101, scope="admin", clock=clock)
    assert set(err.value.fields) == {"name", "scope"}
    assert await ApiToken.all().count() == 0


async def test_revoked_unknown_and_deactivated_tokens_authenticate_nobody(world, clock):
    row, plain = await api_tokens.create_token(world.luis, clock=clock)
    _, martas = await api_tokens.create_token(world.marta, clock=clock)
    with pytest.raises(NotFound):
        await api_tokens.revoke_token(world.marta, row.id, clock=clock)  # not hers
    await api_tokens.revoke_token(world.ana, row.id, clock=clock)  # an admin may
    for token in (plain, "ctl_unknown", "no prefix", "ctl_" + "x" * 300):
        with pytest.raises(PermissionDenied):
            await api_tokens.authenticate(token, clock=clock)
    world.marta.is_active = False
    await world.marta.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        await api_tokens.authenticate(martas, clock=clock)
    with pytest.raises(NotFound):
        await api_tokens.revoke_token(None, 999_999, clock=clock)


async def test_the_last_use_is_written_at_most_once_a_minute(world, clock):
    row, plain = await api_tokens.create_token(world.luis, clock=clock)
    await api_tokens.authenticate(plain, clock=clock, address="10.0.0.7")
    first = clock.now()
    clock.advance(seconds=30)
    await api_tokens.authenticate(plain, clock=clock, address="10.0.0.8")
    stored = await ApiToken.get(id=row.id)
    assert (stored.last_used_at, stored.last_used_ip) == (first, "10.0.0.7")
    clock.advance(seconds=31)
    await api_tokens.authenticate(plain, clock=clock, address="10.0.0.8")
    stored = await ApiToken.get(id=row.id)
    assert (stored.last_used_at, stored.last_used_ip) == (clock.now(), "10.0.0.8")
