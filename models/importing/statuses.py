"""What an import's status and its own error lines say to a reader, in the reader's language.

A batch row keeps codes and English (`status` "running", `error` "interrupted by a restart"):
they are data, read by whoever opens the import. The labels here put them in a reader's
language; statuses quoted in the domain's messages are quoted by their label.
"""

from __future__ import annotations

from models.core.errors import Message, msg
from models.core.translation import catalog

PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"

STATUS_LABELS: dict[str, Message] = {
    PENDING: msg("waiting to start"),
    RUNNING: msg("importing"),
    DONE: msg("done"),
    FAILED: msg("failed"),
    CANCELLED: msg("cancelled"),
}

# The import's own error lines, stored as their English msgid.
INTERRUPTED = msg("interrupted by a restart")
STOPPED = msg("stopped before the end")
DATABASE_BUSY = msg(
    "the database was busy (another program held it) and did not answer in time; "
    "the rows written before stay and can be undone"
)
UNEXPECTED = "unexpected error: %(error)s"
_UNEXPECTED_PREFIX = UNEXPECTED.split("%", 1)[0]


def status_label(status: str) -> Message | str:
    return STATUS_LABELS.get(status, status)


def unexpected_error(err: BaseException) -> str:
    """The English line stored for a failure nobody foresaw (the details stay as Python says)."""
    return msg("unexpected error: %(error)s", error=str(err)).in_language("en")


def error_text(error: str, lang: str) -> str:
    """A batch's stored error line in `lang`; a line we do not know stays as it is."""
    if error.startswith(_UNEXPECTED_PREFIX):
        detail = error[len(_UNEXPECTED_PREFIX) :]
        return msg(UNEXPECTED, error=detail).in_language(lang)
    return catalog(lang).gettext(error) if error else ""
