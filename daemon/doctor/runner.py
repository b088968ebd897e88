"""Runs the doctor's checks in order and formats their findings.

A failed connection or a refused login stops the run: every later check is reported as
"not checked", so the reader fixes the first thing first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from daemon.doctor.checks import check_connection, check_login, check_rights, check_version
from daemon.doctor.checks_calls import check_recordings, check_test_call
from daemon.doctor.checks_dialplan import check_contexts, check_devices, check_trunks
from daemon.doctor.context import DoctorContext
from models.core.errors import in_language, msg
from models.telephony.pbx_health import NOT_CHECKED, PROBLEM, WARNING, Finding, HealthReport

logger = logging.getLogger(__name__)

Check = Callable[[DoctorContext], Awaitable[list[Finding]]]

# (key, check, does a problem stop the run)
CHECKS: list[tuple[str, Check, bool]] = [
    ("connection", check_connection, True),
    ("login", check_login, True),
    ("version", check_version, False),
    ("rights", check_rights, False),
    ("devices", check_devices, False),
    ("contexts", check_contexts, False),
    ("trunks", check_trunks, False),
    ("recordings", check_recordings, False),
]


def check_title(key: str) -> str:
    """The name of a step of the run, for the steps that were not checked."""
    titles = {
        "connection": msg("AMI connection"),
        "login": msg("AMI login"),
        "version": msg("Asterisk version"),
        "rights": msg("Manager user's rights"),
        "devices": msg("Extensions mapped to phones"),
        "contexts": msg("Dialplan contexts"),
        "trunks": msg("Outside lines (trunks)"),
        "recordings": msg("Recordings folder"),
        "test_call": msg("Test call"),
    }
    return titles[key]


def _not_checked(key: str) -> Finding:
    return Finding(
        key, NOT_CHECKED, check_title(key), msg("not checked: fix the problem above first")
    )


async def run_checks(ctx: DoctorContext) -> HealthReport:
    """Every check's findings, in order; the AMI session is closed at the end."""
    findings: list[Finding] = []
    checks = list(CHECKS)
    if ctx.call_extension:
        checks.append(("test_call", check_test_call, False))
    stopped = False
    try:
        for key, check, stops in checks:
            if stopped:
                findings.append(_not_checked(key))
                continue
            try:
                found = await check(ctx)
            except (ConnectionError, TimeoutError) as err:  # ProbeClosedError among them
                found = [
                    Finding(
                        key,
                        PROBLEM,
                        check_title(key),
                        msg(
                            "the PBX stopped answering (%(error)s)",
                            error=str(err) or type(err).__name__,
                        ),
                    )
                ]
                stops = True
            findings.extend(found)
            stopped = stops and any(f.status == PROBLEM for f in found)
    finally:
        if ctx.probe is not None:
            await ctx.probe.close()
    return HealthReport(checked_at=ctx.now, findings=findings)


def no_pbx_report(now: datetime) -> HealthReport:
    """What the CLI says when [ami] host is empty: the product runs its own simulator."""
    return HealthReport(
        checked_at=now,
        findings=[
            Finding(
                "connection",
                WARNING,
                msg("AMI connection"),
                msg(
                    "no PBX is configured ([ami] host is empty): `centralita run` uses its "
                    "built-in simulator, and there is nothing to check"
                ),
                msg("set [ami] host, username and secret to reach your Asterisk"),
                "config.toml [ami] host, username, secret",
            )
        ],
    )


def format_report(report: HealthReport, lang: str) -> str:
    """The CLI's lines: one per finding, in `lang`, then a summary."""
    lines = [finding.line(lang) for finding in report.findings]
    problems = len(report.problems)
    summary = (
        msg("%(count)s problem(s) found", count=problems) if problems else msg("no problem found")
    )
    lines.append(in_language(summary, lang))
    return "\n".join(lines)
