"""One rule for what a phone number is (C2, E2, C9, L3, Q1): the client and lead forms, the
import, the widget's "save caller" and the dialer refuse the same texts with the same words,
and keep the same incomplete numbers flagged."""

from __future__ import annotations

import pytest

from models.contacts import clients as client_ops
from models.contacts.clients import ClientInput
from models.core.errors import ValidationFailed
from models.sales import leads as lead_ops
from models.sales.leads import LeadInput
from models.schema.clients import Phone
from models.schema.dialer import DialerEntry
from models.telephony import dialer as dialer_ops
from models.telephony.live_board import save_caller
from tests.models.import_helpers import import_file, write_csv
from web.i18n import Catalogs

REFUSED_EN = "Phone: “abc123” is not a phone number"
REFUSED_ES = "Teléfono: «abc123» no es un número de teléfono"


def _refusal(err: ValidationFailed, field: str) -> tuple[str, str]:
    message = err.fields[field]
    return str(message), message.in_language("es")


async def test_the_client_form_refuses_a_text_that_is_no_phone_naming_field_and_text(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await client_ops.create_client(
            world.luis,
            ClientInput(name="Pedro", phones=["600 111 222", "abc123"], emails=["mal"]),
            clock=clock,
        )
    assert _refusal(err.value, "phones") == (REFUSED_EN, REFUSED_ES)
    assert "emails" in err.value.fields  # every mistake of the form at once
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Pedro", phones=["600 111 222"]), clock=clock
    )
    with pytest.raises(ValidationFailed) as err:
        await client_ops.update_client(
            world.luis, client.id, ClientInput(name="Pedro", phones=["abc123"])
        )
    assert _refusal(err.value, "phones") == (REFUSED_EN, REFUSED_ES)


async def test_the_lead_form_refuses_it_the_same_way(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await lead_ops.create_lead(world.luis, LeadInput(name="", phones=["abc123"]), clock=clock)
    assert err.value.fields == {"phones": REFUSED_EN}  # not also "the lead needs a name"
    lead = await lead_ops.create_lead(world.luis, LeadInput(name="Eva"), clock=clock)
    with pytest.raises(ValidationFailed) as err:
        await lead_ops.update_lead(world.luis, lead.id, LeadInput(name="Eva", phones=["abc123"]))
    assert _refusal(err.value, "phones") == (REFUSED_EN, REFUSED_ES)


async def test_the_import_rejects_the_row_with_the_same_words(world, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["Nombre", "Teléfono"], ["Ana Gil", "abc123"], ["Luis Paz", "600 111 333"]],
    )
    batch = await import_file(path, {"Nombre": "name", "Teléfono": "phones"})
    assert (batch.created_count, batch.rejected_count) == (1, 1)
    [rejected] = batch.rejected
    assert (rejected["row"], rejected["column"], rejected["reason"]) == (2, "Teléfono", REFUSED_EN)
    spanish = Catalogs().get("es").gettext(rejected["message"]) % rejected["params"]
    assert spanish == REFUSED_ES


async def test_the_dialer_refuses_a_typed_text_that_is_no_phone(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await dialer_ops.create_list(
            world.luis, "mixed", clock=clock, numbers=["600111222", "abc123"]
        )
    assert _refusal(err.value, "numbers") == (REFUSED_EN, REFUSED_ES)
    assert await DialerEntry.all().count() == 0


async def test_saving_a_caller_refuses_it_too(world, clock):
    with pytest.raises(ValidationFailed) as err:
        await save_caller(
            world.luis, linkedid="in-1", number="abc123", kind="lead", name="X", clock=clock
        )
    assert _refusal(err.value, "number") == (REFUSED_EN, REFUSED_ES)
    with pytest.raises(ValidationFailed) as err:
        await save_caller(
            world.luis, linkedid="in-2", number="12", kind="lead", name="X", clock=clock
        )
    assert _refusal(err.value, "number") == (
        "Phone: “12” is not a complete number",
        "Teléfono: «12» no es un número completo",
    )


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(91) 123-45-67", "+34911234567"),
        ("91.123.45.67", "+34911234567"),
        ("0034 911 234 567", "+34911234567"),
        ("911 234 567 ext. 12", "+34911234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("12", None),  # written like a number but incomplete: kept as typed, flagged
    ],
)
async def test_numbers_written_as_people_write_them_are_kept_by_form_and_import_alike(
    world, clock, tmp_path, typed, e164
):
    client = await client_ops.create_client(
        world.luis, ClientInput(name="Por formulario", phones=[typed]), clock=clock
    )
    by_form = await Phone.get(client_id=client.id)
    assert (by_form.typed, by_form.e164, by_form.is_valid) == (typed, e164, e164 is not None)
    await client_ops.delete_client(world.luis, client.id)  # the import would skip its number
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["Por importación", typed]])
    batch = await import_file(path, {"name": "name", "phone": "phones"})
    assert batch.created_count == 1, batch.rejected
    by_import = await Phone.get(client__name="Por importación")
    assert (by_import.typed, by_import.e164, by_import.is_valid) == (typed, e164, e164 is not None)


@pytest.mark.parametrize(
    "typed", ["abc123", "sin número", "+1 800 FLOWERS", "911+234", "tel 600111222"]
)
async def test_texts_that_are_no_phone_are_refused_by_form_and_import_alike(
    world, clock, tmp_path, typed
):
    with pytest.raises(ValidationFailed) as err:
        await client_ops.create_client(
            world.luis, ClientInput(name="X", phones=[typed]), clock=clock
        )
    expected = f"Phone: “{typed}” is not a phone number"
    assert err.value.fields["phones"] == expected
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["Y", typed]])
    batch = await import_file(path, {"name": "name", "phone": "phones"})
    assert [r["reason"] for r in batch.rejected] == [expected]
