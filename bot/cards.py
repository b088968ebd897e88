"""How a call looks in a chat: the caller's card, the call's state and its buttons (B2).

The texts read in the current locale (bot/i18n.py): the recipient's, which the notifier sets
with `speaking` and the dispatcher per update.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.numbers import format_currency

from models.core.events import CallerCard

_LOCALES = {"es": "es_ES", "en": "en_US"}

_STATES = {
    "ringing": __("🔔 Ringing…"),
    "answered": __("🟢 In progress"),
    "missed": __("❌ Missed"),
    "unanswered": __("📵 Not answered"),
    "elsewhere": __("↪️ Answered by another agent"),
    # It stopped ringing for this agent and nobody answered (yet): what comes next says more.
    "stopped": __("🔕 No longer ringing"),
    # How an outbound call ended when the other side never answered.
    "busy": __("📵 Busy"),
    "failed": __("⚠️ The call failed"),
}
# The final state of an outbound call nobody answered, by its result (Call.result).
OUTBOUND_ENDS = {"busy": "busy", "no_answer": "unanswered", "failed": "failed"}
# How the last call ended (Call.result); a result not listed here shows as stored.
_RESULTS = {
    "answered": __("answered"),
    "missed": __("missed"),
    "busy": __("busy"),
    "failed": __("failed"),
    "no_answer": __("no answer"),
}


class CallButton(CallbackData, prefix="call"):
    """A button under a call notification: `action` on notification `n`."""

    action: str  # lead | note | task | back
    n: int


def card_to_dict(card: CallerCard) -> dict[str, Any]:
    """The card as JSON-safe data, kept with the notification to re-render it on edits."""
    data = dataclasses.asdict(card)
    data["open_deals"] = [dict(d) for d in card.open_deals]
    data["last_call_at"] = card.last_call_at.isoformat() if card.last_call_at else None
    return data


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(at: datetime, tz_name: str, fmt: str = "%d/%m %H:%M") -> str:
    return at.astimezone(zone(tz_name)).strftime(fmt)


def money(amount: Any, currency: str, lang: str) -> str:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return f"{amount} {currency}"
    return format_currency(value, currency or "EUR", locale=_LOCALES.get(lang, "es_ES"))


def duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def who(card: dict[str, Any]) -> str:
    """The caller's name (with company); for a number the CRM does not know, the name the PBX
    gave, else the number."""
    name = card.get("name") or card.get("caller_name") or ""
    if not name:
        return card.get("e164") or card.get("number") or _("Unknown number")
    company = card.get("company") or ""
    return f"{name} · {company}" if company and company != name else name


def call_text(
    card: dict[str, Any],
    *,
    direction: str,
    state: str,
    lang: str,
    tz_name: str,
    talk_seconds: int = 0,
) -> str:
    number = card.get("e164") or card.get("number") or ""
    if direction == "out":
        lines = [_("📞 Outgoing call to %(number)s") % {"number": number}]
    elif direction == "internal":
        lines = [_("📞 Internal call with %(number)s") % {"number": number}]
    else:
        lines = [_("📞 Incoming call from %(number)s") % {"number": number}]
    known = card.get("client_id") is not None or card.get("lead_id") is not None
    if known:
        kind = _("client") if card.get("client_id") is not None else _("lead")
        lines.append(f"👤 {who(card)} ({kind})")
    elif direction == "internal":
        colleague = _("colleague")
        lines.append(f"👤 {who(card)} ({colleague})")
    elif card.get("caller_name"):
        lines.append("👤 " + _("%(name)s (not in the CRM)") % {"name": card["caller_name"]})
    else:
        lines.append("👤 " + _("Unknown number"))
    deals = card.get("open_deals") or []
    if deals:
        lines.append(_("💼 Open deals:"))
        for deal in deals:
            amount = money(deal.get("amount", 0), deal.get("currency", ""), lang)
            lines.append(f"  • {deal.get('title', '')}: {amount}")
    if card.get("last_note"):
        note = str(card["last_note"]).strip().replace("\n", " ")
        shown = note if len(note) <= 200 else note[:199] + "…"
        lines.append(_("📝 Last note: %(text)s") % {"text": shown})
    if card.get("last_call_at"):
        at = datetime.fromisoformat(card["last_call_at"])
        result = card.get("last_call_result") or ""
        label = str(_RESULTS[result]) if result in _RESULTS else result
        lines.append(
            _("🕘 Last call: %(at)s (%(result)s)")
            % {"at": local_time(at, tz_name), "result": label}
        )
    lines.append("")
    if state == "ended":
        lines.append(_("✅ Ended, duration %(duration)s") % {"duration": duration(talk_seconds)})
    else:
        lines.append(str(_STATES[state]))
    return "\n".join(lines)


def call_keyboard(
    notification_id: int, card: dict[str, Any], direction: str = "in"
) -> InlineKeyboardMarkup:
    """Buttons: create lead (a customer's number the CRM does not know), note, task, call back."""
    known = card.get("client_id") is not None or card.get("lead_id") is not None
    first_row = []
    if known:
        first_row.append(_button(_("📝 Note"), "note", notification_id))
    elif direction != "internal" and (card.get("e164") or card.get("number")):
        first_row.append(_button(_("➕ Create lead"), "lead", notification_id))
    first_row.append(_button(_("📅 Task"), "task", notification_id))
    rows = [first_row]
    if card.get("e164") or card.get("number"):
        rows.append([_button(_("📞 Call back"), "back", notification_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _button(label: str, action: str, notification_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=label, callback_data=CallButton(action=action, n=notification_id).pack()
    )
