"""The files of received mail (G5): attachments kept under the attachments folder, private.

A file's name on disk is random (the sender's file name is only data, never a path); folders
are created 0700 and files 0600, like daemon/private_files.py does for the daemon's files.
Files over the size cap are named on the message but not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from models.messaging.mime_read import ParsedAttachment

FOLDER_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class KeptFile:
    """An attachment as stored: `path` relative to the attachments folder ("" when skipped)."""

    attachment: ParsedAttachment
    path: str
    skipped: bool


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(folder, FOLDER_MODE)


def _write(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(target, FILE_MODE)


def _keep_all(
    files_dir: Path, account_id: int, attachments: list[ParsedAttachment], max_bytes: int
) -> list[KeptFile]:
    kept: list[KeptFile] = []
    folder = files_dir / str(account_id)
    try:
        for attachment in attachments:
            if len(attachment.data) > max_bytes:
                kept.append(KeptFile(attachment, "", skipped=True))
                continue
            if not kept or all(k.skipped for k in kept):
                _private_folder(files_dir)
                _private_folder(folder)
            relative = f"{account_id}/{secrets.token_hex(16)}"
            _write(files_dir / relative, attachment.data)
            kept.append(KeptFile(attachment, relative, skipped=False))
    except BaseException:
        _remove(files_dir, [k.path for k in kept if k.path])
        raise
    return kept


def _remove(files_dir: Path, paths: list[str]) -> None:
    for relative in paths:
        with contextlib.suppress(FileNotFoundError):
            (files_dir / relative).unlink()


async def keep_files(
    files_dir: Path, account_id: int, attachments: list[ParsedAttachment], max_bytes: int
) -> list[KeptFile]:
    """Write the attachments (off the event loop); those over `max_bytes` are only named."""
    if not attachments:
        return []
    return await asyncio.to_thread(_keep_all, files_dir, account_id, attachments, max_bytes)


async def remove_files(files_dir: Path, kept: list[KeptFile]) -> None:
    """Undo `keep_files` (the message was not stored after all)."""
    paths = [k.path for k in kept if k.path]
    if paths:
        await asyncio.to_thread(_remove, files_dir, paths)


def file_path(files_dir: Path, relative: str) -> Path | None:
    """The file of an attachment, if `relative` stays inside the attachments folder."""
    if not relative:
        return None
    root = files_dir.resolve()
    target = (root / relative).resolve()
    if root not in target.parents:
        return None
    return target
