"""The bot speaks Spanish and English from gettext catalogs (bot/locale, bot/i18n.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from aiogram.utils.i18n import gettext
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot import bot_commands
from bot.i18n import CatalogI18n, language_of, speaking
from models.schema.users import User
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "bot/locale/es/LC_MESSAGES/messages.po"
# The same as bot/babel.cfg: every module of the bot; `__` is aiogram's lazy_gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "__": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
STRANGER = 555_999


def _spanish() -> dict[str, str]:
    with PO.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale="es") if m.id}


def _bot_messages() -> set[str]:
    return {
        message[0] if isinstance(message, tuple) else message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), [("bot/**.py", "python")], keywords=KEYWORDS
        )
    }


def test_every_bot_message_has_a_spanish_translation():
    found = _bot_messages()
    assert "Unknown number" in found and "Unlink this chat" in found  # `_` and `__` both seen
    spanish = _spanish()
    missing = sorted(m for m in found if not spanish.get(m))
    assert not missing, "untranslated (see bot/babel.cfg for the update commands): " + repr(missing)


def test_translations_keep_the_placeholders_of_their_message():
    wrong = [
        (msgid, string)
        for msgid, string in _spanish().items()
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(string))
    ]
    assert not wrong, wrong


def test_no_message_is_hidden_from_extraction_inside_an_f_string():
    """Babel (on Python 3.11) does not look inside f-strings: such a text is never translated."""
    hidden = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "bot").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{_{1,2}\(", line)
    ]
    assert not hidden, hidden


def test_catalogs_work_from_po_sources_alone(tmp_path):
    """A fresh clone or a wheel has only the .po: nothing needs compiling beforehand."""
    target = tmp_path / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO, target / "messages.po")
    i18n = CatalogI18n(path=tmp_path, default_locale="es")
    assert i18n.gettext("Unknown number", locale="es") == "Número desconocido"
    assert i18n.gettext("Unknown number", locale="en") == "Unknown number"
    assert i18n.gettext("📝 Note saved on %(who)s.", locale="es") == "📝 Nota guardada en %(who)s."


def test_speaking_renders_in_the_recipients_language_and_falls_back_to_spanish():
    with speaking("en"):
        assert gettext("Cancelled.") == "Cancelled."
        with speaking("es"):
            assert gettext("Cancelled.") == "Cancelado."
        assert gettext("Cancelled.") == "Cancelled."
    with speaking("de"):
        assert gettext("Cancelled.") == "Cancelado."
    with speaking(None):
        assert gettext("Cancelled.") == "Cancelado."


def test_language_from_user_setting_or_telegram_code():
    assert language_of("en-US") == "en"
    assert language_of("es") == "es"
    assert language_of("de") == "es"
    assert language_of(None) == "es"


def test_command_menu_in_each_language():
    spanish = bot_commands("es")
    english = bot_commands("en")
    assert [c.command for c in spanish] == [
        "tasks",
        "task",
        "find",
        "note",
        "call",
        "dialer",
        "cancel",
        "help",
        "unlink",
    ]
    assert [c.command for c in english] == [c.command for c in spanish]
    assert spanish[0].description == "Tareas de hoy y atrasadas"
    assert english[0].description == "Today's and overdue tasks"
    assert spanish[-1].description == "Desvincular este chat"
    assert english[-1].description == "Unlink this chat"
    dialer = [c.description for c in spanish + english if c.command == "dialer"]
    assert dialer == [
        "Pausar, reanudar o ver tu lista de marcación",
        "Pause, resume or check your auto-dialer list",
    ]


async def test_replies_follow_the_linked_users_language_not_the_telegram_app(
    linked, luis_chat: Chat
):
    await User.filter(id=linked.luis.id).update(language="en")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find", language="es"))
    assert await luis_chat.last_text(1) == "Usage: /find name, company or phone"

    await User.filter(id=linked.luis.id).update(language="es")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/find", language="en"))
    assert await luis_chat.last_text(2) == "Uso: /find nombre, empresa o teléfono"


async def test_an_unlinked_chat_is_told_in_its_apps_language_else_spanish(world, dp, bot, api):
    stranger = Chat(dp, bot, api, STRANGER)
    await stranger.feed(updates.message(STRANGER, "/tasks", language="en-GB"))
    assert (await stranger.last_text(1)).startswith("This chat is not linked to Centralita CRM.")
    await stranger.feed(updates.message(STRANGER, "/tasks", language="de"))
    assert (await stranger.last_text(2)).startswith("Este chat no está vinculado a Centralita CRM.")
