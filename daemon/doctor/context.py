"""What the checks look at: the [ami] settings, the CRM's users and dialing rules, and the AMI
session the runner opened (filled in as the checks go: the login's answer, the manager user's
classes, the devices the PBX knows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from daemon.doctor.probe import AmiProbe
from models.core.settings import AmiSettings, Settings
from models.people import users as user_ops


@dataclass(frozen=True)
class CrmUser:
    name: str
    extension: str


@dataclass
class DoctorContext:
    ami: AmiSettings
    users: list[CrmUser]
    recordings_dir: Path
    now: datetime
    region: str = "ES"
    dial_without_country_prefix: bool = False
    outbound_prefix: str = ""
    call_extension: str = ""  # --call EXT: ring this extension with a harmless call
    simulated: bool = False  # the built-in simulator: no recordings to look for
    call_wait: float = 30.0  # seconds to watch the test call's events
    probe: AmiProbe | None = None
    login_message: str = ""
    # From `manager show user` (None: the PBX would not say).
    read_classes: set[str] | None = None
    write_classes: set[str] | None = None
    devices: set[str] | None = None  # device names the PBX knows (None: it would not list them)
    device_sources: list[str] = field(default_factory=list)

    @property
    def manager_section(self) -> str:
        return f"manager.conf [{self.ami.username or 'user'}]"

    def device_of(self, extension: str) -> str:
        """The device the CRM expects behind `extension` ([ami] devices, else agent_channel)."""
        for device, ext in self.ami.devices.items():
            if ext == extension:
                return device
        return self.ami.agent_channel.format(extension=extension)


async def load_context(
    settings: Settings,
    ami: AmiSettings,
    now: datetime,
    *,
    call_extension: str = "",
    simulated: bool = False,
) -> DoctorContext:
    """The context for one run (needs the database open)."""
    users = [
        CrmUser(u.full_name or u.username, str(u.extension))
        for u in await user_ops.list_users(active_only=True)
        if u.extension
    ]
    company = await user_ops.get_company()
    telephony = await user_ops.get_telephony()
    return DoctorContext(
        ami=ami,
        users=users,
        recordings_dir=Path(ami.recordings_dir or Path(settings.data_dir) / "recordings"),
        now=now,
        region=company.default_region or "ES",
        dial_without_country_prefix=telephony.is_dial_without_country_prefix,
        outbound_prefix=telephony.outbound_prefix,
        call_extension=call_extension,
        simulated=simulated,
    )
