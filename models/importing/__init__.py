"""Importing clients and leads from CSV and .xlsx files (C9, E3): see batches.py for the flow."""

from models.importing.batches import (
    ImportPreview,
    available_targets,
    cancel_import,
    create_import,
    dry_run_import,
    get_import,
    list_imports,
    mark_interrupted,
    preview_import,
    rejected_rows_csv,
    run_import,
)
from models.importing.engine import DUPLICATE_POLICIES, ImportCounts
from models.importing.mapping import Target, parse_map_spec, suggest_mapping
from models.importing.readers import MAX_COLUMNS, FileRejected, Table, open_table
from models.importing.rows import Rejection
from models.importing.runner import ImportRunner

__all__ = [
    "DUPLICATE_POLICIES",
    "MAX_COLUMNS",
    "FileRejected",
    "ImportCounts",
    "ImportPreview",
    "ImportRunner",
    "Rejection",
    "Table",
    "Target",
    "available_targets",
    "cancel_import",
    "create_import",
    "dry_run_import",
    "get_import",
    "list_imports",
    "mark_interrupted",
    "open_table",
    "parse_map_spec",
    "preview_import",
    "rejected_rows_csv",
    "run_import",
    "suggest_mapping",
]
