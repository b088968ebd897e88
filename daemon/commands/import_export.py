"""centralita import | import-cancel | import-list | export: files in and out (C9, C10)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.commands._db import with_db
from models import importing
from models.core.db import is_database_busy
from models.core.errors import CrmError, NotFound, ValidationFailed
from models.core.settings import Settings
from models.importing.mapping import KINDS as IMPORT_KINDS
from models.reporting.export import FORMATS, KINDS, ExportFilters, export_to_path
from models.schema.users import User

SHOWN_REJECTIONS = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import clients or leads from a CSV or .xlsx file")
    p.add_argument("file", type=Path)
    p.add_argument("--kind", choices=IMPORT_KINDS, default="clients")
    p.add_argument(
        "--map",
        default="",
        help='column=field pairs, e.g. "Nombre=name,Teléfono=phones" (default: from the headers)',
    )
    p.add_argument(
        "--dry-run", action="store_true", help="report what would happen, change nothing"
    )
    p.add_argument(
        "--duplicates",
        choices=importing.DUPLICATE_POLICIES,
        default="skip",
        help="a row with the number or email of an existing client (or an earlier row)",
    )
    p.add_argument(
        "--delimiter",
        help="a CSV file's delimiter: ',' ';' '|' or tab (default: found from the header line)",
    )
    p.add_argument(
        "--encoding",
        help="a CSV file's text encoding: utf-8, cp1252, latin-1 ... (default: found)",
    )
    p.add_argument("--user", help="import as this user (needs the import right; owns the rows)")
    p.add_argument("--rejected-csv", type=Path, help="write the rejected rows to this CSV file")
    p.set_defaults(func=_import)

    c = sub.add_parser(
        "import-cancel", help="undo one import (delete what it created, restore updates)"
    )
    c.add_argument("batch_id", type=int)
    c.add_argument("--user", help="cancel as this user")
    c.set_defaults(func=_cancel)

    ls = sub.add_parser("import-list", help="list recent imports")
    ls.set_defaults(func=_list)

    e = sub.add_parser("export", help="export clients, leads or deals to CSV or .xlsx")
    e.add_argument("kind", choices=KINDS)
    e.add_argument("--format", choices=FORMATS, help="default: from the extension of -o")
    e.add_argument("-o", "--output", type=Path, required=True)
    e.add_argument("--user", help="export what this user may see (default: everything)")
    e.add_argument("--status", help="only this status")
    e.add_argument("--query", help="only rows matching this search, as on the list page")
    e.set_defaults(func=_export)


def _fail(command: str, err: CrmError) -> int:
    if isinstance(err, ValidationFailed):
        for field, message in err.fields.items():
            print(f"centralita {command}: {field}: {message}", file=sys.stderr)
    else:
        print(f"centralita {command}: {err}", file=sys.stderr)
    return 2


async def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = await User.get_or_none(username=username, is_active=True).prefetch_related("group")
    if user is None:
        raise NotFound(f"no active user named {username!r}")
    return user


def _print_counts(counts, *, dry_run: bool) -> None:
    verb = "would be" if dry_run else "were"
    print(
        f"{counts.processed_rows} rows: {counts.created} {verb} created, {counts.updated} merged "
        f"into existing ones, {counts.skipped} skipped as duplicates, {counts.rejected} rejected"
    )


def _print_rejections(rejections: list[dict]) -> None:
    for r in rejections[:SHOWN_REJECTIONS]:
        column = f", column {r['column']}" if r["column"] else ""
        print(f"  row {r['row']}{column}: {r['reason']}")
    if len(rejections) > SHOWN_REJECTIONS:
        print(f"  ... and {len(rejections) - SHOWN_REJECTIONS} more (see --rejected-csv)")


def _import(args: argparse.Namespace, settings: Settings) -> int:
    max_bytes = settings.web.max_upload_mb * 1024 * 1024
    reading = {"delimiter": args.delimiter, "encoding": args.encoding}

    async def work() -> int:
        try:
            user = await _user(args.user)
            if args.map:
                mapping = importing.parse_map_spec(args.map)
            else:
                preview = await importing.preview_import(
                    args.file, kind=args.kind, max_bytes=max_bytes, **reading
                )
                mapping = {h: t for h, t in preview.suggested.items() if t}
                shown = ", ".join(f"{h}={t}" for h, t in mapping.items()) or "(nothing)"
                print(f"mapping suggested from the headers: {shown}")
            if args.dry_run:
                counts = await importing.dry_run_import(
                    args.file,
                    kind=args.kind,
                    mapping=mapping,
                    duplicates=args.duplicates,
                    max_bytes=max_bytes,
                    **reading,
                )
                _print_counts(counts, dry_run=True)
                _print_rejections(
                    [
                        {"row": r.row, "column": r.column, "reason": r.reason}
                        for r in counts.rejections
                    ]
                )
                print("dry run: nothing was changed")
                return 0
            batch = await importing.create_import(
                user,
                args.file,
                kind=args.kind,
                mapping=mapping,
                duplicates=args.duplicates,
                file_name=args.file.name,
                max_bytes=max_bytes,
                **reading,
            )
            batch = await importing.run_import(batch.id, max_bytes=max_bytes)
        except CrmError as err:
            return _fail("import", err)
        except Exception as err:
            if not is_database_busy(err):
                raise
            print(
                f"centralita import: the database is busy (another program holds it: {err}); "
                "nothing was imported, try again later",
                file=sys.stderr,
            )
            return 1
        if batch.status != "done":
            print(
                f"centralita import: import {batch.id} {batch.status}: {batch.error}",
                file=sys.stderr,
            )
            print(
                f"{batch.processed_rows} of {batch.total_rows} rows were handled before it "
                f"stopped ({batch.created_count} created, {batch.updated_count} merged into "
                f"existing ones); undo them with: centralita import-cancel {batch.id}",
                file=sys.stderr,
            )
            return 1
        counts = importing.ImportCounts(
            processed_rows=batch.processed_rows,
            created=batch.created_count,
            updated=batch.updated_count,
            skipped=batch.skipped_count,
            rejected=batch.rejected_count,
        )
        _print_counts(counts, dry_run=False)
        _print_rejections(batch.rejected)
        if args.rejected_csv and batch.rejected:
            args.rejected_csv.write_text(importing.rejected_rows_csv(batch), encoding="utf-8-sig")
            print(f"rejected rows written to {args.rejected_csv}")
        print(f"import {batch.id} done; undo it with: centralita import-cancel {batch.id}")
        return 0

    return with_db(settings, work)


def _cancel(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        try:
            batch = await importing.cancel_import(args.batch_id, user=await _user(args.user))
        except CrmError as err:
            return _fail("import-cancel", err)
        print(f"import {batch.id} ({batch.file_name}) cancelled")
        return 0

    return with_db(settings, work)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        for b in await importing.list_imports():
            who = b.user.username if b.user else "system"
            print(
                f"{b.id:>5}  {b.created_at:%Y-%m-%d %H:%M}  {b.kind:<7} {b.status:<9} {who:<12} "
                f"{b.created_count} created, {b.updated_count} updated, "
                f"{b.rejected_count} rejected  {b.file_name}"
            )
        return 0

    return with_db(settings, work)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    fmt = args.format or args.output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        print(
            "centralita export: give --format csv or xlsx (or an -o name ending in one)",
            file=sys.stderr,
        )
        return 2
    filters = ExportFilters(status=args.status, query=args.query, lead_view="all")

    async def work() -> int:
        try:
            count = await export_to_path(
                await _user(args.user), args.kind, fmt, args.output, filters
            )
        except CrmError as err:
            return _fail("export", err)
        print(f"{count} {args.kind} written to {args.output}")
        return 0

    return with_db(settings, work)
