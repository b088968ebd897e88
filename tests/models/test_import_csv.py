"""Importing clients from CSV files as other programs write them (C9)."""

from __future__ import annotations

import pytest

from models.contacts import timeline_text
from models.importing import FileRejected, preview_import
from models.schema.activity import TimelineEntry
from models.schema.clients import Client, Phone
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, import_file, write_csv

HEADER = ["Nombre", "Teléfono", "Correo", "Empresa", "Etiquetas"]
MAPPING = {
    "Nombre": "name",
    "Teléfono": "phones",
    "Correo": "emails",
    "Empresa": "company_name",
    "Etiquetas": "tags",
}


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", "\t"), ("latin-1", ",")],
)
async def test_accented_names_survive_every_encoding_and_delimiter(
    world, tmp_path, encoding, delimiter
):
    path = write_csv(
        tmp_path / "clientes.csv",
        [
            HEADER,
            ["José Núñez", "+34 911 234 567", "JOSE@EXAMPLE.ES", "Ñandú S.L.", "vip, Madrid"],
            ["Begoña Ibáñez", "612345678", "", "", ""],
        ],
        encoding=encoding,
        delimiter=delimiter,
    )
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert preview.headers == HEADER
    assert preview.delimiter == delimiter
    assert preview.rows[0][0] == "José Núñez"
    assert preview.suggested == MAPPING

    batch = await import_file(path, preview.suggested, user=world.ana)

    assert batch.status == "done" and batch.created_count == 2 and batch.rejected_count == 0
    jose = await client_named("José Núñez")
    assert jose.company_name == "Ñandú S.L."
    assert e164s(jose) == ["+34911234567"]
    assert [e.address for e in jose.emails] == ["jose@example.es"]
    assert sorted(t.name for t in jose.tags) == ["Madrid", "vip"]
    assert jose.responsible_id == world.ana.id  # the importing user owns rows naming nobody
    begona = await client_named("Begoña Ibáñez")
    assert e164s(begona) == ["+34612345678"]  # read in the company's region (ES)


async def test_several_numbers_in_one_cell_all_land_on_the_client(world, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["name", "phone"], ["Ana Gil", "+44 20 7946 0958, 612 345 678; 0034 913 000 111"]],
    )
    await import_file(path, {"name": "name", "phone": "phones"})
    client = await client_named("Ana Gil")
    assert e164s(client) == ["+442079460958", "+34612345678", "+34913000111"]


async def test_an_unreadable_number_is_kept_flagged_not_dropped(world, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["Raro", "12"]])
    batch = await import_file(path, {"name": "name", "phone": "phones"})
    assert batch.created_count == 1
    phone = await Phone.get(client__name="Raro")
    assert phone.typed == "12" and phone.e164 is None and phone.is_valid is False


async def test_a_formula_in_a_csv_cell_is_kept_as_text(world, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "company"], ["=cmd|' /C calc'!A0", "@SUM(1,2)"]])
    await import_file(path, {"name": "name", "company": "company_name"})
    client = await Client.get()
    assert client.name == "=cmd|' /C calc'!A0" and client.company_name == "@SUM(1,2)"


