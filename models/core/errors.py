"""The exception tree of the domain. Front-ends turn these into HTTP answers or chat replies."""

from __future__ import annotations


class CrmError(Exception):
    """Base of every error the domain reports to a user."""


class ValidationFailed(CrmError):
    """Input was refused; `fields` maps each field name to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


class PermissionDenied(CrmError):
    """The user's group does not allow this."""


class NotFound(CrmError):
    """The object does not exist (or is not visible to the user)."""


class Conflict(CrmError):
    """The change clashes with existing data (e.g. a phone that belongs to another client)."""

    def __init__(self, message: str, *, field: str | None = None, other: object = None) -> None:
        self.field = field
        self.other = other
        super().__init__(message)


class AuthenticationFailed(CrmError):
    """Wrong username or password."""


class TelephonyError(CrmError):
    """The PBX refused or could not carry out a request; the message says why."""
