"""Hand-made .xlsx workbooks that unpack to far more than they weigh (decompression bombs).

Written member by member with zipfile, streaming the big parts, so that building a workbook
with a 100-million-character cell takes a few megabytes of the test's own memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}">'
    '<sheets><sheet name="Clientes" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_BLOCK = 1 << 20


def _write_repeated(stream, char: bytes, count: int) -> None:
    block = char * _BLOCK
    while count > 0:
        stream.write(block[: min(count, _BLOCK)])
        count -= _BLOCK


def workbook(
    path: Path, *, huge_string: int = 0, rows: int = 1, shared_chars: int = 5, inline: int = 0
) -> Path:
    """A sheet "Nombre | Notas" whose data rows show shared string 2 in both cells.

    `huge_string`: string 2 is that many "A"s (a cell bomb; its cell is B2). `rows` data
    rows all show it (an amplification bomb when `shared_chars` is large): string 2 is
    `shared_chars` "A"s unless `huge_string` is given. `inline`: cell A3 holds that many
    "Z"s written in the sheet itself.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
                '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'.encode()
            )
            for row in range(2, rows + 2):
                if inline and row == 3:
                    sheet.write(b'<row r="3"><c r="A3" t="inlineStr"><is><t>')
                    _write_repeated(sheet, b"Z", inline)
                    sheet.write(b"</t></is></c></row>")
                    continue
                sheet.write(
                    f'<row r="{row}"><c r="A{row}" t="s"><v>3</v></c>'
                    f'<c r="B{row}" t="s"><v>2</v></c></row>'.encode()
                )
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'
                "<si><t>Nombre</t></si><si><t>Notas</t></si><si><t>".encode()
            )
            _write_repeated(strings, b"A", huge_string or shared_chars)
            strings.write(b"</t></si><si><t>Ana</t></si></sst>")
    return path
