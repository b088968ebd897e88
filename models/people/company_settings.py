"""Company-wide settings: company and currencies (G6), telephony (G4), groups and rights (G7)."""

from __future__ import annotations

import re

from babel.numbers import list_currencies

from models.core.errors import Conflict, NotFound, ValidationFailed, msg
from models.people import users as user_ops
from models.people.permissions import RIGHTS, require
from models.schema.company import Company, TelephonySettings
from models.schema.users import Group, User

_LATIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'-]{0,99}$")
WIDGET_MODES = ("softphone", "webrtc", "working_hours")


def known_currencies() -> list[str]:
    return sorted(list_currencies())


async def update_company(
    actor: User,
    *,
    name: str,
    default_currency: str,
    extra_currencies: list[str],
    default_region: str,
) -> Company:
    require(actor, "settings.manage")
    errors: dict[str, str] = {}
    currencies = set(list_currencies())
    default_currency = default_currency.strip().upper()
    extras = [c.strip().upper() for c in extra_currencies if c.strip()]
    if not _LATIN_NAME.match(name.strip()):
        errors["name"] = msg("Latin letters, digits, spaces and . _ & ' - (up to 100)")
    if default_currency not in currencies:
        errors["default_currency"] = msg("not an ISO 4217 currency code")
    bad = [c for c in extras if c not in currencies]
    if bad:
        errors["extra_currencies"] = msg("unknown currency codes: %(codes)s", codes=", ".join(bad))
    region = default_region.strip().upper()
    if not re.match(r"^[A-Z]{2}$", region):
        errors["default_region"] = msg("a two-letter country code, like ES")
    if errors:
        raise ValidationFailed(errors)
    company = await user_ops.get_company()
    company.name = name.strip()
    company.default_currency = default_currency
    company.extra_currencies = [c for c in dict.fromkeys(extras) if c != default_currency]
    company.default_region = region
    await company.save()
    return company


async def currencies_in_use() -> list[str]:
    company = await user_ops.get_company()
    return [company.default_currency, *company.extra_currencies]


async def update_telephony(
    actor: User,
    *,
    widget_mode: str,
    is_autolead_inbound: bool,
    is_autolead_outbound: bool,
    is_autolead_sms: bool,
    is_dial_without_country_prefix: bool,
    is_dial_all_numbers: bool,
    outbound_prefix: str,
    webrtc_ws_url: str,
    is_transcribe_calls: bool | None = None,
) -> TelephonySettings:
    require(actor, "settings.manage")
    errors: dict[str, str] = {}
    if widget_mode not in WIDGET_MODES:
        errors["widget_mode"] = msg("choose a widget mode")
    if outbound_prefix and not re.match(r"^[0-9*#]{1,10}$", outbound_prefix):
        errors["outbound_prefix"] = msg("digits, * or # (up to 10)")
    if webrtc_ws_url and not webrtc_ws_url.startswith(("ws://", "wss://")):
        errors["webrtc_ws_url"] = msg("a ws:// or wss:// address")
    if errors:
        raise ValidationFailed(errors)
    tel = await user_ops.get_telephony()
    tel.widget_mode = widget_mode
    tel.is_autolead_inbound = is_autolead_inbound
    tel.is_autolead_outbound = is_autolead_outbound
    tel.is_autolead_sms = is_autolead_sms
    tel.is_dial_without_country_prefix = is_dial_without_country_prefix
    tel.is_dial_all_numbers = is_dial_all_numbers
    tel.outbound_prefix = outbound_prefix
    tel.webrtc_ws_url = webrtc_ws_url
    if is_transcribe_calls is not None:  # None: left as it was
        tel.is_transcribe_calls = is_transcribe_calls
    await tel.save()
    return tel


async def add_group(actor: User, name: str, rights: list[str]) -> Group:
    require(actor, "settings.manage")
    return await user_ops.create_group(name, rights)


async def set_group_rights(actor: User, group_id: int, rights: list[str]) -> Group:
    require(actor, "settings.manage")
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise NotFound(msg("no such group"))
    if group.is_standard and group.name == "Admin":
        raise Conflict(msg("the Admin group always holds every right"))
    unknown = [r for r in rights if r not in RIGHTS]
    if unknown:
        raise ValidationFailed(
            {"rights": msg("unknown rights: %(rights)s", rights=", ".join(unknown))}
        )
    group.rights = sorted(set(rights))
    await group.save(update_fields=["rights"])
    return group
