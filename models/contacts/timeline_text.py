"""What a timeline entry says, in the reader's language (C7, S4).

An entry keeps what happened as data, `detail = {"msg": key, **params}`, and each reader turns
it into a sentence with their own gettext: `render(detail, summary, translate)`. The English
templates below are the gettext msgids (web/babel.cfg extracts this file; the Spanish lives in
web/locale/es/LC_MESSAGES/messages.po). Codes among the params (a deal status, a call result,
a lead source) are translated too; names, numbers and texts users typed are shown as they are.

The entry's `summary` is the same sentence in English (`english(detail)`), kept for search,
exports and the rows written before `detail` existed, which are shown by their summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from models.core.labels import CALL_RESULT_LABELS, DEAL_STATUS_LABELS, N_

Translate = Callable[[str], str]

MESSAGES: dict[str, str] = {
    "client_created": N_("Client created: %(name)s"),
    "client_imported": N_("Client imported: %(name)s"),
    "lead_imported": N_("Lead imported: %(name)s"),
    "lead_created": N_("Lead created (%(source)s): %(name)s"),
    "lead_auto": N_("Lead created automatically (%(source)s) for %(number)s"),
    "lead_converted": N_("Lead #%(lead_id)s converted into a client"),
    "deal_created": N_("Deal created: %(title)s (%(amount)s)"),
    "deal_moved": N_("Deal %(title)s: %(from_status)s → %(to_status)s"),
    "task_planned/task": N_("Task planned: %(title)s (%(due)s)"),
    "task_planned/call": N_("Call planned: %(title)s (%(due)s)"),
    "task_planned/video": N_("Videoconference planned: %(title)s (%(due)s)"),
    "task_planned/sms": N_("SMS planned: %(title)s (%(due)s)"),
    "call/in": N_("Inbound call %(result)s"),
    "call/out": N_("Outbound call %(result)s"),
    "call/internal": N_("Internal call %(result)s"),
    "call_with": N_("Call with %(number)s"),
    "call_transcribed": N_("Call transcribed: %(text)s"),
    "sms_out": N_("SMS to %(number)s: %(text)s"),
    "sms_in": N_("SMS from %(number)s: %(text)s"),
    "sms_task_no_phone": N_("Scheduled SMS not sent: no phone number (%(title)s)"),
    "email_received": N_("Email received from %(address)s: %(subject)s"),
    "email_sent": N_("Email sent to %(address)s: %(subject)s"),
}

# Messages worded differently per case: the param whose value picks "msg/value".
_VARIANT_OF = {"task_planned": "kind", "call": "direction"}
# Params holding a code whose English name is in a label table (translated when shown).
_LABELLED: dict[str, Mapping[str, str]] = {
    "from_status": DEAL_STATUS_LABELS,
    "to_status": DEAL_STATUS_LABELS,
    "result": CALL_RESULT_LABELS,
    "source": {},  # a lead source's code is its own name ("call", "manual")
}


def detail(msg: str, **params: Any) -> dict[str, Any]:
    """What to store in `TimelineEntry.detail`: JSON-safe (datetimes and decimals as text)."""
    if _template_key(msg, params) not in MESSAGES:
        raise ValueError(f"no timeline message {msg!r} for {params!r}")
    stored: dict[str, Any] = {"msg": msg}
    for name, value in params.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        stored[name] = value
    if not english(stored):
        raise ValueError(f"the timeline message {msg!r} needs other params than {sorted(params)}")
    return stored


def english(entry_detail: Mapping[str, Any]) -> str:
    """The sentence in English, as the entry's `summary` keeps it."""
    return render(entry_detail, "", lambda message: message)


def render(
    entry_detail: Mapping[str, Any] | None,
    summary: str,
    translate: Translate,
    *,
    when: Callable[[datetime], str] | None = None,
    money: Callable[[Decimal, str], str] | None = None,
) -> str:
    """The entry as a sentence through `translate` (a gettext); its summary when it has no detail.

    `when` and `money` write dates and amounts the reader's way; without them a date is shown
    in UTC and an amount as "1500.00 EUR". A translation that does not fit its params falls
    back to the summary rather than breaking the page.
    """
    if not entry_detail or "msg" not in entry_detail:
        return summary
    params = {k: v for k, v in entry_detail.items() if k != "msg"}
    template = MESSAGES.get(_template_key(str(entry_detail["msg"]), params))
    if template is None:
        return summary
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name in _LABELLED and isinstance(value, str) and value:
            value = translate(_LABELLED[name].get(value, value))
        values[name] = value
    if "due" in values:
        values["due"] = _when(values["due"], when)
    if "amount" in values:
        values["amount"] = _money(values["amount"], str(values.get("currency", "")), money)
    try:
        text = translate(template) % values
    except (KeyError, TypeError, ValueError):
        return summary
    if entry_detail["msg"] == "call":
        text += _call_tail(params)
    return text


def _template_key(msg: str, params: Mapping[str, Any]) -> str:
    variant = _VARIANT_OF.get(msg)
    return f"{msg}/{params.get(variant, '')}" if variant else msg


def _when(value: Any, when: Callable[[datetime], str] | None) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when is not None:
        return when(at)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _money(value: Any, currency: str, money: Callable[[Decimal, str], str] | None) -> str:
    if money is not None and currency:
        try:
            return money(Decimal(str(value)), currency)
        except ArithmeticError:
            pass
    return f"{value} {currency}".strip()


def _call_tail(params: Mapping[str, Any]) -> str:
    """Who took the call and how long it lasted: names and figures, the same in any language."""
    tail = f" ({params['agent']})" if params.get("agent") else ""
    seconds = params.get("talk_seconds") or 0
    if seconds:
        minutes, seconds = divmod(int(seconds), 60)
        tail += f", {minutes}:{seconds:02d}"
    return tail
