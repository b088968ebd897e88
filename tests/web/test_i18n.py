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
    ("models/importing/xlsx_reader.py", "python"),
    ("models/importing/csv_dialect.py", "python"),
    ("models/importing/rows.py", "python"),
    ("models/importing/batches.py", "python"),
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


def _domain_messages() -> set[str]:
    """The msgids of the domain's messages: models/** and the PBX link's refusals (daemon/ami),
    keyword msg (models/locale/babel.cfg)."""
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT),
            [("models/**.py", "python"), ("daemon/ami/**.py", "python")],
            keywords={"msg": None},
        )
    }


def test_every_domain_message_has_a_spanish_translation():
    with (ROOT / "models/locale/es/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="es")
    translated = {m.id for m in catalog if m.id and m.string}
    found = _domain_messages()
    assert "the number %(number)s belongs to the client %(name)s (#%(id)s)" in found
    missing = sorted(found - translated)
    assert not missing, "untranslated (see models/locale/babel.cfg): " + repr(missing)
    wrong = [
        (m.id, m.string)
        for m in catalog
        if m.id and set(PLACEHOLDER.findall(m.string)) != set(PLACEHOLDER.findall(m.id))
    ]
    assert not wrong, wrong


def test_every_code_shown_to_people_has_a_spanish_label():
    """Statuses, states, results and rights are shown by their label, never by their code: each
    code has one, and the label has its Spanish (a new status without a label fails here)."""
    from models.importing import statuses as import_statuses
    from models.people.permissions import RIGHTS
    from models.reporting.export import HEADERS, SHEETS
    from models.telephony import dialer

    tables = {
        "dialer list": (
            dialer.LIST_STATUS_LABELS,
            {dialer.IDLE, dialer.RUNNING, dialer.PAUSED, dialer.STOPPED, dialer.FINISHED},
        ),
        "dialer entry": (
            dialer.ENTRY_STATE_LABELS,
            {dialer.PENDING, dialer.DIALING, dialer.DONE, dialer.SKIPPED},
        ),
        "dialer result": (dialer.RESULT_LABELS, set(dialer.RESULTS)),
        "import": (
            import_statuses.STATUS_LABELS,
            {"pending", "running", "done", "failed", "cancelled"},
        ),
        "right": (RIGHTS, set(RIGHTS)),
        "export header": (HEADERS, set(HEADERS)),
        "export sheet": (SHEETS, {"clients", "leads", "deals"}),
    }
    unlabelled, untranslated = [], []
    for name, (labels, codes) in tables.items():
        unlabelled += [(name, code) for code in codes - set(labels)]
        for code, label in labels.items():
            if label.in_language("es") == label.msgid and label.msgid not in ("ID", "Leads"):
                untranslated.append((name, code, label.msgid))
    assert not unlabelled, unlabelled
    assert not untranslated, untranslated


# Literals in our scripts that are protocol words, not words for people.
_JS_PROTOCOL_WORDS = {"use strict", "Content-Type", "Accept", "Enter", "badge state"}
_JS_LITERAL = re.compile(r"""(["'`])((?:\\.|(?!\1).)*?)\1""", re.S)


def test_the_panel_scripts_hold_no_words_for_people():
    """What a script shows comes from the page (data-t-* attributes, the widget's labels JSON,
    the server's translated JSON), so a sentence or a capitalised word in a .js is English
    that no Spanish user should read."""
    found = []
    for script in sorted((ROOT / "web/static").glob("*.js")):
        code = re.sub(r"^\s*//.*$|\s//\s.*$", "", script.read_text(), flags=re.M)
        for match in _JS_LITERAL.finditer(code):
            for part in re.split(r"\$\{[^}]*\}", match.group(2)):
                text = part.strip(" ·:()")
                if text in _JS_PROTOCOL_WORDS:
                    continue
                words = text.split()
                sentence = sum(1 for w in words if w.isalpha() and len(w) > 1) >= 2
                if sentence or re.fullmatch(r"[A-Z][a-z]+[.!…]?", text):
                    found.append((script.name, text))
    assert not found, found
