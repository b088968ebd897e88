"""Odd query parameters and path ids on every GET page and list: never an HTTP 500.

A small fuzz over the panel's own routes (read from the app's router, so a new page is covered
without being listed here): very long strings, NUL bytes, other scripts, negative and huge
numbers, non-numeric ids, impossible dates. Each answer must be a page, a redirect or a clear
4xx; a bad parameter is ignored, or refused with a message that names it. Runs on both
databases (the limits differ: PostgreSQL refuses NUL characters and integers past 2^31).

The suite visits every page (each path alone, then with every parameter it reads) with a few
of the odd values each: a fixed, seeded choice that differs per page and user and sends every
value in all. `python bench/odd_parameters.py` sends every value to every page (and, on
request, seeded random ones too).
"""

from __future__ import annotations

import asyncio
import csv
import inspect
import io
import random
import re
from collections import Counter
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp
import pytest
from aiohttp import web

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.schema.activity import EmailMessage
from models.schema.calls import Call
from models.schema.dialer import DialerList
from models.schema.imports import ImportBatch
from models.schema.integrations import WebhookSubscription
from models.schema.mail import MailAccount, MailAttachment
from models.work import tasks as task_ops
from tests.web.conftest import http_login, start_server, web_settings

# Query parameters the panel's pages and lists read (web/views: request.query.get(...)); each
# page is sent those its own module reads.
NAMES = (
    "q", "status", "view", "page", "tag", "responsible", "client_id", "lead_id", "deal_id",
    "from", "to", "date", "scope", "kind", "next", "period", "user", "unhandled", "result",
    "direction", "client", "bucket", "month", "week", "year", "report", "offset", "sort",
)  # fmt: skip
# Parameters a list may refuse (with a message naming them): sent alone, so that a refusal
# never hides what another parameter would have done.
REFUSABLE = ("q", "status")
VALUES = (
    "b" * 21,  # one more than a 20-character column (statuses)
    "ñandú" * 13,  # a 65-letter word, not ASCII: longer than a tag (60)
    "ﷺ" * 40,  # 40 characters that spell out to 720 once accents are split off (NFKD)
    "9" * 40,  # digits: longer than any phone number
    "x" * 300,
    "a\x00b",
    "😀 שלום 漢字",
    "-99999999999999999999",
    "99999999999999999999",
    "2026-13-45",
    "2026-02-30T25:61",
    "' OR 1=1 -- %_\\",
    "",
)
# A page about one record reads few parameters: fewer values there.
RECORD_VALUES = ("x" * 300, "a\x00b", "99999999999999999999", "-99999999999999999999", "2026-13-45")
HUGE_ID = "99999999999999999999"
BULK_REF = "0b7c3a52-5d1e-4f0e-9a57-3c2f4e1d8b60"
NO_REF = "00000000-0000-0000-0000-000000000000"
# Lists that show another list for another `view`: each is fuzzed.
VIEWS = {"/deals": ("list",), "/leads": ("all", "unhandled"), "/clients": ("mine",)}
# Not pages: a websocket, and files served from disk.
SKIPPED = ("/ws", "/widget/vendor/sip.js/{path}", "/uploads/photos/{name}")
CUT = 599  # a download that stopped in the middle: the server failed after the headers
# The suite's share of the values: how many per page and user, and the seed that picks them.
PER_PAGE = 2
PER_RECORD_PAGE = 1
SEED = 16


