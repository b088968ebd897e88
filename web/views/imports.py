"""Import and export pages (C9, C10): upload, preview and mapping, progress, report, cancel.

An import a restart interrupted offers to resume where it stopped or to undo what it did; its
uploaded file is kept for that (not pruned) until one of the two.

The import runs as a background task of the server (an ImportRunner owned by this module's
cleanup context); the page polls a small JSON view of the batch row for its progress bar.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import BinaryIO

from aiohttp import web
from aiohttp.web_request import FileField

from models import importing
from models.core.errors import NotFound, ValidationFailed
from models.importing.csv_dialect import (
    DELIMITER_NAMES,
    ENCODINGS,
    delimiter_name,
    encoding_name,
)
from models.importing.mapping import KINDS as IMPORT_KINDS
from models.importing.statuses import error_text, status_label
from models.people.permissions import require
from models.reporting.export import (
    FORMATS,
    KINDS,
    ExportFilters,
    check_export,
    export_csv_chunks,
    export_to_path,
)
from models.reporting.periods import day_filter
from models.schema.imports import ImportBatch
from web.keys import CLOCK, REQ_LANG, SETTINGS
from web.templating import flash, formatter, gettext, render, say, translator
from web.views.common import current_user, int_param, path_id

IMPORT_RUNNER = web.AppKey("import_runner", importing.ImportRunner)
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx|txt)$")
SHOWN_REJECTIONS = 50
UPLOAD_LIFETIME_S = 24 * 3600
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _max_bytes(request: web.Request) -> int:
    return request.app[SETTINGS].web.max_upload_mb * 1024 * 1024


def _upload_dir(request: web.Request) -> Path:
    path = request.app[SETTINGS].data_dir / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # clients' data: ours to read only
    return path


def _kind(value: str | None) -> str:
    return value if value in IMPORT_KINDS else "clients"


def _prune_uploads(directory: Path, keep: Collection[Path] = ()) -> None:
    """Uploads previewed but never imported, left from earlier days (`keep`: the files of
    interrupted imports, which may still be resumed)."""
    if not directory.is_dir():
        return
    limit = time.time() - UPLOAD_LIFETIME_S
    kept = {p.resolve() for p in keep}
    for path in directory.iterdir():
        if path.resolve() in kept:
            continue
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


async def _runner_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    runner = importing.ImportRunner(
        max_bytes=settings.web.max_upload_mb * 1024 * 1024,
        clock=app[CLOCK],
        shared=settings.cluster.enabled,
        lease_seconds=settings.cluster.import_lease_seconds,
    )
    await runner.recover()
    _prune_uploads(app[SETTINGS].data_dir / "imports", await importing.interrupted_files())
    app[IMPORT_RUNNER] = runner
    yield
    await runner.close()


async def new_import_page(request: web.Request, *, errors: dict | None = None, status: int = 200):
    user = current_user(request)
    require(user, "import_export")
    kind = _kind(request.query.get("kind") or (await _post_value(request, "kind")))
    context = {
        "kind": kind,
        "errors": errors or {},
        "batches": await importing.list_imports(kind, limit=20),
        "status_text": lambda status: say(request, status_label(status)),
        "max_mb": request.app[SETTINGS].web.max_upload_mb,
    }
    return render(request, "imports/new.html", context, status=status)


async def _post_value(request: web.Request, name: str) -> str | None:
    if request.method != "POST":
        return None
    value = (await request.post()).get(name)
    return value if isinstance(value, str) else None


async def upload(request: web.Request) -> web.Response:
    """Store the file, check it and show its first rows with a suggested mapping."""
    user = current_user(request)
    require(user, "import_export")
    form = await request.post()
    kind = _kind(form.get("kind") if isinstance(form.get("kind"), str) else None)
    field = form.get("file")
    if not isinstance(field, FileField) or not field.filename:
        return await new_import_page(
            request, errors={"file": gettext(request, "Choose a file.")}, status=422
        )
    suffix = Path(field.filename).suffix.lower().lstrip(".")
    upload_id = f"{secrets.token_hex(16)}.{suffix if suffix in ('csv', 'xlsx') else 'txt'}"
    path = _upload_dir(request) / upload_id
    await asyncio.to_thread(_save, field.file, path)
    try:
        preview = await importing.preview_import(path, kind=kind, max_bytes=_max_bytes(request))
    except importing.FileRejected as err:
        path.unlink(missing_ok=True)
        return await new_import_page(request, errors={"file": _refusal(request, err)}, status=422)
    except ValidationFailed as err:
        path.unlink(missing_ok=True)
        return await new_import_page(request, errors=err.fields, status=422)
    context = _map_context(kind, preview, path, field.filename, preview.suggested, "skip", {})
    return render(request, "imports/map.html", context)


def _refusal(request: web.Request, err: importing.FileRejected) -> str:
    return gettext(request, err.template, **err.params)  # in the reader's language


def _map_context(
    kind: str,
    preview: importing.ImportPreview,
    path: Path,
    file_name: str,
    mapping: dict[str, str],
    duplicates: str,
    errors: dict[str, str],
    reading: dict[str, str] | None = None,
) -> dict:
    """The mapping page: the file's first rows, a CRM field per column, and how the file is
    read (a CSV's delimiter and encoding, as found or as the user chose them)."""
    return {
        "kind": kind,
        "preview": preview,
        "upload_id": path.name,
        "file_name": file_name,
        "mapping": mapping,
        "duplicates": duplicates,
        "errors": errors,
        "reading": reading
        or {
            "delimiter": delimiter_name(preview.delimiter),
            "encoding": encoding_name(preview.encoding),
        },
        "delimiters": DELIMITER_NAMES,
        "encodings": ENCODINGS,
    }


def _save(source: BinaryIO, path: Path) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as target:
        shutil.copyfileobj(source, target)


def _stored_upload(request: web.Request, upload_id: str) -> Path:
    if not _UPLOAD_ID.match(upload_id):
        raise NotFound("no such upload")
    path = _upload_dir(request) / upload_id
    if not path.exists():
        raise NotFound("no such upload")
    return path


async def start(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "import_export")  # before the stored upload is even looked at
    form = await request.post()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    kind = _kind(values.get("kind"))
    path = _stored_upload(request, values.get("upload_id", ""))
    file_name = values.get("file_name", "")[:255]
    duplicates = values.get("duplicates", "skip")
    # How to read a CSV file, as the page's "delimiter" and "encoding" say (empty: find it).
    reading = {"delimiter": values.get("delimiter", ""), "encoding": values.get("encoding", "")}
    try:
        preview = await importing.preview_import(
            path, kind=kind, max_bytes=_max_bytes(request), **reading
        )
    except importing.FileRejected as err:
        # Not readable the way the user chose: the file as found, with the reason.
        preview = await importing.preview_import(path, kind=kind, max_bytes=_max_bytes(request))
        errors = {"reading": _refusal(request, err)}
        context = _map_context(
            kind, preview, path, file_name, preview.suggested, duplicates, errors, reading
        )
        return render(request, "imports/map.html", context, status=422)
    if values.get("reread"):  # "Read the file again" with another delimiter or encoding
        context = _map_context(kind, preview, path, file_name, preview.suggested, duplicates, {})
        return render(request, "imports/map.html", context)
    mapping = {h: values.get(f"map_{i}", "") for i, h in enumerate(preview.headers)}
    try:
        batch = await importing.create_import(
            user,
            path,
            kind=kind,
            mapping=mapping,
            duplicates=duplicates,
            file_name=file_name or path.name,
            max_bytes=_max_bytes(request),
            **reading,
        )
    except ValidationFailed as err:
        context = _map_context(kind, preview, path, file_name, mapping, duplicates, err.fields)
        return render(request, "imports/map.html", context, status=422)
    request.app[IMPORT_RUNNER].start(batch.id, remove_file=True)
    flash(request, gettext(request, "Import %(id)s started.", id=batch.id))
    raise web.HTTPSeeOther(f"/imports/{batch.id}")


def progress_of(request: web.Request, batch: ImportBatch) -> dict:
    total = max(batch.total_rows, batch.processed_rows)
    finished = batch.status in ("done", "failed", "cancelled")
    fmt = formatter(request)
    counts = {
        "created": batch.created_count,
        "updated": batch.updated_count,
        "skipped": batch.skipped_count,
        "rejected": batch.rejected_count,
    }
    # What the page shows, in the reader's language: "running", "15.000 / 30.001".
    labels = {
        "status": say(request, status_label(batch.status)),
        "count": f"{fmt.number(batch.processed_rows)} / {fmt.number(total)}",
        **{key: fmt.number(value) for key, value in counts.items()},
    }
    return {
        "id": batch.id,
        "status": batch.status,
        "total_rows": total,
        "processed_rows": batch.processed_rows,
        "percent": 100
        if finished and batch.status != "failed"
        else (int(batch.processed_rows * 100 / total) if total else 0),
        **counts,
        "error": error_text(batch.error, request[REQ_LANG]),
        "finished": finished,
        "labels": labels,
    }


async def _batch(request: web.Request) -> ImportBatch:
    require(current_user(request), "import_export")
    return await importing.get_import(path_id(request))


async def show(request: web.Request) -> web.Response:
    batch = await _batch(request)
    translate = translator(request).gettext
    return render(
        request,
        "imports/show.html",
        {
            "batch": batch,
            "progress": progress_of(request, batch),
            "rejections": [
                {**r, "reason": importing.rejection_reason(r, translate)}
                for r in batch.rejected[:SHOWN_REJECTIONS]
            ],
            "running": request.app[IMPORT_RUNNER].is_running(batch.id),
            "interrupted": importing.is_interrupted(batch),
            "resumable": importing.can_resume(batch),
        },
    )


async def progress(request: web.Request) -> web.Response:
    return web.json_response(progress_of(request, await _batch(request)))


async def rejected_csv(request: web.Request) -> web.Response:
    batch = await _batch(request)
    return web.Response(
        body=importing.rejected_rows_csv(batch, translator(request).gettext).encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{batch.id}-rejected.csv"'},
    )


async def cancel(request: web.Request) -> web.Response:
    # Checked first, acted on after: a user who may not cancel stops nothing on the way to
    # the refusal (the runner's stop cannot be undone).
    batch = await _batch(request)
    user = current_user(request)
    await request.app[IMPORT_RUNNER].stop(batch.id)  # a running import stops first
    batch = await importing.cancel_import(batch.id, user=user, clock=request.app[CLOCK])
    upload = _our_upload(request, batch)
    if upload is not None:  # an interrupted import's file, kept for a resume no longer asked
        upload.unlink(missing_ok=True)
    flash(
        request,
        gettext(request, "Import %(id)s cancelled: what it created was removed.", id=batch.id),
    )
    raise web.HTTPSeeOther(f"/imports/{batch.id}")


def _our_upload(request: web.Request, batch: ImportBatch) -> Path | None:
    """The batch's file when it is an upload of this page's (a file named on the command line
    belongs to whoever ran the command)."""
    path = batch.options.get("path")
    if not path or Path(path).parent != _upload_dir(request):
        return None
    return Path(path)


async def resume(request: web.Request) -> web.Response:
    """Carry on an import a restart interrupted, after the rows it had written."""
    batch = await _batch(request)
    batch = await importing.resume_import(batch.id, user=current_user(request))
    request.app[IMPORT_RUNNER].start(batch.id, remove_file=_our_upload(request, batch) is not None)
    flash(request, gettext(request, "Import %(id)s resumed where it stopped.", id=batch.id))
    raise web.HTTPSeeOther(f"/imports/{batch.id}")


def _filters(request: web.Request, kind: str) -> ExportFilters:
    """The list page's own filters, with its defaults (the Leads page shows my open leads)."""
    q = request.query
    view = q.get("view")
    created = day_filter(current_user(request), q.get("from"), q.get("to"))
    if kind == "leads":
        status = q.get("status") or "open"
        return ExportFilters(
            query=q.get("q") or None,
            lead_view=view if view in ("mine", "unhandled", "all") else "mine",
            status=None if status == "any" else status,
            created_since=created.start,
            created_until=created.end,
        )
    return ExportFilters(
        query=q.get("q") or None,
        mine=view == "mine",
        status=q.get("status") or None,
        tag=q.get("tag") or None,
        responsible_id=int_param(q.get("responsible")),
        client_id=int_param(q.get("client_id")),
        created_since=created.start,
        created_until=created.end,
    )


async def export(request: web.Request) -> web.StreamResponse:
    """The list page's rows with its filters (the query string), as a CSV or .xlsx download."""
    user = current_user(request)
    require(user, "import_export")
    kind, fmt = request.match_info["kind"], request.match_info["fmt"]
    if kind not in KINDS or fmt not in FORMATS:
        raise NotFound("no such export")
    filters = _filters(request, kind)
    # Bad filters are refused here, with a page: once the download has started they would
    # only cut it short.
    await check_export(user, kind, filters)
    name = f"{kind}.{fmt}"
    if fmt == "csv":
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}"',
            }
        )
        await response.prepare(request)
        async for chunk in export_csv_chunks(user, kind, filters, lang=request[REQ_LANG]):
            await response.write(chunk)
        await response.write_eof()
        return response
    path = _upload_dir(request) / f"export-{secrets.token_hex(8)}.xlsx"
    try:
        await export_to_path(user, kind, "xlsx", path, filters, lang=request[REQ_LANG])
        response = web.StreamResponse(
            headers={
                "Content-Type": XLSX_TYPE,
                "Content-Disposition": f'attachment; filename="{name}"',
            }
        )
        response.content_length = path.stat().st_size
        await response.prepare(request)
        with path.open("rb") as handle:
            while chunk := handle.read(256 * 1024):
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        path.unlink(missing_ok=True)


def setup_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_runner_context)
    app.router.add_get("/imports/new", new_import_page)
    app.router.add_post("/imports/upload", upload)
    app.router.add_post("/imports/start", start)
    app.router.add_get(r"/imports/{id:\d+}", show)
    app.router.add_get(r"/imports/{id:\d+}/progress", progress)
    app.router.add_get(r"/imports/{id:\d+}/rejected.csv", rejected_csv)
    app.router.add_post(r"/imports/{id:\d+}/cancel", cancel)
    app.router.add_post(r"/imports/{id:\d+}/resume", resume)
    app.router.add_get(r"/export/{kind}.{fmt}", export)
