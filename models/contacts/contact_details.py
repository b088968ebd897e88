"""Phones, emails and custom field values of clients and leads: checked, normalised, stored.

Shared by clients and leads so that both follow the same rules: phones read in the company's
region and kept as typed when they cannot be read (flagged, never dropped), emails lower-case,
custom values checked against the kind the admin chose.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from models.contacts.phones import ParsedPhone, parse_phone

# Re-exported: callers that store or search names use these with the rest of this module.
from models.contacts.search_text import search_key as search_key
from models.contacts.search_text import words_in as words_in
from models.contacts.search_text import words_of
from models.core.errors import Conflict, ValidationFailed
from models.schema.clients import (
    Client,
    ClientWord,
    CustomField,
    CustomFieldValue,
    Email,
    Phone,
)
from models.schema.leads import Lead

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INDEX_BATCH = 500


async def replace_words(client_id: int, name: str, company_name: str = "") -> None:
    """Index the words of a client's name and company (call after creating or renaming)."""
    await ClientWord.filter(client_id=client_id).delete()
    words = words_of(name, company_name)
    if words:
        await ClientWord.bulk_create([ClientWord(word=w, client_id=client_id) for w in words])


async def index_client_words(client_ids: list[int]) -> int:
    """Rebuild the search words of these clients from the database (after a bulk insert).

    Returns the number of words written.
    """
    written = 0
    for start in range(0, len(client_ids), _INDEX_BATCH):
        chunk = client_ids[start : start + _INDEX_BATCH]
        rows = await Client.filter(id__in=chunk).values_list("id", "name", "company_name")
        await ClientWord.filter(client_id__in=chunk).delete()
        words = [
            ClientWord(word=w, client_id=cid)
            for cid, name, company in rows
            for w in words_of(name, company)
        ]
        if words:
            await ClientWord.bulk_create(words, batch_size=1000)
        written += len(words)
    return written


async def index_missing_client_words(batch: int = 2000) -> int:
    """Index the words of every client that has none yet (after a bulk import wrote clients
    directly); returns the number of words written. Safe to run again at any time."""
    written = 0
    last_id = 0
    while True:
        ids = (
            await Client.filter(id__gt=last_id, words__id__isnull=True)
            .order_by("id")
            .limit(batch)
            .values_list("id", flat=True)
        )
        if not ids:
            return written
        written += await index_client_words(list(ids))
        last_id = ids[-1]


def parse_phones(typed: list[str], region: str) -> list[ParsedPhone]:
    """Each number parsed once; blanks skipped, repeats of the same number kept once."""
    seen: set[str] = set()
    parsed: list[ParsedPhone] = []
    for text in typed:
        if not text or not text.strip():
            continue
        phone = parse_phone(text, region)
        key = phone.e164 or phone.typed
        if key in seen:
            continue
        seen.add(key)
        parsed.append(phone)
    return parsed


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
        raise ValidationFailed({"emails": f"not a valid email address: {', '.join(bad)}"})
    return result


async def check_phone_owners(
    phones: list[ParsedPhone], *, client_id: int | None = None, lead_id: int | None = None
) -> None:
    """Refuse a number that already belongs to another client, naming that client."""
    numbers = [p.e164 for p in phones if p.e164]
    if not numbers:
        return
    query = Phone.filter(e164__in=numbers, client_id__isnull=False)
    if client_id is not None:
        query = query.exclude(client_id=client_id)
    taken = await query.first()
    if taken is None:
        return
    other = await Client.get(id=taken.client_id)  # type: ignore[attr-defined]
    raise Conflict(
        f"the number {taken.e164} belongs to the client {other.name} (#{other.id})",
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
            raise ValidationFailed({f"custom.{field.key}": "must be a number"}) from None
        if not number.is_finite():
            raise ValidationFailed({f"custom.{field.key}": "must be a number"})
        return str(number)
    if field.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationFailed({f"custom.{field.key}": "must be a date (YYYY-MM-DD)"}) from None
    if field.kind == "choice" and text not in field.choices:
        raise ValidationFailed(
            {f"custom.{field.key}": f"must be one of: {', '.join(field.choices)}"}
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
            errors[f"custom.{key}"] = "no such field"
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


async def open_lead_with_number(e164: str) -> Lead | None:
    """An open lead that already has this number (used to avoid duplicate leads)."""
    phone = await Phone.filter(e164=e164, lead_id__isnull=False).order_by("id").first()
    if phone is None:
        return None
    return await Lead.get_or_none(id=phone.lead_id, status="open")  # type: ignore[attr-defined]


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
