"""A list's sort, direction, page and page size from its URL (web/listing.py): a bad value
gives its default, a page past the end gives the last page, never an HTTP 500."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import make_mocked_request

from models.contacts import clients as client_ops
from models.core.ordering import Sort
from models.work import tasks as task_ops
from tests.list_world import seed
from tests.web.conftest import http_login
from web.listing import read_listing


def _listing(query: str, keys=client_ops.SORTS, default=None):
    return read_listing(make_mocked_request("GET", f"/clients?{query}"), keys, default=default)


def test_known_values_are_read():
    listing = _listing("sort=name&dir=desc&page=3&per_page=25&q=ana")
    assert (listing.sort, listing.page, listing.per_page) == (Sort("name", True), 3, 25)
    assert listing.offset == 50


@pytest.mark.parametrize(
    "query",
    [
        "sort=password&dir=desc",  # not a column of the list: the list's default order
        "sort=&dir=",
        "sort=name%00&dir=asc",
        "page=-4&per_page=7",
        "page=abc&per_page=xyz",
        "page=99999999999999999999&per_page=1000000",
        "page=0&per_page=0",
    ],
)
def test_bad_values_give_the_defaults(query):
    listing = _listing(query)
    assert listing.sort == Sort("created", True)
    assert 1 <= listing.page <= 1_000_000
    assert listing.per_page in (25, 50, 100)
    if "per_page" in query:
        assert listing.per_page == 50


def test_a_column_without_direction_takes_its_first_direction():
    assert _listing("sort=name").sort == Sort("name")
    assert _listing("sort=created").sort == Sort("created", True)  # the default's own
    assert _listing("sort=due", task_ops.SORTS, task_ops.default_sort("done")).sort == Sort(
        "due", True
    )


def test_links_keep_the_filters_and_toggle_the_order():
    listing = _listing("q=norte&status=active&sort=name&dir=asc&page=2")
    assert listing.sort_link("name") == "/clients?q=norte&status=active&sort=name&dir=desc"
    assert listing.sort_link("created").endswith("sort=created&dir=desc")
    assert listing.sort_link("responsible").endswith("sort=responsible&dir=asc")
    assert listing.link(page=3) == "/clients?q=norte&status=active&sort=name&dir=asc&page=3"
    assert listing.kept() == [("sort", "name"), ("dir", "asc")]


LISTS = [
    "/clients",
    "/leads?view=all&status=any",
    "/deals?view=list",
    "/tasks?scope=all&status=any",
    "/calls",
]
ODD = "sort=%27%3Bdrop&dir=sideways&page=-1&per_page=1e9"


@pytest.mark.parametrize("path", LISTS)
async def test_odd_listing_parameters_on_every_list(world, world_server, http, path):
    await seed(world)
    await http_login(http, world_server.url, "ana", world.password)
    joiner = "&" if "?" in path else "?"
    for query in (ODD, "page=999999999&per_page=25", "sort=name&dir=asc&page=2&per_page=100"):
        async with http.get(f"{world_server.url}{path}{joiner}{query}") as resp:
            assert resp.status == 200, (path, query)
            html = await resp.text()
        # One page of rows, and never a "page 999999999 of 1": the last page instead.
        assert "Página 999" not in html
        assert re.search(r'<table class="list', html)


async def test_a_page_past_the_end_shows_the_last_page(world, world_server, http):
    for n in range(30):
        await client_ops.create_client(world.ana, client_ops.ClientInput(name=f"Cliente {n:02d}"))
    await http_login(http, world_server.url, "ana", world.password)
    url = f"{world_server.url}/clients?sort=name&dir=asc&per_page=25&page=7"
    async with http.get(url) as resp:
        html = await resp.text()
    names = re.findall(r'<a href="/clients/\d+">(Cliente \d\d)</a>', html)
    assert names == ["Cliente 25", "Cliente 26", "Cliente 27", "Cliente 28", "Cliente 29"]
    assert "Página 2 de 2" in html  # Ana reads Spanish
