"""The same result as `models.contacts.phones.parse_phone`, about five times faster for plain
numbers.

An import of 100,000 clients parses 200,000 numbers, and `phonenumbers.parse` spends most of
its time preparing free text (letters, extensions, RFC 3966, Unicode digits) that a plain
"+34 911 23 45 67" never needs. For text made only of ASCII digits with single spaces, dots
or dashes between them (and an optional leading "+" or "00"), this module runs the rest of
`phonenumbers.parse` step by step with the library's own metadata and helpers. Anything
else goes to `parse_phone` itself. tests/models/test_import_phones.py checks that both
agree on a large random sample of shapes and regions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from phonenumbers import (
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    format_number,
    is_possible_number,
)
from phonenumbers import phonenumberutil as pnu
from phonenumbers.re_util import re_compile

from models.contacts.phones import ParsedPhone, digits, parse_phone

_PLAIN = re.compile(r"^(?:\+|00)?[0-9]+(?:[ .-][0-9]+)*$")
_SEPARATORS = str.maketrans("", "", " .-")
_NOT_ACCEPTED = (
    pnu.ValidationResult.TOO_SHORT,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pnu.ValidationResult.INVALID_LENGTH,
)


def fast_parse_phone(typed: str, region: str) -> ParsedPhone:
    """`parse_phone(typed, region)`, computed without re-reading plain text as free text."""
    typed = typed.strip()
    if not _PLAIN.match(typed) or len(typed) > 64:
        return parse_phone(typed, region)
    plus = typed.startswith(("+", "00"))
    number = typed.translate(_SEPARATORS)
    number = number[1:] if number.startswith("+") else number[2:] if plus else number
    if len(number) < 3 or (not plus and region.upper() not in pnu.SUPPORTED_REGIONS):
        return parse_phone(typed, region)
    shortcut = _shortcut(number, plus, region)
    if shortcut is not None:
        e164 = shortcut or None
        return ParsedPhone(typed=typed, e164=e164, digits_rev=digits(e164 or typed)[::-1])
    try:
        parsed = _parse_digits(number, plus, None if plus else region)
        e164 = format_number(parsed, PhoneNumberFormat.E164) if is_possible_number(parsed) else None
    except NumberParseException:
        e164 = None
    return ParsedPhone(typed=typed, e164=e164, digits_rev=digits(e164 or typed)[::-1])


@dataclass(frozen=True)
class _Plan:
    """What parse() does for a numbering plan, reduced to lengths, for numbers that do not
    start with the plan's national prefix (parse() strips nothing from those)."""

    code: str
    lengths: frozenset[int]  # possible lengths, local-only ones included (is_possible says yes)
    idd: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None  # what parse() would strip ("0" in GB, FR, DE...)


def _plan(metadata: PhoneMetadata | None) -> _Plan | None:
    if metadata is None:
        return None
    general = metadata.general_desc
    assert general is not None  # every region's metadata has one
    idd = metadata.international_prefix
    prefix = metadata.national_prefix_for_parsing
    return _Plan(
        str(metadata.country_code),
        frozenset(general.possible_length or ())
        | frozenset(general.possible_length_local_only or ()),
        re_compile(idd) if idd else None,
        re_compile(prefix) if prefix else None,
    )


@lru_cache(maxsize=512)
def _region_plan(region: str) -> _Plan | None:
    plan = _plan(PhoneMetadata.metadata_for_region(region.upper(), None))
    if plan is not None and pnu.region_code_for_country_code(int(plan.code)) != region.upper():
        # A region sharing its country code (Jersey: +44, Bonaire: +599, Tristan da Cunha:
        # +290): is_possible_number checks the main region's lengths, not these.
        return None
    return plan


@lru_cache(maxsize=512)
def _code_plan(code: int) -> _Plan | None:
    region = pnu.region_code_for_country_code(code)
    return _plan(PhoneMetadata.metadata_for_region_or_calling_code(code, region))


