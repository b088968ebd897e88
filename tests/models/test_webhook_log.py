"""The webhook delivery log is kept a month: older delivered and failed rows are purged by the
hourly housekeeping, while a pending delivery stays however old (it is still to be sent)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from models.messaging import webhooks
from models.schema.integrations import WebhookDelivery, WebhookSubscription


async def _delivery(subscription, status: str, age: timedelta, now) -> int:
    row = await WebhookDelivery.create(
        subscription=subscription,
        event_id=str(uuid.uuid4()),
        event_type="lead.created",
        status=status,
    )
    await WebhookDelivery.filter(id=row.id).update(created_at=now - age)
    return row.id


async def test_old_finished_deliveries_are_purged_and_pending_ones_kept(db, clock):
    now = clock.now()
    hook = await WebhookSubscription.create(
        url="https://hooks.example/crm", event_types=["lead.created"], secret_encrypted="-"
    )
    old_sent = await _delivery(hook, "delivered", timedelta(days=31), now)
    old_failed = await _delivery(hook, "failed", timedelta(days=45), now)
    old_pending = await _delivery(hook, "pending", timedelta(days=60), now)
    recent = await _delivery(hook, "delivered", timedelta(days=29), now)

    assert await webhooks.purge_log(now) == 2
    kept = set(await WebhookDelivery.all().values_list("id", flat=True))
    assert kept == {old_pending, recent}
    assert old_sent not in kept and old_failed not in kept
