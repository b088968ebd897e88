"""The doctor's checks of the AMI session itself: the host answers, the login is accepted, the
Asterisk version is supported, and the manager user's classes allow what the CRM does.

Each check takes the DoctorContext and returns its findings. Rights are read from what the PBX
answers, never guessed: each action the CRM needs is sent with harmless arguments (an Originate
without a channel, a Redirect of no channel) and a ``Permission denied`` says the class is
missing; the read classes come from ``manager show user`` when ``Command`` is allowed, else from
the call events that arrived meanwhile.
"""

from __future__ import annotations

import re

from daemon.doctor.context import DoctorContext
from daemon.doctor.probe import AmiProbe, Answer, ProbeClosedError
from models.core.errors import msg
from models.telephony.pbx_health import OK, PROBLEM, WARNING, Finding

OLDEST_SUPPORTED = 13
DENIED = "Permission denied"
_VERSION = re.compile(r"(\d+)\.(\d+)")


def _refusal(answer: Answer) -> str:
    """The Message of an Error answer ("" for a success or a list)."""
    if isinstance(answer, dict) and answer.get("Response") == "Error":
        return answer.get("Message", "") or "Error"
    return ""


async def check_connection(ctx: DoctorContext) -> list[Finding]:
    ami = ctx.ami
    title = msg("AMI connection")
    where = "config.toml [ami] host, port"
    probe = AmiProbe(ami.host, ami.port, ami.action_timeout)
    try:
        await probe.connect()
    except (OSError, TimeoutError) as err:
        await probe.close()
        return [
            Finding(
                "connection",
                PROBLEM,
                title,
                msg(
                    "nothing answers at %(host)s:%(port)s (%(error)s)",
                    host=ami.host,
                    port=ami.port,
                    error=str(err) or type(err).__name__,
                ),
                msg(
                    "check the address and port, that Asterisk runs with manager.conf [general] "
                    "enabled = yes and a matching bindaddr and port, and the firewall"
                ),
                where,
            )
        ]
    ctx.probe = probe
    if not probe.banner.startswith("Asterisk Call Manager/"):
        return [
            Finding(
                "connection",
                PROBLEM,
                title,
                msg(
                    "%(host)s:%(port)s answers, but not as Asterisk's manager: %(banner)s",
                    host=ami.host,
                    port=ami.port,
                    banner=repr(probe.banner[:80]),
                ),
                msg("point [ami] port at the port of manager.conf [general] (usually 5038)"),
                where,
            )
        ]
    return [
        Finding(
            "connection",
            OK,
            title,
            msg(
                "%(host)s:%(port)s answers: %(banner)s",
                host=ami.host,
                port=ami.port,
                banner=probe.banner,
            ),
        )
    ]


async def check_login(ctx: DoctorContext) -> list[Finding]:
    assert ctx.probe is not None
    title = msg("AMI login")
    user = ctx.ami.username
    try:
        answer = await ctx.probe.login(user, ctx.ami.secret.get_secret_value())
    except (ProbeClosedError, TimeoutError):
        answer = {"Response": "Error", "Message": "no answer"}
    ctx.login_message = answer.get("Message", "")
    if answer.get("Response") != "Success":
        return [
            Finding(
                "login",
                PROBLEM,
                title,
                msg(
                    "the PBX refused the login as %(user)s: “%(answer)s”",
                    user=repr(user),
                    answer=ctx.login_message or answer.get("Response", ""),
                ),
                msg(
                    "give [ami] username and secret the name and secret= of a manager.conf user "
                    "section whose permit= lets this machine in, then reload the manager"
                ),
                f"{ctx.manager_section} secret=, permit=; config.toml [ami] username, secret",
            )
        ]
    return [
        Finding(
            "login",
            OK,
            title,
            msg("logged in as %(user)s: “%(answer)s”", user=repr(user), answer=ctx.login_message),
        )
    ]


