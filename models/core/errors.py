"""The exception tree of the domain. Front-ends turn these into HTTP answers or chat replies.

What an error tells a user is a `Message` made with `msg()`: an English msgid with named
values, never a sentence formatted in one language. Its text reads in the language of the
reader being served (models/core/translation.py) and `in_language()` renders it for another.
The msgids are extracted from models/** (keyword `msg`) into models/locale.
"""

from __future__ import annotations

from typing import Any

from models.core.translation import catalog, reader_language


def _render(msgid: str, params: dict[str, Any], lang: str) -> str:
    text = catalog(lang).gettext(msgid)
    if not params:
        return text
    values = {k: v.in_language(lang) if isinstance(v, Message) else v for k, v in params.items()}
    return text % values


class Message(str):
    """A message for a user: `msgid` (English, with %(name)s slots) and `params`.

    It is a str, the message in the current reader's language, so it can be joined, logged
    and sent as JSON like any text.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        self = super().__new__(cls, _render(msgid, params, reader_language()))
        self.msgid = msgid
        self.params = params
        return self

    def in_language(self, lang: str) -> str:
        return _render(self.msgid, self.params, lang)


def msg(msgid: str, **params: Any) -> Message:
    """A domain message: `msg("the list is %(status)s", status=...)`."""
    return Message(msgid, **params)


def in_language(text: str, lang: str) -> str:
    """A text for a reader of `lang`: a Message re-rendered, any other text as it is."""
    return text.in_language(lang) if isinstance(text, Message) else text


class CrmError(Exception):
    """Base of every error the domain reports to a user; its argument is a Message."""

    def in_language(self, lang: str) -> str:
        return in_language(self.args[0], lang) if self.args else ""


class ValidationFailed(CrmError):
    """Input was refused; `fields` maps each field name to its Message."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))

    def in_language(self, lang: str) -> str:
        return "; ".join(f"{k}: {in_language(v, lang)}" for k, v in self.fields.items())

    def fields_in_language(self, lang: str) -> dict[str, str]:
        return {k: in_language(v, lang) for k, v in self.fields.items()}


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


class FeatureOff(CrmError):
    """A feature the configuration leaves off (SMS without a gateway); the message says which."""


class TelephonyError(CrmError):
    """The PBX refused or could not carry out a request; the message says why."""
