"""`centralita import | import-cancel | export` end to end: the real CLI in a child process.

A child process (running daemon.cli.main) because the commands open and close Tortoise for
themselves; the database URL comes from CENTRALITA_DATABASE__URL as an operator would set it.
"""

from __future__ import annotations

import csv

import openpyxl

from tests.daemon.test_cli_demo import centralita, cli_db  # noqa: F401  (fixture)


def _write_csv(path, rows, encoding="utf-8", delimiter=";"):
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


async def test_import_dry_run_import_export_and_cancel(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    source = _write_csv(
        tmp_path / "clientes.csv",
        [
            ["Nombre", "Número", "Correo", "Empresa"],
            ["José Núñez", "+34 911 234 567, 612 345 678", "jose@example.es", "Ñandú"],
            ["Sin datos", "", "mal-correo", ""],
            ["Begoña", "600 000 001", "", "=1+2"],
        ],
        encoding="cp1252",
    )
    dry = centralita(tmp_path, url, "import", str(source), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Nombre=name, Número=phones, Correo=emails, Empresa=company_name" in dry.stdout
    assert "3 rows: 2 would be created" in dry.stdout and "1 rejected" in dry.stdout
    assert "row 3, column Correo: not a valid email address: 'mal-correo'" in dry.stdout
    assert await query("SELECT COUNT(*) FROM client") == [(0,)]
    assert await query("SELECT COUNT(*) FROM import_batch") == [(0,)]

    rejected = tmp_path / "rejected.csv"
    done = centralita(
        tmp_path,
        url,
        "import",
        str(source),
        "--map",
        "Nombre=name,Número=phone,Correo=email,Empresa=company",
        "--rejected-csv",
        str(rejected),
    )
    assert done.returncode == 0, done.stderr
    assert "2 were created" in done.stdout and "import 1 done" in done.stdout
    assert sorted(await query("SELECT e164 FROM phone")) == [
        ("+34600000001",),
        ("+34612345678",),
        ("+34911234567",),
    ]
    assert (
        rejected.read_text(encoding="utf-8-sig")
        .splitlines()[1]
        .startswith("3,Correo,not a valid email")
    )

    out = tmp_path / "export.xlsx"
    exported = centralita(tmp_path, url, "export", "clients", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["José Núñez", "Begoña"]
    assert rows[2][4] == "=1+2"  # text, as imported; never a formula

    listed = centralita(tmp_path, url, "import-list")
    assert "done" in listed.stdout and "clientes.csv" in listed.stdout

    cancelled = centralita(tmp_path, url, "import-cancel", "1")
    assert cancelled.returncode == 0, cancelled.stderr
    assert await query("SELECT COUNT(*) FROM client") == [(0,)]
    assert await query("SELECT status FROM import_batch") == [("cancelled",)]
    again = centralita(tmp_path, url, "import-cancel", "1")
    assert again.returncode == 2 and "already cancelled" in again.stderr


async def test_bad_input_gets_a_clear_answer(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = centralita(tmp_path, url, "import", str(empty), "--map", "a=name")
    assert result.returncode == 2 and "file: the file is empty" in result.stderr

    ok = _write_csv(tmp_path / "ok.csv", [["name"], ["Ana"]], delimiter=",")
    result = centralita(tmp_path, url, "import", str(ok), "--map", "name=shoe_size")
    assert result.returncode == 2 and "unknown field 'shoe_size'" in result.stderr

    result = centralita(tmp_path, url, "import", str(ok), "--map", "name=name", "--user", "nobody")
    assert result.returncode == 2 and "no active user named 'nobody'" in result.stderr
    assert await query("SELECT COUNT(*) FROM import_batch") == [(0,)]

    result = centralita(tmp_path, url, "export", "clients", "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 2 and "--format" in result.stderr


async def test_the_delimiter_and_encoding_can_be_named_on_the_command_line(tmp_path, cli_db):  # noqa: F811
    url, query = cli_db
    source = tmp_path / "raro.csv"
    source.write_bytes("Etiquetas, varias|Nombre\nvip, Madrid|Sara Gómez\n".encode("cp1252"))
    found = centralita(tmp_path, url, "import", str(source), "--map", "Nombre=name", "--dry-run")
    assert found.returncode == 2
    assert "Nombre: no such column; columns: Etiquetas, varias|Nombre" in found.stderr

    named = centralita(
        tmp_path, url, "import", str(source), "--delimiter", "|", "--encoding", "cp1252"
    )
    assert named.returncode == 0, named.stderr
    assert "1 rows: 1 were created" in named.stdout
    assert await query("SELECT name FROM client") == [("Sara Gómez",)]

    wrong = centralita(tmp_path, url, "import", str(source), "--encoding", "utf-8")
    assert wrong.returncode == 2
    assert "file: line 2 is not utf-8 text: choose the file's encoding" in wrong.stderr
