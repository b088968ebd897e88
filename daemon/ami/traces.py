"""Loaders for recorded AMI sessions: raw `.ami` byte streams and cacofonisk JSON lists.

Both give the same thing a live link gives the tracker: one `dict[str, str]` per message,
header -> value, in arrival order. Raw traces also hold the banner and the responses to
actions; `load_events` keeps only messages with an `Event` header, `load_messages` keeps all.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

BANNER_PREFIX = "Asterisk Call Manager/"


def parse_ami_text(text: str) -> list[dict[str, str]]:
    """Split a raw AMI stream (CRLF lines, blank-line separated frames) into header dicts.

    A header repeated inside one message (`Output:` lines of a Command response,
    `Variable:` lines of Status) keeps its values joined by newlines, so nothing is lost.
    Lines without `: ` (the banner, a stray fragment) are skipped.
    """
    messages: list[dict[str, str]] = []
    # Be lenient with bare LF: a trace edited by hand must still load.
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        msg: dict[str, str] = {}
        for line in frame.split("\n"):
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":") and " " not in line:  # "Exten:" with an empty value
                    msg.setdefault(line[:-1], "")
                continue
            if key in msg:
                msg[key] = f"{msg[key]}\n{value}"
            else:
                msg[key] = value
        if msg:
            messages.append(msg)
    return messages


def load_messages(path: str | Path) -> list[dict[str, str]]:
    """Every message (responses and events) of a trace, raw or JSON, in order."""
    path = Path(path)
    if path.suffix == ".json":
        return _load_json(path)
    return parse_ami_text(path.read_bytes().decode("utf-8", errors="replace"))


def load_events(path: str | Path) -> list[dict[str, str]]:
    """Only the events of a trace (what the link hands to the tracker)."""
    return [m for m in load_messages(path) if "Event" in m]


def _load_json(path: Path) -> list[dict[str, str]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    events: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict) or "Event" not in item:
            logger.warning("skipping a non-event entry in %s", path)
            continue
        # `content` is an artefact of the recorder (always empty); Event goes first as on the wire.
        event = {"Event": str(item["Event"])}
        for key, value in item.items():
            if key not in ("Event", "content"):
                event[key] = "" if value is None else str(value)
        events.append(event)
    return events


def to_wire(message: dict[str, str]) -> bytes:
    """Serialise one message the way Asterisk writes it (CRLF lines, blank line after)."""
    lines = []
    for key, value in message.items():
        for part in str(value).split("\n"):
            lines.append(f"{key}: {part}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")