def _shortcut(number: str, plus: bool, region: str) -> str | None:
    """The E.164 form ("" when not possible) for the common case, None to take the long way.

    The common case: no national prefix to strip, no leading zero, no IDD or country code
    to untangle; then parse() only checks the length.
    """
    if number[0] == "0" or not 2 <= len(number) <= pnu._MAX_LENGTH_FOR_NSN:
        return None
    if plus:
        code, rest = pnu._extract_country_code(number)
        plan = _code_plan(code) if code else None
        if (
            plan is None
            or not rest
            or rest[0] == "0"
            or len(rest) < pnu._MIN_LENGTH_FOR_NSN
            or (plan.national_prefix and plan.national_prefix.match(rest))
        ):
            return None
        return f"+{code}{rest}" if len(rest) in plan.lengths else ""
    plan = _region_plan(region)
    if (
        plan is None
        or number.startswith(plan.code)
        or (plan.idd and plan.idd.match(number))
        or (plan.national_prefix and plan.national_prefix.match(number))
    ):
        return None
    return f"+{plan.code}{number}" if len(number) in plan.lengths else ""


def _extract_country_code(
    number: str, plus: bool, metadata: PhoneMetadata | None, numobj: PhoneNumber
) -> tuple[int, str]:
    """`phonenumberutil._maybe_extract_country_code` for a number of ASCII digits."""
    if plus:
        international, full_number = True, number
    else:
        idd = metadata.international_prefix if metadata is not None else None
        stripped, full_number = pnu._parse_prefix_as_idd(re_compile(idd or "NonMatch"), number)
        international = stripped
    if international:
        if len(full_number) <= pnu._MIN_LENGTH_FOR_NSN:
            raise NumberParseException(
                NumberParseException.TOO_SHORT_AFTER_IDD, "too short after IDD"
            )
        code, rest = pnu._extract_country_code(full_number)
        if code != 0:
            numobj.country_code = code
            return code, rest
        raise NumberParseException(
            NumberParseException.INVALID_COUNTRY_CODE, "unknown country code"
        )
    if metadata is not None:
        code_text = str(metadata.country_code)
        if full_number.startswith(code_text):
            general = metadata.general_desc
            _, potential, _ = pnu._maybe_strip_national_prefix_carrier_code(
                full_number[len(code_text) :], metadata
            )
            if (
                not pnu._match_national_number(full_number, general, False)
                and pnu._match_national_number(potential, general, False)
            ) or pnu._test_number_length(full_number, metadata) == pnu.ValidationResult.TOO_LONG:
                numobj.country_code = metadata.country_code
                return numobj.country_code or 0, potential
    numobj.country_code = 0
    return 0, ""


def _parse_digits(number: str, plus: bool, region: str | None) -> PhoneNumber:
    """The body of `phonenumbers.parse` after its text clean-up, for ASCII digits."""
    numobj = PhoneNumber()
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None) if region else None
    try:
        country_code, national = _extract_country_code(number, plus, metadata, numobj)
    except NumberParseException as err:
        if err.error_type != NumberParseException.INVALID_COUNTRY_CODE or not plus:
            raise
        # parse() retries without the "+", as a national number of the default region.
        country_code, national = _extract_country_code(number, False, metadata, numobj)
        if country_code == 0:
            raise NumberParseException(
                NumberParseException.INVALID_COUNTRY_CODE, "no number after the plus sign"
            ) from None
    if country_code != 0:
        number_region = pnu.region_code_for_country_code(country_code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, number_region
            )
    else:
        national += number
        if region is not None and metadata is not None:
            numobj.country_code = metadata.country_code
    if len(national) < pnu._MIN_LENGTH_FOR_NSN:
        raise NumberParseException(NumberParseException.TOO_SHORT_NSN, "too short")
    if metadata is not None:
        _, potential, _ = pnu._maybe_strip_national_prefix_carrier_code(national, metadata)
        if pnu._test_number_length(potential, metadata) not in _NOT_ACCEPTED:
            national = potential
    if len(national) < pnu._MIN_LENGTH_FOR_NSN:
        raise NumberParseException(NumberParseException.TOO_SHORT_NSN, "too short")
    if len(national) > pnu._MAX_LENGTH_FOR_NSN:
        raise NumberParseException(NumberParseException.TOO_LONG, "too long")
    pnu._set_italian_leading_zeros_for_phone_number(national, numobj)
    numobj.national_number = int(national)
    return numobj
