"""Reading a raw message (RFC 5322 / MIME) into plain values: pure, no I/O (G5, C7).

Mail in the wild breaks the rules: headers in raw UTF-8 or Latin-1 instead of RFC 2047, a
charset that names the wrong encoding or none that exists, a Date nobody can read, no
Message-ID. None of that is fatal here: each value falls back to the best reading there is.
`BrokenMessage` is kept for bytes that are no message at all.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage as MimePart
from email.message import Message
from html.parser import HTMLParser
from typing import Any

SNIPPET_LENGTH = 200
MESSAGE_ID_LENGTH = 255
_ANGLE_ID = re.compile(r"<[^<>\s]+>")
_SPACES = re.compile(r"\s+")
# Declared charsets that are often a lie for text that is really UTF-8.
_WEAK_CHARSETS = frozenset(
    {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
)


class BrokenMessage(Exception):
    """The bytes cannot be read as a message at all."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content_id: str  # without the angle brackets; "" when none
    data: bytes
    inline: bool


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # with angle brackets, as in the header (or synthesized)
    in_reply_to: str
    references: list[str]
    subject: str
    sender: tuple[str, str]  # (display name, address lower-case)
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    date: datetime | None  # aware UTC
    text: str
    html: str
    snippet: str
    attachments: list[ParsedAttachment] = field(default_factory=list)


def parse_message(raw: bytes) -> ParsedMail:
    """The message's headers, bodies and files; BrokenMessage when it is no message at all."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise BrokenMessage("empty message")
    try:
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
    except Exception as err:  # the parser is meant never to raise; a bug must not stop a sync
        raise BrokenMessage(f"unreadable message: {err}") from err
    if not message.keys():
        raise BrokenMessage("no headers")
    text_parts: list[str] = []
    html = ""
    attachments: list[ParsedAttachment] = []
    for part in _leaves(message):
        kind = _content_type(part)
        filename = _filename(part)
        disposition = _disposition(part)
        body_like = disposition != "attachment" and not filename
        if kind == "text/plain" and body_like:
            text_parts.append(_text_of(part))
        elif kind == "text/html" and body_like and not html:
            html = _text_of(part)
        else:
            attachments.append(_attachment(part, kind, filename, disposition, len(attachments)))
    text = _storable("\n".join(t for t in text_parts if t))
    html = _storable(html)
    references = _ANGLE_ID.findall(_header(message, "references"))
    in_reply_to = _ANGLE_ID.findall(_header(message, "in-reply-to"))
    return ParsedMail(
        message_id=_message_id(message, bytes(raw)),
        in_reply_to=in_reply_to[0][:MESSAGE_ID_LENGTH] if in_reply_to else "",
        references=[r for r in references if len(r) <= MESSAGE_ID_LENGTH],
        subject=_one_line(_header(message, "subject")),
        sender=(_addresses(message, "from") or _addresses(message, "sender") or [("", "")])[0],
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        date=_date(_header(message, "date")),
        text=text,
        html=html,
        snippet=snippet_of(text, html),
        attachments=attachments,
    )


def _storable(text: str) -> str:
    """Text any database keeps: no NUL (PostgreSQL refuses it), no lone surrogate."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def snippet_of(text: str, html: str, length: int = SNIPPET_LENGTH) -> str:
    """The first words of the message: from its text, else from its HTML without tags."""
    source = text if text.strip() else html_to_text(html)
    collapsed = _SPACES.sub(" ", source).strip()
    if len(collapsed) <= length:
        return collapsed
    return collapsed[: length - 1].rstrip() + "…"


class _TextOfHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (scripts, styles and the head left out)."""
    if not html:
        return ""
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; whatever it cannot take, the tags are dropped
        return re.sub(r"<[^>]*>", " ", html)
    return "".join(parser.parts)


# Structure ------------------------------------------------------------------------------


def _leaves(part: Message) -> list[Message]:
    """The message's non-multipart parts in order; an attached message is one leaf."""
    if part.get_content_maintype() == "multipart":
        payload = part.get_payload()
        if isinstance(payload, list):
            return [leaf for sub in payload if isinstance(sub, Message) for leaf in _leaves(sub)]
        return []  # a multipart without parts (broken boundary): nothing to read
    return [part]


