"""JSON for the hub's events and commands, so that they can travel between instances.

`encode(event)` gives compact JSON `{"t": "CallRang", "f": {...fields}}`; `decode(text)` gives
back an equal object. Every dataclass of models/core/events.py is known without being listed
here, so a new event class travels as soon as it is written.

Inside the fields every JSON object is a tagged value, so that types JSON lacks come back as
they were: a nested dataclass is `{"t", "f"}` again, a tuple `{"~t": [...]}`, a dict
`{"~d": {...}}`, a datetime `{"~dt": iso}` (aware datetimes keep their offset), a date
`{"~date": iso}`, a Decimal `{"~dec": "1.50"}`, and a domain Message (models/core/errors.py)
`{"~msg": msgid, "p": params}` so that the receiver can still read it in another language.
Lists, strings, numbers, booleans and None are themselves.

`error_to_plain` / `error_from_plain` carry a command's error back to the instance that asked:
a CrmError as its own class with its Message, any other error as a CrmError with its text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from models.core import events
from models.core.errors import CrmError, Message, ValidationFailed, msg


class UnknownMessage(ValueError):
    """The text names a type this instance does not know (or is not our JSON at all)."""


def _registry() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(events).items()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == events.__name__
    }


KNOWN: dict[str, type] = _registry()


def to_plain(value: Any) -> Any:
    """`value` as JSON-ready data (see the module docstring for the tags)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Message):
        return {"~msg": value.msgid, "p": {k: to_plain(v) for k, v in value.params.items()}}
    if isinstance(value, str):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if KNOWN.get(name) is not type(value):
            raise TypeError(f"{name} is not an event or command of models/core/events.py")
        fields = {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"t": name, "f": fields}
    if isinstance(value, datetime):
        return {"~dt": value.isoformat()}
    if isinstance(value, date):
        return {"~date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"~dec": str(value)}
    if isinstance(value, tuple):
        return {"~t": [to_plain(v) for v in value]}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"only dicts with str keys travel between instances: {value!r}")
        return {"~d": {k: to_plain(v) for k, v in value.items()}}
    raise TypeError(f"{type(value).__name__} cannot travel between instances: {value!r}")


def from_plain(data: Any) -> Any:
    """The value `to_plain` was given."""
    if isinstance(data, list):
        return [from_plain(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "t" in data:
        cls = KNOWN.get(data["t"])
        if cls is None:
            raise UnknownMessage(f"unknown message type {data['t']!r}")
        given = data.get("f") or {}
        # Fields this version does not have (a newer instance sent them) are left out.
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: from_plain(v) for k, v in given.items() if k in init})
    if "~t" in data:
        return tuple(from_plain(v) for v in data["~t"])
    if "~d" in data:
        return {k: from_plain(v) for k, v in data["~d"].items()}
    if "~dt" in data:
        return datetime.fromisoformat(data["~dt"])
    if "~date" in data:
        return date.fromisoformat(data["~date"])
    if "~dec" in data:
        return Decimal(data["~dec"])
    if "~msg" in data:
        return msg(data["~msg"], **{k: from_plain(v) for k, v in data.get("p", {}).items()})
    raise UnknownMessage(f"unknown tagged value {sorted(data)!r}")


def encode(obj: Any) -> str:
    """Compact JSON for an event or command of models/core/events.py."""
    if not (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        raise TypeError(f"not an event or command: {obj!r}")
    return json.dumps(to_plain(obj), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Any:
    """The event or command `encode` wrote; UnknownMessage for a type we do not know."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UnknownMessage(f"not a hub message: {text[:80]!r}") from err
    if not isinstance(data, dict) or "t" not in data:
        raise UnknownMessage(f"not a hub message: {text[:80]!r}")
    return from_plain(data)


def _crm_errors() -> dict[str, type[CrmError]]:
    found: dict[str, type[CrmError]] = {}
    pending: list[type[CrmError]] = [CrmError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_to_plain(err: BaseException) -> dict[str, Any]:
    """An error as JSON-ready data; a CrmError keeps its Message (msgid and values)."""
    data: dict[str, Any] = {"type": type(err).__name__, "text": str(err) or type(err).__name__}
    if isinstance(err, CrmError):
        with contextlib.suppress(TypeError):  # values that cannot travel: the text will do
            if isinstance(err, ValidationFailed):
                data["fields"] = to_plain(err.fields)
            elif err.args:
                data["message"] = to_plain(err.args[0])
    return data


def error_from_plain(data: dict[str, Any]) -> CrmError:
    """The CrmError `error_to_plain` described; any other error becomes a CrmError."""
    text = data.get("text") or data.get("type") or "error"
    cls = _crm_errors().get(data.get("type", ""))
    if cls is None:
        return CrmError(text)
    if "fields" in data and issubclass(cls, ValidationFailed):
        return cls(from_plain(data["fields"]))
    message = from_plain(data["message"]) if "message" in data else text
    try:
        return cls(message)
    except TypeError:  # a constructor that wants more than the message
        return CrmError(message)
