"""Phones, emails and custom field values of clients and leads: checked, normalised, stored.

Shared by clients and leads so that both follow the same rules: phones read in the company's
region and kept as typed when they cannot be read (flagged, never dropped), emails lower-case,
custom values checked against the kind the admin chose.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from models.contacts.phones import NotAPhoneError, ParsedPhone, read_phone

# Re-exported: callers that store or search names use these with the rest of this module.
from models.contacts.search_text import search_key as search_key
from models.core.errors import Conflict, Message, ValidationFailed, msg
from models.people.permissions import CLIENTS, may_see
from models.schema.clients import (
    Client,
    CustomField,
    CustomFieldValue,
    Email,
    Phone,
)
from models.schema.users import User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_phones(typed: list[str], region: str) -> list[ParsedPhone]:
    """Each number parsed once; blanks skipped, repeats of the same number kept once.

    ValidationFailed on the field "phones" for a text that is no phone number (the rule of
    `phones.phone_text`, the same for forms, import, dialer and the widget).
    """
    seen: set[str] = set()
    parsed: list[ParsedPhone] = []
    for text in typed:
        if not text or not text.strip():
            continue
        try:
            phone = read_phone(text, region)
        except NotAPhoneError as err:
            raise ValidationFailed({"phones": not_a_phone(err)}) from None
        key = phone.e164 or phone.typed
        if key in seen:
            continue
        seen.add(key)
        parsed.append(phone)
    return parsed


def check_phones(typed: list[str], region: str, errors: dict[str, str]) -> list[ParsedPhone]:
    """`parse_phones`, a refusal added to `errors` so that a form shows every mistake."""
    try:
        return parse_phones(typed, region)
    except ValidationFailed as err:
        errors.update(err.fields)
        return []


def not_a_phone(err: NotAPhoneError) -> Message:
    """The refusal of a text that is no phone number, naming the field and the text."""
    return msg("Phone: “%(value)s” is not a phone number", value=err.typed)


def check_emails(addresses: list[str]) -> list[str]:
    """Lower-cased, validated, without repeats; ValidationFailed on the field "emails"."""
    result: list[str] = []
    bad: list[str] = []
    for raw in addresses:
        address = (raw or "").strip().lower()
        if not address:
            continue
        if not _EMAIL.match(address) or len(address) > 255:
            bad.append(raw.strip())
        elif address not in result:
            result.append(address)
    if bad:
        raise ValidationFailed(
            {"emails": msg("not a valid email address: %(emails)s", emails=", ".join(bad))}
        )
    return result


async def check_phone_owners(
    phones: list[ParsedPhone],
    *,
    viewer: User | None,
    client_id: int | None = None,
    lead_id: int | None = None,
) -> None:
    """Refuse a number that already belongs to another client (`number_taken`)."""
    numbers = [p.e164 for p in phones if p.e164]
    if not numbers:
        return
    query = Phone.filter(e164__in=numbers, client_id__isnull=False)
    if client_id is not None:
        query = query.exclude(client_id=client_id)
    taken = await query.first()
    if taken is None:
        return
    raise await number_taken(viewer, taken)


async def number_taken(viewer: User | None, taken: Phone) -> Conflict:
    """The refusal of a number that is `taken` by a client. The client is named (with its id)
    only to a `viewer` who may see it (None: the system); anyone else learns only that the
    number is taken, not whose it is."""
    other = await Client.get(id=taken.client_id)
    if viewer is not None and not may_see(viewer, CLIENTS, other.responsible_id):
        return Conflict(
            msg("the number %(number)s already belongs to another client", number=taken.e164),
            field="phones",
        )
    return Conflict(
        msg(
            "the number %(number)s belongs to the client %(name)s (#%(id)s)",
            number=taken.e164,
            name=other.name,
            id=other.id,
        ),
        field="phones",
        other=other,
    )


async def replace_phones(
    phones: list[ParsedPhone], *, client_id: int | None = None, lead_id: int | None = None
) -> None:
    """Make these the phones of the client (or lead), in this order."""
    owner = {"client_id": client_id} if client_id is not None else {"lead_id": lead_id}
    await Phone.filter(**owner).delete()
    if phones:
        await Phone.bulk_create(
            [
                Phone(
                    typed=p.typed[:64],
                    e164=p.e164,
                    digits_rev=p.digits_rev[:32],
                    is_valid=p.is_valid,
                    position=i,
                    **owner,
                )
                for i, p in enumerate(phones)
            ]
        )


async def replace_emails(
    addresses: list[str], *, client_id: int | None = None, lead_id: int | None = None
) -> None:
    owner = {"client_id": client_id} if client_id is not None else {"lead_id": lead_id}
    await Email.filter(**owner).delete()
    if addresses:
        await Email.bulk_create(
            [Email(address=a, position=i, **owner) for i, a in enumerate(addresses)]
        )


def _check_value(field: CustomField, raw: object) -> str:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return ""
    if field.kind == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValidationFailed({f"custom.{field.key}": msg("must be a number")}) from None
        if not number.is_finite():
            raise ValidationFailed({f"custom.{field.key}": msg("must be a number")})
        return str(number)
    if field.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationFailed(
                {f"custom.{field.key}": msg("must be a date (YYYY-MM-DD)")}
            ) from None
    if field.kind == "choice" and text not in field.choices:
        raise ValidationFailed(
            {
                f"custom.{field.key}": msg(
                    "must be one of: %(choices)s", choices=", ".join(field.choices)
                )
            }
        )
    return text


async def check_custom_values(values: dict[str, object], applies_to: str) -> dict[int, str]:
    """Custom field values by field id, each checked against its kind."""
    if not values:
        return {}
    fields = {f.key: f for f in await CustomField.filter(applies_to=applies_to)}
    errors: dict[str, str] = {}
    checked: dict[int, str] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors[f"custom.{key}"] = msg("no such field")
            continue
        try:
            checked[field.id] = _check_value(field, raw)
        except ValidationFailed as err:
            errors.update(err.fields)
    if errors:
        raise ValidationFailed(errors)
    return checked


async def replace_custom_values(
    values: dict[int, str], *, client_id: int | None = None, lead_id: int | None = None
) -> None:
    owner = {"client_id": client_id} if client_id is not None else {"lead_id": lead_id}
    await CustomFieldValue.filter(field_id__in=list(values), **owner).delete()
    rows = [CustomFieldValue(field_id=fid, value=v, **owner) for fid, v in values.items() if v]
    if rows:
        await CustomFieldValue.bulk_create(rows)


async def custom_values_of(
    *, client_id: int | None = None, lead_id: int | None = None
) -> dict[str, str]:
    owner = {"client_id": client_id} if client_id is not None else {"lead_id": lead_id}
    rows = await CustomFieldValue.filter(**owner).select_related("field")
    return {r.field.key: r.value for r in rows}


async def check_emails_and_custom(
    emails: list[str], custom: dict[str, object], applies_to: str, errors: dict[str, str]
) -> tuple[list[str], dict[int, str]]:
    """Emails and custom values checked together; each problem is added to `errors`
    (field -> message) so that a form shows every mistake at once."""
    checked_emails: list[str] = []
    try:
        checked_emails = check_emails(emails)
    except ValidationFailed as err:
        errors.update(err.fields)
    checked_custom: dict[int, str] = {}
    try:
        checked_custom = await check_custom_values(custom, applies_to)
    except ValidationFailed as err:
        errors.update(err.fields)
    return checked_emails, checked_custom
