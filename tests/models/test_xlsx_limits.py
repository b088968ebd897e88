"""An .xlsx that unpacks to far more than it weighs is refused, naming the cell, and never
costs the server's process its memory: the workbook is read in a child process whose
address space is bounded (models/importing/xlsx_reader.py)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from models.importing.readers import FileRejected, open_table
from tests.xlsx_bombs import workbook

UPLOAD_LIMIT = 2 << 20  # 2 MB: the reading child may take 512 + 64 MB


def _peak_rss_reset() -> None:
    """Start measuring this process's peak resident memory from now (Linux)."""
    Path("/proc/self/clear_refs").write_text("5")


def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _refusal(path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as err:
        open_table(path, max_bytes=UPLOAD_LIMIT)
    return err.value


def test_a_cell_of_a_hundred_million_characters_is_refused_by_name_in_little_memory(tmp_path):
    bomb = workbook(tmp_path / "bomba.xlsx", huge_string=100_000_000)
    assert bomb.stat().st_size < 200_000  # 0.1 MB on disk, 100 MB in one cell
    _peak_rss_reset()
    before = _memory_kb("VmRSS")
    err = _refusal(bomb)
    grown_mb = (_memory_kb("VmHWM") - before) / 1024
    assert err.message == "the file's cell B2 is larger than 10000 characters"
    assert (err.template, err.params) == (
        "the file's cell %(cell)s is larger than %(max)s characters",
        {"cell": "B2", "max": "10000"},
    )
    assert grown_mb < 32  # calamine alone would have taken some 300 MB here


def test_cells_longer_than_a_cell_may_be_are_named_wherever_their_text_is(tmp_path):
    shared = workbook(tmp_path / "largo.xlsx", rows=3, shared_chars=15_000)
    assert _refusal(shared).message == "the file's cell B2 is larger than 10000 characters"
    inline = workbook(tmp_path / "en-linea.xlsx", rows=4, inline=20_000)
    assert _refusal(inline).message == "the file's cell A3 is larger than 10000 characters"


def test_a_sheet_that_needs_more_memory_than_its_reader_has_is_too_large(tmp_path):
    # 100,000 rows showing one 9,000-character text: 0.7 MB that unpacks to 900 MB of cells.
    bomb = workbook(tmp_path / "amplio.xlsx", rows=100_000, shared_chars=9_000)
    assert bomb.stat().st_size < UPLOAD_LIMIT
    _peak_rss_reset()
    before = _memory_kb("VmRSS")
    assert _refusal(bomb).message == "the sheet is too large once unpacked"
    assert (_memory_kb("VmHWM") - before) / 1024 < 32  # the child took it, not this process


def test_an_archive_declaring_more_than_the_upload_may_unpack_to_is_refused_unread(tmp_path):
    # A 50 MB sheet packed into 50 kB: its size, as the archive declares it, is enough.
    bomb = workbook(tmp_path / "declarado.xlsx", rows=3, inline=50_000_000)
    with pytest.raises(FileRejected) as err:
        open_table(bomb, max_bytes=1 << 20)  # may unpack to 40 x 1 MB
    assert err.value.message == "the sheet is too large once unpacked"


def test_a_real_workbook_passes_and_its_preview_comes_from_the_check(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Nombre", "Teléfono"])
    for number in range(1, 31):
        book.active.append([f"Cliente {number}", f"+34 600 000 {number:03d}"])
    book.save(tmp_path / "clientes.xlsx")
    table = open_table(tmp_path / "clientes.xlsx", max_bytes=UPLOAD_LIMIT)
    assert (table.headers, table.total_rows) == (["Nombre", "Teléfono"], 30)
    assert table.preview is not None  # read by the checking child, not loaded again here
    assert table.head(2) == [
        (2, ["Cliente 1", "+34 600 000 001"]),
        (3, ["Cliente 2", "+34 600 000 002"]),
    ]
    assert sum(1 for _ in table.rows()) == 30
