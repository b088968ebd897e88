"""Device and extension states from the PBX reach the hub as ExtensionStateChanged."""

from __future__ import annotations

from daemon.ami.presence import PresenceRelay, device_extension
from daemon.ami.tracker_types import ChannelRoles
from models.core.events import ExtensionStateChanged


async def test_agent_device_states_are_published_once_per_change(hub):
    seen: list[ExtensionStateChanged] = []

    async def collect(event) -> None:
        seen.append(event)

    hub.subscribe("presence-test", collect, ExtensionStateChanged)
    roles = ChannelRoles(agent_channels=("PJSIP/{extension}",), agent_extensions=lambda: {"101"})
    relay = PresenceRelay(hub, device_extension(roles.classify))
    events = [
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "RINGING"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "RINGING"},  # no change
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "INUSE"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/carrier", "State": "INUSE"},  # a trunk
        {"Event": "DeviceStateChange", "Device": "PJSIP/999", "State": "INUSE"},  # not a user
        {"Event": "ExtensionStatus", "Exten": "102", "StatusText": "Unavailable"},
        {"Event": "ExtensionStatus", "Exten": "*97", "StatusText": "Idle"},  # a feature code
        {"Event": "Newchannel", "Channel": "PJSIP/101-00000001"},
    ]
    for event in events:
        await relay.on_event(event)
    await hub.drain()
    assert [(e.extension, e.state) for e in seen] == [
        ("101", "RINGING"),
        ("101", "INUSE"),
        ("102", "UNAVAILABLE"),
    ]
