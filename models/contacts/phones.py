"""Phone numbers: as typed, as E.164, and their reversed digits for tail search."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

_SEPARATORS = re.compile(r"[,;\n/]+")
_DIGITS = re.compile(r"\D+")
# What a phone number is written with: an optional "+" first, then digits and the signs
# people group them with (spaces, brackets, dots, slashes, dashes); at least one digit.
_PHONE_TEXT = re.compile(r"^\+?[\d\s()./\-\u2010-\u2015]*\d[\d\s()./\-\u2010-\u2015]*$")
# An extension after the number: "ext. 12", "extensión 12", "x12", "#12".
_EXTENSION = re.compile(r"\s*(?:ext\.?|extensi[oó]n|x|#)\s*\d{1,7}$", re.IGNORECASE)
MAX_TYPED = 64

# The one refusal of a text that is no phone number, wherever a number is typed or read: the
# client and lead forms, the import, the widget's "save caller", the dialer's lists. Written
# out where it is used as msg(...) or N_(...) so that both catalogs extract it.
NOT_A_PHONE = "Phone: “%(value)s” is not a phone number"


class NotAPhoneError(ValueError):
    """A text that is not a phone number at all (letters, no digit, too long)."""

    def __init__(self, typed: str) -> None:
        super().__init__(NOT_A_PHONE % {"value": typed})
        self.typed = typed


@dataclass(frozen=True)
class ParsedPhone:
    typed: str
    e164: str | None
    digits_rev: str

    @property
    def is_valid(self) -> bool:
        return self.e164 is not None


def digits(text: str) -> str:
    return _DIGITS.sub("", text)


def parse_phone(typed: str, region: str = "ES") -> ParsedPhone:
    """Normalise one number. "+" numbers are international; others are read in `region`.

    A number that cannot be parsed keeps its typed form with no E.164: it is flagged, never dropped.
    """
    typed = typed.strip()
    text = typed
    if text.startswith("00"):
        text = "+" + text[2:]
    e164: str | None = None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
        if phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        e164 = None
    source = e164 if e164 else typed
    return ParsedPhone(typed=typed, e164=e164, digits_rev=digits(source)[::-1])


def phone_text(typed: str) -> str:
    """The rule every front-end applies to a typed number: returned stripped when it is
    written like a phone number (digits grouped by spaces, brackets, dots, slashes or dashes,
    an optional "+" first and extension last); NotAPhoneError otherwise ("abc123", "n/a").

    Such a number is kept even when it cannot be read in the company's region ("12"): it is
    stored as typed and flagged (`ParsedPhone.e164` None), and cannot be dialed.
    """
    text = typed.strip()
    if len(text) > MAX_TYPED or not _PHONE_TEXT.match(_EXTENSION.sub("", text)):
        raise NotAPhoneError(text)
    return text


def read_phone(typed: str, region: str = "ES") -> ParsedPhone:
    """`parse_phone` of a number a person typed, after `phone_text`'s rule."""
    return parse_phone(phone_text(typed), region)


def split_phones(cell: str) -> list[str]:
    """Several numbers in one field, separated by commas (or ; / newline)."""
    return [part.strip() for part in _SEPARATORS.split(cell or "") if part.strip()]


def to_e164(number: str, region: str = "ES") -> str | None:
    """The E.164 form of a number heard from the PBX or typed in a search, or None."""
    if not number or not digits(number):
        return None
    return parse_phone(number, region).e164


def tail_range(tail_digits: str) -> tuple[str, str]:
    """The [low, high) range of `digits_rev` values whose number ends with these digits."""
    rev = tail_digits[::-1]
    return rev, rev[:-1] + chr(ord(rev[-1]) + 1)


def dial_string(
    e164: str, *, without_country_prefix: bool, region: str, outbound_prefix: str = ""
) -> str:
    """What to dial: national format (G4 'call without country prefix') or international."""
    number = phonenumbers.parse(e164, None)
    if without_country_prefix and phonenumbers.region_code_for_number(number) == region.upper():
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return outbound_prefix + digits(national)
    # With an outbound prefix ("00", "9") the "+" is replaced by it; without, E.164 as is.
    return f"{outbound_prefix}{e164[1:]}" if outbound_prefix else e164
