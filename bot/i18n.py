"""The bot's words in Spanish and English: gettext catalogs under bot/locale, read through
aiogram's I18n.

Messages are English msgids written where they are sent (`_("Unknown number")`, or `__(...)`,
lazy, in module-level tables); the Spanish lives in bot/locale/es/LC_MESSAGES/messages.po
(bot/babel.cfg says how to extract and update it). Inside an update the locale is the linked
user's (bot/context.py `UserLocaleMiddleware`); outside one (call notifications, reminders, the
digest, the command menu) the sender names the recipient's language with `speaking(lang)`.

aiogram's I18n loads compiled .mo files; ours compiles the .po sources in memory instead, like
the panel's and the domain's catalogs, so a fresh clone and a wheel work without a build step
and a stale .mo can never shadow an edited .po.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("es", "en")
# Users whose language we do not speak read Spanish, the product's first language; the msgids
# are English, so English needs no catalog.
DEFAULT_LANGUAGE = "es"


class CatalogI18n(I18n):
    """aiogram's I18n fed from .po sources compiled in memory (no .mo files needed)."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for lang in LANGUAGES:
            po = self.path / lang / "LC_MESSAGES" / f"{self.domain}.po"
            if not po.exists():
                continue  # English: the msgids themselves
            with po.open("rb") as fh:
                compiled = io.BytesIO()
                write_mo(compiled, read_po(fh, locale=lang, domain=self.domain))
            compiled.seek(0)
            translations[lang] = gettext.GNUTranslations(compiled)
        return translations

    @contextmanager
    def context(self) -> Iterator[I18n]:
        """Make this the current I18n for aiogram's `gettext`.

        aiogram looks the current instance up on the I18n class itself, while its mixin gives
        every subclass a context variable of its own; so register on I18n's.
        """
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


@functools.cache
def bot_i18n() -> CatalogI18n:
    """The bot's catalogs, compiled once (they are package data and never change at run time)."""
    return CatalogI18n(path=LOCALE_DIR, default_locale=DEFAULT_LANGUAGE)


def language_of(value: str | None) -> str:
    """A supported language from a user's setting or Telegram's language_code ("en-US")."""
    code = (value or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def speaking(lang: str | None) -> Iterator[None]:
    """Messages made inside the block read in `lang` (for a message sent outside an update)."""
    i18n = bot_i18n()
    with i18n.context(), i18n.use_locale(language_of(lang)):
        yield
