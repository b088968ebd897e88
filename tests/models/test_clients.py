import pytest

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.contacts.timeline import client_timeline
from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


async def test_client_without_name_is_refused_with_a_field_message(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await client_ops.create_client(world.luis, ClientInput(name="  "), clock=clock)
    assert "name" in err.value.fields


async def test_phones_are_normalised_in_the_company_region(world, clock):
    client = await client_ops.create_client(
        world.luis,
        ClientInput(name="Pedro Ruiz", phones=["91 123 45 67", "+44 20 7946 0958", "12"]),
        clock=clock,
    )
    full = await client_ops.get_client(world.luis, client.id)
    phones = {p.typed: p for p in full.phones}
    assert phones["91 123 45 67"].e164 == "+34911234567"
    assert phones["+44 20 7946 0958"].e164 == "+442079460958"
    assert phones["12"].e164 is None and phones["12"].is_valid is False  # kept, flagged
    assert full.responsible_id == world.luis.id
    assert [e.kind for e in await client_timeline(world.luis, client.id)] == ["client"]


async def test_a_number_of_another_client_is_refused_naming_it_only_to_who_may_see_it(
    world, clock
):
    pedro = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro Ruiz", phones=["911234567"]), clock=clock
    )
    with pytest.raises(Conflict) as err:
        await client_ops.create_client(
            world.marta, ClientInput(name="Otro", phones=["+34 911 23 45 67"]), clock=clock
        )
    assert str(err.value) == "the number +34911234567 already belongs to another client"
    assert err.value.field == "phones"
    for viewer in (world.luis, world.ana):  # its responsible, and an admin
        with pytest.raises(Conflict) as err:
            await client_ops.create_client(
                viewer, ClientInput(name="Otro", phones=["911 234 567"]), clock=clock
            )
        assert str(err.value) == (
            f"the number +34911234567 belongs to the client Pedro Ruiz (#{pedro.id})"
        )


async def test_emails_lower_cased_and_bad_ones_refused(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Eva", emails=["Eva@Example.COM"]), clock=clock
    )
    full = await client_ops.get_client(world.luis, client.id)
    assert [e.address for e in full.emails] == ["eva@example.com"]
    with pytest.raises(ValidationFailed) as err:
        await client_ops.create_client(
            world.luis, ClientInput(name="Bad", emails=["not-an-email"]), clock=clock
        )
    assert "emails" in err.value.fields


async def test_agent_cannot_open_another_agents_client(world, clock):
    client = await client_ops.create_client(world.marta, ClientInput(name="De Marta"), clock=clock)
    # Answered as if there were no such client.
    with pytest.raises(NotFound, match=f"^client {client.id} not found$"):
        await client_ops.get_client(world.luis, client.id)
    with pytest.raises(NotFound, match=f"^client {client.id} not found$"):
        await client_ops.update_client(world.luis, client.id, ClientInput(name="Mío"))
    assert (await client_ops.get_client(world.ana, client.id)).name == "De Marta"
    rows, total = await client_ops.list_clients(world.luis)
    assert total == 0 and rows == []
    with pytest.raises(NotFound):
        await client_ops.get_client(world.luis, 999999)


async def test_universal_search(world, clock):
    pedro = await client_ops.create_client(
        world.luis,
        ClientInput(
            name="Pedro Ruiz",
            phones=["911234567"],
            emails=["pedro@ruiz.es"],
            company_name="Ruiz Hermanos",
            tags=["VIP"],
        ),
        clock=clock,
    )
    await client_ops.create_client(
        world.luis, ClientInput(name="Álvaro Núñez", phones=["+34 600 111 222"]), clock=clock
    )

    async def ids(query=None, **kw):
        rows, total = await client_ops.list_clients(world.luis, query=query, **kw)
        assert total == len(rows)
        return [r.id for r in rows]

    assert await ids("4567") == [pedro.id]  # last digits
    assert await ids("+34 911 234 567") == [pedro.id]  # another format of the number
    assert await ids("0034911234567") == [pedro.id]
    assert await ids("PEDRO@ruiz.es") == [pedro.id]
    assert await ids("ped") == [pedro.id]  # name prefix
    assert await ids("ruiz") == [pedro.id]  # a later word of the name
    assert await ids("Pedro Ruiz") == [pedro.id]
    assert await ids("ruiz ped") == [pedro.id]  # words in any order
    assert await ids("pedro gomez") == []
    assert await ids("Hermanos") == [pedro.id]  # company
    assert await ids("VIP") == [pedro.id]  # tag
    assert await ids(tag="VIP") == [pedro.id]
    assert len(await ids("alvaro")) == 1  # accents do not matter
    assert await ids("99999") == []


