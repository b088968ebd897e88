"""The doctor's checks of what the PBX holds: every CRM user's extension maps to a device the PBX
knows, the outbound and transfer contexts reach what they must reach, and the outside lines
are recognised as outside (``[ami] trunk_channels``), classified by the tracker's own rules."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import phonenumbers

from daemon.ami.tracker_types import AGENT, HELPER, ChannelRoles
from daemon.doctor.context import DoctorContext
from daemon.doctor.probe import Answer
from models.contacts.phones import dial_string
from models.core.errors import msg
from models.telephony.pbx_health import OK, PROBLEM, WARNING, Finding

# Users named in a finding about phones the PBX does not know; the rest are counted.
_NAMED = 10
_FALLBACK_NUMBER = "+34911234567"


def _listed(answer: Answer) -> list[dict[str, str]] | None:
    return answer if isinstance(answer, list) else None


async def _known_devices(ctx: DoctorContext) -> set[str] | None:
    """Every device name the PBX lists (PJSIP endpoints, SIP peers, device states)."""
    assert ctx.probe is not None
    devices: set[str] = set()
    answered = False
    for action in ("PJSIPShowEndpoints", "SIPpeers", "DeviceStateList"):
        answer = await ctx.probe.send({"Action": action})
        items = _listed(answer)
        if items is None:
            if isinstance(answer, dict) and "no endpoints" in answer.get("Message", "").lower():
                answered = True
            continue
        answered = True
        ctx.device_sources.append(action)
        for item in items:
            if item.get("Event") == "EndpointList":
                devices.add(f"PJSIP/{item.get('ObjectName', '')}")
            elif item.get("Event") == "PeerEntry":
                devices.add(f"{item.get('Channeltype', 'SIP')}/{item.get('ObjectName', '')}")
            elif item.get("Device"):
                devices.add(item["Device"])
    return devices if answered else None


async def _in_dialplan(ctx: DoctorContext, context: str, extension: str) -> tuple[str, Answer]:
    """("yes" | "no" | "no_context" | "unknown", the answer) for `extension` in `context`."""
    assert ctx.probe is not None
    answer = await ctx.probe.send(
        {"Action": "ShowDialPlan", "Context": context, "Extension": extension}
    )
    if isinstance(answer, list):
        return ("yes" if answer else "no"), answer
    message = answer.get("Message", "")
    if message.startswith("Did not find context"):
        return "no_context", answer
    if message.startswith("Did not find extension") or "No dialplan" in message:
        return "no", answer
    return "unknown", answer


async def check_devices(ctx: DoctorContext) -> list[Finding]:
    title = msg("Extensions mapped to phones")
    if not ctx.users:
        return [
            Finding(
                "devices",
                WARNING,
                title,
                msg("no CRM user has an extension, so no call can pop up for anyone"),
                msg("give each agent their extension in Settings → Team"),
            )
        ]
    ctx.devices = await _known_devices(ctx)
    missing: list[str] = []
    for user in ctx.users:
        device = ctx.device_of(user.extension)
        local = re.fullmatch(r"Local/([^@]+)@(.+)", device)
        if local:
            found, _ = await _in_dialplan(ctx, local.group(2), local.group(1))
            known = found in ("yes", "unknown")
        elif ctx.devices is None:
            continue
        else:
            known = device in ctx.devices
        if not known:
            missing.append(f"{user.name} ({user.extension} → {device})")
    if ctx.devices is None and not missing:
        return [
            Finding(
                "devices",
                WARNING,
                title,
                msg(
                    "the PBX would not list its devices (PJSIPShowEndpoints, SIPpeers, "
                    "DeviceStateList)"
                ),
                msg("add 'system' to the manager user's write= so the devices can be checked"),
                f"{ctx.manager_section} write=",
            )
        ]
    if missing:
        values: dict[str, object] = {"count": len(missing), "total": len(ctx.users)}
        values["users"] = "; ".join(missing[:_NAMED])
        if len(missing) > _NAMED:  # the first ones: a line of hundreds helps nobody
            problem = msg(
                "the PBX knows no device for %(count)s of %(total)s users, whose phones "
                "would never pop up: %(users)s and %(more)s more",
                more=len(missing) - _NAMED,
                **values,
            )
        else:
            problem = msg(
                "the PBX knows no device for %(count)s of %(total)s users, whose phones "
                "would never pop up: %(users)s",
                **values,
            )
        return [
            Finding(
                "devices",
                PROBLEM,
                title,
                problem,
                msg(
                    "create the endpoint in pjsip.conf, or make [ami] agent_channel (or a "
                    "device → extension entry in [ami] devices) name the phone the PBX has"
                ),
                "pjsip.conf [endpoint]; config.toml [ami] agent_channel, devices",
            )
        ]
    return [
        Finding(
            "devices",
            OK,
            title,
            msg(
                "every user's extension has its phone on the PBX (%(count)s)", count=len(ctx.users)
            ),
        )
    ]


def sample_numbers(ctx: DoctorContext) -> tuple[str, str, str]:
    """(what the CRM dials, the international form, the national form) of an outside number."""
    example = phonenumbers.example_number(ctx.region)
    e164 = (
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        if example is not None
        else _FALLBACK_NUMBER
    )
    region = ctx.region if example is not None else "ES"
    international = dial_string(
        e164, without_country_prefix=False, region=region, outbound_prefix=ctx.outbound_prefix
    )
    national = dial_string(
        e164, without_country_prefix=True, region=region, outbound_prefix=ctx.outbound_prefix
    )
    crm = national if ctx.dial_without_country_prefix else international
    return crm, international, national


async def check_contexts(ctx: DoctorContext) -> list[Finding]:
    ami = ctx.ami
    crm, international, national = sample_numbers(ctx)
    colleague = ctx.users[0].extension if ctx.users else ""
    findings = [
        await _check_context(
            ctx,
            "outbound_context",
            ami.outbound_context,
            [(crm, True), (international, False), (national, False), (colleague, False)],
        )
    ]
    if ami.transfer_context != ami.outbound_context:
        findings.append(
            await _check_context(ctx, "transfer_context", ami.transfer_context, [(colleague, True)])
        )
    elif findings[0].status != PROBLEM and colleague:
        found, _ = await _in_dialplan(ctx, ami.transfer_context, colleague)
        if found == "no":
            findings.append(
                _unreached(ctx, "transfer_context", ami.transfer_context, [colleague], PROBLEM)
            )
    return findings


def _context_title(key: str) -> str:
    return msg("Outbound context") if key == "outbound_context" else msg("Transfer context")


def _unreached(
    ctx: DoctorContext, key: str, context: str, numbers: list[str], status: str
) -> Finding:
    return Finding(
        key,
        status,
        _context_title(key),
        msg(
            "[%(context)s] does not reach %(numbers)s", context=context, numbers=", ".join(numbers)
        ),
        msg(
            "add extensions (or an include) to [%(context)s] that dial these numbers, or point "
            "[ami] %(key)s at the context your phones use",
            context=context,
            key=key,
        ),
        f"extensions.conf [{context}]; config.toml [ami] {key}",
    )


async def _check_context(
    ctx: DoctorContext, key: str, context: str, numbers: list[tuple[str, bool]]
) -> Finding:
    title = _context_title(key)
    vital_missing: list[str] = []
    other_missing: list[str] = []
    numbers = list({n: v for n, v in reversed(numbers) if n}.items())[::-1]
    for number, vital in numbers:
        found, answer = await _in_dialplan(ctx, context, number)
        if found == "no_context":
            return Finding(
                key,
                PROBLEM,
                title,
                msg("the dialplan has no context [%(context)s]", context=context),
                msg(
                    "create [%(context)s] in extensions.conf, or set [ami] %(key)s to the "
                    "context your phones dial from",
                    context=context,
                    key=key,
                ),
                f"extensions.conf [{context}]; config.toml [ami] {key}",
            )
        if found == "unknown":
            message = answer.get("Message", "") if isinstance(answer, dict) else ""
            return Finding(
                key,
                WARNING,
                title,
                msg("could not read [%(context)s]: “%(answer)s”", context=context, answer=message),
                msg("add 'reporting' to the manager user's write= so ShowDialPlan answers"),
                f"{ctx.manager_section} write=",
            )
        if found == "no":
            (vital_missing if vital else other_missing).append(number)
    if vital_missing or other_missing:
        status = PROBLEM if vital_missing else WARNING
        return _unreached(ctx, key, context, vital_missing + other_missing, status)
    return Finding(
        key,
        OK,
        title,
        msg(
            "[%(context)s] reaches %(numbers)s",
            context=context,
            numbers=", ".join(n for n, _ in numbers),
        ),
    )


def _dialled_channel(app_data: str, number: str) -> str | None:
    """The channel name Dial(`app_data`) creates for `number` (None: cannot tell)."""
    target = app_data.split(",", 1)[0].split("&", 1)[0].replace("${EXTEN}", number)
    if "$" in target or "/" not in target:
        return None
    tech, _, rest = target.partition("/")
    if tech.lower() == "local":
        return f"{tech}/{rest}-00000001;1"
    if "@" in rest:  # PJSIP/number@endpoint
        return f"{tech}/{rest.split('@', 1)[1]}-00000001"
    return f"{tech}/{rest.split('/', 1)[0]}-00000001"  # SIP/trunk/number, DAHDI/g1/number


async def check_trunks(ctx: DoctorContext) -> list[Finding]:
    ami = ctx.ami
    title = msg("Outside lines (trunks)")
    extensions = {u.extension for u in ctx.users}
    names = {u.extension: u.name for u in ctx.users}
    roles = ChannelRoles(
        agent_channels=(ami.agent_channel,),
        devices=dict(ami.devices),
        trunk_channels=tuple(ami.trunk_channels),
        agent_extensions=lambda: extensions,
    )
    where = "config.toml [ami] trunk_channels"
    for pattern in ami.trunk_channels:
        for user in ctx.users:
            device = ctx.device_of(user.extension)
            channel = f"{device}-00000001" + (";1" if device.startswith("Local/") else "")
            if fnmatchcase(channel, pattern):
                return [
                    Finding(
                        "trunks",
                        PROBLEM,
                        title,
                        msg(
                            "the trunk pattern %(pattern)s also matches %(device)s, the phone "
                            "of %(user)s",
                            pattern=repr(pattern),
                            device=device,
                            user=user.name,
                        ),
                        msg("narrow the pattern so that it matches only the outside lines"),
                        where,
                    )
                ]
    crm, _, _ = sample_numbers(ctx)
    _, answer = await _in_dialplan(ctx, ami.outbound_context, crm)
    dials = [
        s.get("AppData", "")
        for s in (answer if isinstance(answer, list) else [])
        if s.get("Application", "").lower() == "dial"
    ]
    dialled = _dialled_channel(dials[0], crm) if dials else None
    if dialled is None:
        return [
            Finding(
                "trunks",
                WARNING,
                title,
                msg(
                    "cannot tell which line [%(context)s] dials %(number)s through; the "
                    "CRM takes any channel that is not an agent's phone nor Local for outside",
                    context=ami.outbound_context,
                    number=crm,
                ),
                msg("if outside calls go through Local channels, list them in trunk_channels"),
                where,
            )
        ]
    channel = dialled
    role, extension = roles.classify(channel)
    if role == AGENT:
        return [
            Finding(
                "trunks",
                PROBLEM,
                title,
                msg(
                    "outside calls leave through %(channel)s, which the CRM takes for the "
                    "phone of %(user)s (extension %(extension)s)",
                    channel=channel,
                    user=names.get(extension, extension),
                    extension=extension,
                ),
                msg(
                    "rename the trunk's endpoint in pjsip.conf so it is not an extension, or "
                    "change [ami] agent_channel / devices"
                ),
                "pjsip.conf [endpoint]; config.toml [ami] agent_channel, devices",
            )
        ]
    if role == HELPER:
        base = channel.rsplit("-", 1)[0]
        suggestion = re.sub(r"^Local/[^@]*@", "Local/*@", base) + "-*"
        return [
            Finding(
                "trunks",
                PROBLEM,
                title,
                msg(
                    "outside calls leave through %(channel)s, which the CRM takes for an "
                    "internal Local channel: the client's number would be lost",
                    channel=channel,
                ),
                msg("add %(pattern)s to [ami] trunk_channels", pattern=repr(suggestion)),
                where,
            )
        ]
    return [
        Finding(
            "trunks",
            OK,
            title,
            msg(
                "outside calls leave through %(channel)s, recognised as an outside line",
                channel=channel,
            ),
        )
    ]
