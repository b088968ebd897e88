"""Every bot message exists in Spanish and English with the same placeholders."""

from __future__ import annotations

import string

from bot.texts import CATALOG, LANGUAGES, language_of


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_is_translated_with_the_same_placeholders():
    for key, entry in CATALOG.items():
        assert set(entry) == set(LANGUAGES), key
        assert _fields(entry["es"]) == _fields(entry["en"]), key


def test_language_from_user_setting_or_telegram_code():
    assert language_of("en-US") == "en"
    assert language_of("es") == "es"
    assert language_of("de") == "es"
    assert language_of(None) == "es"
