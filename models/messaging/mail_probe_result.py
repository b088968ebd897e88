"""What a mailbox's "test connection" found, side by side (IMAP, SMTP), in words a user reads.

The daemon's probe (daemon/mail_probe.py) logs in and classifies what went wrong; the words
live here so that they are translated with the domain's other messages and read in the
language of whoever looks at the result. The server's own answer is quoted as it came.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.core.errors import Message, msg

# What can go wrong on one side, as the probe (and daemon/mail_imap.py) classify it.
PROBLEMS = ("auth", "tls", "unreachable", "refused", "timeout", "protocol")


@dataclass(frozen=True)
class SideResult:
    """One server's answer: `problem` is "" when the login worked, else one of PROBLEMS."""

    server: str  # "host:port", as tried
    problem: str = ""
    server_text: str = ""  # what the server (or the TLS layer) said; never holds a password

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def message(self) -> Message:
        answer = self.server_text or "-"
        if self.problem == "":
            return msg("%(server)s: logged in", server=self.server)
        if self.problem == "auth":
            return msg(
                "%(server)s: the login or the password is wrong (the server said: %(answer)s)",
                server=self.server,
                answer=answer,
            )
        if self.problem == "tls":
            return msg(
                "%(server)s: the secure connection (TLS) failed: %(answer)s. Check the port and "
                "the security mode.",
                server=self.server,
                answer=answer,
            )
        if self.problem == "unreachable":
            return msg(
                "%(server)s: the server cannot be reached (%(answer)s). Check the host name.",
                server=self.server,
                answer=answer,
            )
        if self.problem == "refused":
            return msg(
                "%(server)s: the connection was refused. Check the port.", server=self.server
            )
        if self.problem == "timeout":
            return msg(
                "%(server)s: no answer in time. Check the host, the port and the security mode.",
                server=self.server,
            )
        return msg(
            "%(server)s: the server answered something unexpected: %(answer)s",
            server=self.server,
            answer=answer,
        )


@dataclass(frozen=True)
class ProbeResult:
    imap: SideResult
    smtp: SideResult

    @property
    def ok(self) -> bool:
        return self.imap.ok and self.smtp.ok
