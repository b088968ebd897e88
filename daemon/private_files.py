"""What the CRM writes on disk is readable by the service's own user only.

The data directory holds the SQLite database (with its -wal and -shm files), the session
signing key, uploaded imports and photos and exports on their way out: clients' phone
numbers and the means to forge a login. Every command sets the umask to 077 before it
creates anything (`private_umask`), so new directories are 0700 and new files 0600, and
content left by an older version or created by hand is tightened at start
(`make_private`). The recordings folder is left alone: the PBX writes there, possibly
as another user.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from models.core.settings import Settings

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> None:
    """From now on this process creates directories 0700 and files 0600 (the children it
    starts inherit it)."""
    os.umask(PRIVATE_UMASK)


def make_private(settings: Settings) -> None:
    """Tighten the data directory, everything under it but the recordings, and the SQLite
    database wherever it is."""
    data_dir = Path(settings.data_dir)
    recordings = Path(settings.ami.recordings_dir or data_dir / "recordings")
    if data_dir.is_dir():
        _tighten(data_dir, skip=recordings.resolve())
    url = settings.database.url
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        database = Path(url[len("sqlite://") :])
        _chmod_all(
            p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()
        )


def _tighten(directory: Path, *, skip: Path) -> None:
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        dirs[:] = [d for d in dirs if (here / d).resolve() != skip]
        _chmod_all([here, *(here / name for name in files)])


def _chmod_all(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue  # the link's target is not ours to change
            wanted = DIRECTORY_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
            if stat.S_IMODE(info.st_mode) & ~wanted:
                path.chmod(stat.S_IMODE(info.st_mode) & wanted)
        except OSError as err:  # another user's file: say so, and go on
            logger.warning("cannot make %s private: %s", path, err.strerror)