async def check_version(ctx: DoctorContext) -> list[Finding]:
    assert ctx.probe is not None
    title = msg("Asterisk version")
    version = ""
    answer = await ctx.probe.send({"Action": "CoreSettings"})
    if isinstance(answer, dict) and answer.get("Response") == "Success":
        version = answer.get("AsteriskVersion", "")
    if not version:
        output = await ctx.probe.send({"Action": "Command", "Command": "core show version"})
        if isinstance(output, dict) and not _refusal(output):
            found = re.search(r"Asterisk (\S+)", output.get("Output", ""))
            version = found.group(1) if found else ""
    match = _VERSION.search(version)
    if match is None:
        return [
            Finding(
                "version",
                WARNING,
                title,
                msg(
                    "the PBX did not say its version (CoreSettings: %(answer)s)",
                    answer=_refusal(answer) or "?",
                ),
                msg("allow 'system' or 'reporting' in write= so CoreSettings answers"),
                f"{ctx.manager_section} write=",
            )
        ]
    if int(match.group(1)) < OLDEST_SUPPORTED:
        return [
            Finding(
                "version",
                PROBLEM,
                title,
                msg(
                    "Asterisk %(version)s is older than %(oldest)s, the oldest version supported",
                    version=version,
                    oldest=OLDEST_SUPPORTED,
                ),
                msg(
                    "upgrade Asterisk to a supported release (%(oldest)s or newer)",
                    oldest=OLDEST_SUPPORTED,
                ),
                "Asterisk",
            )
        ]
    return [
        Finding(
            "version",
            OK,
            title,
            msg(
                "Asterisk %(version)s (supported: %(oldest)s and newer)",
                version=version,
                oldest=OLDEST_SUPPORTED,
            ),
        )
    ]


async def _manager_user(ctx: DoctorContext) -> None:
    """Read the user's read= and write= from `manager show user` (needs write=command)."""
    assert ctx.probe is not None
    answer = await ctx.probe.send(
        {"Action": "Command", "Command": f"manager show user {ctx.ami.username}"}
    )
    if not isinstance(answer, dict) or _refusal(answer):
        return
    for line in answer.get("Output", "").split("\n"):
        label, _, value = line.strip().partition(":")
        classes = {c.strip().lower() for c in value.split(",") if c.strip()}
        if label.strip() == "read perm":
            ctx.read_classes = classes
        elif label.strip() == "write perm":
            ctx.write_classes = classes


# (key, action sent with harmless arguments, write class to add, is the CRM broken without it)
_RIGHTS = (
    ("originate", {"Action": "Originate"}, "originate", True),
    ("redirect", {"Action": "Redirect", "Channel": "doctor/none"}, "call", True),
    ("coreshowchannels", {"Action": "CoreShowChannels"}, "reporting", True),
    ("showdialplan", {"Action": "ShowDialPlan", "Context": "doctor-none"}, "reporting", False),
)


def _right_title(key: str) -> str:
    titles = {
        "originate": msg("Originate (click-to-call)"),
        "redirect": msg("Redirect (transfers)"),
        "coreshowchannels": msg("CoreShowChannels (live calls after a reconnect)"),
        "showdialplan": msg("ShowDialPlan (checks before a transfer)"),
    }
    return titles[key]


async def check_rights(ctx: DoctorContext) -> list[Finding]:
    assert ctx.probe is not None
    findings: list[Finding] = []
    for key, action, needed, vital in _RIGHTS:
        title = _right_title(key)
        try:
            answer = await ctx.probe.send(action)
        except TimeoutError:
            answer = {"Response": "Error", "Message": "no answer"}
        refusal = _refusal(answer)
        if refusal == DENIED:
            findings.append(
                Finding(
                    key,
                    PROBLEM if vital else WARNING,
                    title,
                    msg(
                        "the PBX answers %(action)s with “%(answer)s”",
                        action=action["Action"],
                        answer=refusal,
                    ),
                    msg("add %(needed)s to the manager user's write=", needed=repr(needed)),
                    f"{ctx.manager_section} write=",
                )
            )
        else:
            findings.append(
                Finding(key, OK, title, msg("allowed (%(action)s)", action=action["Action"]))
            )
    await _manager_user(ctx)
    findings.append(await _call_events(ctx))
    return findings


async def _call_events(ctx: DoctorContext) -> Finding:
    assert ctx.probe is not None
    title = msg("Call events (read class call)")
    where = f"{ctx.manager_section} read="
    if ctx.read_classes is not None:
        if ctx.read_classes & {"call", "all"}:
            return Finding("call_events", OK, title, msg("the manager user reads call events"))
        return Finding(
            "call_events",
            PROBLEM,
            title,
            msg(
                "the manager user's read= is %(classes)s: no call event reaches the CRM, so no "
                "call pops up and none is logged",
                classes=",".join(sorted(ctx.read_classes)) or "<none>",
            ),
            msg("add 'call' to the manager user's read="),
            where,
        )
    # `Command` refused: call events seen meanwhile prove the class; none proves nothing.
    if any("call" in e.get("Privilege", "").lower() for e in ctx.probe.events):
        return Finding("call_events", OK, title, msg("call events arrive"))
    return Finding(
        "call_events",
        WARNING,
        title,
        msg(
            "cannot tell: no call happened while checking and the PBX refuses “manager show "
            "user” (write=command)"
        ),
        msg("make sure read= includes 'call', or run the doctor with --call EXT"),
        where,
    )
