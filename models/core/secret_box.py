"""Secrets kept in the database (mail passwords, later OAuth tokens), encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with the key of `[security]
encryption_key`, or one generated once into `data_dir/encryption_key` when the config names
none. The key never reaches the database, so a copy of the database alone reveals no
password. A value that does not decrypt (another key, a damaged row) raises
`SecretUnreadable`; callers say "enter the password again" instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another key, or is damaged."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError) as err:
            raise SecretUnreadable() from err

    def __repr__(self) -> str:
        return "SecretBox(**********)"


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; a new one written there (mode 0600) when the file does not exist."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = Fernet.generate_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key + b"\n")
        finally:
            os.close(fd)
        return key
    Fernet(key)  # a ValueError names a file that holds no Fernet key
    return key


def secret_box_for(configured_key: str, data_dir: Path) -> SecretBox:
    """The box of this installation: the configured key, else data_dir/encryption_key."""
    if configured_key:
        return SecretBox(configured_key.encode("ascii"))
    return SecretBox(load_or_create_key(data_dir / "encryption_key"))
