"""How a CSV file is written: its text encoding and its delimiter, found or chosen by the user.

The encoding comes from a BOM, else from whether the whole file decodes as UTF-8, else it is
Windows-1252 (what Excel writes in Western Europe). The delimiter is read from the header
line: each candidate splits it, quote-aware, into columns, and the next lines confirm the
split ("Nombre;Teléfono;Dirección" then `Ana;600;"Calle Mayor, 5"` is three columns separated
by ";", whatever the commas inside quotes say). When either guess is wrong the user names
the right one (the mapping page, `centralita import --delimiter ';' --encoding cp1252`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from models.core.labels import N_
from models.importing.file_errors import FileRejected

# Candidates in order of preference when two split the file equally well: tabs and
# semicolons seldom occur inside a name or an address, commas and bars do.
DELIMITERS = "\t;,|"
# What the mapping page offers (the command line takes any one-sign delimiter and any text
# encoding), by the names the page sends.
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
ENCODINGS = ("utf-8", "cp1252", "iso8859-1", "utf-16")
_CONFIRMING_LINES = 100
_SCAN_BLOCK = 1 << 20
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def chosen_delimiter(value: str | None) -> str | None:
    """The delimiter a user named (";", "tab", "\\t" ...), None for "find it"; FileRejected
    when it cannot separate columns."""
    if value is None or value == "" or value.lower() == "auto":
        return None
    delimiter = "\t" if value == "\\t" else DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
        raise FileRejected(
            N_("the delimiter must be one sign other than a letter, digit or quote: %(value)s"),
            value=repr(value),
        )
    return delimiter


def delimiter_name(delimiter: str | None) -> str:
    """The page's name of a delimiter ("semicolon"), or the sign itself."""
    names = {sign: name for name, sign in DELIMITER_NAMES.items()}
    return names.get(delimiter or ",", delimiter or ",")


def encoding_name(encoding: str | None) -> str:
    """The page's name of a text encoding ("utf-8" for utf-8-sig, "iso8859-1" for latin-1)."""
    name = codecs.lookup(encoding or "utf-8").name
    return "utf-8" if name == "utf-8-sig" else name


def chosen_encoding(value: str | None) -> str | None:
    """The Python name of the text encoding a user named ("cp1252", "UTF-8", "latin1"),
    None for "find it"; FileRejected for an unknown one."""
    if value is None or not value.strip() or value.strip().lower() == "auto":
        return None
    try:
        info = codecs.lookup(value.strip())
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise FileRejected(
            N_("unknown text encoding %(value)s (for example utf-8, cp1252, latin-1)"),
            value=repr(value.strip()),
        )
    # UTF-8 files written by Excel start with a BOM: reading them as utf-8-sig drops it.
    return "utf-8-sig" if info.name == "utf-8" else info.name


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


def refused_by_encoding(path: Path, encoding: str) -> FileRejected:
    """The refusal of a file that does not decode in the `encoding` a user chose, naming
    the first line that does not."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                line += block.count(b"\n", 0, max(0, err.start))
                break
            line += block.count(b"\n")
    shown = "utf-8" if encoding == "utf-8-sig" else encoding
    return FileRejected(
        N_("line %(line)s is not %(encoding)s text: choose the file's encoding"),
        line=str(line),
        encoding=shown,
    )


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


def sniff_delimiter(sample: str, *, complete: bool) -> str:
    """The delimiter of a CSV text that starts with its header line (`complete`: the sample
    is the whole file, else its last line may be cut and is not read).

    Each candidate splits the header as the csv module does (a delimiter inside quotes
    separates nothing); one that makes fewer than two columns is out. The next lines then
    vote: a line agrees when it splits into as many cells as the header (or more, all of
    them blank). A candidate that cuts a quoted cell in two (a closing quote followed by
    something else than the delimiter) is wrong whatever the votes; then the largest share
    of agreeing lines wins (a share: a wrong delimiter can split a quoted cell that spans
    lines into more lines), then most columns, then the order of DELIMITERS. A file of one
    column is read with ",".
    """
    if not complete and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # the last line may be cut short
    best, best_score = ",", (False, -1.0, 0, 0)
    for rank, delimiter in enumerate(DELIMITERS):
        records, broken = _records(sample, delimiter)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        agreeing = sum(
            1
            for record in records[1:]
            if len(record) == width
            or (len(record) > width and not any(c.strip() for c in record[width:]))
        )
        share = agreeing / max(1, len(records) - 1)
        score = (not broken, share, width, -rank)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(sample: str, delimiter: str) -> tuple[list[list[str]], bool]:
    """The header and up to _CONFIRMING_LINES non-blank lines after it, as split cells, and
    whether the csv module (strict about quotes) refused a line before the end."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append(record)
            if len(records) > _CONFIRMING_LINES:
                break
    except csv.Error:
        return records, True
    return records, False