async def test_rejected_rows_name_row_column_and_reason_and_the_rest_is_imported(world, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["name", "email", "status"],
            ["Good", "good@example.com", "activo"],
            ["", "", ""],
            ["Bad mail", "not-an-email", ""],
            ["Bad status", "", "frozen"],
            ["", "x@example.com", ""],
        ],
    )
    batch = await import_file(path, {"name": "name", "email": "emails", "status": "status"})
    assert (batch.created_count, batch.rejected_count) == (1, 3)
    reasons = {(r["row"], r["column"]): r["reason"] for r in batch.rejected}
    assert "not a valid email" in reasons[(4, "email")]
    assert "unknown status" in reasons[(5, "status")]
    assert "no name" in reasons[(6, "")]

    # Each reason is also kept as a message and its values, for the reader's language.
    from models.importing import rejection_reason
    from web.i18n import Catalogs

    spanish = Catalogs().get("es").gettext
    by_row = {r["row"]: r for r in batch.rejected}
    assert rejection_reason(by_row[5], spanish) == (
        "estado desconocido 'frozen' (activo, potencial o inactivo)"
    )
    assert rejection_reason(by_row[5]) == reasons[(5, "status")]  # no translator: English
    stored_before = {k: v for k, v in by_row[4].items() if k not in ("message", "params")}
    assert rejection_reason(stored_before, spanish) == reasons[(4, "email")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 binary", "neither CSV nor"),
        (b"\x00\x01\x02\x03" * 50, "neither CSV nor"),
        (b"\n\n\n", "empty"),
        (b"+34911234567,ana@example.com\n+34911234568,bea@example.com\n", "no header row"),
        (b"name,phone\nJos\xc3\xa9,1\nBeg\xf1a,2\n", "broken text encoding"),
        (b"name," + b",".join(b"c%d" % i for i in range(300)) + b"\n", "columns"),
    ],
)
async def test_bad_files_get_a_clear_answer_and_change_nothing(world, tmp_path, content, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as err:
        await import_file(path, {"name": "name"})
    assert reason in err.value.message
    assert await Client.all().count() == 0


async def test_a_data_row_with_hundreds_of_columns_refuses_the_file(world, tmp_path):
    rows = [["name", "phone"], ["Ana", "600000001"], ["Bea", *(["x"] * 300)]]
    path = write_csv(tmp_path / "wide.csv", rows)
    with pytest.raises(FileRejected, match="row 3 has 301 columns"):
        await import_file(path, {"name": "name"})
    assert await Client.all().count() == 0


async def test_a_file_over_the_size_limit_is_refused(world, tmp_path):
    path = write_csv(tmp_path / "big.csv", [["name"]] + [["x" * 100]] * 2000)
    with pytest.raises(FileRejected, match="over the limit"):
        await preview_import(path, kind="clients", max_bytes=100_000)


async def test_phones_a_spreadsheet_wrote_as_numbers_keep_their_digits_or_are_refused(
    world, tmp_path
):
    path = write_csv(
        tmp_path / "excel.csv",
        [
            ["name", "phone"],
            ["Dot zero", "34911234567.0"],
            ["Scientific", "3.4911234568E+10"],
            ["Rounded", "3.49112E+10"],
            ["Dotted", "91.1234569"],
        ],
        encoding="utf-16",
        delimiter="\t",
    )
    batch = await import_file(path, {"name": "name", "phone": "phones"})
    assert (batch.created_count, batch.rejected_count) == (3, 1)
    assert "lost digits" in batch.rejected[0]["reason"] and batch.rejected[0]["row"] == 4
    assert e164s(await client_named("Dot zero")) == ["+34911234567"]
    assert e164s(await client_named("Scientific")) == ["+34911234568"]
    assert e164s(await client_named("Dotted")) == ["+34911234569"]


async def test_a_file_changed_between_upload_and_run_is_checked_again(world, tmp_path):
    from models.importing import create_import, run_import

    path = write_csv(tmp_path / "c.csv", [HEADER, ["Ana", "600111222", "", "", ""]])
    batch = await create_import(
        world.ana, path, kind="clients", mapping=MAPPING, max_bytes=MAX_BYTES
    )
    assert batch.options["table"]["total_rows"] == 1
    # Replaced with another encoding and delimiter: read as it is now, not as described.
    write_csv(
        path,
        [HEADER, ["José", "600111222", "", "", ""], ["Íñigo", "600333444", "", "", ""]],
        encoding="cp1252",
        delimiter=";",
    )
    batch = await run_import(batch.id, max_bytes=MAX_BYTES)
    assert (batch.status, batch.total_rows, batch.created_count) == ("done", 2, 2)
    assert await Client.filter(name="Íñigo").exists()


async def test_every_field_of_an_imported_lead_reaches_the_database_intact(world, tmp_path):
    from models.schema.clients import CustomField, CustomFieldValue, Email
    from models.schema.leads import Lead

    field = await CustomField.create(key="dni", label="DNI", kind="text", applies_to="lead")
    name = 'Zoë "la jefa" O\\Brien\ttab \u2028 ñ 山田'
    path = write_csv(
        tmp_path / "leads.csv",
        [
            ["name", "phones", "emails", "company", "source", "dni"],
            [name, "+34 911 234 567, 600-111-222, 12", 'a"b@x.es', "Cía \\ S.L.", "€", "x\u0001y"],
        ],
    )
    mapping = {
        "name": "name",
        "phones": "phones",
        "emails": "emails",
        "company": "company_name",
        "source": "utm_source",
        "dni": f"custom.{field.key}",
    }
    batch = await import_file(path, mapping, user=world.ana, kind="leads")
    assert (batch.status, batch.created_count) == ("done", 1), batch.error
    lead = await Lead.get(name=name)
    assert (lead.company_name, lead.utm_source, lead.utm_medium) == ("Cía \\ S.L.", "€", "")
    assert (lead.status, lead.source, lead.responsible_id) == ("open", "import", world.ana.id)
    phones = await Phone.filter(lead_id=lead.id).order_by("position")
    assert [(p.typed, p.e164, p.digits_rev, p.is_valid, p.position) for p in phones] == [
        ("+34 911 234 567", "+34911234567", "76543211943", True, 0),
        ("600-111-222", "+34600111222", "22211100643", True, 1),
        ("12", None, "21", False, 2),  # kept as typed, flagged, never dropped
    ]
    assert await Email.filter(lead_id=lead.id).values_list("address", flat=True) == ['a"b@x.es']
    value = await CustomFieldValue.get(lead_id=lead.id, field_id=field.id)
    assert value.value == "x\u0001y"


async def test_quotes_backslashes_and_control_characters_reach_the_database_intact(world, tmp_path):
    from models.contacts import clients as client_ops

    name = 'Zoë "la jefa" O\\Brien\ttab \u2028 山田'
    path = write_csv(
        tmp_path / "q.csv",
        [HEADER, [name, "600 111 222", 'a"b@x.es', "Cía \\ S.L.", 'vip, "q"']],
    )
    batch = await import_file(path, MAPPING, user=world.ana)
    assert batch.status == "done", batch.error
    client = await client_named(name)
    assert client.company_name == "Cía \\ S.L."
    assert [e.address for e in client.emails] == ['a"b@x.es']
    assert sorted(t.name for t in client.tags) == ['"q"', "vip"]
    assert client.company_key == "cia \\ s.l."
    for part in ('"la jefa" o\\bri', "cía \\ s.", "tab 山田"):
        rows, _ = await client_ops.list_clients(world.ana, query=part)
        assert [r.id for r in rows] == [client.id], part


async def test_an_imported_client_reads_in_the_viewers_language(world, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["Nombre"], ['Zoë "Z" O\'Hara']])
    batch = await import_file(path, {"Nombre": "name"}, user=world.ana)
    assert batch.created_count == 1
    client = await client_named('Zoë "Z" O\'Hara')
    entry = await TimelineEntry.get(client_id=client.id)
    assert entry.detail == {"msg": "client_imported", "name": 'Zoë "Z" O\'Hara'}
    assert entry.summary == 'Client imported: Zoë "Z" O\'Hara'
    spanish = {"Client imported: %(name)s": "Cliente importado: %(name)s"}
    text = timeline_text.render(entry.detail, entry.summary, lambda m: spanish.get(m, m))
    assert text == 'Cliente importado: Zoë "Z" O\'Hara'