async def test_custom_fields_are_checked_by_kind(world, clock):
    await client_ops.define_custom_field(world.ana, "birthday", "Birthday", "date")
    await client_ops.define_custom_field(
        world.ana, "plan", "Plan", "choice", choices=["basic", "pro"]
    )
    await client_ops.define_custom_field(world.ana, "seats", "Seats", "number")
    with pytest.raises(PermissionDenied):
        await client_ops.define_custom_field(world.luis, "x", "X")
    with pytest.raises(ValidationFailed) as err:
        await client_ops.create_client(
            world.luis,
            ClientInput(
                name="C", custom={"birthday": "yesterday", "plan": "gold", "seats": "many"}
            ),
            clock=clock,
        )
    assert set(err.value.fields) == {"custom.birthday", "custom.plan", "custom.seats"}
    client = await client_ops.create_client(
        world.luis,
        ClientInput(name="C", custom={"birthday": "1990-05-01", "plan": "pro", "seats": "12"}),
        clock=clock,
    )
    full = await client_ops.get_client(world.luis, client.id)
    assert full.custom == {"birthday": "1990-05-01", "plan": "pro", "seats": "12"}


async def test_update_and_delete(world, clock):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro", phones=["911234567"], tags=["a"]), clock=clock
    )
    updated = await client_ops.update_client(
        world.luis,
        client.id,
        ClientInput(name="Pedro Ruiz", phones=["911234567", "600111222"], tags=["b"]),
    )
    assert updated.name == "Pedro Ruiz"
    assert [p.e164 for p in updated.phones] == ["+34911234567", "+34600111222"]
    assert [t.name for t in updated.tags] == ["b"]
    with pytest.raises(NotFound):
        await client_ops.delete_client(world.marta, client.id)
    await client_ops.delete_client(world.luis, client.id)
    with pytest.raises(NotFound):
        await client_ops.get_client(world.luis, client.id)


async def test_clients_written_in_bulk_are_searchable_at_once(world, clock):
    """Rows written straight to the table (an import, demo data) need no indexing step: the
    database's own search index follows the table."""
    from models.schema.clients import Client

    await client_ops.create_client(world.luis, ClientInput(name="Indexed One"), clock=clock)
    await Client.bulk_create(
        [
            Client(
                name=f"Bulk Gómez {i}",
                name_key=f"bulk gomez {i}",
                company_name="Óptica Sur",
                company_key="optica sur",
                responsible_id=world.luis.id,
            )
            for i in range(3)
        ]
    )
    assert (await client_ops.list_clients(world.luis, query="gomez"))[1] == 3
    assert (await client_ops.list_clients(world.luis, query="ÓPTICA"))[1] == 3


async def test_tag_filter_pages_newest_first_with_exact_totals(world, clock):
    """The admin's tag list reads client_tag directly; an agent's goes through their scope."""
    tagged, luis_tagged = [], []
    for i in range(7):
        client = await client_ops.create_client(
            world.luis if i % 2 else world.ana,
            ClientInput(name=f"Cliente {i}", tags=["Norte"] if i != 3 else ["Sur"]),
            clock=clock,
        )
        if i != 3:
            tagged.append(client.id)
            if i % 2:
                luis_tagged.append(client.id)
    newest_first = sorted(tagged, reverse=True)

    rows, total = await client_ops.list_clients(world.ana, tag="Norte", limit=4)
    assert (total, [r.id for r in rows]) == (6, newest_first[:4])
    rows, total = await client_ops.list_clients(world.ana, tag="Norte", limit=4, offset=4)
    assert (total, [r.id for r in rows]) == (6, newest_first[4:])
    assert [t.name for t in rows[0].tags] == ["Norte"]  # the page comes with its tags
    assert await client_ops.list_clients(world.ana, tag="nadie") == ([], 0)

    rows, total = await client_ops.list_clients(world.luis, tag="Norte", mine=True)
    assert (total, [r.id for r in rows]) == (2, sorted(luis_tagged, reverse=True))
