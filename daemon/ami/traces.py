"""Loaders for recorded AMI sessions: raw `.ami` byte streams and cacofonisk JSON lists.

Both give the same thing a live link gives the tracker: one `dict[str, str]` per message,
header -> value, in arrival order (read by daemon.ami.wire, as the link reads the socket).
Raw traces also hold the banner and the responses to actions; `load_events` keeps only
messages with an `Event` header, `load_messages` keeps all.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from daemon.ami.wire import Message, parse_stream

logger = logging.getLogger(__name__)


def load_messages(path: str | Path) -> list[Message]:
    """Every message (responses and events) of a trace, raw or JSON, in order."""
    path = Path(path)
    if path.suffix == ".json":
        return _load_json(path)
    return parse_stream(path.read_bytes().decode("utf-8", errors="replace"))


def load_events(path: str | Path) -> list[Message]:
    """Only the events of a trace (what the link hands to the tracker)."""
    return [m for m in load_messages(path) if "Event" in m]


def _load_json(path: Path) -> list[Message]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    events: list[Message] = []
    for item in raw:
        if not isinstance(item, dict) or "Event" not in item:
            logger.warning("skipping a non-event entry in %s", path)
            continue
        # `content` is an artefact of the recorder (always empty); Event goes first as on the wire.
        event = {"Event": str(item["Event"])}
        for key, value in item.items():
            if key not in ("Event", "content"):
                event[key] = _text(value)
        events.append(event)
    return events


def _text(value: object) -> str:
    """A JSON value as the wire would carry it (a list: a repeated key)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value)
