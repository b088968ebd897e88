"""Importing clients and leads from CSV and .xlsx files (C9, E3): see batches.py for the flow.

The names below are loaded on first use: a worker process that checks rows imports only
`parallel` and what it needs (readers, rows), not the ORM side, and so starts sooner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ImportPreview": "batches",
    "available_targets": "batches",
    "can_resume": "interruptions",
    "cancel_import": "batches",
    "create_import": "batches",
    "dry_run_import": "batches",
    "get_import": "batches",
    "interrupted_files": "interruptions",
    "is_interrupted": "interruptions",
    "list_imports": "batches",
    "mark_interrupted": "interruptions",
    "preview_import": "batches",
    "rejected_rows_csv": "batches",
    "rejection_reason": "batches",
    "resume_import": "interruptions",
    "run_import": "batches",
    "DUPLICATE_POLICIES": "engine",
    "ImportCounts": "engine",
    "Target": "mapping",
    "parse_map_spec": "mapping",
    "suggest_mapping": "mapping",
    "MAX_COLUMNS": "readers",
    "FileRejected": "readers",
    "Table": "readers",
    "open_table": "readers",
    "Rejection": "rows",
    "ImportRunner": "runner",
}

__all__ = [
    "DUPLICATE_POLICIES",
    "FileRejected",
    "ImportCounts",
    "ImportPreview",
    "ImportRunner",
    "MAX_COLUMNS",
    "Rejection",
    "Table",
    "Target",
    "available_targets",
    "can_resume",
    "cancel_import",
    "create_import",
    "dry_run_import",
    "get_import",
    "interrupted_files",
    "is_interrupted",
    "list_imports",
    "mark_interrupted",
    "open_table",
    "parse_map_spec",
    "preview_import",
    "rejected_rows_csv",
    "rejection_reason",
    "resume_import",
    "run_import",
    "suggest_mapping",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from models.importing.batches import (
        ImportPreview,
        available_targets,
        cancel_import,
        create_import,
        dry_run_import,
        get_import,
        list_imports,
        preview_import,
        rejected_rows_csv,
        rejection_reason,
        run_import,
    )
    from models.importing.engine import DUPLICATE_POLICIES, ImportCounts
    from models.importing.interruptions import (
        can_resume,
        interrupted_files,
        is_interrupted,
        mark_interrupted,
        resume_import,
    )
    from models.importing.mapping import Target, parse_map_spec, suggest_mapping
    from models.importing.readers import MAX_COLUMNS, FileRejected, Table, open_table
    from models.importing.rows import Rejection
    from models.importing.runner import ImportRunner
