"""Opening an uploaded .xlsx without letting it take the server's memory (zip bombs).

A workbook is a ZIP archive of XML, and XML of one repeated letter packs a thousand to one: a
0.8 MB upload can hold a cell of 800 million characters, which calamine would build in memory
(3 GB) while the server waits. So, cheapest first:
1. each member's size as the archive declares it, and their sum, against the upload limit;
2. the shared strings (the texts of the cells) are streamed, never held, looking for one
   longer than a cell may be: refused at once, naming the cell that shows it;
3. calamine then reads the workbook in a child process whose memory is bounded
   (processes.py): it reads the header, counts the rows, keeps the preview rows and checks
   every cell's length. A sheet that needs more memory than that ends the child, not the
   server, and is refused as too large once unpacked.
The server's own process opens a workbook (for the rows of an import) only once it passed.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.core.labels import N_
from models.importing.file_errors import FileRejected
from models.importing.processes import ChildFailed, memory_limit, run_in_child

logger = logging.getLogger(__name__)

# The longest text a cell may hold (as for a CSV field): a contact's details, not a book.
MAX_CELL_CHARS = 10_000
# How much an .xlsx may expand when unzipped, relative to the upload limit.
MAX_UNZIP_RATIO = 40
# The XML of one shared string longer than this is refused while streaming: even with a
# formatting run around every character, MAX_CELL_CHARS characters take far less.
_STRING_XML_LIMIT = MAX_CELL_CHARS * 200
# The longest the whole check may take (calamine reads some 100,000 rows a second).
CHECK_SECONDS = 120.0
_BLOCK = 1 << 16
_SI_START = re.compile(rb"<si[\s>]")
_CELL = re.compile(rb"<c\b([^>]*)>\s*(?:<f\b[^>]*(?:/>|>.*?</f>)\s*)?<v>\s*(\d+)\s*</v>", re.S)
_ATTRIBUTE = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_RELS = "xl/_rels/workbook.xml.rels"


@dataclass(frozen=True)
class XlsxSheet:
    """What the check found: the column names, the rows under them (an upper bound), where
    the sheet starts, and its first data rows (row number, cells) for the preview."""

    headers: list[str]
    total_rows: int
    row_offset: int
    col_offset: int
    preview: list[tuple[int, list[Any]]]


def cell_name(row: int, column: int) -> str:
    """The name a spreadsheet gives a cell ("B2": row 2, column 2, both counted from 1)."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


def too_long(cell: str | None) -> FileRejected:
    if cell is None:
        return FileRejected(
            N_("a cell of the file is larger than %(max)s characters"), max=str(MAX_CELL_CHARS)
        )
    return FileRejected(
        N_("the file's cell %(cell)s is larger than %(max)s characters"),
        cell=cell,
        max=str(MAX_CELL_CHARS),
    )


def open_xlsx(path: Path, *, max_bytes: int, preview_rows: int) -> XlsxSheet:
    """Check the workbook (archive, cell sizes, memory) and read its first sheet's header;
    FileRejected with the reason otherwise."""
    _check_archive(path, max_bytes)
    try:
        answer = run_in_child(
            _read_in_child,
            str(path),
            preview_rows,
            memory_bytes=memory_limit(max_bytes),
            timeout=CHECK_SECONDS,
            name="xlsx-check",
        )
    except ChildFailed as err:
        logger.warning("the .xlsx file %s was refused: %s", path.name, err)
        raise FileRejected(N_("the sheet is too large once unpacked")) from None
    if isinstance(answer, tuple):
        template, params = answer
        raise FileRejected(template, **params)
    return answer


