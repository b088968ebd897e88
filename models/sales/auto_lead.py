"""The auto-lead rule (E1, E3, G4): whether an unknown number becomes a lead, and whose it is.

One pure function decides for every path that meets an unknown number: a finished call (the
call store writes the plan inside its batch), an inbound SMS, and nothing else — an agent who
saves a caller from the widget or the bot names the lead themselves. Whoever acts on a plan
holds the number's lock (models/telephony/number_locks.py) from the lookup that found nobody to
the commit, so two of them at the same moment never make two leads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from models.contacts import timeline_text
from models.contacts.phones import ParsedPhone, digits, parse_phone
from models.contacts.search_text import search_key

CALL = "call"
SMS = "sms"

# What PBXes and carriers put in CallerIDName when they have no name: not a name.
_NO_NAME = frozenset({"<unknown>", "unknown", "anonymous", "unavailable", "restricted", "private"})
# A "name" made only of what a number is written with repeats a number: not a name.
_NUMBER_LIKE = re.compile(r"[\d\s+\-().#*/]*")
NAME_LENGTH = 200


def caller_id_name(name: str | None, number: str = "") -> str:
    """The caller's name as the PBX gave it (CallerIDName), or "" when it names nobody.

    No name, `<unknown>` and its like, or a name that only repeats a number (`+34 600 111
    222`, or `number` itself) give "". Control characters are dropped and spaces collapsed;
    accents and other scripts are kept as they came.
    """
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in name or ""
    )
    text = " ".join(text.split())
    if not text or text.lower() in _NO_NAME or text == number.strip():
        return ""
    if _NUMBER_LIKE.fullmatch(text):
        return ""
    return text[:NAME_LENGTH]


class AutoLeadSwitches(Protocol):
    """The telephony settings' three switches (G4)."""

    is_autolead_inbound: bool
    is_autolead_outbound: bool
    is_autolead_sms: bool


@dataclass(frozen=True)
class AutoLead:
    """The lead to write for an unknown number: its name, owner, source and first entry."""

    name: str
    name_key: str
    source: str
    phone: ParsedPhone | None
    responsible_id: int | None
    source_tag_id: int | None
    detail: dict[str, Any]  # its timeline entry ("lead_auto")

    def lead_values(self, created_at: datetime) -> dict[str, Any]:
        """The lead row's values, the same whether it is written at once (an SMS) or with a
        batch of calls."""
        return {
            "name": self.name,
            "name_key": self.name_key,
            "source": self.source,
            "source_tag_id": self.source_tag_id,
            "responsible_id": self.responsible_id,
            "created_at": created_at,
        }


def auto_lead_for(
    number: str,
    *,
    region: str,
    switches: AutoLeadSwitches,
    source: str,
    direction: str = "in",
    answered: bool = False,
    agent_id: int | None = None,
    source_tag_id: int | None = None,
    caller_name: str = "",
) -> AutoLead | None:
    """The lead an unknown `number` becomes, or None when the settings say no.

    The lead is named after the caller's name from the PBX (`caller_name`, CallerIDName) when
    it names someone (see `caller_id_name`), else after the number.

    Calls: inbound when "auto-lead on inbound" is on, outbound when "on outbound" is; the agent
    who answered (inbound) or dialed (outbound) is responsible, and a missed inbound call leaves
    the lead unhandled for anyone to take (E1). SMS: when "auto-lead on SMS" is on, unhandled
    unless `agent_id` is given. A number without digits ("anonymous") never becomes a lead.
    """
    if not digits(number):
        return None
    if source == SMS:
        if not switches.is_autolead_sms:
            return None
        responsible_id = agent_id
    elif direction == "in":
        if not switches.is_autolead_inbound:
            return None
        responsible_id = agent_id if answered else None
    elif direction == "out":
        if not switches.is_autolead_outbound:
            return None
        responsible_id = agent_id
    else:  # internal calls are between colleagues
        return None
    phone = parse_phone(number, region)
    shown = phone.e164 or phone.typed or "?"
    name = caller_id_name(caller_name, number) or shown
    return AutoLead(
        name=name[:NAME_LENGTH],
        name_key=search_key(name)[:NAME_LENGTH],
        source=source,
        phone=phone if phone.typed else None,
        responsible_id=responsible_id,
        source_tag_id=source_tag_id,
        detail=timeline_text.detail("lead_auto", source=source, number=shown),
    )
