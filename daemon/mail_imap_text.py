"""The text of IMAP answers, read without a network: folder names in modified UTF-7
(RFC 3501 5.1.3), LIST lines and FETCH responses as aioimaplib hands them over (header lines
as bytes, each literal as a bytearray)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

_AMP = ord("&")


def encode_folder(name: str) -> str:
    """Text to the wire: "Отправленные" -> "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "A&B" -> "A&-B"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            text = base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{text}-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_folder(name: str) -> str:
    """The inverse of encode_folder; a name that is not valid modified UTF-7 is kept as is."""
    if "&" not in name:
        return name
    out: list[str] = []
    index = 0
    while index < len(name):
        char = name[index]
        if char != "&":
            out.append(char)
            index += 1
            continue
        end = name.find("-", index)
        if end < 0:
            return name
        chunk = name[index + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                return name
        index = end + 1
    return "".join(out)


_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$', re.I)
_LITERAL_END = re.compile(rb"\{(\d+)\}$")


def parse_list(lines: list[bytes]) -> list[tuple[str, frozenset[str]]]:
    """LIST answer lines -> [(wire name, flags)] (the name still in modified UTF-7)."""
    folders: list[tuple[str, frozenset[str]]] = []
    index = 0
    while index < len(lines):
        line = bytes(lines[index])
        index += 1
        match = _LIST.match(line)
        if not match:
            continue
        flags = frozenset(bytes(match.group("flags")).decode("ascii", "replace").split())
        raw = match.group("name")
        if _LITERAL_END.fullmatch(raw) and index < len(lines):
            raw = bytes(lines[index])  # the name came as a literal on the next item
            index += 1
            name = raw.decode("utf-8", "replace")
        elif raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
            name = re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("utf-8", "replace")
        else:
            name = raw.decode("utf-8", "replace")
        folders.append((name, flags))
    return folders


@dataclass
class FetchItem:
    uid: int
    size: int = -1
    body: bytes = b""


_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def parse_fetch(lines: list[bytes]) -> list[FetchItem]:
    """FETCH answer lines -> one item per message that carried a UID. The body is the literal
    that follows a line ending in "BODY[] {n}" (the UID may come before or after it)."""
    items: list[FetchItem] = []
    current: FetchItem | None = None
    expecting_body = False
    for line in lines:
        if isinstance(line, bytearray):
            if current is not None and expecting_body:
                current.body = bytes(line)
            expecting_body = False
            continue
        if _FETCH_START.match(line):
            current = FetchItem(uid=-1)
            items.append(current)
        if current is None:
            continue
        uid = _UID.search(line)
        if uid and current.uid < 0:
            current.uid = int(uid.group(1))
        size = _SIZE.search(line)
        if size:
            current.size = int(size.group(1))
        expecting_body = bool(re.search(rb"BODY\[\] \{\d+\}$", line))
    return [item for item in items if item.uid >= 0]


@dataclass(frozen=True)
class FolderStatus:
    """What SELECT tells about a folder."""

    uidvalidity: int
    uidnext: int | None  # None when the server does not say
    exists: int


_STATUS = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_EXISTS = re.compile(rb"^(\d+) EXISTS")


def folder_status(lines: list[bytes]) -> FolderStatus:
    found: dict[bytes, int] = {}
    exists = 0
    for line in lines:
        if not isinstance(line, bytes | bytearray):
            continue
        for key, value in _STATUS.findall(line):
            found[key] = int(value)
        match = _EXISTS.match(line)
        if match:
            exists = int(match.group(1))
    return FolderStatus(
        uidvalidity=found.get(b"UIDVALIDITY", 0), uidnext=found.get(b"UIDNEXT"), exists=exists
    )


def uid_set(uids: Iterable[int]) -> str:
    """1,2,3,7,9,10 -> "1:3,7,9:10" (short command lines however many UIDs)."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("no UIDs")
    parts: list[str] = []
    start = previous = ordered[0]
    for uid in ordered[1:]:
        if uid == previous + 1:
            previous = uid
            continue
        parts.append(f"{start}:{previous}" if previous > start else str(start))
        start = previous = uid
    parts.append(f"{start}:{previous}" if previous > start else str(start))
    return ",".join(parts)
