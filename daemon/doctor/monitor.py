"""The doctor inside the running product: the checks run at start-up, after each login of the AMI
link (a reconnect), and every minute while a problem remains (a fix in manager.conf reloads
without dropping the link); each problem is logged once at WARNING (not again while it
stays the same, and a fixed one is noted at INFO); the latest report is kept in memory for the
panel (handed over as `WebServices.pbx_health`, the `PbxHealth` shape of models)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack

from daemon.doctor.context import load_context
from daemon.doctor.runner import run_checks
from daemon.telephony import Telephony
from models.core.clock import Clock
from models.core.db import is_database_busy
from models.core.settings import AmiSettings, Settings
from models.telephony.pbx_health import Finding, HealthReport

logger = logging.getLogger(__name__)


class PbxDoctor:
    """Runs the checks on demand (`check_now`) and whenever `link_ready()` is called."""

    def __init__(
        self,
        settings: Settings,
        ami: AmiSettings,
        clock: Clock,
        *,
        recheck_seconds: float = 60.0,
        simulated: bool = False,
    ) -> None:
        self.simulated = simulated  # the built-in simulator stands in for the PBX
        self.settings = settings
        self.recheck_seconds = recheck_seconds
        self.ami = ami  # the link's own settings (the simulator's address and secret)
        self.clock = clock
        self._latest: HealthReport | None = None
        self._logged: list[Finding] = []
        self._lock = asyncio.Lock()
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def latest(self) -> HealthReport | None:
        return self._latest

    async def check_now(self, *, call_extension: str = "") -> HealthReport:
        async with self._lock:
            ctx = await load_context(
                self.settings,
                self.ami,
                self.clock.now(),
                call_extension=call_extension,
                simulated=self.simulated,
            )
            report = await run_checks(ctx)
            self._latest = report
            self._log(report)
            return report

    def link_ready(self) -> None:
        """The AMI link has (re)connected: check again soon (never blocks the link)."""
        self._wanted.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pbx-doctor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if self._latest is None or self._latest.is_healthy:
                await self._wanted.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wanted.wait(), self.recheck_seconds)
            self._wanted.clear()
            try:
                await self.check_now()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if is_database_busy(err):  # a restart of PostgreSQL: checked again next time
                    logger.warning("the PBX doctor's checks wait for the database: %s", err)
                else:
                    logger.exception("the PBX doctor's checks failed")

    def _log(self, report: HealthReport) -> None:
        problems = report.problems
        for finding in problems:
            if not any(finding.same_as(old) for old in self._logged):
                logger.warning("PBX doctor: %s", finding.line("en"))
        for old in self._logged:
            if not any(old.same_as(new) for new in problems):
                logger.info("PBX doctor: fixed: %s", old.line("en"))
        self._logged = problems


async def start_doctor(
    stack: AsyncExitStack, settings: Settings, clock: Clock, telephony: Telephony
) -> PbxDoctor:
    """The doctor of the running product; it joins `stack` and follows the link's logins."""
    if telephony.simulator is not None:
        # The built-in simulator lists the CRM users' phones as its endpoints.
        telephony.simulator.endpoint_source = telephony.calls.directory.extensions.known
    doctor = PbxDoctor(
        settings, telephony.link.settings, clock, simulated=telephony.simulator is not None
    )
    doctor.start()
    stack.push_async_callback(doctor.stop)
    telephony.link.on_ready = doctor.link_ready
    doctor.link_ready()  # at start-up also when the link cannot log in (that is the problem)
    return doctor
