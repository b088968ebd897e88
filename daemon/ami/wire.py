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
* A line ends at ``\\n`` (any ``\\r`` before it belongs to the line end), so a message
  closes at ``\\n``, an optional ``\\r`` and ``\\n``, whatever mix of line ends a stream
  uses and however it is cut.
* A message (or banner) longer than `MAX_MESSAGE` characters is never buffered: the `Framer`
  logs a warning, drops it and reads on from the next blank line.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterable, Mapping

logger = logging.getLogger(__name__)

BANNER_PREFIX = "Asterisk Call Manager/"
END_COMMAND = "--END COMMAND--"
FOLLOWS = "Response: Follows"
# The headers Asterisk writes before an old Command's raw output.
_FOLLOWS_HEADERS = frozenset({"response", "privilege", "actionid", "commandid", "message"})
# The longest message kept whole (characters). Asterisk's biggest answers (a long `Command`
# output, a CoreShowChannels event) stay far below; past it a peer is sending garbage.
MAX_MESSAGE = 4 * 1024 * 1024
# A blank line in any mix of line ends (see the module docstring).
_BLANK_LINE = re.compile(r"\r?\n\r?\n")

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
    lines = [line.rstrip("\r") for line in block.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start]:
        start += 1
    del lines[:start]
    fields: Fields = []
    if lines and lines[0] == FOLLOWS:
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
    # Fast path (nearly every event): every line is "Key: Value" with a plain key, no value
    # holds ": ", no key repeats, line ends all CRLF or all LF. C-level passes only: split at
    # every line end and ": ", pair the pieces up, and write the pairs back with the two
    # separators alternating: only a block of such lines comes back unchanged (a line without
    # ": " or a value with one shifts keys into values). Anything else takes the exact path.
    if not block.startswith((FOLLOWS, "\r", "\n")) and not block.endswith("\r"):
        if "\r\r" in block:  # a value ending in CR: the exact path drops it
            return to_message(parse_fields(block)) or None
        eol = "\r\n" if "\r" in block else "\n"
        pairs = iter(block.replace(eol, ": ").split(": "))
        headers = dict(zip(pairs, pairs, strict=False))
        if headers and "" not in headers and eol.join(map(": ".join, headers.items())) == block:
            keys = "".join(headers)
            # A bare LF among CRLF line ends is a line end too (for the exact path).
            if " " not in keys and ":" not in keys and block.count("\n") == len(headers) - 1:
                return headers
    return to_message(parse_fields(block)) or None


# -- framing a stream ----------------------------------------------------------------------


class Framer:
    """Cuts a byte stream into message blocks, across any TCP reads.

    One incremental decoder for the whole stream, so a UTF-8 character split across two reads
    survives. The banner, when the stream opens with one, is taken off and kept in `version`.
    A read that completes nothing is only appended (no rescan of what waits), and nothing
    longer than `max_message` characters is kept: see `skipped`.
    """

    def __init__(self, encoding: str = "utf-8", max_message: int = MAX_MESSAGE) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._pieces: list[str] = []  # the incomplete last block, as read
        self._size = 0  # characters in _pieces
        self._follows: list[str] = []  # the blocks of an old Command answer not ended yet
        self._follows_size = 0
        self._at_start = True
        self._skipping = False  # dropping an oversized message up to the next blank line
        self.max_message = max_message
        self.skipped = 0  # oversized messages dropped so far
        self.version: str | None = None

    @property
    def buffered(self) -> int:
        """Characters held back waiting for the end of their message."""
        return self._size + self._follows_size

    def feed(self, data: bytes) -> list[str]:
        """The blocks completed by `data`, in order (possibly none)."""
        return self.feed_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> list[str]:
        """`feed` for text already decoded (a whole recording, say)."""
        if not text:
            return []
        if not self._completes(text):
            self._keep(text)
            return []
        text = "".join(self._pieces) + text
        self._pieces, self._size = [], 0
        if self._at_start:
            self._at_start = False
            if text.startswith(BANNER_PREFIX):
                banner, _, text = text.partition("\n")
                self.version = banner[len(BANNER_PREFIX) :].strip()
        # Asterisk's CRLF stream splits on CRLF CRLF; a bare LF anywhere (hand-edited traces,
        # clients, garbage) takes the general split on a blank line. A line end cut off the
        # end of one read stays in the buffer and meets the rest of it at the next.
        if "\n\n" in text or text.count("\n") != text.count("\r\n"):
            separator = "\n\n"
            blocks = _BLANK_LINE.split(text)
        else:
            separator = "\r\n\r\n"
            blocks = text.split(separator)
        last = blocks.pop()
        if self._skipping and blocks:
            del blocks[0]  # the end of the oversized message
            self._skipping = False
        if self._follows or FOLLOWS in text:
            blocks = self._join_follows(blocks, separator)
        self._keep(last)
        if "" in blocks:  # extra blank lines between messages
            blocks = [block for block in blocks if block]
        return blocks

    def flush(self) -> list[str]:
        """What is left at the end of the stream (a last message without its blank line)."""
        rest = "".join(self._pieces) + self._decoder.decode(b"", final=True)
        if self._follows:  # an old Command answer cut off before its end
            rest = "\n\n".join([*self._follows, rest])
        skipping = self._skipping
        self._pieces, self._size, self._follows, self._follows_size = [], 0, [], 0
        self._skipping = False
        return [rest] if rest.strip("\r\n") and not skipping else []

    def _completes(self, text: str) -> bool:
        """Whether `text` ends a line that matters: the banner's, or a blank line."""
        if "\n" not in text:
            return False
        if self._at_start:
            return True
        if "\n\r\n" in text or "\n\n" in text:
            return True
        before = "".join(self._pieces[-2:])[-2:]  # a blank line begun in the last read
        return "\n" in before and _BLANK_LINE.search(before + text[:2]) is not None

    def _keep(self, text: str) -> None:
        """Hold `text` back, unless that makes a message longer than `max_message`."""
        if self._skipping:
            # Only what may be the start of the blank line that ends the skipped message.
            text = "".join(self._pieces[-2:]) + text
            self._pieces, self._size = [text[-2:]], len(text[-2:])
            return
        self._pieces.append(text)
        self._size += len(text)
        if self._size + self._follows_size <= self.max_message:
            return
        self._drop_oversized()
        self._skipping = True
        self._at_start = False
        tail = "".join(self._pieces[-2:])[-2:]
        self._pieces, self._size = [tail], len(tail)

    def _drop_oversized(self) -> None:
        logger.warning(
            "AMI message longer than %d characters without its end (starts %r); dropped, "
            "reading on from the next blank line",
            self.max_message,
            (self._follows or self._pieces)[0][:80],
        )
        self.skipped += 1
        self._follows, self._follows_size = [], 0

    def _join_follows(self, blocks: list[str], separator: str) -> list[str]:
        """Glue an old Command answer back together: its output may hold blank lines."""
        joined: list[str] = []
        for block in blocks:
            if self._follows:
                self._follows.append(block)
                self._follows_size += len(block) + len(separator)
                if _ended(block):
                    joined.append(separator.join(self._follows))
                    self._follows, self._follows_size = [], 0
            elif block.lstrip("\r\n").startswith(FOLLOWS) and not _ended(block):
                self._follows = [block]
                self._follows_size = len(block) + len(separator)
            else:
                joined.append(block)
            if self._follows_size > self.max_message:
                self._drop_oversized()  # it ended at a blank line: read on from the next block
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
