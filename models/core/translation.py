"""The reader's language for the domain's messages (models/core/errors.py `msg`).

The domain's messages are English msgids with named values; their Spanish lives in one
catalog, models/locale/<lang>/LC_MESSAGES/messages.po, which both front-ends use. The
front-end that serves a reader says which language it speaks (`use_language`, per request
or per update); a message made meanwhile reads in that language. Elsewhere (the daemon,
the CLI, tests of the domain) messages read in English, the source language.

The .po files are compiled in memory on first use, like the panel's, so a fresh clone and a
wheel work without a build step.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
SOURCE_LANGUAGE = "en"

_reader_language: ContextVar[str] = ContextVar("reader_language", default=SOURCE_LANGUAGE)


@functools.cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The domain's messages in one language; English (the msgids) when there is no catalog."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(fh, locale=lang))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def reader_language() -> str:
    return _reader_language.get()


def set_reader_language(lang: str) -> object:
    """Messages made from now on in this context read in `lang`; returns a token for reset."""
    return _reader_language.set(lang)


def reset_reader_language(token: object) -> None:
    _reader_language.reset(token)  # type: ignore[arg-type]


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Messages made inside the block read in `lang` (a notification to one recipient, say)."""
    token = _reader_language.set(lang)
    try:
        yield
    finally:
        _reader_language.reset(token)
