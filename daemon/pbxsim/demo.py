"""Demo traffic: a plausible stream of calls for the team's extensions.

So that ``centralita run`` without a PBX shows live calls: inbound calls to the company's
DIDs ringing one agent or the whole team, some answered, some missed or abandoned; agents
calling clients, some of whom are busy or do not answer. Numbers are Spanish landlines and
mobiles, a few of them repeat (returning callers).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from daemon.pbxsim.server import PbxSimulator
from models.people.users import list_users

logger = logging.getLogger(__name__)

ExtensionSource = Callable[[], Awaitable[list[str]]]
_NAMES = ["María López", "José Núñez", "Carmen Ruiz", "Javier Gómez", "Lucía Martín", ""]


async def crm_extensions() -> list[str]:
    """The extensions of the CRM's active users (asked before every call: new hires ring too)."""
    return [u.extension for u in await list_users(active_only=True) if u.extension]


class DemoTraffic:
    """Starts a new call every `mean_gap` simulated seconds on average, forever."""

    def __init__(
        self,
        sim: PbxSimulator,
        extensions: ExtensionSource,
        *,
        dids: list[str] | None = None,
        mean_gap: float = 45.0,
        seed: int | None = None,
    ) -> None:
        self.sim = sim
        self.extensions = extensions
        self.dids = dids or ["900100200"]
        self.mean_gap = mean_gap
        self.rng = random.Random(seed)
        self.callers: list[str] = []
        self.calls_started = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pbxsim:demo")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.sim.clock.sleep(self.rng.expovariate(1 / self.mean_gap))
            try:
                extensions = await self.extensions()
            except Exception:
                logger.exception("demo traffic: cannot list the extensions; retrying later")
                continue
            if not extensions:
                continue
            try:
                await self.one_call(extensions)
            except Exception:
                logger.exception("demo traffic: a simulated call failed to start")

    def _number(self) -> str:
        if self.callers and self.rng.random() < 0.3:
            return self.rng.choice(self.callers)  # someone calls again
        if self.rng.random() < 0.6:
            number = f"+346{self.rng.randrange(10_000_000, 99_999_999)}"
        else:
            number = f"+3491{self.rng.randrange(1_000_000, 9_999_999)}"
        self.callers = (self.callers + [number])[-50:]
        return number

    async def one_call(self, extensions: list[str]) -> None:
        """Start one random call (inbound two times out of three)."""
        rng = self.rng
        self.calls_started += 1
        number = self._number()
        if rng.random() < 0.66:
            group = rng.random() < 0.4 and len(extensions) > 1
            ring = list(extensions) if group else [rng.choice(extensions)]
            answered = rng.random() < 0.75
            await self.sim.inbound_call(
                number,
                rng.choice(self.dids),
                ring,
                answer_by=rng.choice(ring) if answered else None,
                answer_after=rng.uniform(2, 12),
                talk=rng.uniform(20, 240),
                caller_name=rng.choice(_NAMES),
                hangup_by=rng.choice(["caller", "agent"]),
                abandon_after=None if answered or rng.random() < 0.5 else rng.uniform(4, 15),
            )
            return
        result = rng.choices(["answer", "noanswer", "busy"], weights=[75, 15, 10])[0]
        self.sim.script_number(
            number,
            result,
            ring=rng.uniform(3, 15),
            talk=rng.uniform(20, 300),
            hangup_by=rng.choice(["client", "agent"]),
        )
        await self.sim.outbound_call(rng.choice(extensions), number)
