"""Spanish and English (S4): gettext catalogs under web/locale, compiled with Babel at start.

The .po files are the source; they are compiled to .mo in memory when the app is built, so a
fresh clone works without a build step and a stale .mo can never shadow an edited .po.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: dict[str, str] = {"es": "Español", "en": "English"}
DEFAULT_LANGUAGE = "es"


class Catalogs:
    """One compiled catalog per language; English is the source language."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._translations: dict[str, gettext.NullTranslations] = {}
        for lang in LANGUAGES:
            po = locale_dir / lang / "LC_MESSAGES" / "messages.po"
            if not po.exists():
                self._translations[lang] = gettext.NullTranslations()
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[lang] = gettext.GNUTranslations(buffer)

    def get(self, lang: str) -> gettext.NullTranslations:
        if lang in self._translations:
            return self._translations[lang]
        return self._translations[DEFAULT_LANGUAGE]


def pick_language(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip().split(";")
        tag = piece[0].strip().lower()
        quality = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    quality = float(param.strip()[2:])
                except ValueError:
                    quality = 0.0
        base = tag.split("-")[0]
        if base in LANGUAGES and quality > 0:
            choices.append((-quality, index, base))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


_NUMBER = re.compile(r"\d(?:[^\d]?\d)*")


class _MoneyFormat:
    """A locale's way of writing one currency, learnt once from Babel.

    Babel's format_currency costs about a third of a millisecond a call (locale data
    lookups); a kanban shows hundreds of amounts, so the pattern is worked out once per
    language and currency and applied with plain string formatting.
    """

    def __init__(self, lang: str, currency: str) -> None:
        self.digits = get_currency_precision(currency)
        sample = format_currency(Decimal("1234567.891"), currency, locale=lang)
        match = _NUMBER.search(sample)
        assert match is not None
        number = match.group(0)
        self.prefix, self.suffix = sample[: match.start()], sample[match.end() :]
        self.group = number[1] if not number[1].isdigit() else ""
        self.decimal = number[-self.digits - 1] if self.digits else ""

    def format(self, amount: Decimal | float | int) -> str:
        value = Decimal(str(amount))
        text = f"{abs(value):,.{self.digits}f}"
        text = text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        return f"{'-' if value < 0 else ''}{self.prefix}{text}{self.suffix}"


@functools.cache
def _money_format(lang: str, currency: str) -> _MoneyFormat:
    return _MoneyFormat(lang, currency)


class Formatter:
    """Dates, times and money in the user's language and time zone."""

    def __init__(self, lang: str, tz: str) -> None:
        self.lang = lang
        self.locale = Locale.parse(lang)
        try:
            self.tz = ZoneInfo(tz)
        except (KeyError, ValueError):
            self.tz = ZoneInfo("UTC")

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = self.local(value)
        day = format_date(local, "medium", locale=self.locale)
        return f"{day} {format_time(local, 'HH:mm', tzinfo=self.tz, locale=self.locale)}"

    def date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_date(self.local(value), "medium", locale=self.locale)

    def time(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_time(self.local(value), "HH:mm", tzinfo=self.tz, locale=self.locale)

    def number(self, value: int) -> str:
        """A count with the language's grouping: 1.000.000 in Spanish, 1,000,000 in English."""
        return format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal | float | int, currency: str) -> str:
        return _money_format(self.lang, currency).format(amount)

    def weekday_names(self, first_weekday: int) -> list[str]:
        names = self.locale.days["format"]["abbreviated"]
        return [names[(first_weekday + i) % 7] for i in range(7)]

    def month_name(self, month: int) -> str:
        return self.locale.months["stand-alone"]["wide"][month]
