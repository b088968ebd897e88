"""A user's own settings: profile (G1), photo, language, working hours (G3), dashboard (D2)."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from typing import Any

from models.core.errors import Conflict, ValidationFailed, msg
from models.core.secret_box import SecretBox
from models.people.schedule import validate_schedule, validate_time_zone
from models.schema.users import User

LANGUAGES = ("es", "en")
PHOTO_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
# What the first bytes of each accepted image type look like (the browser's type can lie).
_MAGIC = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",), ".webp": (b"RIFF",)}
_EXTENSION = re.compile(r"^[0-9]{2,20}$")
DASHBOARD_WIDGETS = (
    "clients",
    "my_leads",
    "tasks_done",
    "tasks_overdue",
    "tasks_current",
    "my_calls",
    "new_leads",
)


async def update_profile(
    user: User,
    *,
    full_name: str,
    email: str,
    phone: str,
    position: str,
    extension: str,
    language: str,
) -> User:
    errors: dict[str, str] = {}
    email = email.strip()
    extension = extension.strip()
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        errors["email"] = msg("not an email address")
    if extension and not _EXTENSION.match(extension):
        errors["extension"] = msg("digits only (2-20)")
    if language not in LANGUAGES:
        errors["language"] = msg("choose Spanish or English")
    if len(full_name) > 120:
        errors["full_name"] = msg("at most 120 characters")
    if errors:
        raise ValidationFailed(errors)
    if extension and await User.filter(extension=extension).exclude(id=user.id).exists():
        raise Conflict(
            msg("extension %(extension)s belongs to another user", extension=extension),
            field="extension",
        )
    user.full_name = full_name.strip()
    user.email = email
    user.phone = phone.strip()[:40]
    user.position = position.strip()[:100]
    user.extension = extension or None
    user.language = language
    await user.save(
        update_fields=["full_name", "email", "phone", "position", "extension", "language"]
    )
    return user


def check_sip_password(password: str) -> None:
    if len(password) > 128 or any(ord(c) < 32 for c in password):
        raise ValidationFailed({"sip_password": msg("at most 128 characters, no control ones")})


async def set_sip_password(user: User, password: str, box: SecretBox) -> None:
    """Store the web phone's SIP password sealed with the installation's box ("" forgets it).

    The password is never shown back nor logged: the profile page only says it is saved.
    """
    check_sip_password(password)
    user.sip_password_sealed = box.seal(password) if password else ""
    await user.save(update_fields=["sip_password_sealed"])


def sip_password_of(user: User, box: SecretBox) -> str:
    """The user's SIP password in clear ("" when none); SecretUnreadable under another key."""
    return box.open(user.sip_password_sealed) if user.sip_password_sealed else ""


async def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationFailed({"language": msg("choose Spanish or English")})
    user.language = language
    await user.save(update_fields=["language"])


def photo_extension(content_type: str, head: bytes) -> str:
    """The file extension of an accepted photo, checking its first bytes."""
    ext = PHOTO_TYPES.get(content_type)
    if ext is None or not head.startswith(_MAGIC[ext]):
        raise ValidationFailed({"photo": msg("PNG, JPEG or WebP images only")})
    return ext


async def set_photo(
    user: User, data: bytes, content_type: str, uploads_dir: Path, max_bytes: int
) -> str:
    """Store a profile photo; returns its file name under uploads_dir."""
    if len(data) > max_bytes:
        raise ValidationFailed(
            {"photo": msg("at most %(size)s MB", size=max_bytes // (1024 * 1024))}
        )
    if not data:
        raise ValidationFailed({"photo": msg("choose a file")})
    ext = photo_extension(content_type, data[:12])
    name = f"user{user.id}-{secrets.token_hex(6)}{ext}"
    await asyncio.to_thread(_write, uploads_dir, name, data)
    old = user.photo_path
    user.photo_path = name
    await user.save(update_fields=["photo_path"])
    if old and old != name:
        await asyncio.to_thread(_remove, uploads_dir / old)
    return name


def _write(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def set_working_hours(
    user: User, *, time_zone: str, first_weekday: int, schedule: dict[str, Any]
) -> User:
    errors: dict[str, str] = {}
    try:
        validate_time_zone(time_zone)
    except ValidationFailed as err:
        errors.update(err.fields)
    if first_weekday not in range(7):
        errors["first_weekday"] = msg("0 (Monday) to 6 (Sunday)")
    try:
        clean = validate_schedule(schedule)
    except ValidationFailed as err:
        errors.update(err.fields)
        clean = {}
    if errors:
        raise ValidationFailed(errors)
    user.time_zone = time_zone
    user.first_weekday = first_weekday
    user.work_schedule = clean
    await user.save(update_fields=["time_zone", "first_weekday", "work_schedule"])
    return user


def dashboard_layout(user: User) -> dict[str, Any]:
    """The user's widget order and hidden widgets, completed with widgets added since."""
    saved = user.dashboard_layout or {}
    order = [w for w in saved.get("order", []) if w in DASHBOARD_WIDGETS]
    order += [w for w in DASHBOARD_WIDGETS if w not in order]
    hidden = [w for w in saved.get("hidden", []) if w in DASHBOARD_WIDGETS]
    return {"order": order, "hidden": hidden}


async def save_dashboard_layout(user: User, order: list[str], hidden: list[str]) -> dict[str, Any]:
    unknown = [w for w in [*order, *hidden] if w not in DASHBOARD_WIDGETS]
    if unknown:
        raise ValidationFailed(
            {"layout": msg("unknown widgets: %(widgets)s", widgets=", ".join(unknown))}
        )
    user.dashboard_layout = {"order": list(dict.fromkeys(order)), "hidden": sorted(set(hidden))}
    await user.save(update_fields=["dashboard_layout"])
    return dashboard_layout(user)
