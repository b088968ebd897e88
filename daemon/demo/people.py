"""Clients and leads with their phones, emails and tags."""

from __future__ import annotations

from functools import lru_cache

from daemon.demo import vocab
from daemon.demo.context import DAY, DemoContext, at, cumulate, entry_text, pick, weighted
from daemon.demo.numbers import DemoPhone, make_invalid_phone, make_phone
from models.contacts.contact_details import search_key

_FOREIGN = cumulate(("GB", 3), ("FR", 2), ("DE", 2), ("US", 2), ("MX", 1.5), ("PT", 1), ("IT", 1))
_CLIENT_STATUS = cumulate(("active", 70), ("potential", 20), ("inactive", 10))
_LEAD_SOURCE = cumulate(
    ("call", 35),
    ("manual", 20),
    ("import", 10),
    ("email", 10),
    ("api", 10),
    ("webhook", 10),
    ("sms", 5),
)
_LEAD_STATUS = cumulate(("open", 75), ("closed", 15), ("converted", 10))
_COMPANY_MAILBOXES = ("info", "contacto", "ventas", "administracion", "pedidos")
Batch = list  # [(TableSpec, rows), ...]


@lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    return "".join(c for c in search_key(text) if c.isalnum())


@lru_cache(maxsize=65536)
def _company_key(company_name: str) -> str:
    # Company names repeat (vocabulary combinations): each key is computed once.
    return search_key(company_name)[:200]


@lru_cache(maxsize=4096)
def _key(word: str) -> str:
    # A name's search key is the keys of its words joined by spaces: computed per word once.
    return search_key(word)


def _country(ctx: DemoContext, spanish_share: float) -> str:
    return "ES" if ctx.rng.random() < spanish_share else weighted(ctx.rng, _FOREIGN)


def _person(ctx: DemoContext, country: str) -> tuple[str, str, str, str]:
    """(full name, its search key, first name, surname) of a person from `country`."""
    rng = ctx.rng
    if country == "ES":
        first, last = pick(rng, vocab.FIRST_NAMES_ES), pick(rng, vocab.SURNAMES_ES)
        second = pick(rng, vocab.SURNAMES_ES)
        name = f"{first} {last} {second}"
        return name, f"{_key(first)} {_key(last)} {_key(second)}", first, last
    firsts, lasts = vocab.FOREIGN_PEOPLE[country]
    first, last = pick(rng, firsts), pick(rng, lasts)
    return f"{first} {last}", f"{_key(first)} {_key(last)}", first, last


def _company_parts(ctx: DemoContext, country: str) -> tuple[str, str, str]:
    rng = ctx.rng
    if country == "ES":
        trade, stem = pick(rng, vocab.COMPANY_TRADES), pick(rng, vocab.COMPANY_STEMS)
        return trade, stem, pick(rng, vocab.COMPANY_FORMS_ES)
    form, stems = vocab.FOREIGN_COMPANIES[country]
    return pick(rng, stems), pick(rng, vocab.FOREIGN_TRADES[country]), form


def _company(ctx: DemoContext, country: str) -> str:
    return " ".join(_company_parts(ctx, country))


def _company_with_key(ctx: DemoContext, country: str) -> tuple[str, str]:
    parts = _company_parts(ctx, country)
    return " ".join(parts), " ".join(_key(p) for p in parts)


def _phone(
    ctx: DemoContext,
    country: str,
    mobile: bool,
    owner: tuple[int | None, int | None],
    position: int,
    rows: list,
) -> tuple[int, DemoPhone]:
    phone_id = ctx.take_id("phone")
    phone = make_phone(ctx.rng, phone_id, country, mobile=mobile)
    rows.append((phone_id, phone.typed, phone.e164, phone.digits_rev, True, position, *owner))
    return phone_id, phone


def _person_email(ctx: DemoContext, first: str, last: str, n: int) -> str:
    rng = ctx.rng
    style = rng.random()
    if style < 0.4:
        local = f"{_slug(first)}.{_slug(last)}"
    elif style < 0.7:
        local = f"{_slug(first)[0]}{_slug(last)}{n % 100}"
    else:
        local = f"{_slug(first)}{_slug(last)}{n % 1000}"
    return f"{local}@{pick(rng, vocab.EMAIL_DOMAINS_PERSONAL)}"


def _company_email(ctx: DemoContext, company: str, country: str) -> str:
    words = company.split()
    tld = {
        "ES": "es",
        "GB": "co.uk",
        "FR": "fr",
        "DE": "de",
        "MX": "com.mx",
        "PT": "pt",
        "IT": "it",
    }.get(country, "com")
    domain = _slug(" ".join(words[:2]))
    return f"{pick(ctx.rng, _COMPANY_MAILBOXES)}@{domain}.{tld}"


