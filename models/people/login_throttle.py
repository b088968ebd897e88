"""Slowing down password guessing, per account and per address (issue 14, item 17).

Every login attempt is counted twice, before its password is checked: once for the username
typed (known or not, so the answer never tells whether it exists) and once for the address it
came from; a right password then takes its count back. Counting first means that a burst of
attempts sent at the same moment cannot all slip in before the first failure is written.

- An account that collects `account_failures` failures without a quiet quarter of an hour is
  locked for 30 seconds, then twice as long at each further failure (1, 2, 4 ... minutes), at
  most 15 minutes. While it is locked no password is checked, the right one included.
- An address is refused for the rest of the minute once it has failed `address_failures`
  times in that minute.

The counters live in the database (`login_throttle`), so several instances share them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.schema.sessions import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    account_quiet: timedelta = timedelta(minutes=15)
    first_lock: timedelta = timedelta(seconds=30)
    longest_lock: timedelta = timedelta(minutes=15)
    address_failures: int = 10
    address_window: timedelta = timedelta(minutes=1)

    def account_lock(self, failures: int) -> timedelta:
        """How long the `failures`-th failure in a row locks the account."""
        doublings = min(failures - self.account_failures, 20)
        lock: timedelta = self.first_lock * (2**doublings)
        return min(lock, self.longest_lock)


@dataclass(frozen=True)
class Attempt:
    """A login attempt, counted. `refused_for`: one of its keys is locked, so the password
    must not be checked; `wait_if_wrong`: the lock a wrong password has now started."""

    account_key: str
    address_key: str
    refused_for: timedelta | None = None
    wait_if_wrong: timedelta | None = None


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def account_key(username: str) -> str:
    return _key("account", username.strip().casefold())


def address_key(address: str) -> str:
    return _key("address", address)


def _quiet_since(row: LoginThrottle) -> datetime | None:
    times = [t for t in (row.last_failure_at, row.locked_until) if t is not None]
    return max(times) if times else None


def _count_account(row: LoginThrottle, now: datetime, policy: ThrottlePolicy) -> None:
    quiet_since = _quiet_since(row)
    if quiet_since is None or now - quiet_since >= policy.account_quiet:
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= policy.account_failures:
        row.locked_until = now + policy.account_lock(row.failures)


def _count_address(row: LoginThrottle, now: datetime, policy: ThrottlePolicy) -> None:
    started = row.window_started_at
    if started is None or now - started >= policy.address_window:
        row.failures = 0
        row.window_started_at = started = now
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= policy.address_failures:
        row.locked_until = started + policy.address_window


async def begin_attempt(
    username: str, address: str, now: datetime, policy: ThrottlePolicy
) -> Attempt:
    """Count an attempt before its password is checked, or refuse it while a lock holds."""
    account, place = account_key(username), address_key(address)
    keys = sorted({account, place})  # one order for every transaction: no deadlock
    async with in_transaction():
        await LoginThrottle.bulk_create(
            [LoginThrottle(key=key) for key in keys], ignore_conflicts=True
        )
        rows = {
            row.key: row
            for row in await LoginThrottle.filter(key__in=keys).order_by("key").select_for_update()
        }
        waits = [
            row.locked_until - now
            for row in rows.values()
            if row.locked_until is not None and row.locked_until > now
        ]
        if waits:
            return Attempt(account, place, refused_for=max(waits))
        _count_account(rows[account], now, policy)
        _count_address(rows[place], now, policy)
        for row in rows.values():
            await row.save()
    locked_until = rows[account].locked_until
    return Attempt(account, place, wait_if_wrong=locked_until - now if locked_until else None)


async def succeeded(attempt: Attempt, now: datetime, policy: ThrottlePolicy) -> None:
    """The password was right: the account's failures are forgiven and the address gets its
    attempt back."""
    async with in_transaction():
        await LoginThrottle.filter(key=attempt.account_key).delete()
        row = await LoginThrottle.filter(key=attempt.address_key).select_for_update().first()
        if row is not None and row.failures > 0:
            row.failures -= 1
            if row.failures < policy.address_failures:
                row.locked_until = None
            await row.save(update_fields=["failures", "locked_until"])
    await purge_stale(now, policy)


async def purge_stale(now: datetime, policy: ThrottlePolicy) -> int:
    """Forget counters that have been quiet long enough to start again from zero anyway."""
    cutoff = now - max(policy.account_quiet, policy.address_window)
    return await LoginThrottle.filter(
        Q(last_failure_at__lt=cutoff) | Q(last_failure_at=None),
        Q(locked_until=None) | Q(locked_until__lt=cutoff),
    ).delete()