async def _world_records(world, clock) -> dict[str, int | str]:
    """One record of each kind a page shows by id, keyed by the path that shows it."""
    client = await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Cliente", phones=["+34911000001"]), clock=clock
    )
    lead = await lead_ops.create_lead(
        world.ana, lead_ops.LeadInput(name="Interesado", phones=["+34911000002"]), clock=clock
    )
    deal = await deal_ops.create_deal(world.ana, client.id, "Trato", "10", None, clock=clock)
    task = await task_ops.create_task(
        world.ana,
        task_ops.TaskInput(title="Llamar", due_at=clock.now() + timedelta(hours=1)),
        clock=clock,
    )
    call = await Call.create(
        direction="in", from_number="+34911000001", result="missed", started_at=clock.now()
    )
    dialer = await DialerList.create(name="Lista", owner=world.ana, created_at=clock.now())
    batch = await ImportBatch.create(kind="clients", file_name="a.csv", status="done")
    account = await MailAccount.create(
        owner=world.ana, address="ana@acme.example", login="ana@acme.example",
        imap_host="imap.acme.example", imap_port=993, smtp_host="smtp.acme.example", smtp_port=587,
    )  # fmt: skip
    email = await EmailMessage.create(
        direction="out", account=account, sender="ana@acme.example", recipients="c@x.example",
        subject="Oferta", body="Hola", user=world.ana, client=client, created_at=clock.now(),
        status="sent", has_attachments=True, bulk_ref=BULK_REF,
    )  # fmt: skip
    attachment = await MailAttachment.create(email=email, filename="a.pdf", skipped=True)
    webhook = await WebhookSubscription.create(
        url="https://hooks.example/crm", event_types=["lead.created"], secret_encrypted="-"
    )
    return {
        "/clients/": client.id,
        "/leads/": lead.id,
        "/deals/": deal.id,
        "/tasks/": task.id,
        "/calls/": call.id,
        "/dialer/": dialer.id,
        "/imports/": batch.id,
        "/sms/batches/": 1,
        "/settings/mail/": account.id,
        "/settings/webhooks/": webhook.id,
        "/emails/bulk/": BULK_REF,
        "/emails/": email.id,
        "attachment": attachment.id,
    }


def _names_read(handler) -> list[str]:
    """The parameters of NAMES that the handler's module mentions."""
    source = inspect.getsource(inspect.getmodule(handler))
    return [name for name in NAMES if f'"{name}"' in source]


def _pages(app: web.Application, ids: dict[str, int | str]) -> list[tuple[str, list[str]]]:
    """(path, parameters it reads) for every GET route: real ids, then ids no row can have."""
    pages: list[tuple[str, list[str]]] = []
    for resource in app.router.resources():
        routes = [route for route in resource if route.method == "GET"]
        canonical = resource.canonical
        if not routes or canonical in SKIPPED or canonical.startswith("/static/"):
            continue
        if canonical.startswith("/api/v1/"):
            continue  # token-only: schemathesis fuzzes it (tests/web/test_api_openapi.py)
        names = _names_read(routes[0].handler)
        if "{" not in canonical:
            paths = [canonical]
        elif canonical.startswith("/export/"):
            paths = ["/export/clients.csv", "/export/leads.xlsx", "/export/deals.csv"]
        elif canonical.startswith("/analytics/"):
            paths = ["/analytics/deals", "/analytics/calls", "/analytics/" + "z" * 300]
        elif canonical.startswith("/invite/"):
            paths = ["/invite/abc", "/invite/" + "t" * 300]
        else:
            prefix = next((p for p in ids if canonical.startswith(p)), None)
            assert prefix, f"a new page with a path parameter: add a record for {canonical}"
            paths = [
                re.sub(r"\{(id|ref)\b[^}]*\}", str(value), canonical)
                for value in (ids[prefix], NO_REF if prefix == "/emails/bulk/" else 0, HUGE_ID)
            ]
            # A second id in the path (an email's attachment): its own, then none.
            if "{aid" in canonical:
                paths = [
                    re.sub(r"\{aid\b[^}]*\}", str(value), path)
                    for path in paths
                    for value in (ids["attachment"], 0)
                ]
        pages += [(path, names) for path in paths]
        others = [name for name in names if name != "view"]
        pages += [(f"{canonical}?view={view}", others) for view in VIEWS.get(canonical, ())]
    return pages


