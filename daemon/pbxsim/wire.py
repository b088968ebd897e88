"""An action as the simulator receives it: case-insensitive lookup, repeated keys kept.

Framing, parsing and writing AMI are daemon.ami.wire's (shared with the AMI link); this is
only the server's view of one parsed action.
"""

from __future__ import annotations

from daemon.ami.wire import Fields

__all__ = ["Action", "Fields"]


class Action:
    """One action received from a client, as its ``(key, value)`` pairs in order."""

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
