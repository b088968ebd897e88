"""The PBX doctor's findings: what each check between the CRM and the PBX found.

The checks themselves run in the daemon (they talk AMI); their findings are plain data here so
that the panel can show them without importing the daemon: the root hands the panel an object
with the `PbxHealth` shape (the latest report, and a way to check again now). A finding's
`message` and `fix` are domain messages (`msg`), so the panel and the CLI say the same words in
the reader's language; `where` names the file and key to change, which is not translated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from models.core.errors import Message, in_language, msg

OK = "ok"
WARNING = "warning"
PROBLEM = "problem"
NOT_CHECKED = "not_checked"
STATUSES = (OK, WARNING, PROBLEM, NOT_CHECKED)


def status_label(status: str) -> Message:
    """The word for a status, as the CLI prints it and the panel shows it."""
    labels = {
        OK: msg("ok"),
        WARNING: msg("warning"),
        PROBLEM: msg("problem"),
        NOT_CHECKED: msg("not checked"),
    }
    return labels[status]


@dataclass(frozen=True)
class Finding:
    """One check's verdict: `message` says what was found, `fix` what to change at `where`."""

    key: str
    status: str
    title: str
    message: str
    fix: str = ""
    where: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")

    @property
    def is_problem(self) -> bool:
        return self.status == PROBLEM

    def line(self, lang: str) -> str:
        """One line for a reader of `lang`: status, check, what was found, what to change."""
        text = (
            f"{in_language(status_label(self.status), lang)}: "
            f"{in_language(self.title, lang)}: {in_language(self.message, lang)}"
        )
        if self.fix:
            label = msg("Fix:")
            text += f" {in_language(label, lang)} {in_language(self.fix, lang)}"
        if self.where:
            text += f" [{self.where}]"
        return text

    def same_as(self, other: Finding) -> bool:
        """The same verdict with the same words (a repeated problem is not logged again)."""
        mine = (self.key, self.status, str(self.message), self.where)
        return mine == (other.key, other.status, str(other.message), other.where)


@dataclass(frozen=True)
class HealthReport:
    """Every finding of one run of the checks, in order."""

    checked_at: datetime
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_problem]

    @property
    def is_healthy(self) -> bool:
        return not self.problems


class PbxHealth(Protocol):
    """What the panel needs from the doctor: the latest report and a new one on demand."""

    @property
    def latest(self) -> HealthReport | None: ...

    async def check_now(self) -> HealthReport: ...
