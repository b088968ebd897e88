"""Which active user answers at which extension: the one directory the call path asks.

Built once by the daemon (one query) and shared by everything that turns an extension into a
user: the calls service (user ids on call events, the tracker's known extensions), the call store
(the agent of a stored call) and the panel's live pop-ups. It is reloaded when a `UsersChanged`
event says a user or an extension changed; an extension it does not know is looked up again at
most once a second, so a user added by another process (`centralita user add`) is found on their
first call without a query per event for extensions that belong to nobody (a trunk, a queue).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from models.core.events import UsersChanged
from models.schema.users import User

# Shortest pause between two reloads caused by an extension the directory does not know.
MISS_RELOAD_SECONDS = 1.0


class ExtensionDirectory:
    """Extension -> active user, kept in memory and reloaded on `UsersChanged`."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._users: dict[str, User] = {}
        self._known: frozenset[str] | None = None
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()
        self._monotonic = monotonic
        self.loads = 0  # how many times it was read from the database (tests, benches)

    async def load(self) -> None:
        """Read every active user with an extension (one query)."""
        async with self._lock:
            users = await User.filter(is_active=True, extension__isnull=False).prefetch_related(
                "group"
            )
            by_extension: dict[str, User] = {}
            for user in sorted(users, key=lambda u: u.id):
                if user.extension:
                    by_extension.setdefault(str(user.extension), user)
            self._users = by_extension
            self._known = frozenset(by_extension)
            self._loaded_at = self._monotonic()
            self.loads += 1

    async def on_event(self, event: object) -> None:
        """A hub subscriber: reload when users changed."""
        if isinstance(event, UsersChanged):
            await self.load()

    def known(self) -> frozenset[str] | None:
        """The extensions of active users (None before the first load)."""
        return self._known

    def cached(self, extension: str) -> User | None:
        """The user at `extension` as last loaded, without asking the database."""
        return self._users.get(extension)

    async def user(self, extension: str) -> User | None:
        """The active user at `extension`; an unknown one is looked up again (rate-limited)."""
        if not extension:
            return None
        found = self._users.get(extension)
        if found is None and self._monotonic() - self._loaded_at >= MISS_RELOAD_SECONDS:
            await self.load()
            found = self._users.get(extension)
        return found

    async def user_id(self, extension: str) -> int | None:
        user = await self.user(extension)
        return user.id if user is not None else None