def _check_archive(path: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "xl/workbook.xml" not in names:
                raise FileRejected(N_("a ZIP archive that is not an Excel .xlsx workbook"))
            largest = MAX_UNZIP_RATIO * max_bytes
            strings, sheet = _parts(archive)
            if strings in names:  # first: a cell bomb is named, whatever its size
                index = _long_string(archive, strings, budget=largest)
                if index is not None:
                    raise too_long(_cell_showing(archive, sheet, index) if sheet else None)
            if sum(m.file_size for m in members) > largest:
                raise FileRejected(N_("the sheet is too large once unpacked"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error):
        raise FileRejected(N_("the .xlsx file is damaged (not a readable ZIP archive)")) from None
    except (NotImplementedError, RuntimeError):  # a compression method we lack; encryption
        raise FileRejected(N_("the .xlsx file is damaged (not a readable ZIP archive)")) from None


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member that is small in any real workbook (the workbook's list of sheets, its
    relationships): its first megabyte."""
    try:
        with archive.open(name) as stream:
            return stream.read(1 << 20)
    except KeyError:
        return b""


def _parts(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """The shared strings' member and the first sheet's, as the workbook's relationships
    name them (the usual names when they do not say)."""
    targets: dict[str, tuple[str, str]] = {}
    for tag in re.findall(rb"<Relationship\b[^>]*>", _small_member(archive, _RELS)):
        attrs = {k.decode(): v.decode() for k, v in _ATTRIBUTE.findall(tag)}
        target = attrs.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[attrs.get("Id", "")] = (attrs.get("Type", ""), target)
    strings = next(
        (t for kind, t in targets.values() if kind.endswith("/sharedStrings")),
        "xl/sharedStrings.xml",
    )
    first = re.search(rb"<sheet\b[^>]*>", _small_member(archive, "xl/workbook.xml"))
    sheet_id = ""
    if first is not None:
        attrs = {k.decode(): v.decode() for k, v in _ATTRIBUTE.findall(first.group(0))}
        sheet_id = attrs.get("r:id", "")
    sheet = targets.get(sheet_id, ("", "xl/worksheets/sheet1.xml"))[1]
    return strings, sheet


def _long_string(archive: zipfile.ZipFile, name: str, *, budget: int) -> int | None:
    """The index of the first shared string whose XML is longer than _STRING_XML_LIMIT,
    read a block at a time (memory stays one block whatever the string's length), within
    the first `budget` bytes."""
    index = -1
    inside = False
    length = 0
    with archive.open(name) as stream:
        data = b""
        while budget > 0 and (block := stream.read(_BLOCK)):
            budget -= len(block)
            data += block
            pos = 0
            while True:
                if inside:
                    end = data.find(b"</si>", pos)
                    stop = len(data) - 4 if end < 0 else end  # "</si>" may straddle blocks
                    length += max(0, stop - pos)
                    if length > _STRING_XML_LIMIT:
                        return index
                    if end < 0:
                        pos = max(pos, stop)
                        break
                    inside, pos = False, end + 5
                else:
                    found = _SI_START.search(data, pos)
                    if found is None:
                        pos = max(pos, len(data) - 3)  # so may "<si "
                        break
                    index, inside, length, pos = index + 1, True, 0, found.end()
            data = data[pos:]
    return None


def _cell_showing(archive: zipfile.ZipFile, sheet: str, index: int) -> str | None:
    """The name of the first cell of `sheet` that shows shared string `index` ("B2")."""
    wanted = str(index).encode()
    try:
        stream = archive.open(sheet)
    except KeyError:
        return None
    with stream:
        data = b""
        while block := stream.read(_BLOCK):
            data += block
            consumed = 0
            for found in _CELL.finditer(data):
                consumed = found.end()
                if found.group(2) != wanted:
                    continue
                attrs: dict[bytes, bytes] = dict(_ATTRIBUTE.findall(found.group(1)))
                if attrs.get(b"t") == b"s" and b"r" in attrs:
                    return attrs[b"r"].decode("ascii", "replace")
            # Keep what may be the start of a cell cut by the block's end (cells are short).
            data = data[max(consumed, len(data) - 4096) :]
    return None


def _read_in_child(path: str, preview_rows: int) -> XlsxSheet | tuple[str, dict[str, str]]:
    """In the child process: the first visible sheet's header, row count and first rows,
    every cell checked; a refusal as (template, params), which crosses a pipe intact."""
    from models.importing.readers import read_xlsx_header  # the parent's module, imported here

    try:
        return read_xlsx_header(Path(path), preview_rows)
    except FileRejected as err:
        return err.template, dict(err.params)
