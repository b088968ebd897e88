"""The actions of the simulated PBX that act on calls: Originate (click-to-call), Hangup and
Redirect (blind transfer, into the dialplan of daemon.pbxsim.dialplan). They cancel a call's
running script and take the call from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from daemon.pbxsim.calls import CallScripts, SimCall, extension_of, parse_callerid
from daemon.pbxsim.pbx import UNKNOWN, Channel
from daemon.pbxsim.wire import Action, Fields

logger = logging.getLogger(__name__)


class PbxScripts(CallScripts):
    """CallScripts plus the AMI actions a CRM sends about calls."""

    def originate(self, action: Action, emit_response: Callable[[Fields], None]) -> SimCall:
        """Action: Originate (always handled as Async, the way the CRM sends it)."""
        call = SimCall()
        self._spawn(call, self._originate(call, action, emit_response), "pbxsim:originate")
        return call

    async def _originate(
        self, call: SimCall, action: Action, emit: Callable[[Fields], None]
    ) -> None:
        pbx = self.pbx
        device = action.get("Channel")
        ext = extension_of(device)
        context, exten = action.get("Context"), action.get("Exten")
        cid_num, cid_name = parse_callerid(action.get("CallerID"))
        timeout = int(action.get("Timeout") or 30000) / 1000
        action_id = [("ActionID", action.action_id)] if action.action_id else []
        behaviour = self.agents.get(ext, "answer")
        if self.extensions is not None and ext not in self.extensions:
            behaviour = "unavailable"

        def respond(response: str, reason: int, chan: Channel | None) -> None:
            emit(
                [("Event", "OriginateResponse"), ("Privilege", "call,all")]
                + action_id
                + [
                    ("Response", response),
                    ("Channel", chan.name if chan else device),
                    ("Context", context),
                    ("Exten", exten),
                    ("Application", ""),
                    ("Data", ""),
                    ("Reason", str(reason)),
                    ("Uniqueid", chan.uniqueid if chan else UNKNOWN),
                    ("CallerIDNum", cid_num),
                    ("CallerIDName", cid_name),
                ]
            )

        if behaviour == "unavailable":
            await self.clock.sleep(0.1)
            call.started.set()
            respond("Failure", 0, None)
            call.ended.set()
            return
        agent = pbx.new_channel(device, context=context, exten=ext, extension=ext)
        self._register(call, agent)
        for assignment in action.all("Variable"):
            name, _, value = assignment.partition("=")
            pbx.set_var(agent, name.strip(), value.strip())
        pbx.set_callerid(agent, cid_num, cid_name)
        pbx.set_connected(agent, cid_num, cid_name)
        pbx.dial_begin(None, agent, device.split("/", 1)[-1])
        if behaviour == "busy":
            await self.clock.sleep(0.2)
            pbx.dial_end(None, agent, "BUSY")
            pbx.hangup(agent, 17)
            respond("Failure", 5, None)
            return
        pbx.set_state(agent, 5)
        pbx.dial_state(None, agent, "RINGING")
        if behaviour == "noanswer":
            await self.clock.sleep(timeout)
            pbx.dial_end(None, agent, "NOANSWER")
            pbx.hangup(agent, 19)
            respond("Failure", 3, None)
            return
        await self.clock.sleep(self.agent_answer_after)
        pbx.set_state(agent, 6)
        pbx.dial_end(None, agent, "ANSWER")
        respond("Success", 4, agent)
        application = action.get("Application")
        if application and not exten:
            # Originate to an application (Wait, Playback...): the leg runs it, then hangs up.
            agent.application, agent.app_data = application, action.get("Data")
            try:
                seconds = float(action.get("Data") or 10)
            except ValueError:
                seconds = 10.0
            await self._talk(call, seconds, first=agent)
            return
        agent.context, agent.exten, agent.priority = context, exten, 1
        await self._dial_remote(call, agent, exten)

    def hangup_channel(self, chan: Channel, cause: int) -> None:
        call = self.calls.get(chan.linkedid)
        if call is None:
            self.pbx.hangup(chan, cause)
            return
        self._cancel_script(call)
        self.teardown(call, chan, cause)

    def redirect(self, chan: Channel, context: str, exten: str) -> None:
        """Blind transfer by Redirect: `chan` leaves its bridge and dials `exten` in `context`.

        As on Asterisk, nothing checks the destination first: a channel sent to an extension
        its context lacks runs `h` (when the context has one) and hangs up, and the peer it
        left has already been hung up, so the whole call is gone.
        """
        call = self.calls.get(chan.linkedid)
        if call is None:
            return
        self._cancel_script(call)
        remaining = max(call.talk_until - self.clock.epoch(), 1.0)
        peers = [c for c in (chan.bridge.members if chan.bridge else []) if c is not chan]
        self.pbx.leave_bridge(chan)
        for peer in peers:
            self.pbx.leave_bridge(peer)
            self.pbx.hangup(peer, 16)
        chan.context, chan.exten, chan.priority = context, exten, 1
        if self.dialplan.find(context, exten) is None:
            logger.warning(
                "Channel '%s' sent to invalid extension but no invalid handler: "
                "context,exten,priority=%s,%s,1",
                chan.name,
                context,
                exten,
            )
            if self.dialplan.find(context, "h") is not None:
                chan.exten = "h"
            # Nothing set a cause: the dialplan just ran out (Hangup says 0, "Unknown").
            self.teardown(call, chan, 0)
            return
        self._spawn(call, self._transfer(call, chan, exten, remaining), "pbxsim:transfer")

    async def _transfer(self, call: SimCall, chan: Channel, exten: str, talk: float) -> None:
        pbx = self.pbx
        target = self.dial_agent(chan, exten, (exten, UNKNOWN), (chan.cid_num, chan.cid_name))
        pbx.set_state(target, 5)
        pbx.dial_state(chan, target, "RINGING")
        if self.agents.get(exten, "answer") != "answer":
            await self.clock.sleep(self.ring_timeout)
            pbx.dial_end(chan, target, "NOANSWER")
            pbx.hangup(target, 19)
            self.teardown(call, chan, 16)
            return
        await self.clock.sleep(self.agent_answer_after)
        pbx.set_state(target, 6)
        pbx.dial_end(chan, target, "ANSWER")
        pbx.bridge(chan, target)
        await self._talk(call, talk, first=target)

    def _cancel_script(self, call: SimCall) -> None:
        task = call.task
        if task is not None and task is not asyncio.current_task():
            call.task = None
            task.cancel()
