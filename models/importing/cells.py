"""Turning a file's cells into text, and phone cells into numbers without losing digits."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

from models.contacts.phones import split_phones
from models.core.labels import N_
from models.importing.readers import Cell

# Past 15 significant digits a spreadsheet number has already been rounded by Excel.
MAX_EXACT_DIGITS = 15
_FORMULA_STARTS = ("=", "+", "-", "@")


def escape_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if text and (text[0] in _FORMULA_STARTS or text[0] in "\t\r"):
        return "'" + text
    return text


_NUMBER_TEXT = re.compile(r"^(\d+)(?:\.(\d+))?(?:[eE]\+?(\d+))?$")


class CellRejected(ValueError):
    """A cell's value cannot be used for its field; the message is shown to the user.

    `message` is an English gettext msgid with %(name)s placeholders (marked with N_ so the
    panel's catalog has it), `params` its values: the report shows it in the reader's
    language, and str() is the English sentence.
    """

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


def cell_text(cell: Cell) -> str:
    """The text of a non-phone cell: numbers without a spurious ".0", dates as ISO."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        text = cell.strip()
        # Our own CSV export escapes formula-looking cells with an apostrophe: undo it.
        if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_STARTS:
            return text[1:]
        return text
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer() and abs(cell) < 10**MAX_EXACT_DIGITS:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell)
    return str(cell)


def phone_texts(cell: Cell) -> list[str]:
    """The numbers typed in a phone cell, as text.

    A spreadsheet may hold a phone as a number (34911234567.0, shown as 3.4911234567E10):
    its integer digits are the number. A fraction, or more digits than a double keeps exact,
    means the value was not a phone or was already rounded: refused, never altered.
    """
    if cell is None:
        return []
    if isinstance(cell, bool) or isinstance(cell, date | time | timedelta):
        raise CellRejected(N_("Phone: “%(value)s” is not a phone number"), value=cell_text(cell))
    if isinstance(cell, int):
        digits = str(abs(cell))
        if len(digits) > MAX_EXACT_DIGITS:
            raise CellRejected(
                N_("%(value)s has more than %(max)s digits"),
                value=digits,
                max=str(MAX_EXACT_DIGITS),
            )
        return [digits]
    if isinstance(cell, float):
        if not math.isfinite(cell) or cell < 0:
            raise CellRejected(N_("Phone: “%(value)s” is not a phone number"), value=repr(cell))
        if not cell.is_integer():
            raise CellRejected(
                N_("the cell holds the number %(value)s, not a phone number (it has a fraction)"),
                value=repr(cell),
            )
        digits = str(int(cell))
        if len(digits) > MAX_EXACT_DIGITS:
            raise CellRejected(
                N_(
                    "the cell holds %(value)s: more than %(max)s digits, Excel has rounded it; "
                    "format the column as text and type the number again"
                ),
                value=repr(cell),
                max=str(MAX_EXACT_DIGITS),
            )
        return [digits]
    return [_number_as_text(part) for part in split_phones(cell_text(cell))]


def _number_as_text(text: str) -> str:
    """A CSV written by a spreadsheet may hold a phone as "34911234567.0" or "3.4911234567E+10".

    Read as its digits when every digit is written out; "3.49112E+10" is what a spreadsheet
    shows after rounding the number, so it is refused rather than guessed.
    """
    match = _NUMBER_TEXT.match(text)
    if match is None:
        return text
    whole, fraction, exponent = match.group(1), match.group(2) or "", match.group(3)
    if exponent is None:
        # "34911234567.0" is a number written by a spreadsheet; "91.1234567" is a phone.
        return whole if fraction and not fraction.strip("0") else text
    shift = int(exponent) - len(fraction)
    if shift < 0:
        raise CellRejected(
            N_("%(value)s is a number with a fraction, not a phone number"), value=repr(text)
        )
    number = str(int(whole + fraction) * 10**shift)
    if len((whole + fraction).lstrip("0")) < len(number):
        raise CellRejected(
            N_(
                "%(value)s has lost digits (a spreadsheet rounded it): format the column as "
                "text and type the number again"
            ),
            value=repr(text),
        )
    return number
