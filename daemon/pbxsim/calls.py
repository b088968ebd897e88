"""Call scripts of the simulated PBX: inbound calls to a DID ringing agents, outbound calls
from an agent's phone, and what the dialed number does (daemon.pbxsim.actions adds the
Originate, Hangup and Redirect actions).

Each call runs as one named task, emitting what Asterisk emits (BridgeLeave first from the
side that leaves, then Hangup with a cause on every channel of the call).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from daemon.pbxsim.clock import SimClock
from daemon.pbxsim.dialplan import Dialplan, open_contexts
from daemon.pbxsim.pbx import UNKNOWN, Channel, Pbx

logger = logging.getLogger(__name__)

REMOTE_RESULTS = ("answer", "noanswer", "busy", "congestion", "unallocated")
AGENT_BEHAVIOURS = ("answer", "noanswer", "busy")
_CALLERID = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$')


@dataclass
class RemoteOutcome:
    """What the outside number does when dialed: answer (after `ring` s, talks `talk` s), or not."""

    result: str = "answer"
    ring: float = 3.0
    talk: float = 10.0
    hangup_by: str = "client"  # or "agent"

    def __post_init__(self) -> None:
        if self.result not in REMOTE_RESULTS:
            raise ValueError(f"result must be one of {REMOTE_RESULTS}")


@dataclass
class SimCall:
    """A call in progress; ``await call.done()`` waits for its last Hangup."""

    linkedid: str = ""
    task: asyncio.Task[None] | None = None
    talk_until: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def done(self) -> None:
        await self.ended.wait()


def number_key(number: str) -> str:
    """The last nine digits: how scripted outcomes match whatever format was dialed."""
    return re.sub(r"\D", "", number)[-9:]


def extension_of(device: str) -> str:
    """``PJSIP/101`` -> ``101``; ``Local/101@from-internal`` -> ``101``."""
    resource = device.split("/", 1)[-1]
    return resource.split("@", 1)[0].split("-", 1)[0]


def parse_callerid(text: str) -> tuple[str, str]:
    match = _CALLERID.match(text or "")
    if match:
        return match.group(2) or UNKNOWN, match.group(1).strip() or UNKNOWN
    return (text or UNKNOWN), UNKNOWN


class CallScripts:
    """Runs calls on a Pbx. ``respond(fields)`` answers the client that sent an action."""

    def __init__(
        self,
        pbx: Pbx,
        clock: SimClock,
        *,
        trunk: str = "carrier",
        agent_device: str = "PJSIP/{extension}",
        inbound_context: str = "from-pstn",
        internal_context: str = "from-internal",
        ring_timeout: float = 20.0,
        agent_answer_after: float = 1.0,
        extensions: set[str] | None = None,
        dialplan: Mapping[str, Iterable[str] | Mapping[str, str]] | None = None,
    ) -> None:
        self.pbx = pbx
        self.clock = clock
        self.trunk = trunk
        self.agent_device = agent_device
        self.inbound_context = inbound_context
        self.internal_context = internal_context
        self.ring_timeout = ring_timeout
        self.agent_answer_after = agent_answer_after
        self.extensions = extensions  # None: every extension exists
        # By default the internal and inbound contexts reach every phone and outside number;
        # `dialplan` adds contexts or replaces these (a PBX whose colleagues live elsewhere).
        self.dialplan = Dialplan(
            open_contexts(internal_context, inbound_context, agent_device=agent_device, trunk=trunk)
        )
        for context, extensions in (dialplan or {}).items():
            self.dialplan.define(context, extensions)
        self.outcomes: dict[str, RemoteOutcome] = {}
        self.default_outcome = RemoteOutcome()
        self.agents: dict[str, str] = {}  # extension -> answer | noanswer | busy
        self.calls: dict[str, SimCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- scripting ------------------------------------------------------------------

    def outcome_for(self, number: str) -> RemoteOutcome:
        return self.outcomes.get(number_key(number), self.default_outcome)

    def _spawn(self, call: SimCall, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(call, coro), name=name)
        call.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, call: SimCall, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("simulated call %s failed", call.linkedid)
        finally:
            call.started.set()
            if call.task is asyncio.current_task() and not self._live(call):
                call.ended.set()
                self.calls.pop(call.linkedid, None)

    def _live(self, call: SimCall) -> list[Channel]:
        return [c for c in self.pbx.channels.values() if c.linkedid == call.linkedid]

    def _register(self, call: SimCall, first: Channel) -> None:
        call.linkedid = first.linkedid
        self.calls[call.linkedid] = call
        call.started.set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def agent(self, extension: str) -> str:
        return self.agent_device.format(extension=extension)

    def dial_agent(
        self, source: Channel, ext: str, callerid: tuple[str, str], connected: tuple[str, str]
    ) -> Channel:
        """A new channel ringing agent `ext`'s phone, dialled from `source` (Dial begins)."""
        pbx = self.pbx
        leg = pbx.new_channel(
            self.agent(ext),
            context=self.internal_context,
            exten=ext,
            linkedid=source.linkedid,
            inherit_from=source,
            extension=ext,
        )
        pbx.set_callerid(leg, *callerid)
        pbx.set_connected(leg, *connected)
        pbx.dial_begin(source, leg, self.agent(ext).split("/", 1)[1])
        return leg

    # -- inbound --------------------------------------------------------------------

    async def inbound_call(
        self,
        caller: str,
        did: str,
        ring: list[str],
        *,
        answer_by: str | None = None,
        answer_after: float = 2.0,
        talk: float = 30.0,
        caller_name: str = "",
        hangup_by: str = "caller",
        abandon_after: float | None = None,
    ) -> SimCall:
        """Start an inbound call; returns once its first channel exists."""
        call = SimCall()
        args = (caller, caller_name or UNKNOWN, did, ring, answer_by, answer_after, talk)
        self._spawn(call, self._inbound(call, *args, hangup_by, abandon_after), "pbxsim:inbound")
        await call.started.wait()
        return call

    async def _inbound(
        self,
        call: SimCall,
        caller: str,
        caller_name: str,
        did: str,
        ring: list[str],
        answer_by: str | None,
        answer_after: float,
        talk: float,
        hangup_by: str,
        abandon_after: float | None,
    ) -> None:
        pbx = self.pbx
        trunk = pbx.new_channel(
            f"PJSIP/{self.trunk}",
            context=self.inbound_context,
            exten=did,
            state=4,
            cid=(caller, caller_name),
        )
        self._register(call, trunk)
        trunk.application, trunk.app_data = "Dial", ",".join(self.agent(e) for e in ring)
        legs: dict[str, Channel] = {}
        for ext in ring:
            legs[ext] = self.dial_agent(trunk, ext, (did, caller_name), (caller, caller_name))
        ringing: dict[str, Channel] = {}
        for ext, leg in legs.items():
            if self.agents.get(ext) == "busy" or (
                self.extensions is not None and ext not in self.extensions
            ):
                pbx.dial_end(
                    trunk, leg, "BUSY" if self.agents.get(ext) == "busy" else "CHANUNAVAIL"
                )
                pbx.hangup(leg, 17 if self.agents.get(ext) == "busy" else 1)
                continue
            pbx.set_state(leg, 5)
            pbx.dial_state(trunk, leg, "RINGING")
            ringing[ext] = leg
        answered = answer_by in ringing and self.agents.get(answer_by or "") != "noanswer"
        wait = answer_after if answered else self.ring_timeout
        if abandon_after is not None and abandon_after < wait:
            await self.clock.sleep(abandon_after)
            for leg in ringing.values():
                pbx.dial_end(trunk, leg, "CANCEL")
                pbx.hangup(leg, 16)
            pbx.hangup(trunk, 16)
            return
        await self.clock.sleep(wait)
        if not answered:
            for leg in ringing.values():
                pbx.dial_end(trunk, leg, "NOANSWER")
                pbx.hangup(leg, 19)
            pbx.hangup(trunk, 16)
            return
        assert answer_by is not None
        agent = ringing.pop(answer_by)
        pbx.set_state(agent, 6)
        pbx.dial_end(trunk, agent, "ANSWER")
        for leg in ringing.values():
            pbx.dial_end(trunk, leg, "CANCEL")
            pbx.hangup(leg, 26)
        pbx.set_state(trunk, 6)
        pbx.bridge(agent, trunk)
        await self._talk(call, talk, first=trunk if hangup_by == "caller" else agent)

    async def _talk(self, call: SimCall, talk: float, first: Channel) -> None:
        call.talk_until = self.clock.epoch() + talk
        await self.clock.sleep(talk)
        self.teardown(call, first, 16)

    def teardown(self, call: SimCall, first: Channel | None, cause: int) -> None:
        """End the call: `first` hangs up with `cause`, then every other channel (16)."""
        if first is not None:
            self.pbx.hangup(first, cause)
        for chan in self._live(call):
            self.pbx.hangup(chan, 16)
        call.ended.set()
        self.calls.pop(call.linkedid, None)

    # -- outbound -------------------------------------------------------------------

    async def outbound_call(self, extension: str, number: str, *, agent_name: str = "") -> SimCall:
        """The agent dials `number` from their phone; the outcome is the number's script."""
        call = SimCall()
        self._spawn(call, self._outbound(call, extension, number, agent_name), "pbxsim:outbound")
        await call.started.wait()
        return call

    async def _outbound(self, call: SimCall, extension: str, number: str, agent_name: str) -> None:
        agent = self.pbx.new_channel(
            self.agent(extension),
            context=self.internal_context,
            exten=number,
            state=4,
            cid=(extension, agent_name or UNKNOWN),
            extension=extension,
        )
        self._register(call, agent)
        await self._dial_remote(call, agent, number)

    async def _dial_remote(self, call: SimCall, agent: Channel, number: str) -> None:
        pbx = self.pbx
        outcome = self.outcome_for(number)
        agent.application, agent.app_data = "Dial", f"PJSIP/{number}@{self.trunk}"
        remote = pbx.new_channel(
            f"PJSIP/{self.trunk}",
            context=agent.context,
            exten=number,
            linkedid=agent.linkedid,
            inherit_from=agent,
        )
        pbx.set_callerid(remote, number, UNKNOWN)
        pbx.set_connected(remote, agent.cid_num, agent.cid_name)
        pbx.dial_begin(agent, remote, f"{number}@{self.trunk}")
        if outcome.result in ("busy", "congestion"):
            await self.clock.sleep(0.3)
            status, cause = ("BUSY", 17) if outcome.result == "busy" else ("CONGESTION", 34)
            pbx.dial_end(agent, remote, status)
            pbx.hangup(remote, cause)
            self.teardown(call, agent, 16)
            return
        pbx.set_state(remote, 5)
        pbx.dial_state(agent, remote, "RINGING")
        if outcome.result == "unallocated":
            await self.clock.sleep(1.0)
            pbx.dial_end(agent, remote, "NOANSWER")
            pbx.hangup(remote, 1)
            self.teardown(call, agent, 1)
            return
        if outcome.result == "noanswer":
            await self.clock.sleep(self.ring_timeout)
            pbx.dial_end(agent, remote, "NOANSWER")
            pbx.hangup(remote, 0)
            self.teardown(call, agent, 16)
            return
        await self.clock.sleep(outcome.ring)
        pbx.set_state(remote, 6)
        pbx.dial_end(agent, remote, "ANSWER")
        pbx.bridge(remote, agent)
        await self._talk(
            call, outcome.talk, first=remote if outcome.hangup_by == "client" else agent
        )
