"""Which channels are live and who is bridged with whom: what Hangup and Redirect need.

Fed with the same AMI events as the tracker (and the CoreShowChannels snapshot after every
reconnect), it answers "the channel of extension 101 in call X" and "the party bridged to it".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LiveChannel:
    name: str
    uniqueid: str
    linkedid: str
    bridge: str = ""


class ChannelDirectory:
    def __init__(self, agent_channel: str) -> None:
        self.agent_channel = agent_channel  # template such as "PJSIP/{extension}"
        self.channels: dict[str, LiveChannel] = {}

    def on_event(self, event: dict[str, str]) -> None:
        kind = event.get("Event")
        name = event.get("Channel")
        if not name:
            return
        if kind == "Hangup":
            self.channels.pop(name, None)
            return
        chan = self.channels.get(name)
        if chan is None:
            if not event.get("Linkedid"):
                return
            chan = LiveChannel(name, event.get("Uniqueid", ""), event["Linkedid"])
            self.channels[name] = chan
        elif event.get("Linkedid"):
            chan.linkedid = event["Linkedid"]
        if kind == "BridgeEnter":
            chan.bridge = event.get("BridgeUniqueid", "")
        elif kind == "BridgeLeave":
            chan.bridge = ""

    def on_resync(self, snapshot: list[dict[str, str]]) -> None:
        self.channels = {
            row["Channel"]: LiveChannel(
                row["Channel"],
                row.get("Uniqueid", ""),
                row.get("Linkedid", ""),
                row.get("BridgeId", ""),
            )
            for row in snapshot
            if row.get("Channel")
        }

    def device_of(self, extension: str) -> str:
        return self.agent_channel.format(extension=extension)

    def agent_leg(self, linkedid: str, extension: str) -> LiveChannel | None:
        """The extension's channel in that call (``PJSIP/101-0000002a`` for ``PJSIP/101``)."""
        prefix = self.device_of(extension) + "-"
        legs = [
            c
            for c in self.channels.values()
            if c.linkedid == linkedid and c.name.startswith(prefix)
        ]
        # A Local channel has two halves; the ;1 half is the one the dialplan bridges.
        legs.sort(key=lambda c: (not c.bridge, c.name.endswith(";2")))
        return legs[0] if legs else None

    def bridged_peer(self, chan: LiveChannel) -> LiveChannel | None:
        if not chan.bridge:
            return None
        for other in self.channels.values():
            if other.bridge == chan.bridge and other.name != chan.name:
                return other
        return None
