"""Running counts kept by the database itself, so that big lists show their totals at once.

Counting a million clients or summing two hundred thousand deals on every page view costs
tens to hundreds of milliseconds. These tables hold the same figures grouped by the
dimensions the pages filter on; triggers created by migration 0003
keep them right on every insert, update and delete, whoever makes it: the panel, the
daemon, an import, a cascade, or a hand-written SQL statement.
"""

from tortoise import fields
from tortoise.models import Model


class ClientTally(Model):
    """How many clients each responsible (0 = nobody) has, per status."""

    id = fields.IntField(primary_key=True)
    responsible_id = fields.IntField(default=0)
    status = fields.CharField(max_length=20)
    clients = fields.BigIntField(default=0)

    class Meta:
        table = "client_tally"
        unique_together = (("responsible_id", "status"),)


class DealTally(Model):
    """How many deals and what amount (in cents) per responsible, status and currency."""

    id = fields.IntField(primary_key=True)
    responsible_id = fields.IntField(default=0)
    status = fields.CharField(max_length=20)
    currency = fields.CharField(max_length=3)
    deals = fields.BigIntField(default=0)
    amount_cents = fields.BigIntField(default=0)

    class Meta:
        table = "deal_tally"
        unique_together = (("responsible_id", "status", "currency"),)
