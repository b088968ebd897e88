"""The simulated PBX's state: channels and bridges, and the AMI events their changes produce.

Event names, fields and their order follow the recordings of a real Asterisk 22
(tests/fixtures/ami-traces): every channel event carries the same block of channel fields,
``Linkedid`` is the Uniqueid of the call's first channel, and hang-ups come with a cause.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from daemon.pbxsim.clock import SimClock
from daemon.pbxsim.wire import Fields

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    34: "Circuit/channel congestion",
}
UNKNOWN = "<unknown>"


@dataclass
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    state: int = 0
    cid_num: str = UNKNOWN
    cid_name: str = UNKNOWN
    conn_num: str = UNKNOWN
    conn_name: str = UNKNOWN
    priority: int = 1
    application: str = ""
    app_data: str = ""
    created_at: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)
    bridge: Bridge | None = None
    extension: str = ""  # the agent's extension when this is an agent's leg

    def fields(self) -> Fields:
        return [
            ("Channel", self.name),
            ("ChannelState", str(self.state)),
            ("ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            ("CallerIDNum", self.cid_num),
            ("CallerIDName", self.cid_name),
            ("ConnectedLineNum", self.conn_num),
            ("ConnectedLineName", self.conn_name),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", self.context),
            ("Exten", self.exten),
            ("Priority", str(self.priority)),
            ("Uniqueid", self.uniqueid),
            ("Linkedid", self.linkedid),
        ]

    def dest_fields(self) -> Fields:
        return [("Dest" + key, value) for key, value in self.fields()]


@dataclass
class Bridge:
    uniqueid: str
    members: list[Channel] = field(default_factory=list)

    def fields(self) -> Fields:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(self.members))),
            ("BridgeVideoSourceMode", "none"),
        ]


class Pbx:
    """Channels and bridges; every change is emitted as the AMI event Asterisk would send."""

    def __init__(self, clock: SimClock, emit: Callable[[Fields], None], *, timestamps: bool = True):
        self.clock = clock
        self.emit_fields = emit
        self.timestamps = timestamps
        self.channels: dict[str, Channel] = {}
        self._uid_base = int(clock.epoch())
        self._uid_seq = itertools.count()
        self._chan_seq = itertools.count(1)

    # -- naming -------------------------------------------------------------------

    def new_uniqueid(self) -> str:
        return f"{self._uid_base}.{next(self._uid_seq)}"

    def channel_name(self, device: str) -> str:
        """``PJSIP/101`` -> ``PJSIP/101-0000000a``; ``Local/101@ctx`` -> ``...-0000000a;1``.

        Only the ``;1`` half of a Local pair is modelled: it is the one a CRM follows.
        """
        suffix = f"{next(self._chan_seq):08x}"
        if device.lower().startswith("local/"):
            return f"{device}-{suffix};1"
        return f"{device}-{suffix}"

    def find(self, name: str) -> Channel | None:
        return self.channels.get(name)

    # -- events ---------------------------------------------------------------------

    def event(self, name: str, privilege: str, *parts: Fields) -> None:
        fields: Fields = [("Event", name), ("Privilege", privilege)]
        if self.timestamps:
            fields.append(("Timestamp", f"{self.clock.epoch():.6f}"))
        for part in parts:
            fields.extend(part)
        self.emit_fields(fields)

    def new_channel(
        self,
        device: str,
        *,
        context: str,
        exten: str,
        linkedid: str | None = None,
        state: int = 0,
        cid: tuple[str, str] = (UNKNOWN, UNKNOWN),
        inherit_from: Channel | None = None,
        extension: str = "",
    ) -> Channel:
        uid = self.new_uniqueid()
        chan = Channel(
            name=self.channel_name(device),
            uniqueid=uid,
            linkedid=linkedid or uid,
            context=context,
            exten=exten,
            state=state,
            cid_num=cid[0],
            cid_name=cid[1],
            created_at=self.clock.epoch(),
            extension=extension,
        )
        self.channels[chan.name] = chan
        self.event("Newchannel", "call,all", chan.fields())
        if inherit_from is not None:
            for var, value in inherit_from.variables.items():
                if var.startswith("__"):
                    self.set_var(chan, var, value)
        return chan

    def set_var(self, chan: Channel, var: str, value: str) -> None:
        chan.variables[var] = value
        self.event("VarSet", "dialplan,all", chan.fields(), [("Variable", var), ("Value", value)])

    def set_callerid(self, chan: Channel, num: str, name: str) -> None:
        chan.cid_num, chan.cid_name = num, name
        self.event(
            "NewCallerid",
            "call,all",
            chan.fields(),
            [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
        )

    def set_connected(self, chan: Channel, num: str, name: str) -> None:
        chan.conn_num, chan.conn_name = num, name
        self.event("NewConnectedLine", "call,all", chan.fields())

    def set_state(self, chan: Channel, state: int) -> None:
        if chan.state != state:
            chan.state = state
            self.event("Newstate", "call,all", chan.fields())

    def dial_begin(self, caller: Channel | None, dest: Channel, dialstring: str) -> None:
        parts = [caller.fields()] if caller else []
        self.event(
            "DialBegin", "call,all", *parts, dest.dest_fields(), [("DialString", dialstring)]
        )

    def dial_state(self, caller: Channel | None, dest: Channel, status: str) -> None:
        parts = [caller.fields()] if caller else []
        self.event("DialState", "call,all", *parts, dest.dest_fields(), [("DialStatus", status)])

    def dial_end(self, caller: Channel | None, dest: Channel, status: str) -> None:
        parts = [caller.fields()] if caller else []
        self.event("DialEnd", "call,all", *parts, dest.dest_fields(), [("DialStatus", status)])

    def bridge(self, *chans: Channel) -> Bridge:
        bridge = Bridge(str(uuid.uuid4()))
        self.event("BridgeCreate", "call,all", bridge.fields())
        for chan in chans:
            bridge.members.append(chan)
            chan.bridge = bridge
            self.event("BridgeEnter", "call,all", bridge.fields(), chan.fields())
        return bridge

    def leave_bridge(self, chan: Channel, *, destroy: bool = True) -> Bridge | None:
        bridge = chan.bridge
        if bridge is None:
            return None
        bridge.members.remove(chan)
        chan.bridge = None
        self.event("BridgeLeave", "call,all", bridge.fields(), chan.fields())
        if destroy and not bridge.members:
            self.event("BridgeDestroy", "call,all", bridge.fields())
        return bridge

    def hangup(self, chan: Channel, cause: int) -> None:
        """HangupRequest, BridgeLeave, Hangup, then BridgeDestroy if the bridge emptied."""
        if chan.name not in self.channels:
            return
        self.event("HangupRequest", "call,all", chan.fields(), [("Cause", str(cause))])
        bridge = self.leave_bridge(chan, destroy=False)
        del self.channels[chan.name]
        self.event(
            "Hangup",
            "call,all",
            chan.fields(),
            [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))],
        )
        if bridge is not None and not bridge.members:
            self.event("BridgeDestroy", "call,all", bridge.fields())

    def show_channel_fields(self, chan: Channel) -> Fields:
        seconds = int(self.clock.epoch() - chan.created_at)
        hh, rem = divmod(seconds, 3600)
        mm, ss = divmod(rem, 60)
        return chan.fields() + [
            ("Application", chan.application),
            ("ApplicationData", chan.app_data),
            ("Duration", f"{hh:02d}:{mm:02d}:{ss:02d}"),
            ("BridgeId", chan.bridge.uniqueid if chan.bridge else ""),
        ]
