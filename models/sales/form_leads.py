"""Leads from web forms on the company's sites (E3, N3): form sources and their submissions.

An admin creates a form source: a name, the origins (sites) allowed to post from a browser, the
source tag and the responsible user its leads get. Each has a random key, the address of
`POST /api/v1/forms/{key}` (web/views/form_endpoint.py).

A submission carries name, phone, email, message and the page's `utm_*` values. A phone (as
E.164, the models/contacts/phones.py rule) or an email already known adds a note to that client
(a client before a lead, then the most recent) instead of a new lead; otherwise a lead is
created with source "web form", the form's source tag and the UTM values, so that the N3 report
(models/reporting/analytics.py source_stats) counts it. A filled honeypot field (`website`,
hidden from people, filled by robots) is accepted silently and nothing is written.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.contacts.contact_details import check_emails
from models.contacts.notes import record_note
from models.contacts.phones import parse_phone
from models.core.clock import Clock
from models.core.errors import NotFound, PermissionDenied, ValidationFailed, msg
from models.core.events import LeadCreated
from models.core.hub import Hub
from models.people.permissions import require
from models.people.users import get_company
from models.sales.leads import LeadInput, create_lead
from models.schema.activity import Note
from models.schema.clients import Email, Phone
from models.schema.company import SourceTag
from models.schema.integrations import FormSource
from models.schema.leads import Lead
from models.schema.users import User

logger = logging.getLogger(__name__)

SOURCE = "web form"  # models/sales/leads.py SOURCES
HONEYPOT = "website"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
LIMITS = {"name": 200, "phone": 64, "email": 255, "message": 5000}
MAX_ORIGINS = 20
_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class FormInput:
    name: str = ""
    origins: str = ""  # one per line, as the admin typed them
    source_tag_id: int | None = None
    responsible_id: int | None = None


@dataclass(frozen=True)
class SubmissionResult:
    outcome: str  # "lead" (a new lead) | "note" (on a known contact) | "ignored" (honeypot)
    lead_id: int | None = None
    client_id: int | None = None
    note_id: int | None = None


def normalize_origin(text: str) -> str | None:
    """`https://www.acme.es` as a browser sends it in Origin, or None when it is not one."""
    text = text.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def parse_origins(text: str, errors: dict[str, str]) -> list[str]:
    origins: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        origin = normalize_origin(line)
        if origin is None:
            errors["origins"] = msg(
                "%(value)s is not a site address like https://www.example.com",
                value=line.strip()[:100],
            )
            return []
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors["origins"] = msg("at most %(max)s sites", max=MAX_ORIGINS)
    return origins


def origin_allowed(form: FormSource, origin: str | None) -> bool:
    """A browser's Origin the form accepts. No Origin (a server posting) is accepted: the
    origin check protects against other sites' pages, not against programs."""
    if origin is None:
        return True
    return normalize_origin(origin) in form.allowed_origins


async def _checked(data: FormInput) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    name = data.name.replace("\x00", "").strip()
    if not name:
        errors["name"] = msg("the form needs a name")
    elif len(name) > 100:
        errors["name"] = msg("at most %(max)s characters", max=100)
    origins = parse_origins(data.origins.replace("\x00", ""), errors)
    if (
        data.source_tag_id is not None
        and not await SourceTag.filter(id=data.source_tag_id).exists()
    ):
        errors["source_tag_id"] = msg("no such source tag")
    if (
        data.responsible_id is not None
        and not await User.filter(id=data.responsible_id, is_active=True).exists()
    ):
        errors["responsible_id"] = msg("no such user")
    if errors:
        raise ValidationFailed(errors)
    return name, origins


async def list_forms(user: User) -> list[FormSource]:
    require(user, "settings.manage")
    return await FormSource.all().order_by("name", "id").prefetch_related("source_tag")


async def source_tags(user: User) -> list[SourceTag]:
    """The source tags a form may give its leads (N3 counts leads per tag)."""
    require(user, "settings.manage")
    return await SourceTag.all().order_by("name", "id")


async def create_form(user: User, data: FormInput) -> FormSource:
    require(user, "settings.manage")
    name, origins = await _checked(data)
    form = await FormSource.create(
        key=secrets.token_urlsafe(24),
        name=name,
        allowed_origins=origins,
        source_tag_id=data.source_tag_id,
        responsible_id=data.responsible_id,
    )
    logger.info("form source %s (%s) created by %s", form.id, name, user.username)
    return form


async def update_form(user: User, form_id: int, data: FormInput, *, enabled: bool) -> FormSource:
    require(user, "settings.manage")
    form = await FormSource.get_or_none(id=form_id)
    if form is None:
        raise NotFound(f"form {form_id} not found")
    form.name, form.allowed_origins = await _checked(data)
    form.source_tag_id = data.source_tag_id
    form.responsible_id = data.responsible_id
    form.enabled = enabled
    await form.save()
    logger.info("form source %s changed by %s", form.id, user.username)
    return form


async def delete_form(user: User, form_id: int) -> None:
    require(user, "settings.manage")
    if not await FormSource.filter(id=form_id).delete():
        raise NotFound(f"form {form_id} not found")
    logger.info("form source %s deleted by %s", form_id, user.username)


async def find_form(key: str) -> FormSource:
    """The enabled form with this key; NotFound for an unknown or switched-off one alike."""
    form = await FormSource.get_or_none(key=key, enabled=True) if is_key(key) else None
    if form is None:
        raise NotFound("form not found")
    return form


def is_key(text: str) -> bool:
    """Shaped like a form's key (secrets.token_urlsafe): anything else names no form."""
    return 0 < len(text) <= 64 and _KEY.fullmatch(text) is not None


