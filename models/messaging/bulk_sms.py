"""Bulk SMS (C8): one template sent to the selected clients, and its delivery report.

Each message is queued like a single SMS (models/messaging/sms.py `queue_sms`: an Sms row, its
outbox row and its timeline entry); the batch keeps which ones it sent, for the report.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.core.errors import Message, NotFound, ValidationFailed, msg
from models.messaging.sms import (
    DELIVERED,
    FAILED,
    QUEUED,
    SENT,
    SmsPolicy,
    queue_sms,
    require_gateway,
)
from models.people.permissions import CLIENTS, has_right, may_see, require
from models.people.users import get_company
from models.schema.activity import Sms
from models.schema.clients import Client, Phone
from models.schema.dialer import SmsBatch, SmsBatchItem
from models.schema.users import User

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = ("name", "first_name", "company")


@dataclass(frozen=True)
class BatchReport:
    batch: SmsBatch
    counts: dict[str, int]
    rows: list[Sms]


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def check_template(template: str) -> None:
    """Only the known variables: a typo such as {nmae} is refused, not sent as is."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as err:
        raise ValidationFailed(
            {"template": msg("the template is malformed: %(error)s", error=str(err))}
        ) from None
    unknown = names - set(TEMPLATE_FIELDS)
    if unknown:
        known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
        raise ValidationFailed(
            {
                "template": msg(
                    "unknown variable %(name)s: use %(known)s",
                    name="{" + sorted(unknown)[0] + "}",
                    known=known,
                )
            }
        )


def render(template: str, client: Client) -> str:
    name = client.name.strip()
    values = _Blank(name=name, first_name=name.split(" ")[0], company=client.company_name)
    return template.format_map(values)


async def send_bulk(
    user: User,
    client_ids: Iterable[int],
    template: str,
    *,
    clock: Clock,
    policy: SmsPolicy,
) -> tuple[SmsBatch, list[Message]]:
    """Bulk SMS (C8): one message per selected client from the template, to its first number.

    Returns the batch (for the delivery report) and the clients left out with the reason.
    """
    require(user, "sms.bulk")
    require_gateway(policy)
    check_template(template)
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        raise ValidationFailed({"clients": msg("select at least one client")})
    region = (await get_company()).default_region
    clients = {c.id: c for c in await Client.filter(id__in=ids)}
    first_phone: dict[int | None, str] = {}
    for phone in await Phone.filter(client_id__in=ids).order_by("-position", "-id"):
        first_phone[phone.client_id] = phone.e164 or phone.typed
    left_out: list[Message] = []
    async with in_transaction():
        batch = await SmsBatch.create(author_id=user.id, template=template, created_at=clock.now())
        items = []
        for client_id in ids:
            client = clients.get(client_id)
            if client is None or not may_see(user, CLIENTS, client.responsible_id):
                # Missing or not the user's to see: the same words, the client not named.
                left_out.append(msg(CLIENTS.missing.msgid, id=client_id))
                continue
            number = first_phone.get(client_id)
            if not number:
                left_out.append(msg("%(name)s: no phone number", name=client.name))
                continue
            try:
                sms = await queue_sms(
                    number,
                    render(template, client),
                    policy=policy,
                    clock=clock,
                    user_id=user.id,
                    client_id=client_id,
                    lead_id=None,
                    region=region,
                )
            except ValidationFailed as err:
                why = "; ".join(err.fields.values())
                left_out.append(msg("%(name)s: %(why)s", name=client.name, why=why))
                continue
            items.append(SmsBatchItem(batch_id=batch.id, sms_id=sms.id))
        await SmsBatchItem.bulk_create(items, batch_size=500)
    logger.info("bulk SMS %s: %d queued, %d left out", batch.id, len(items), len(left_out))
    return batch, left_out


async def batch_report(user: User, batch_id: int) -> BatchReport:
    """The delivery report of a bulk SMS: how many queued, sent, delivered, failed, and each."""
    batch = await SmsBatch.get_or_none(id=batch_id)
    # Another user's report, without the right to send bulk SMS: as if there were none.
    if batch is None or (batch.author_id != user.id and not has_right(user, "sms.bulk")):
        raise NotFound(msg("bulk SMS %(id)s does not exist", id=batch_id))
    sms_ids = await SmsBatchItem.filter(batch_id=batch_id).values_list("sms_id", flat=True)
    rows = list(await Sms.filter(id__in=list(sms_ids)).order_by("id").prefetch_related("client"))
    counts = {s: 0 for s in (QUEUED, SENT, DELIVERED, FAILED)}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return BatchReport(batch, counts, rows)
