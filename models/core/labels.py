"""The domain's English names for its codes (deal statuses, task kinds, call results).

Front-ends translate them: the panel's gettext catalog holds them (web/babel.cfg extracts this
file), and the timeline's sentences put them in the reader's language
(models/contacts/timeline_text.py).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    return message


# The funnel (A2), in order.
DEAL_STATUS_LABELS = {
    "new": N_("New"),
    "in_progress": N_("In progress"),
    "awaiting_decision": N_("Awaiting decision"),
    "awaiting_payment": N_("Awaiting payment"),
    "won": N_("Won"),
    "cancelled": N_("Cancelled"),
}

TASK_KIND_LABELS = {
    "task": N_("Task"),
    "call": N_("Call"),
    "video": N_("Videoconference"),
    "sms": N_("SMS"),
}

# How a call ended, as said of the call ("Inbound call answered").
CALL_RESULT_LABELS = {
    "answered": N_("answered"),
    "missed": N_("missed"),
    "busy": N_("busy"),
    "failed": N_("failed"),
    "no_answer": N_("not answered"),
}
