"""AMI on the wire, server side: reading actions and writing responses and events.

Messages are ``Key: Value`` lines with CRLF, closed by an empty line. Fields are kept as a
list of pairs because AMI allows repeated keys (``Variable:``) and order matters to readers.
"""

from __future__ import annotations

import codecs

EOL = "\r\n"
Fields = list[tuple[str, str]]


def encode(fields: Fields) -> bytes:
    """One message as Asterisk writes it."""
    return ("".join(f"{key}: {value}{EOL}" for key, value in fields) + EOL).encode("utf-8")


def encode_mapping(headers: dict[str, object]) -> bytes:
    """A recorded event (cacofonisk JSON: one dict, lists for repeated keys) as AMI bytes."""
    fields: Fields = []
    for key, value in headers.items():
        if key == "content":
            continue
        if isinstance(value, list):
            fields.extend((key, str(v)) for v in value)
        else:
            fields.append((key, "" if value is None else str(value)))
    return encode(fields)


class Action:
    """One action received from a client: case-insensitive lookup, repeated keys kept."""

    def __init__(self, fields: Fields) -> None:
        self.fields = fields
        self._first: dict[str, str] = {}
        for key, value in fields:
            self._first.setdefault(key.lower(), value)

    @property
    def name(self) -> str:
        return self.get("Action").lower()

    @property
    def action_id(self) -> str | None:
        return self._first.get("actionid")

    def get(self, key: str, default: str = "") -> str:
        return self._first.get(key.lower(), default)

    def all(self, key: str) -> list[str]:
        """Every value of a repeated key (``Variable: a=1`` ``Variable: b=2``, or comma-joined)."""
        values: list[str] = []
        for k, v in self.fields:
            if k.lower() == key.lower():
                values.extend(part for part in v.split(",") if part)
        return values

    def as_dict(self) -> dict[str, str]:
        return {key: value for key, value in self.fields}


class ActionReader:
    """Turns the client's byte stream into actions (a UTF-8 character may span two reads)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""

    def feed(self, data: bytes) -> list[Action]:
        # Clients may end lines with LF alone; Asterisk accepts both.
        self._buffer += self._decoder.decode(data).replace("\r\n", "\n")
        blocks = self._buffer.split("\n\n")
        self._buffer = blocks.pop()
        parsed = []
        for block in blocks:
            fields: Fields = []
            for line in block.split("\n"):
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    fields.append((key.strip(), value.strip()))
            if fields:
                parsed.append(Action(fields))
        return parsed
