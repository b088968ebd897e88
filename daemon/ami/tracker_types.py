"""What the call tracker emits (transitions) and how it tells phones, trunks and helpers apart.

Kept apart from the tracker so that the calls service and tests import these small,
stable types without the state machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

from models.telephony.call_record import CallRecord

# Channel roles: an agent's phone, an outside party (trunk), or a dialplan helper
# (the halves of Local channels that only glue legs together).
AGENT = "agent"
OUTSIDE = "outside"
HELPER = "helper"


@dataclass(frozen=True)
class Ringing:
    """An agent's extension starts ringing for this call: one pop-up per agent per call."""

    linkedid: str
    extension: str
    direction: str
    caller_number: str
    did: str = ""
    action_id: str | None = None
    caller_name: str = ""  # the outside caller's CallerIDName, raw ("" when none)


@dataclass(frozen=True)
class Answered:
    """This agent picked up (its pop-up turns into a call in progress)."""

    linkedid: str
    extension: str


@dataclass(frozen=True)
class StoppedRinging:
    """The call stopped ringing for this agent: a colleague answered, or it moved on or ended."""

    linkedid: str
    extension: str
    answered_by: str = ""


@dataclass(frozen=True)
class Transferred:
    """The call was handed from one extension to another (kind: blind, attended, blonde)."""

    linkedid: str
    from_ext: str
    to_ext: str
    kind: str


@dataclass(frozen=True)
class Ended:
    """The call is over: exactly one per recorded call."""

    record: CallRecord


Transition = Ringing | Answered | StoppedRinging | Transferred | Ended


@dataclass(frozen=True)
class LiveCall:
    """A call in progress, as `CallTracker.snapshot()` reports it."""

    linkedid: str
    direction: str
    from_number: str
    to_number: str
    did: str
    started_at: datetime
    answered_at: datetime | None
    ringing: tuple[str, ...] = ()
    talking: tuple[str, ...] = ()
    action_id: str | None = None


def _template_regex(template: str) -> re.Pattern[str]:
    head, _, tail = template.partition("{extension}")
    return re.compile(re.escape(head) + r"(?P<extension>[^/@;\s]+?)" + re.escape(tail) + "$")


@dataclass
class ChannelRoles:
    """Classifies a channel name as an agent's phone (with its extension), outside, or helper.

    * `agent_channels`: templates as in `[ami] agent_channel` (`PJSIP/{extension}`,
      `SIP/{extension}`, `Local/{extension}@from-internal`). For a Local template only
      the `;1` half is the phone leg: the `;2` half runs the dialplan behind it.
    * `devices`: explicit device -> extension map (`SIP/150010001` -> `201`) for PBXes whose
      device names are not the extension.
    * `trunk_channels`: fnmatch patterns of channels that are outside parties even though
      they are Local channels (a PBX that reaches its carrier through Local channels).
    * `agent_extensions`: returns the extensions the CRM knows (None: any all-digit match),
      so that `PJSIP/carrier-0000002b` is never taken for an extension named "carrier".

    Any other Local channel is a helper; any other channel is an outside party.
    """

    agent_channels: Iterable[str] = ("PJSIP/{extension}",)
    devices: Mapping[str, str] = field(default_factory=dict)
    trunk_channels: Iterable[str] = ()
    agent_extensions: Callable[[], Iterable[str] | None] | None = None

    def __post_init__(self) -> None:
        self._templates = [
            (_template_regex(t), t.startswith("Local/")) for t in self.agent_channels
        ]
        self._trunks = tuple(self.trunk_channels)

    def classify(self, name: str) -> tuple[str, str]:
        """(role, extension) of a channel name such as `PJSIP/101-0000002a`."""
        is_local = name.startswith("Local/")
        base, half = _split_name(name, is_local)
        ext = self.devices.get(base)
        if ext is None:
            for regex, local_template in self._templates:
                if local_template and half != "1":
                    continue
                match = regex.match(base)
                if match:
                    ext = match.group("extension")
                    break
        if ext is not None and self._known(ext):
            return AGENT, ext
        for pattern in self._trunks:
            if fnmatchcase(name, pattern):
                return OUTSIDE, ""
        return (HELPER if is_local else OUTSIDE), ""

    def _known(self, ext: str) -> bool:
        known = self.agent_extensions() if self.agent_extensions is not None else None
        if known is None:
            # Extensions are digits (models.people.users enforces it): `carrier` is a trunk.
            return ext.isdigit()
        return ext in known


def _split_name(name: str, is_local: bool) -> tuple[str, str]:
    """`Local/101@agents-0000000e;1` -> (`Local/101@agents`, `1`); `SIP/150010001-0000000d` ->
    (`SIP/150010001`, ``). The sequence suffix is what Asterisk appends to every channel."""
    half = ""
    if is_local and len(name) > 2 and name[-2] == ";":
        half = name[-1]
        name = name[:-2]
    dash = name.rfind("-")
    if dash > name.find("/") and all(c in "0123456789abcdef" for c in name[dash + 1 :]):
        name = name[:dash]
    return name, half


def local_pair_key(name: str) -> str | None:
    """The name both halves of a Local channel share, or None for other channels."""
    if name.startswith("Local/") and len(name) > 2 and name[-2] == ";":
        return name[:-2]
    return None
