"""Client search by any part of a name, company or email: the same answers on both databases.

Runs on SQLite (FTS5 trigram tables) and PostgreSQL (pg_trgm indexes) with the same
expectations, written out by hand.
"""

import pytest

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput


@pytest.fixture
async def people(world, clock):
    """A few clients of Luis's, by first name."""

    async def add(name, company="", emails=(), phones=()):
        data = ClientInput(
            name=name, company_name=company, emails=list(emails), phones=list(phones)
        )
        return await client_ops.create_client(world.luis, data, clock=clock)

    return {
        "marta": await add(
            "Marta Fernández", "Construcciones Ibáñez", ["mfernandez@ibanez-obras.es"]
        ),
        "fernando": await add("Fernando Ruiz", emails=["jgarcia.ventas@acme.com"]),
        "josefa": await add("Josefa Lorenzo", "Óptica Núñez", phones=["911234567"]),
        "sean": await add("Seán O'Brien", "100% Irish_Pubs"),
        "juan": await add("Juan Pérez"),
    }


async def _found(world, query):
    rows, total = await client_ops.list_clients(world.luis, query=query)
    assert total == len(rows)
    return {r.name.split()[0].lower().replace("á", "a") for r in rows}


async def test_a_part_of_a_name_is_found_whatever_its_accents_and_case(world, people):
    assert await _found(world, "ndez") == {"marta"}
    assert await _found(world, "NÁNDEZ") == {"marta"}
    assert await _found(world, "renz") == {"josefa"}
    assert await _found(world, "ern") == {"marta", "fernando"}


async def test_every_word_typed_must_be_in_the_name_or_the_company(world, people):
    assert await _found(world, "arta ibá") == {"marta"}  # one in the name, one in the company
    assert await _found(world, "ruiz fer") == {"fernando"}
    assert await _found(world, "ruiz marta") == set()


async def test_a_part_of_a_company_is_found(world, people):
    assert await _found(world, "onstruc") == {"marta"}
    assert await _found(world, "nunez") == {"josefa"}
    assert await _found(world, "OPTICA") == {"josefa"}


async def test_a_part_of_an_email_is_found(world, people):
    assert await _found(world, "mfernandez@") == {"marta"}
    assert await _found(world, "@acme.com") == {"fernando"}
    assert await _found(world, "jgarcia") == {"fernando"}  # one word: emails are searched too
    assert await _found(world, "obras.es") == {"marta"}
    assert await _found(world, "nobody@acme.com") == set()


async def test_short_words_find_names_that_start_with_them(world, people):
    # Trigram indexes need three characters: one or two find names by their start.
    assert await _found(world, "fe") == {"fernando"}  # not Marta Fernández, not Josefa
    assert await _found(world, "J") == {"josefa", "juan"}
    # Beside a longer word, a short one narrows what the longer one found.
    assert await _found(world, "fer ma") == {"marta"}
    assert await _found(world, "ez ma") == set()  # short words only: a name starting "ez ma"


async def test_wildcards_and_quotes_are_plain_characters(world, people):
    assert await _found(world, "p_rez") == set()
    assert await _found(world, "100%") == {"sean"}
    assert await _found(world, "h_pu") == {"sean"}
    assert await _found(world, "o'brien") == {"sean"}
    assert await _found(world, 'o"brien') == set()
    assert await _found(world, "%%%") == set()


async def test_phone_tails_are_still_found(world, people):
    assert await _found(world, "4567") == {"josefa"}


async def test_a_renamed_or_deleted_client_is_found_by_what_it_is_now(world, people):
    juan = people["juan"]
    await client_ops.update_client(
        world.luis, juan.id, ClientInput(name="Juana Pardo", company_name="Tejidos Ñandú")
    )
    assert await _found(world, "erez") == set()
    assert await _found(world, "ardo") == {"juana"}
    assert await _found(world, "nandu") == {"juana"}
    await client_ops.delete_client(world.luis, juan.id)
    assert await _found(world, "ardo") == set()
