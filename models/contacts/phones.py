"""Phone numbers: as typed, as E.164, and their reversed digits for tail search."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

_SEPARATORS = re.compile(r"[,;\n/]+")
_DIGITS = re.compile(r"\D+")


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
