"""The company's exclusion list (G5): addresses, or whole domains, whose mail is never recorded
(banks, newsletters, colleagues' private mail). A pattern is "someone@example.com" or
"@example.com", kept in lower case; only an admin (right settings.manage) changes the list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import cast

from tortoise.exceptions import IntegrityError

from models.core.errors import Conflict, NotFound, ValidationFailed, msg
from models.core.sql import is_id
from models.messaging.mail import check_address
from models.people.permissions import require
from models.schema.mail import MailExclusion
from models.schema.users import User


def check_pattern(text: str) -> str:
    """ "someone@example.com" or "@example.com", stripped and lower-cased; ValidationFailed
    (field "pattern") for anything else."""
    pattern = text.strip().lower()
    if pattern.startswith("@"):
        domain = pattern[1:]
        labels = domain.split(".")
        if (
            len(labels) < 2
            or len(pattern) > 254
            or not all(labels)
            or any(not (c.isalnum() or c in "-.") for c in domain)
        ):
            raise ValidationFailed(
                {"pattern": msg("write an address (ana@example.com) or a domain (@example.com)")}
            )
        return pattern
    try:
        if any(unicodedata.category(c) == "Cc" for c in pattern):
            raise ValidationFailed({})
        return check_address(pattern)
    except ValidationFailed:
        raise ValidationFailed(
            {"pattern": msg("write an address (ana@example.com) or a domain (@example.com)")}
        ) from None


def is_excluded(address: str, patterns: Iterable[str]) -> bool:
    """Whether mail from or to `address` is never recorded: the address itself or its domain
    (exactly: "@example.com" does not cover "mail.example.com") is on the list."""
    address = address.strip().lower()
    domain = "@" + address.rpartition("@")[2]
    return any(p == address or p == domain for p in patterns)


async def excluded_patterns() -> list[str]:
    patterns = await MailExclusion.all().order_by("pattern").values_list("pattern", flat=True)
    return cast(list[str], patterns)


async def list_exclusions() -> list[MailExclusion]:
    return await MailExclusion.all().order_by("pattern")


async def add_exclusion(actor: User, text: str) -> MailExclusion:
    require(actor, "settings.manage")
    pattern = check_pattern(text)
    if await MailExclusion.filter(pattern=pattern).exists():
        raise Conflict(msg("%(pattern)s is already on the list", pattern=pattern), field="pattern")
    try:
        return await MailExclusion.create(pattern=pattern)
    except IntegrityError:  # added by someone else meanwhile
        raise Conflict(
            msg("%(pattern)s is already on the list", pattern=pattern), field="pattern"
        ) from None


async def remove_exclusion(actor: User, exclusion_id: int) -> None:
    require(actor, "settings.manage")
    deleted = await MailExclusion.filter(id=exclusion_id).delete() if is_id(exclusion_id) else 0
    if not deleted:
        raise NotFound(msg("exclusion %(id)s not found", id=exclusion_id))
