"""Lead search by any part of a name, company or email, or by phone digits (issue 14, item
13): the same answers as the client search, on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm).
Expected leads are written out by hand."""

from __future__ import annotations

import pytest

from models.sales import leads as lead_ops
from models.sales.contact_search import search_contacts
from models.sales.leads import LeadInput
from tests.models.import_helpers import import_file, write_csv


@pytest.fixture
async def leads(world, clock, tmp_path):
    """Leads written every way a lead is written: the form, an edit, an import."""

    async def add(name, company="", emails=(), phones=()):
        data = LeadInput(name=name, company_name=company, emails=list(emails), phones=list(phones))
        return await lead_ops.create_lead(world.luis, data, clock=clock)

    await add("Marta Fernández", "Construcciones Ibáñez", ["mfernandez@ibanez-obras.es"])
    await add("Fernando Ruiz", emails=["jgarcia.ventas@acme.com"], phones=["611 222 333"])
    edited = await add("Borrador", "Nada")
    await lead_ops.update_lead(
        world.luis, edited.id, LeadInput(name="Josefa Lorenzo", company_name="Óptica Núñez")
    )
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["Nombre", "Empresa", "Teléfono", "Responsable"],
            ["Seán O'Brien", "Irish Pubs García", "+44 20 7946 0958", "luis"],
        ],
    )
    mapping = {
        "Nombre": "name",
        "Empresa": "company_name",
        "Teléfono": "phones",
        "Responsable": "responsible",
    }
    batch = await import_file(path, mapping, kind="leads")
    assert batch.created_count == 1


async def _found(world, query, view="mine"):
    rows, total = await lead_ops.list_leads(world.luis, view=view, query=query)
    assert total == len(rows)
    return {r.name.split()[0] for r in rows}


async def test_a_part_of_a_name_or_company_is_found_whatever_its_accents_and_case(world, leads):
    assert await _found(world, "ndez") == {"Marta"}
    assert await _found(world, "NÁNDEZ") == {"Marta"}
    assert await _found(world, "renz") == {"Josefa"}  # the name after an edit
    assert await _found(world, "onstruc") == {"Marta"}
    assert await _found(world, "nunez") == {"Josefa"}  # the company after an edit
    assert await _found(world, "pubs garcía") == {"Seán"}  # an imported lead's company
    assert await _found(world, "garcia") == {"Seán", "Fernando"}  # a company, an email
    assert await _found(world, "arta ibá") == {"Marta"}  # one word in each
    assert await _found(world, "borrador") == set()  # the name before the edit is gone


async def test_a_part_of_an_email_is_found(world, leads):
    assert await _found(world, "mfernandez@") == {"Marta"}
    assert await _found(world, "ibanez-obras") == {"Marta"}
    assert await _found(world, "garcia.ven") == {"Fernando"}
    assert await _found(world, "@acme.com") == {"Fernando"}


async def test_a_phone_in_any_format_or_its_last_digits(world, leads):
    assert await _found(world, "611222333") == {"Fernando"}
    assert await _found(world, "+34 611 22 23 33") == {"Fernando"}
    assert await _found(world, "2333") == {"Fernando"}
    assert await _found(world, "0958") == {"Seán"}


async def test_short_text_finds_names_starting_with_it(world, leads):
    assert await _found(world, "fe") == {"Fernando"}


async def test_the_widget_and_bot_search_finds_leads_by_parts_too(world, leads):
    found = await search_contacts(world.luis, "obras")
    assert [(c.kind, c.name) for c in found] == [("lead", "Marta Fernández")]
