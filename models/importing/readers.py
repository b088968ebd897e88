"""Reading an uploaded file as a table: CSV (any common delimiter and encoding) or .xlsx.

Everything that makes a file unusable is found here, before the import writes anything:
emptiness, size, a format that is neither CSV nor .xlsx, a broken or mixed encoding, no
header row, rows far wider than any real client list. Rows are then streamed one at a time,
so memory stays bounded whatever the file's length (calamine holds the sheet's cells in
compact Rust values; CSV is read line by line). An .xlsx is checked first in a child process
with bounded memory (xlsx_reader.py): a decompression bomb never reaches this process.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import python_calamine

from models.core.labels import N_
from models.importing.csv_dialect import (
    chosen_delimiter,
    chosen_encoding,
    detect_encoding,
    refused_by_encoding,
    sniff_delimiter,
)

# Re-exported: the readers' refusal of a file, shared with the CSV dialect's.
from models.importing.file_errors import FileRejected as FileRejected
from models.importing.xlsx_reader import (
    MAX_CELL_CHARS,
    XlsxSheet,
    cell_name,
    open_xlsx,
    too_long,
)

# Wider than any real contact list: beyond it a file is a mistake, not data.
MAX_COLUMNS = 100
# A CSV field longer than this is not a contact detail (and the csv module refuses it).
MAX_FIELD_CHARS = 10_000
# Data rows an .xlsx check keeps for the preview (the mapping page shows ten).
KEPT_ROWS = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LOOKS_LIKE_DATA = re.compile(r"^\+?[\d\s().-]{6,}$|@")
_SAMPLE_CHARS = 64 * 1024

Cell = str | int | float | bool | date | datetime | time | timedelta | None


@dataclass
class Table:
    """An opened, checked file: its header and a way to stream its data rows."""

    path: Path
    format: str  # csv|xlsx
    headers: list[str]
    total_rows: int
    encoding: str | None = None
    delimiter: str | None = None
    _row_offset: int = field(default=1, repr=False)
    _col_offset: int = field(default=0, repr=False)
    # What the user chose instead of what the reader would find (CSV: delimiter, encoding).
    chosen: dict[str, str] = field(default_factory=dict)
    # An .xlsx's first data rows, read by its check (in a child process; see `head`).
    preview: list[tuple[int, list[Cell]]] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """What `reopen_table` needs to skip checking the same file again (JSON-safe)."""
        stat = self.path.stat()
        return {
            "format": self.format,
            "headers": self.headers,
            "total_rows": self.total_rows,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "row_offset": self._row_offset,
            "col_offset": self._col_offset,
            "chosen": self.chosen,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }

    def head(self, count: int) -> list[tuple[int, list[Cell]]]:
        """The first `count` data rows: those the check kept when it read them (an .xlsx:
        then the server's process does not load the workbook for a preview), else read."""
        if self.preview is not None and count <= KEPT_ROWS:
            return self.preview[:count]
        rows = self.rows()
        try:
            return [row for _, row in zip(range(count), rows, strict=False)]
        finally:
            rows.close()

    def rows(self) -> Generator[tuple[int, list[Cell]], None, None]:
        """(row number as the user sees it, cells) of each non-blank data row; header is row 1."""
        if self.format == "csv":
            yield from self._csv_rows()
        else:
            yield from self._xlsx_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter or ",")
            next(reader, None)
            for number, record in enumerate(reader, start=2):
                if any(cell.strip() for cell in record):
                    yield number, list(record)

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        workbook = python_calamine.CalamineWorkbook.from_path(str(self.path))
        try:
            sheet = _first_sheet(workbook)
            rows = sheet.iter_rows()
            next(rows, None)
            for index, record in enumerate(rows, start=self._row_offset + 1):
                if any(not _blank(cell) for cell in record):
                    yield index, [None] * self._col_offset + list(record)
        finally:
            workbook.close()


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def open_table(
    path: Path, *, max_bytes: int, delimiter: str | None = None, encoding: str | None = None
) -> Table:
    """Check the file and read its header; FileRejected with a clear reason otherwise.

    A CSV file's `delimiter` and `encoding` are found unless given (csv_dialect.py).
    """
    try:
        size = path.stat().st_size
    except OSError as err:
        raise FileRejected(
            N_("the file cannot be read: %(error)s"), error=str(err.strerror)
        ) from None
    if size == 0:
        raise FileRejected(N_("the file is empty"))
    if size > max_bytes:
        limit = max_bytes / (1 << 20)
        raise FileRejected(
            N_("the file is %(size)s MB, over the limit of %(limit)s MB"),
            size=f"{size / (1 << 20):.1f}",
            limit=f"{limit:g}",
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, max_bytes)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            N_("this is an old Excel (.xls) or other Office file: save it as .xlsx or CSV")
        )
    if head.startswith(
        (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z")
    ):
        raise FileRejected(N_("the file is neither CSV nor an Excel .xlsx workbook"))
    return _open_csv(path, delimiter=delimiter, encoding=encoding)


def reopen_table(path: Path, described: dict[str, Any] | None, *, max_bytes: int) -> Table:
    """The table `open_table` found in this file before (`Table.describe`), without reading
    the whole file again (a second pass over 100,000 rows, or a second load of a workbook);
    checked again from scratch when the file has changed since, or was never described."""
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if (
        described is None
        or stat is None
        or (stat.st_size, stat.st_mtime_ns) != (described["size"], described["mtime_ns"])
        or stat.st_size > max_bytes
    ):
        return open_table(path, max_bytes=max_bytes, **(described or {}).get("chosen", {}))
    return Table(
        path,
        described["format"],
        list(described["headers"]),
        described["total_rows"],
        encoding=described["encoding"],
        delimiter=described["delimiter"],
        _row_offset=described["row_offset"],
        _col_offset=described["col_offset"],
        chosen=dict(described.get("chosen", {})),
    )


# --- CSV -------------------------------------------------------------------------------------


def _open_csv(path: Path, *, delimiter: str | None, encoding: str | None) -> Table:
    delimiter, encoding = chosen_delimiter(delimiter), chosen_encoding(encoding)
    chosen = {k: v for k, v in (("delimiter", delimiter), ("encoding", encoding)) if v}
    encoding = encoding or detect_encoding(path)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(_SAMPLE_CHARS)
            complete = not handle.read(1)
    except UnicodeDecodeError:
        raise refused_by_encoding(path, encoding) from None
    if _CONTROL.search(sample[:4096]) and len(_CONTROL.findall(sample[:4096])) > 8:
        raise FileRejected(N_("the file is neither CSV nor an Excel .xlsx workbook (binary data)"))
    if not sample.strip():
        raise FileRejected(N_("the file is empty"))
    delimiter = delimiter or sniff_delimiter(sample, complete=complete)
    headers: list[str] | None = None
    total = 0
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            number = 0
            for number, record in enumerate(reader, start=1):  # noqa: B007
                if len(record) > MAX_COLUMNS:
                    raise FileRejected(
                        N_(
                            "row %(row)s has %(columns)s columns (at most %(max)s): "
                            "is the delimiter right?"
                        ),
                        row=str(number),
                        columns=str(len(record)),
                        max=str(MAX_COLUMNS),
                    )
                if headers is None:
                    headers = _check_header(record)
                elif any(cell.strip() for cell in record):
                    total += 1
    except csv.Error as err:
        raise FileRejected(
            N_("row %(row)s cannot be read as CSV: %(error)s"), row=str(number + 1), error=str(err)
        ) from None
    except UnicodeDecodeError:
        raise refused_by_encoding(path, encoding) from None
    finally:
        csv.field_size_limit(previous_limit)
    if headers is None:
        raise FileRejected(N_("the file is empty"))
    return Table(path, "csv", headers, total, encoding=encoding, delimiter=delimiter, chosen=chosen)


# --- xlsx ------------------------------------------------------------------------------------


def _first_sheet(workbook: python_calamine.CalamineWorkbook) -> python_calamine.CalamineSheet:
    for meta in workbook.sheets_metadata:
        if meta.visible == python_calamine.SheetVisibleEnum.Visible and (
            meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ):
            return workbook.get_sheet_by_name(meta.name)
    raise FileRejected(N_("the workbook has no visible worksheet"))


def _open_xlsx(path: Path, max_bytes: int) -> Table:
    """A workbook checked in a child process with bounded memory (xlsx_reader.py): the
    server's process never loads one that did not pass."""
    sheet = open_xlsx(path, max_bytes=max_bytes, preview_rows=KEPT_ROWS)
    return Table(
        path,
        "xlsx",
        sheet.headers,
        sheet.total_rows,
        _row_offset=sheet.row_offset,
        _col_offset=sheet.col_offset,
        preview=sheet.preview,
    )


def read_xlsx_header(path: Path, preview_rows: int) -> XlsxSheet:
    """In the checking child (xlsx_reader.py): the first visible sheet's header, its row
    count and first `preview_rows` data rows; every cell longer than MAX_CELL_CHARS refused,
    named. Run where memory is bounded: calamine builds the whole sheet in memory."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as err:  # calamine raises several unrelated types for damaged files
        raise FileRejected(N_("the .xlsx file cannot be read: %(error)s"), error=str(err)) from None
    try:
        sheet = _first_sheet(workbook)
        if sheet.width > MAX_COLUMNS:
            raise FileRejected(
                N_("the sheet %(sheet)s is %(columns)s columns wide (at most %(max)s)"),
                sheet=repr(sheet.name),
                columns=str(sheet.width),
                max=str(MAX_COLUMNS),
            )
        top, left = sheet.start or (0, 0)
        preview: list[tuple[int, list[Cell]]] = []
        headers: list[str] = []
        for number, record in enumerate(sheet.iter_rows(), start=top + 1):
            for column, cell in enumerate(record, start=left + 1):
                if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                    raise too_long(cell_name(number, column))
            cells = [None] * left + list(record)
            if number == top + 1:
                headers = _check_header(cells)
            elif len(preview) < preview_rows and any(not _blank(c) for c in record):
                preview.append((number, cells))
        if number_of_rows := sheet.height:
            # Rows after the header, blank ones included: an upper bound for the progress bar.
            total = max(0, number_of_rows - 1)
        else:
            raise FileRejected(N_("the file is empty"))
    except python_calamine.CalamineError as err:
        raise FileRejected(N_("the .xlsx file cannot be read: %(error)s"), error=str(err)) from None
    finally:
        workbook.close()
    return XlsxSheet(headers, total, top + 1, left, preview)


# --- header ----------------------------------------------------------------------------------


def _check_header(record: Sequence[Cell]) -> list[str]:
    """The column names, made unique; FileRejected when the first row is not a header."""
    if not any(not _blank(cell) for cell in record):
        raise FileRejected(N_("no header row: the first row must name the columns"))
    for cell in record:
        if isinstance(cell, int | float | date | datetime) or (
            isinstance(cell, str) and _LOOKS_LIKE_DATA.search(cell.strip())
        ):
            raise FileRejected(
                N_("no header row: the first row holds data (%(value)s), it must name the columns"),
                value=repr(str(cell)[:40]),
            )
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(record, start=1):
        name = str(cell).strip()[:100] if not _blank(cell) else f"Column {index}"
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        headers.append(name if count == 1 else f"{name} ({count})")
    while headers and headers[-1].startswith("Column ") and _blank(record[len(headers) - 1]):
        headers.pop()
    return headers
