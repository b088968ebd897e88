"""Keeping every connected Google Calendar in sync while the daemon runs (K2).

A scheduler job every minute writes the CRM's changes to Google and, for calendars without
a push channel, reads Google's changes every [google] poll_minutes. When [web] public_url
is HTTPS each calendar gets a watch channel: Google's notification (web/views/
settings_google.py) publishes CalendarSyncRequested and that calendar is read at once
(and every SAFETY_POLL anyway, for a notification lost on the way). Channels are renewed a
day before they expire. A connection that fails waits longer each time (1, 2, 4 … 60
minutes) with its reason on the settings page; one that Google refused waits for the user
to connect again. One connection's trouble never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from daemon.scheduler import Scheduler
from models.core.clock import Clock
from models.core.errors import msg
from models.core.events import CalendarSyncRequested
from models.core.hub import Hub, Subscription
from models.core.secret_box import SecretBox, SecretUnreadable
from models.core.settings import Settings
from models.schema.calendar_sync import GoogleCalendarLink
from models.work import google_calendar as connections
from models.work.calendar_api import AuthorizationRevoked, CalendarApi, CalendarApiError
from models.work.calendar_sync import SyncReport, sync_calendar

logger = logging.getLogger(__name__)

JOB = "calendar-sync"
JOB_SECONDS = 60.0
SAFETY_POLL = timedelta(hours=1)
CHANNEL_RENEW_BEFORE = timedelta(days=1)
CONCURRENT = 4  # calendars synced at once


class CalendarSyncRunner:
    def __init__(
        self,
        settings: Settings,
        box: SecretBox,
        clock: Clock,
        hub: Hub,
        open_api: Callable[[str], CalendarApi],
    ) -> None:
        self._settings = settings
        self._box = box
        self._clock = clock
        self._hub = hub
        self._open_api = open_api
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._limit = asyncio.Semaphore(CONCURRENT)
        self._subscription: Subscription | None = None
        self._scheduler: Scheduler | None = None
        self.runs = 0  # sync passes finished (tests wait on the reports instead of sleeping)

    async def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._subscription = self._hub.subscribe(
            "calendar-sync", self._on_request, CalendarSyncRequested
        )
        scheduler.every(JOB, JOB_SECONDS, self.sync_due)

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.remove(JOB)
        if self._subscription is not None:
            await self._hub.unsubscribe(self._subscription)
            self._subscription = None

    async def _on_request(self, event: CalendarSyncRequested) -> None:
        await self.sync_due(user_id=event.user_id, force_pull=True)

    async def sync_due(
        self, *, user_id: int | None = None, force_pull: bool = False
    ) -> dict[int, SyncReport | str]:
        """Sync every connection that is due (or only `user_id`'s): each user's report, or
        the reason it failed."""
        links = await connections.connections_due(self._clock.now(), user_id)
        results = await asyncio.gather(
            *(self.sync_link(link, force_pull=force_pull) for link in links)
        )
        self.runs += 1
        return {link.user_id: result for link, result in zip(links, results, strict=True)}

    async def sync_link(
        self, link: GoogleCalendarLink, *, force_pull: bool = False
    ) -> SyncReport | str:
        """Sync one connection now (its failures recorded): its report, or why it failed."""
        async with self._limit, self._locks[link.id]:
            fresh = await GoogleCalendarLink.get_or_none(id=link.id)
            if fresh is None:  # disconnected meanwhile
                return "disconnected"
            try:
                report = await self.sync_one(fresh, force_pull=force_pull)
            except (AuthorizationRevoked, SecretUnreadable) as err:
                text = getattr(err, "text", "") or msg(
                    "the stored token cannot be read: connect the calendar again"
                )
                logger.warning("calendar of user %s: %s", fresh.user_id, text)
                await connections.record_revoked(fresh, text)
                return str(text)
            except CalendarApiError as err:
                logger.warning("calendar of user %s: %s", fresh.user_id, err.text)
                await connections.record_failure(fresh, err.text, clock=self._clock)
                return str(err.text)
            except Exception as err:  # a bug must not stop the others' sync
                logger.exception("calendar of user %s: sync failed", fresh.user_id)
                await connections.record_failure(fresh, type(err).__name__, clock=self._clock)
                return type(err).__name__
            await connections.record_success(fresh)
            return report

    async def sync_one(self, link: GoogleCalendarLink, *, force_pull: bool = False) -> SyncReport:
        now = self._clock.now()
        api = self._open_api(connections.refresh_token_of(link, self._box))
        report = await sync_calendar(
            link,
            api,
            clock=self._clock,
            pull=force_pull or self._pull_due(link, now),
            task_url=self._settings.web.public_url,
        )
        await self._keep_channel(link, api, now)
        if report.api_calls or report.crm_created or report.crm_updated or report.crm_deleted:
            logger.info("calendar of user %s: %s", link.user_id, report)
        return report

    def _pull_due(self, link: GoogleCalendarLink, now: datetime) -> bool:
        if link.pull_requested_at is not None or link.last_pull_at is None:
            return True
        has_channel = bool(link.channel_id) and (
            link.channel_expires_at is not None and link.channel_expires_at > now
        )
        every = (
            SAFETY_POLL if has_channel else timedelta(minutes=self._settings.google.poll_minutes)
        )
        return now - link.last_pull_at >= every

    async def _keep_channel(
        self, link: GoogleCalendarLink, api: CalendarApi, now: datetime
    ) -> None:
        """A watch channel while public_url is HTTPS, renewed before it expires."""
        public = self._settings.web.public_url
        if not public.startswith("https://"):
            return
        if (
            link.channel_expires_at is not None
            and link.channel_expires_at - now > CHANNEL_RENEW_BEFORE
        ):
            return
        old_id, old_resource = link.channel_id, link.channel_resource_id
        token, token_hash = connections.new_channel_token()
        channel_id = uuid.uuid4().hex
        answer = await api.watch(
            link.calendar_id, channel_id, public.rstrip("/") + connections.NOTIFY_PATH, token
        )
        expires_ms = int(answer.get("expiration") or 0)
        expires = (
            datetime.fromtimestamp(expires_ms / 1000, UTC)
            if expires_ms
            else now + timedelta(days=7)
        )
        await connections.save_channel(
            link, channel_id, str(answer.get("resourceId") or ""), token_hash, expires
        )
        if old_id:
            try:
                await api.stop_channel(old_id, old_resource)
            except CalendarApiError as err:
                logger.info("an old calendar channel could not be stopped: %s", err.text)
