"""Reading an uploaded file as a table: CSV (any common delimiter and encoding) or .xlsx.

Everything that makes a file unusable is found here, before the import writes anything:
emptiness, size, a format that is neither CSV nor .xlsx, a broken or mixed encoding, no
header row, rows far wider than any real client list. Rows are then streamed one at a time,
so memory stays bounded whatever the file's length (calamine holds the sheet's cells in
compact Rust values; CSV is read line by line).
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import python_calamine

from models.core.errors import ValidationFailed
from models.core.labels import N_

# Wider than any real contact list: beyond it a file is a mistake, not data.
MAX_COLUMNS = 100
# A CSV field longer than this is not a contact detail (and the csv module refuses it).
MAX_FIELD_CHARS = 10_000
# How much an .xlsx may expand when unzipped, relative to the upload limit (zip bombs).
MAX_UNZIP_RATIO = 40
_SCAN_BLOCK = 1 << 20
_DELIMITERS = ",;\t|"
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LOOKS_LIKE_DATA = re.compile(r"^\+?[\d\s().-]{6,}$|@")

Cell = str | int | float | bool | date | datetime | time | timedelta | None


class FileRejected(ValidationFailed):
    """The file as a whole cannot be imported; the message says why.

    `template` is the English gettext msgid (marked with N_) and `params` its values, for
    the panel to say it in the reader's language; `message` is the English sentence.
    """

    def __init__(self, template: str, **params: str) -> None:
        message = template % params if params else template
        super().__init__({"file": message})
        self.message = message
        self.template = template
        self.params = params


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
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }

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


def open_table(path: Path, *, max_bytes: int) -> Table:
    """Check the file and read its header; FileRejected with a clear reason otherwise."""
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
    return _open_csv(path)


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
        return open_table(path, max_bytes=max_bytes)
    return Table(
        path,
        described["format"],
        list(described["headers"]),
        described["total_rows"],
        encoding=described["encoding"],
        delimiter=described["delimiter"],
        _row_offset=described["row_offset"],
        _col_offset=described["col_offset"],
    )


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 by their BOM, else UTF-8 if the whole file decodes, else Windows-1252
    (Latin-1 when it uses bytes 1252 leaves undefined). A file mixing UTF-8 with another
    encoding is refused: guessing would silently corrupt names."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        else:
            encoding = "utf-8"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            while block := handle.read(_SCAN_BLOCK):
                if b"\x00" in block:
                    raise FileRejected(
                        N_("the file is neither CSV nor an Excel .xlsx workbook (binary data)")
                    )
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError as err:
            bad_at = offset + err.start
    return _single_byte_encoding(path, bad_at, utf8_expected=encoding == "utf-8-sig")


def _single_byte_encoding(path: Path, bad_at: int, *, utf8_expected: bool) -> str:
    utf8_sequences = 0
    undefined_1252 = False
    line = 1
    with path.open("rb") as handle:
        position = 0
        while block := handle.read(_SCAN_BLOCK):
            if b"\x00" in block:
                raise FileRejected(
                    N_("the file is neither CSV nor an Excel .xlsx workbook (binary data)")
                )
            utf8_sequences += len(_UTF8_MULTIBYTE.findall(block))
            undefined_1252 = undefined_1252 or bool(_CP1252_UNDEFINED.search(block))
            if position <= bad_at:
                line += block.count(b"\n", 0, max(0, bad_at - position))
            position += len(block)
    if utf8_expected or utf8_sequences:
        raise FileRejected(
            N_(
                "broken text encoding: line %(line)s is not UTF-8 while other lines are; "
                "save the file again as UTF-8 CSV"
            ),
            line=str(line),
        )
    return "latin-1" if undefined_1252 else "cp1252"


def _sniff_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on irregular files: the delimiter most frequent in the header wins.
    counts = {d: lines[0].count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(path: Path) -> Table:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(64 * 1024)
    if _CONTROL.search(sample[:4096]) and len(_CONTROL.findall(sample[:4096])) > 8:
        raise FileRejected(N_("the file is neither CSV nor an Excel .xlsx workbook (binary data)"))
    if not sample.strip():
        raise FileRejected(N_("the file is empty"))
    delimiter = _sniff_delimiter(sample)
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
    finally:
        csv.field_size_limit(previous_limit)
    if headers is None:
        raise FileRejected(N_("the file is empty"))
    return Table(path, "csv", headers, total, encoding=encoding, delimiter=delimiter)


# --- xlsx ------------------------------------------------------------------------------------


def _first_sheet(workbook: python_calamine.CalamineWorkbook) -> python_calamine.CalamineSheet:
    for meta in workbook.sheets_metadata:
        if meta.visible == python_calamine.SheetVisibleEnum.Visible and (
            meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ):
            return workbook.get_sheet_by_name(meta.name)
    raise FileRejected(N_("the workbook has no visible worksheet"))


def _open_xlsx(path: Path, max_bytes: int) -> Table:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise FileRejected(N_("the .xlsx file is damaged (not a readable ZIP archive)")) from None
    if "xl/workbook.xml" not in names:
        raise FileRejected(N_("a ZIP archive that is not an Excel .xlsx workbook"))
    if unpacked > MAX_UNZIP_RATIO * max_bytes:
        raise FileRejected(N_("the workbook unpacks to far more data than its size allows"))
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
        start = sheet.start or (0, 0)
        first = next(iter(sheet.iter_rows()), None)
        if first is None:
            raise FileRejected(N_("the file is empty"))
        headers = _check_header([None] * start[1] + list(first))
        # Rows after the header, blank ones included: an upper bound for the progress bar.
        total = max(0, sheet.height - 1)
    except python_calamine.CalamineError as err:
        raise FileRejected(N_("the .xlsx file cannot be read: %(error)s"), error=str(err)) from None
    finally:
        workbook.close()
    return Table(path, "xlsx", headers, total, _row_offset=start[0] + 1, _col_offset=start[1])


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