def _text(data: Mapping[str, object], name: str, limit: int, errors: dict[str, str]) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors[name] = msg("must be text")
        return ""
    text = str(value).replace("\x00", "")  # PostgreSQL refuses NUL in text
    text = " ".join(text.split()) if name != "message" else text.strip()
    if len(text) > limit:
        errors[name] = msg("at most %(max)s characters", max=limit)
    return text


def is_robot(data: Mapping[str, object]) -> bool:
    """The honeypot field is filled: people never see it, robots fill every field."""
    value = data.get(HONEYPOT)
    return value not in (None, "", False) and bool(str(value).strip())


def read_submission(data: Mapping[str, object], region: str) -> dict[str, str]:
    """The submission's fields, checked; ValidationFailed names each wrong one."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, limit in {**LIMITS, **dict.fromkeys(UTM_FIELDS, 100)}.items():
        values[name] = _text(data, name, limit, errors)
    if values["email"] and "email" not in errors:
        try:
            values["email"] = check_emails([values["email"]])[0]
        except ValidationFailed:
            errors["email"] = msg("not an email address")
    if values["phone"] and "phone" not in errors:
        phone = parse_phone(values["phone"], region)
        if not phone.e164:
            errors["phone"] = msg("not a phone number")
        else:
            values["e164"] = phone.e164
    if not values["phone"] and not values["email"] and "phone" not in errors:
        errors["phone"] = msg("give a phone or an email")
    if errors:
        raise ValidationFailed(errors)
    return values


async def _known(values: dict[str, str]) -> tuple[int | None, int | None]:
    """Who the phone or email belongs to, as a ringing call finds its caller
    (models/telephony/caller_directory.py): a client first, else the oldest open lead; a
    converted lead stands for the client it became."""
    client_ids: list[int] = []
    lead_ids: list[int] = []
    for model, lookup in (
        (Phone, {"e164": values.get("e164")}),
        (Email, {"address": values.get("email")}),
    ):
        if not next(iter(lookup.values())):
            continue
        rows = await model.filter(**lookup).order_by("id").limit(20).values("client_id", "lead_id")
        client_ids += [r["client_id"] for r in rows if r["client_id"] is not None]
        lead_ids += [r["lead_id"] for r in rows if r["lead_id"] is not None]
    if client_ids:
        return client_ids[0], None
    if not lead_ids:
        return None, None
    lead = await Lead.filter(id__in=lead_ids).exclude(status="converted").order_by("id").first()
    if lead is not None:
        return None, lead.id
    converted = await Lead.filter(id__in=lead_ids, converted_client_id__isnull=False).first()
    if converted is not None and converted.converted_client_id is not None:
        return converted.converted_client_id, None
    return None, None


def _note_text(form: FormSource, values: dict[str, str]) -> str:
    """What the person wrote, under a line naming the form and how to reach them."""
    head = " · ".join(v for v in (values["name"], values["phone"], values["email"]) if v)
    utm = " ".join(f"{k}={values[k]}" for k in UTM_FIELDS if values[k])
    lines = [f"[{form.name}] {head}", utm, values["message"]]
    return "\n".join(line for line in lines if line)


async def _add_note(
    form: FormSource,
    values: dict[str, str],
    clock: Clock,
    *,
    client_id: int | None,
    lead_id: int | None,
) -> Note:
    text = _note_text(form, values)
    return await record_note(text, clock.now(), client_id=client_id, lead_id=lead_id)


_LEAD_FIELDS = {"phones": "phone", "emails": "email"}  # create_lead's names -> the form's


async def _new_lead(form: FormSource, values: dict[str, str], clock: Clock) -> Lead:
    try:
        return await create_lead(
            None,
            LeadInput(
                name=values["name"],
                phones=[values["phone"]] if values["phone"] else [],
                emails=[values["email"]] if values["email"] else [],
                source=SOURCE,
                source_tag_id=form.source_tag_id,
                utm={k: values[k] for k in UTM_FIELDS if values[k]},
            ),
            unhandled=form.responsible_id is None,
            responsible_id=form.responsible_id,
            clock=clock,
        )
    except ValidationFailed as err:
        raise ValidationFailed(
            {_LEAD_FIELDS.get(name, name): text for name, text in err.fields.items()}
        ) from err


async def take_submission(
    key: str,
    data: Mapping[str, object],
    *,
    origin: str | None,
    clock: Clock,
    hub: Hub | None,
) -> SubmissionResult:
    """Take one submission of the form with this `key` (see the module's text)."""
    form = await find_form(key)
    if not origin_allowed(form, origin):
        raise PermissionDenied(msg("this site may not post to this form"))
    if is_robot(data):  # before any check: a robot learns nothing from the answer
        logger.info("form %s: honeypot filled, submission dropped", form.id)
        return SubmissionResult("ignored")
    company = await get_company()
    values = read_submission(data, company.default_region)
    now = clock.now()
    client_id, lead_id = await _known(values)
    async with in_transaction():
        if client_id is not None or lead_id is not None:
            note = await _add_note(form, values, clock, client_id=client_id, lead_id=lead_id)
            result = SubmissionResult("note", lead_id, client_id, note.id)
        else:
            lead = await _new_lead(form, values, clock)
            note = await _add_note(form, values, clock, client_id=None, lead_id=lead.id)
            result = SubmissionResult("lead", lead.id, None, note.id)
        await FormSource.filter(id=form.id).update(
            submissions=F("submissions") + 1, last_submission_at=now
        )
    if result.outcome == "lead" and hub is not None and result.lead_id is not None:
        hub.publish(LeadCreated(result.lead_id, SOURCE, form.responsible_id))
    logger.info(
        "form %s: submission -> %s (client %s, lead %s)",
        form.id,
        result.outcome,
        result.client_id,
        result.lead_id,
    )
    return result
