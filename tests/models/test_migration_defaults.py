"""A column added to an existing table must have a database default (or accept NULL): SQLite
refuses `ALTER TABLE ... ADD COLUMN ... NOT NULL` without one as soon as the table has rows,
so the upgrade of a running CRM would stop at that migration (an empty test database does not
show it: 0016 did this to a CRM with calls)."""

from __future__ import annotations

import importlib
from pathlib import Path

from tortoise.fields.base import Field
from tortoise.migrations import operations as ops

MIGRATIONS = Path(__file__).resolve().parents[2] / "models" / "migrations"


def added_fields():
    for path in sorted(MIGRATIONS.glob("0*.py")):
        module = importlib.import_module(f"models.migrations.{path.stem}")
        for op in module.Migration.operations:
            if isinstance(op, ops.AddField) and isinstance(op.field, Field):
                yield path.stem, op.model_name, op.name, op.field


def test_every_added_column_has_a_database_default_or_accepts_null():
    missing = [
        f"{migration}: {model}.{name}"
        for migration, model, name, field in added_fields()
        if not field.null and not field.pk and not field.has_db_default()
    ]
    assert not missing, missing
