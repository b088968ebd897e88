"""AMI on the wire: the one place that frames, parses and writes Asterisk Manager messages.

Pure (text in, messages out; messages in, bytes out; no I/O). Used by the AMI link and its
panoramisk guards, by the PBX simulator (server side), and by the trace loaders.

The protocol, as Asterisk speaks it:

* On connect the server sends one banner line, ``Asterisk Call Manager/<version>``, and no
  blank line after it: the first message follows directly.
* A message is ``Key: Value`` lines closed by an empty line. Asterisk ends lines with CRLF;
  clients and hand-edited traces may use a bare LF, which is accepted everywhere.
* A key is the text before the first ``:`` (no spaces in it); the value is the rest of the
  line after that colon and one space, so values may hold ``": "`` themselves
  (``Message: a: b``). ``Key:`` alone is an empty value; other lines are not headers.
* A key may repeat (``ChanVariable``, ``Variable``, ``Output``): `parse_fields` keeps every
  pair in order; `parse_message` joins the values of a repeated key with ``\\n`` (and
  `encode` writes such a value back as repeated lines), so nothing is lost either way.
* Asterisk 13 and older answer ``Command`` with ``Response: Follows``, the raw output lines
  (which may hold blank lines) and ``--END COMMAND--``. `Framer` keeps such a message whole,
  and its output lines are read as ``Output`` values, as Asterisk 14+ sends them.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping

BANNER_PREFIX = "Asterisk Call Manager/"
END_COMMAND = "--END COMMAND--"
FOLLOWS = "Response: Follows"
# The headers Asterisk writes before an old Command's raw output.
_FOLLOWS_HEADERS = frozenset({"response", "privilege", "actionid", "commandid", "message"})

Fields = list[tuple[str, str]]
Message = dict[str, str]


# -- parsing one message -------------------------------------------------------------------


def _header(line: str) -> tuple[str, str] | None:
    key, sep, value = line.partition(":")
    if not sep or not key or " " in key:
        return None
    return key, value[1:] if value.startswith(" ") else value


def parse_fields(block: str) -> Fields:
    """The ``(key, value)`` pairs of one message, in order, repeated keys kept.

    Lines that are not headers (a stray fragment, the banner) are skipped; in an old
    ``Response: Follows`` message they are its ``Output``, and ``--END COMMAND--`` ends it.
    """
    lines = block.replace("\r\n", "\n").strip("\n").split("\n")
    fields: Fields = []
    if lines[0] == FOLLOWS:
        while lines and (pair := _header(lines[0])) and pair[0].lower() in _FOLLOWS_HEADERS:
            fields.append(pair)
            del lines[0]
        return fields + [("Output", line) for line in lines if line != END_COMMAND]
    for line in lines:
        pair = _header(line)
        if pair is not None:
            fields.append(pair)
    return fields


def to_message(fields: Iterable[tuple[str, str]]) -> Message:
    """Pairs as one dict; the values of a repeated key are joined with a newline."""
    message: Message = {}
    for key, value in fields:
        message[key] = f"{message[key]}\n{value}" if key in message else value
    return message


def parse_message(block: str) -> Message | None:
    """One message as a dict (see `to_message`); None when it has no header at all."""
    # Fast path (nearly every event): each line is "Key: Value", no value holds ": " and no
    # key repeats. Two C-level passes over the block instead of one split per line. A value
    # with ": " breaks the count or shifts keys into values (caught by the key check), and
    # takes the exact path.
    if not block.startswith(FOLLOWS):
        flat = block.replace("\r\n" if "\r" in block else "\n", ": ").split(": ")
        if len(flat) == 2 * (block.count("\n") + 1):
            pairs = iter(flat)
            headers = dict(zip(pairs, pairs, strict=False))
            if 2 * len(headers) == len(flat) and "" not in headers and " " not in "".join(headers):
                return headers
    return to_message(parse_fields(block)) or None


# -- framing a stream ----------------------------------------------------------------------


class Framer:
    """Cuts a byte stream into message blocks, across any TCP reads.

    One incremental decoder for the whole stream, so a UTF-8 character split across two reads
    survives. The banner, when the stream opens with one, is taken off and kept in `version`.
    """

    def __init__(self, encoding: str = "utf-8") -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._buffer = ""
        self._at_start = True
        self.version: str | None = None

    def feed(self, data: bytes) -> list[str]:
        """The blocks completed by `data`, in order (possibly none)."""
        return self.feed_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> list[str]:
        """`feed` for text already decoded (a whole recording, say)."""
        text = self._buffer + text
        if self._at_start:
            if len(text) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(text):
                self._buffer = text
                return []
            if text.startswith(BANNER_PREFIX):
                banner, sep, rest = text.partition("\n")
                if not sep:
                    self._buffer = text
                    return []
                self.version = banner[len(BANNER_PREFIX) :].strip()
                text = rest
            self._at_start = False
        # Asterisk's CRLF needs no rewriting (a CRLF stream never holds "\n\n"); bare LF
        # line ends anywhere in the text make it all LF. A "\r" cut off the end of one read
        # stays in the buffer and meets its "\n" at the next.
        separator = "\r\n\r\n"
        if "\n\n" in text:
            text = text.replace("\r\n", "\n")
            separator = "\n\n"
        blocks = text.split(separator)
        self._buffer = blocks.pop()
        if FOLLOWS in text:
            blocks = self._join_follows(blocks, separator)
        if "" in blocks:  # extra blank lines between messages
            blocks = [block for block in blocks if block]
        return blocks

    def flush(self) -> list[str]:
        """What is left at the end of the stream (a last message without its blank line)."""
        rest = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        return [rest] if rest.strip("\r\n") else []

    def _join_follows(self, blocks: list[str], separator: str) -> list[str]:
        """Glue an old Command answer back together: its output may hold blank lines."""
        joined: list[str] = []
        for at, block in enumerate(blocks):
            if not block.lstrip("\r\n").startswith(FOLLOWS) or _ended(block):
                joined.append(block)
                continue
            tail = blocks[at + 1 :]
            for end, more in enumerate(tail):
                if _ended(more):
                    joined.append(separator.join([block, *tail[: end + 1]]))
                    joined.extend(self._join_follows(tail[end + 1 :], separator))
                    return joined
            # Not ended yet: wait for the rest of it.
            self._buffer = separator.join([block, *tail, self._buffer])
            return joined
        return joined


def _ended(block: str) -> bool:
    return block.rstrip("\r\n").endswith(END_COMMAND)


def parse_stream(text: str) -> list[Message]:
    """Every message of a whole recorded stream (banner optional), in order."""
    framer = Framer()
    blocks = framer.feed_text(text) + framer.flush()
    return [m for m in map(parse_message, blocks) if m is not None]


# -- writing ---------------------------------------------------------------------------------


def encode(
    message: Mapping[str, object] | Iterable[tuple[str, str]], encoding: str = "utf-8"
) -> bytes:
    """One message as Asterisk writes it: CRLF lines, then a blank line.

    Takes a dict (a list value, or a value with newlines, is written as repeated lines;
    None as empty) or ``(key, value)`` pairs, whose order is kept.
    """
    pairs = message.items() if isinstance(message, Mapping) else message
    lines: list[str] = []
    for key, value in pairs:
        if isinstance(value, list | tuple):
            lines.extend(f"{key}: {part}\r\n" for part in value)
            continue
        text = "" if value is None else str(value)
        if "\n" in text:
            text = text.replace("\n", f"\r\n{key}: ")
        lines.append(f"{key}: {text}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode(encoding)
