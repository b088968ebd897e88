"""With `[cluster] enabled` the REST API's and the web forms' rate limits count across
instances (models/core/shared_rate_limits.py): a client behind the load balancer gets the
limit once, not once per instance."""

from __future__ import annotations

import asyncio
import time

import pytest
from limits import parse

from models.core.shared_rate_limits import DatabaseStorage
from models.schema.sessions import RateCounter
from tests.web.api_support import api, token_of
from tests.web.conftest import start_server, web_settings
from web.api.core import API_RATE, RateLimit
from web.views.form_endpoint import FormLimiter


@pytest.fixture
async def two_instances(world, hub, clock, tmp_path):
    """Two panels with `[cluster] enabled` over the same database."""
    runners, servers = [], []
    for n in range(2):
        settings = web_settings(tmp_path / str(n))
        settings.cluster.enabled = True
        runner, srv = await start_server(settings, hub, clock)
        runners.append(runner)
        servers.append(srv)
    yield servers
    for runner in runners:
        await runner.cleanup()


async def test_api_calls_count_on_every_instance(world, two_instances, http, clock):
    a, b = two_instances
    for srv in two_instances:
        srv.app[API_RATE].set_rate("3/hour")
    token = await token_of(world.luis, clock)
    other = await token_of(world.marta, clock)
    assert (await api(http, a.url, "GET", "/clients", token))[0] == 200
    assert (await api(http, b.url, "GET", "/clients", token))[0] == 200
    assert (await api(http, a.url, "GET", "/clients", token))[0] == 200
    for srv in (b, a):  # the fourth call, wherever it lands
        status, body, headers = await api(http, srv.url, "GET", "/clients", token)
        assert status == 429
        assert int(headers["Retry-After"]) >= 1
        assert headers["Retry-After"] in body["detail"]
    assert (await api(http, b.url, "GET", "/clients", other))[0] == 200  # each token its own


async def test_form_submissions_count_on_every_instance(db):
    instances = [FormLimiter(shared=True), FormLimiter(shared=True)]
    for limiter in instances:
        limiter.per_address = parse("3/hour")
    waits = [await instances[n % 2].hit("form-key", "203.0.113.7") for n in range(4)]
    assert waits[:3] == [None, None, None]
    assert waits[3] is not None and waits[3] >= 1
    assert await instances[0].hit("form-key", "203.0.113.8") is None  # another address


async def test_calls_at_the_same_moment_are_all_counted(db):
    """Twenty calls at once on two instances with room for ten: exactly ten go through."""
    instances = [RateLimit("10/hour", shared=True), RateLimit("10/hour", shared=True)]
    waits = await asyncio.gather(*(instances[n % 2].hit("token-hash") for n in range(20)))
    assert sum(1 for w in waits if w == 0) == 10


async def test_without_the_cluster_each_process_counts_its_own(db):
    instances = [RateLimit("2/hour"), RateLimit("2/hour")]
    assert [await instances[n % 2].hit("token-hash") for n in range(4)] == [0, 0, 0, 0]
    assert await RateCounter.all().count() == 0


async def test_an_expired_counter_starts_again(db):
    storage = DatabaseStorage()
    await RateCounter.create(key="old", count=50, expires_at=time.time() - 1)
    assert await storage.get("old") == 0
    assert await storage.incr("old", 60) == 1
    assert await storage.incr("old", 60, amount=2) == 3
    assert await storage.get("old") == 3
    assert await storage.get_expiry("old") > time.time()
