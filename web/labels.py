"""Words the domain hands the pages as data (statuses, kinds, groups), marked for translation.

Templates translate them with `_(value)`; listing them here lets Babel extract them. The
domain's own messages (refusals, field messages, rights, dialer and import statuses) are not
here: they are `msg()` messages with their own catalog (models/locale), shown with `say`.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    return message


DOMAIN_WORDS = [
    # client statuses and types
    N_("active"),
    N_("potential"),
    N_("inactive"),
    N_("person"),
    N_("company"),
    # deal statuses
    N_("New"),
    N_("In progress"),
    N_("Awaiting decision"),
    N_("Awaiting payment"),
    N_("Won"),
    N_("Cancelled"),
    # task kinds
    N_("Task"),
    N_("Call"),
    N_("Videoconference"),
    N_("SMS"),
    # lead statuses and sources
    N_("open"),
    N_("converted"),
    N_("closed"),
    N_("manual"),
    N_("call"),
    N_("import"),
    N_("sms"),
    N_("email"),
    N_("api"),
    N_("webhook"),
    N_("web form"),
    # timeline kinds
    N_("note"),
    N_("task"),
    N_("deal"),
    N_("lead"),
    N_("client"),
    # deal history kinds
    N_("amount"),
    N_("edited"),
    N_("created"),
    N_("status"),
    # custom field kinds
    N_("text"),
    N_("number"),
    N_("date"),
    N_("choice"),
    # standard groups
    N_("Admin"),
    N_("Agent"),
    # SMS statuses (models.messaging.sms), shown on the bulk SMS report
    N_("queued"),
    N_("sent"),
    N_("delivered"),
    N_("failed"),
    N_("received"),
    # said by a view as a field message (web/views/calls.py)
    N_("expected a date like 2026-11-25"),
]
