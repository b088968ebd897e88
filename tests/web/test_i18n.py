"""Spanish and English (S4): every string of the panel has its Spanish translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import Catalogs, pick_language

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": (2,), "gettext_for": (3,), "N_": None, "ngettext": (1, 2)}
# The same files as web/babel.cfg: the panel, the domain's words, timeline sentences and the
# reasons an import refuses a row.
METHODS = [
    ("web/**.py", "python"),
    ("web/templates/**.html", "jinja2"),
    ("models/core/labels.py", "python"),
    ("models/contacts/timeline_text.py", "python"),
    ("models/importing/cells.py", "python"),
    ("models/importing/readers.py", "python"),
    ("models/importing/rows.py", "python"),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _panel_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_panel_string_has_a_spanish_translation():
    with (ROOT / "web/locale/es/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="es")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_panel_messages() - translated)
    assert not missing, "untranslated strings (see web/babel.cfg for the update commands): " + repr(
        missing
    )


def test_translations_keep_the_placeholders_of_their_message():
    """A translation that drops or renames a %(name)s would raise or show the wrong value."""
    with (ROOT / "web/locale/es/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="es")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != expected:
                wrong.append((ids[0], string))
    assert not wrong, wrong


def test_catalogs_translate_and_fall_back_to_english_source():
    catalogs = Catalogs()
    assert catalogs.get("es").gettext("Log in") == "Iniciar sesión"
    assert catalogs.get("en").gettext("Log in") == "Log in"
    assert catalogs.get("es").ngettext("%(num)s client", "%(num)s clients", 2) == "%(num)s clientes"


def test_accept_language_picks_our_best_language():
    assert pick_language("en-GB,en;q=0.9,es;q=0.8") == "en"
    assert pick_language("fr-FR,es;q=0.5,en;q=0.4") == "es"
    assert pick_language("de, en;q=0") == "es"  # nothing we speak: the default
    assert pick_language(None) == "es"