def client_batch(ctx: DemoContext, count: int) -> Batch:
    """`count` clients with 1-2 phones each (1.5 on average), emails and tags."""
    rng = ctx.rng
    r = rng.random
    clients, phones, emails, links = [], [], [], []
    made = ctx.clients
    if not len(made):
        made.first_id = ctx.next_ids["client"]
    three_years = 3 * 365 * DAY
    for _ in range(count):
        cid = ctx.take_id("client")
        country = _country(ctx, 0.88)
        is_company = r() < 0.25
        if is_company:
            name, key = _company_with_key(ctx, country)
            company_name, first, last = "", "", ""
        else:
            name, key, first, last = _person(ctx, country)
            company_name = _company(ctx, country) if r() < 0.35 else ""
        owner = ctx.agent()
        created = ctx.now - int(r() * three_years)
        updated = ctx.between(created)
        tag = (
            ctx.source_tags[int(r() * len(ctx.source_tags))][0]
            if (ctx.source_tags and r() < 0.08)
            else None
        )
        clients.append(
            (
                cid,
                name,
                key[:200],
                weighted(rng, _CLIENT_STATUS),
                "company" if is_company else "person",
                company_name,
                _company_key(company_name),
                owner.id,
                owner.id,
                tag,
                at(created),
                at(updated),
            )
        )
        first_id, first_phone = _phone(
            ctx, country, r() < (0.3 if is_company else 0.8), (cid, None), 0, phones
        )
        if r() < 0.5:
            if r() < 0.01:
                scribble = make_invalid_phone(rng)
                phones.append(
                    (
                        ctx.take_id("phone"),
                        scribble.typed,
                        None,
                        scribble.digits_rev,
                        False,
                        1,
                        cid,
                        None,
                    )
                )
            else:
                second_country = country if r() < 0.9 else "ES"
                _phone(ctx, second_country, r() < 0.5, (cid, None), 1, phones)
        if is_company:
            if r() < 0.85:
                emails.append(
                    (ctx.take_id("email"), _company_email(ctx, name, country), 0, cid, None)
                )
        elif r() < 0.65:
            emails.append(
                (ctx.take_id("email"), _person_email(ctx, first, last, cid), 0, cid, None)
            )
        if ctx.tag_ids and r() < 0.35:
            first_tag = ctx.tag_ids[int(r() * len(ctx.tag_ids))]
            links.append((cid, first_tag))
            if r() < 0.3:
                second_tag = ctx.tag_ids[int(r() * len(ctx.tag_ids))]
                if second_tag != first_tag:
                    links.append((cid, second_tag))
        made.created.append(created)
        made.responsible.append(owner.id)
        made.phone_id.append(first_id)
        made.phone_block.append(first_phone.block)
    s = ctx.specs
    return [
        (s["client"], clients),
        (s["phone"], phones),
        (s["email"], emails),
        (s["client_tag"], links),
    ]


def lead_batch(ctx: DemoContext, count: int) -> Batch:
    """`count` leads: open (a third of them unhandled), closed, or converted into a client."""
    rng = ctx.rng
    r = rng.random
    leads, phones, emails, timeline = [], [], [], []
    made = ctx.leads
    if not len(made):
        made.first_id = ctx.next_ids["lead"]
    clients = ctx.clients
    for _ in range(count):
        lid = ctx.take_id("lead")
        country = _country(ctx, 0.9)
        name, key, first, last = _person(ctx, country)
        company_name = _company(ctx, country) if r() < 0.4 else ""
        source = weighted(rng, _LEAD_SOURCE)
        status = weighted(rng, _LEAD_STATUS)
        created = ctx.now - int(r() * 180 * DAY)
        if status == "open" and r() < 0.35:
            responsible = None  # unhandled (E1)
        else:
            responsible = ctx.agent().id
        created_by = (responsible or ctx.agent().id) if source in ("manual", "import") else None
        tag = None
        if source == "call" and ctx.source_tags:
            tag = ctx.source_tags[int(r() * len(ctx.source_tags))][0]
        utm = pick(rng, vocab.LEAD_CAMPAIGNS) if source in ("api", "webhook") else ("", "", "")
        converted_client, converted_at = None, None
        if status == "converted" and len(clients):
            converted_client = clients.first_id + int(r() * len(clients))
            converted_at = at(ctx.between(created))
        elif status == "converted":
            status = "closed"
        leads.append(
            (
                lid,
                name,
                key[:200],
                company_name,
                _company_key(company_name),
                status,
                source,
                tag,
                *utm,
                responsible,
                created_by,
                converted_client,
                converted_at,
                at(created),
                converted_at or at(created),
            )
        )
        phone_id, block = 0, -1
        # A converted lead's phones and history moved to its client.
        if converted_client is None:
            if source != "email" or r() < 0.3:
                phone_id, phone = _phone(ctx, country, r() < 0.85, (None, lid), 0, phones)
                block = phone.block
            if source in ("email", "api", "webhook") or r() < 0.3:
                emails.append(
                    (ctx.take_id("email"), _person_email(ctx, first, last, lid), 0, None, lid)
                )
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    None,
                    lid,
                    "lead",
                    lid,
                    *entry_text("lead_created", source=source, name=name),
                    created_by,
                    at(created),
                )
            )
        else:
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    converted_client,
                    None,
                    "converted",
                    lid,
                    *entry_text("lead_converted", lead_id=lid),
                    responsible,
                    converted_at,
                )
            )
        made.created.append(created)
        made.responsible.append(responsible or 0)
        made.phone_id.append(phone_id)
        made.phone_block.append(block)
    s = ctx.specs
    return [
        (s["lead"], leads),
        (s["phone"], phones),
        (s["email"], emails),
        (s["timeline_entry"], timeline),
    ]
