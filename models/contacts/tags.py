"""The tags in use, for filters and pickers (C4)."""

from __future__ import annotations

from typing import cast

from models.schema.clients import Tag


async def all_tags(limit: int = 200) -> list[str]:
    names = await Tag.all().order_by("name").limit(limit).values_list("name", flat=True)
    return cast(list[str], names)