def _content_type(part: Message) -> str:
    try:
        return _storable(part.get_content_type())
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        try:
            name = str(part.get_param("name") or "")
        except Exception:
            name = ""
    name = _decode_words(_fix_8bit(name))
    return _one_line(name.replace("/", "_").replace("\\", "_"))[:255]


def _bytes_of(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            try:
                return bytes(inner[0].as_bytes())
            except Exception:
                return b""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    return data if isinstance(data, bytes) else b""


def _text_of(part: Message) -> str:
    data = _bytes_of(part)
    try:
        charset = part.get_content_charset() or ""
    except Exception:
        charset = ""
    return decode_text(data, charset).replace("\r\n", "\n")


def decode_text(data: bytes, charset: str) -> str:
    """Bytes in their declared charset; UTF-8 where that charset is a lie or unknown."""
    charset = charset.strip().strip('"').lower()
    if charset in ("", *_WEAK_CHARSETS) and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _attachment(
    part: Message, kind: str, filename: str, disposition: str, index: int
) -> ParsedAttachment:
    content_id = _ANGLE_ID.findall(_header(part, "content-id"))
    cid = content_id[0][1:-1] if content_id else _header(part, "content-id").strip().strip("<>")
    if not filename:
        if kind == "message/rfc822":
            filename = "message.eml"
        else:
            extension = mimetypes.guess_extension(kind) or ".bin"
            filename = f"attachment-{index + 1}{extension}"
    return ParsedAttachment(
        filename=filename,
        content_type=kind[:127],
        content_id=_one_line(cid)[:255],
        data=_bytes_of(part),
        inline=disposition == "inline" or (disposition == "" and bool(cid)),
    )


# Headers --------------------------------------------------------------------------------


def _header(part: Message, name: str) -> str:
    """A header's decoded text ("" when absent); a header the parser chokes on is read raw."""
    raw = next((str(v) for k, v in _raw_items(part) if k.lower() == name), None)
    if raw is None:
        return ""
    if _has_8bit(raw):  # the parser would make each raw byte a replacement character
        return _storable(_decode_words(_fix_8bit(" ".join(raw.split()))))
    try:
        value = part.get(name)
    except Exception:
        value = None
    if value is None:
        return _storable(_decode_words(" ".join(raw.split())))
    return _storable(str(value))


def _raw_items(part: Message) -> list[tuple[str, Any]]:
    if isinstance(part, MimePart):
        return list(part.raw_items())
    return list(part.items())


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words left in a text (a filename parameter, a raw header)."""
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except Exception:
        return text


def _has_8bit(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _fix_8bit(text: str) -> str:
    """A header sent as raw 8-bit bytes arrives as surrogate escapes: UTF-8, else Latin-1."""
    if not _has_8bit(text):
        return text
    data = text.encode("utf-8", errors="surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(
            bytes([ord(ch) - 0xDC00]).decode("cp1252", errors="replace")
            if "\udc80" <= ch <= "\udcff"
            else ch
            for ch in text
        )


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _storable(text)).strip()


def _addresses(part: Message, name: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        headers = part.get_all(name) or []
        for header in headers:
            for address in getattr(header, "addresses", ()):
                found.append((_one_line(_fix_8bit(address.display_name)), address.addr_spec))
    except Exception:
        found = []
        raw = [str(v) for k, v in _raw_items(part) if k.lower() == name]
        for display, addr in email.utils.getaddresses(raw):
            found.append((_one_line(_decode_words(_fix_8bit(display))), addr))
    result: list[tuple[str, str]] = []
    for display, addr in found:
        addr = _storable(_fix_8bit(addr)).strip().lower()
        if "@" in addr and len(addr) <= 254 and not any(c.isspace() for c in addr):
            result.append((display[:200], addr))
    return result


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        at = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        return at.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _message_id(message: Message, raw: bytes) -> str:
    """The Message-ID; one made from a hash when there is none (of the over-long one when it
    is too long to keep, so that two copies of the message still get the same id)."""
    header = _header(message, "message-id").strip()
    found = _ANGLE_ID.findall(header)
    if found:
        header = str(found[0])
    elif header and not any(c.isspace() for c in header):
        header = f"<{header}>"
    else:
        header = ""
    if header and len(header) <= MESSAGE_ID_LENGTH:
        return header
    source = header.encode("utf-8", errors="replace") if header else raw
    return f"<{hashlib.sha256(source).hexdigest()}@centralita>"
