"""Tortoise ORM tables of the CRM, one module per aggregate.

`MODEL_MODULES` is the list Tortoise loads as the app ``crm``.
"""

MODEL_MODULES = [
    "models.schema.company",
    "models.schema.users",
    "models.schema.clients",
    "models.schema.leads",
    "models.schema.deals",
    "models.schema.tasks",
    "models.schema.calls",
    "models.schema.activity",
    "models.schema.imports",
    "models.schema.outbox",
    "models.schema.telegram",
    "models.schema.dialer",
    "models.schema.tallies",
    "models.schema.sessions",
    "models.schema.dialogs",
    "models.schema.mail",
    "models.schema.integrations",
    "models.schema.calendar_sync",
]
