"""Calls: what the tracker concluded about a call, stored and matched to a client or lead.

`CallRecord` is the contract between the PBX adapter (daemon/ami) and the domain: the
adapter fills it from AMI events, `record_call` stores it exactly once per Linkedid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CallRecord:
    """A finished (or resynced) call as the tracker understood it."""

    linkedid: str
    direction: str  # "in" | "out" | "internal"
    from_number: str  # caller's number as the PBX gave it
    to_number: str  # the number dialed (client's number on outbound, DID on inbound)
    started_at: datetime
    result: str  # "answered" | "missed" | "busy" | "failed" | "no_answer"
    did: str = ""  # the DID called, inbound only
    agent_extension: str = ""  # the extension that answered (or made the call)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: int = 0
    talk_seconds: int = 0
    hangup_cause: int | None = None
    recording_path: str = ""
    action_id: str | None = None  # click-to-call request that started it
    rang_extensions: list[str] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(
        default_factory=list
    )  # [{"from": "101", "to": "102", "kind": "blind"}]
    caller_name: str = ""  # the outside party's CallerIDName, as the PBX sent it

    @property
    def peer_number(self) -> str:
        """The outside party's number."""
        return self.from_number if self.direction == "in" else self.to_number
