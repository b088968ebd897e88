"""Agents' phone states from the PBX (DeviceStateChange, ExtensionStatus) onto the hub.

The team tab shows colleagues as free, ringing, on a call or offline: live calls say most of
it, and the PBX's device states add what calls cannot (a phone that is unregistered, or busy
with a call the CRM does not track).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from models.core.events import ExtensionStateChanged
from models.core.hub import Hub

logger = logging.getLogger(__name__)

# ExtensionStatus "StatusText" values -> DeviceStateChange "State" spelling.
_STATUS_TEXT = {
    "idle": "NOT_INUSE",
    "inuse": "INUSE",
    "busy": "BUSY",
    "unavailable": "UNAVAILABLE",
    "ringing": "RINGING",
    "inuse&ringing": "RINGINUSE",
    "hold": "ONHOLD",
    "inuse&hold": "ONHOLD",
}


class PresenceRelay:
    """Publishes ExtensionStateChanged for agents' devices; remembers the last state of each."""

    def __init__(self, hub: Hub, extension_of: Callable[[str], str | None]) -> None:
        self.hub = hub
        self.extension_of = extension_of
        self.states: dict[str, str] = {}

    async def on_event(self, event: Mapping[str, str]) -> None:
        name = event.get("Event")
        if name == "DeviceStateChange":
            extension = self.extension_of(event.get("Device", ""))
            state = event.get("State", "")
        elif name == "ExtensionStatus":
            extension = event.get("Exten", "")
            text = event.get("StatusText", "").replace(" ", "").lower()
            state = _STATUS_TEXT.get(text, text.upper())
            if not extension.isdigit():
                return
        else:
            return
        if not extension or not state or self.states.get(extension) == state:
            return
        self.states[extension] = state
        logger.debug("extension %s is %s", extension, state)
        self.hub.publish(ExtensionStateChanged(extension=extension, state=state))


def device_extension(
    roles_classify: Callable[[str], tuple[str, str]],
) -> Callable[[str], str | None]:
    """`PJSIP/101` -> `101` when the channel roles say that device is an agent's phone."""

    def extension_of(device: str) -> str | None:
        role, extension = roles_classify(device)
        return extension or None

    return extension_of
