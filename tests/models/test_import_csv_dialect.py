"""A CSV file's delimiter and encoding: found from the file, or named by the user (C9).

Files are written byte for byte as spreadsheets write them (Excel's ";" CSV in cp1252 with
quoted addresses, a UTF-8 BOM, tab-separated exports).
"""

from __future__ import annotations

import pytest

from models.importing import (
    FileRejected,
    create_import,
    dry_run_import,
    preview_import,
    run_import,
)
from models.importing.csv_dialect import sniff_delimiter
from tests.models.import_helpers import MAX_BYTES, client_named, e164s, import_file

# Excel (Spanish locale) "CSV (delimitado por comas)": ";" between cells, quotes around a
# cell holding a comma, Windows line ends.
EXCEL_SEMICOLON = (
    "Nombre;Teléfono;Dirección;Empresa\r\n"
    'Ana Gil;600111222;"Calle Mayor, 5";"Gil, Hermanos S.L."\r\n'
    'Luis Paz;600111333;"Av. del Sol, 7, 2º";\r\n'
)


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_a_semicolon_file_with_commas_inside_quotes_reads_as_its_columns(world, tmp_path):
    path = _write(tmp_path, "excel.csv", EXCEL_SEMICOLON.encode("utf-8"))
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert preview.delimiter == ";"
    assert preview.headers == ["Nombre", "Teléfono", "Dirección", "Empresa"]
    assert preview.rows[0] == ["Ana Gil", "600111222", "Calle Mayor, 5", "Gil, Hermanos S.L."]
    mapping = {"Nombre": "name", "Teléfono": "phones", "Empresa": "company_name"}
    batch = await import_file(path, mapping, user=world.ana)
    assert (batch.status, batch.created_count, batch.rejected_count) == ("done", 2, 0)
    ana = await client_named("Ana Gil")
    assert ana.company_name == "Gil, Hermanos S.L."
    assert e164s(ana) == ["+34600111222"]


async def test_the_same_file_in_windows_1252_keeps_its_accents(world, tmp_path):
    path = _write(tmp_path, "excel.csv", EXCEL_SEMICOLON.encode("cp1252"))
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert (preview.encoding, preview.delimiter) == ("cp1252", ";")
    assert preview.headers[1:3] == ["Teléfono", "Dirección"]
    assert preview.rows[1][2] == "Av. del Sol, 7, 2º"


async def test_a_utf8_file_with_a_bom_names_its_first_column_without_it(world, tmp_path):
    path = _write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + EXCEL_SEMICOLON.encode("utf-8"))
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert preview.headers[0] == "Nombre"
    assert preview.suggested["Nombre"] == "name"
    batch = await import_file(path, {"Nombre": "name", "Teléfono": "phones"}, user=world.ana)
    assert batch.created_count == 2


async def test_a_tab_separated_file_with_commas_and_semicolons_in_its_cells(world, tmp_path):
    text = (
        "Nombre\tTeléfono\tNotas\n"
        "Eva Ruiz\t+34 612 345 678\tllamar tarde; prefiere email, no SMS\n"
        "Pablo Sanz\t612 345 679\tcliente de 2019, Madrid\n"
    )
    path = _write(tmp_path, "export.tsv.csv", text.encode("utf-8"))
    preview = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert preview.delimiter == "\t"
    assert preview.rows[0] == [
        "Eva Ruiz",
        "+34 612 345 678",
        "llamar tarde; prefiere email, no SMS",
    ]


async def test_the_user_names_the_delimiter_and_encoding_the_file_does_not_make_clear(
    world, tmp_path
):
    # Every line holds one comma and one bar: read as "," unless the user says "|".
    text = "Etiquetas, varias|Nombre\nvip, Madrid|Sara Gómez\n"
    path = _write(tmp_path, "raro.csv", text.encode("cp1252"))
    found = await preview_import(path, kind="clients", max_bytes=MAX_BYTES)
    assert found.delimiter == ","
    chosen = await preview_import(
        path, kind="clients", max_bytes=MAX_BYTES, delimiter="|", encoding="latin-1"
    )
    assert chosen.headers == ["Etiquetas, varias", "Nombre"]
    assert chosen.rows == [["vip, Madrid", "Sara Gómez"]]
    batch = await import_file_read_as(path, {"Nombre": "name", "Etiquetas, varias": "tags"})
    assert (batch.status, batch.created_count) == ("done", 1), batch.error
    sara = await client_named("Sara Gómez")
    assert sorted(t.name for t in sara.tags) == ["Madrid", "vip"]
    counts = await dry_run_import(
        path, kind="clients", mapping={"Nombre": "name"}, max_bytes=MAX_BYTES, delimiter="pipe"
    )
    assert counts.processed_rows == 1 and counts.rejected == 0


async def import_file_read_as(path, mapping):
    batch = await create_import(
        None, path, kind="clients", mapping=mapping, max_bytes=MAX_BYTES, delimiter="|"
    )
    return await run_import(batch.id, max_bytes=MAX_BYTES)


async def test_a_wrong_choice_is_refused_saying_what_and_where(world, tmp_path):
    lines = ["Nombre;Movil"] + [f"Cliente {i};6001112{i:02d}" for i in range(20)]
    lines.append("José Núñez;600111299")
    path = _write(tmp_path, "c.csv", "\n".join(lines).encode("cp1252"))
    with pytest.raises(FileRejected) as err:
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES, encoding="utf-8")
    assert err.value.message == "line 22 is not utf-8 text: choose the file's encoding"
    with pytest.raises(FileRejected) as err:
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES, encoding="klingon")
    assert "unknown text encoding 'klingon'" in err.value.message
    with pytest.raises(FileRejected) as err:
        await preview_import(path, kind="clients", max_bytes=MAX_BYTES, delimiter="ab")
    assert "the delimiter must be one sign" in err.value.message


@pytest.mark.parametrize(
    ("sample", "complete", "expected"),
    [
        ('Nombre;Dirección\nAna;"Mayor, 5, 3º izq"\nLuis;"Sol, 7"\n', True, ";"),
        ('"Nombre"|"Etiquetas, varias"\n', True, "|"),  # a "," would cut a quoted cell
        ("Nombre,Teléfono\nAna,600\n", True, ","),
        ("Teléfono\n600111222\n", True, ","),  # one column
        # The sample ends inside a quoted cell: the lines before it still decide.
        ('Nombre;Notas\nAna;"uno, dos"\nLuis;"tres, cu', False, ";"),
    ],
)
def test_the_delimiter_is_read_from_the_header_and_confirmed_by_the_next_lines(
    sample, complete, expected
):
    assert sniff_delimiter(sample, complete=complete) == expected