async def _get(http, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as resp:
        try:
            return resp.status, await resp.text(errors="replace")
        except aiohttp.ClientPayloadError:
            return CUT, ""


def _values_for(path: str) -> tuple[str, ...]:
    return RECORD_VALUES if re.search(r"/(\d+)(/|$)", path) else VALUES


def _urls(path: str, names: list[str], values: tuple[str, ...] | None = None) -> list[str]:
    """The path alone, then per odd value (all that suit the path unless given): every
    parameter it reads at once but the refusable ones, and each refusable one alone."""
    urls = [path]
    join = "&" if "?" in path else "?"
    for value in _values_for(path) if values is None else values:
        quiet = [name for name in names if name not in REFUSABLE]
        urls.append(path + join + "&".join(f"{name}={quote(value)}" for name in quiet))
        urls += [f"{path}{join}{name}={quote(value)}" for name in names if name in REFUSABLE]
    return list(dict.fromkeys(urls))


def fuzz_urls(pages: list[tuple[str, list[str]]], username: str, every_value: bool) -> list[str]:
    """Every page's URLs with every odd value, or (the suite) with a few per page: the values
    in an order shuffled by SEED and the user, each page taking the next few, round the list
    (so every value is sent, to a different few pages for each user)."""
    if every_value:
        return [url for path, names in pages for url in _urls(path, names)]
    orders: dict[tuple[str, ...], list[str]] = {}
    taken: dict[tuple[str, ...], int] = {}
    urls: list[str] = []
    for path, names in pages:
        values = _values_for(path)
        if values not in orders:
            orders[values] = random.Random(f"{SEED}:{username}:{len(values)}").sample(
                values, len(values)
            )
            taken[values] = 0
        count = PER_RECORD_PAGE if values is RECORD_VALUES else PER_PAGE
        start = taken[values]
        chosen = tuple(orders[values][(start + i) % len(values)] for i in range(count))
        taken[values] = start + count
        urls += _urls(path, names, chosen)
    return list(dict.fromkeys(urls))


@pytest.fixture
async def fuzz_server(world, hub, clock, tmp_path):
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    yield srv
    await runner.cleanup()


@pytest.mark.parametrize("username", ["ana", "luis"])
async def test_no_page_or_list_answers_500_to_odd_parameters(
    fuzz_server, world, clock, http, username
):
    ids = await _world_records(world, clock)
    await http_login(http, fuzz_server.url, username, world.password)
    urls = fuzz_urls(_pages(fuzz_server.app, ids), username, every_value=False)
    # Every odd value still reaches the server, each of them on several pages.
    sent = Counter(value for url in urls for _, value in parse_qsl(urlsplit(url).query, True))
    assert all(sent[value] >= 2 for value in VALUES + RECORD_VALUES), sent
    failures: list[str] = []
    gate = asyncio.Semaphore(4)

    async def visit(url: str) -> None:
        async with gate:
            status, _ = await _get(http, fuzz_server.url + url)
        if status >= 500:
            failures.append(f"{status} {url}")

    await asyncio.gather(*(visit(url) for url in urls))
    assert sorted(failures) == []


async def test_bad_list_filters_are_refused_by_name_and_long_searches_find_nothing(
    fuzz_server, world, clock, http
):
    await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Zacarías", phones=["+34911000001"]), clock=clock
    )
    await http_login(http, fuzz_server.url, "ana", world.password)
    url = fuzz_server.url
    # A status that is none of the list's own: refused, naming the parameter and the choices;
    # the export says the same before its download starts, instead of stopping halfway.
    for path in ("/clients", "/export/clients.csv", "/export/clients.xlsx"):
        status, page = await _get(http, f"{url}{path}?status={'b' * 21}")
        assert status == 422, path
        assert "status: debe ser uno de: active, potential, inactive" in page, path  # Spanish
    async with http.get(f"{url}/export/leads.csv?status=closed") as resp:
        assert resp.status == 200
        assert next(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    # A long word is searched like any other (nothing has it); past 200 characters the
    # search is refused by name, in the page and in the widget's API.
    for word in ("a" * 61, "ñ" * 120):
        status, page = await _get(http, f"{url}/clients?q={quote(word)}")
        assert status == 200 and "Zacarías" not in page
        async with http.get(f"{url}/api/widget/contacts", params={"q": word}) as resp:
            assert resp.status == 200 and await resp.json() == {"contacts": []}
    async with http.get(f"{url}/api/widget/contacts", params={"q": "x" * 201}) as resp:
        assert resp.status == 422
        assert (await resp.json())["fields"] == {"q": "como máximo 200 caracteres"}  # Spanish
    # A tag no tag can be (too long, a NUL): no client, no error. A number that is no id is
    # not a filter: ignored.
    for query in ({"tag": "t" * 61}, {"tag": "a\x00b"}):
        async with http.get(f"{url}/clients", params=query) as resp:
            assert resp.status == 200 and "Zacarías" not in await resp.text()
    async with http.get(f"{url}/clients", params={"responsible": HUGE_ID}) as resp:
        assert resp.status == 200 and "Zacarías" in await resp.text()


async def test_path_ids_past_the_integer_column_are_not_found(fuzz_server, world, http):
    await http_login(http, fuzz_server.url, "ana", world.password)
    for path in ("/clients/", "/leads/", "/deals/", "/tasks/", "/imports/", "/dialer/"):
        for value in (HUGE_ID, str(2**31), "0"):
            status, _ = await _get(http, f"{fuzz_server.url}{path}{value}")
            assert status == 404, f"{path}{value}"
