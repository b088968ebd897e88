"""Words the domain hands the pages as data (statuses, kinds, rights), marked for translation.

Templates translate them with `_(value)`; listing them here lets Babel extract them.
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
    # rights (models.permissions.RIGHTS)
    N_("See every client, not only own ones"),
    N_("Edit and delete any client"),
    N_("See every lead, not only own and unhandled ones"),
    N_("Edit any lead"),
    N_("See every deal"),
    N_("Edit any deal"),
    N_("See every user's tasks and calendar"),
    N_("Create tasks for other users"),
    N_("See every call and listen to its recording"),
    N_("Import and export clients and leads"),
    N_("Open analytics"),
    N_("Add, invite and edit users"),
    N_("Change company, telephony and group settings"),
    N_("Send bulk SMS and email"),
    # the domain's refusals (models raise PermissionDenied with these words)
    N_("only admins define custom fields"),
    N_("only admins remove custom fields"),
    N_("this call belongs to another user"),
    N_("this client belongs to another user"),
    N_("this deal belongs to another user"),
    N_("this dialer list belongs to another agent"),
    N_("this lead belongs to another user"),
    N_("this number is a lead of another user"),
    N_("this task belongs to other users"),
    N_("your group may not change another user's client"),
    N_("your group may not change another user's deal"),
    N_("your group may not change another user's lead"),
    N_("your group may not convert another user's lead"),
    N_("your group may not create tasks for other users"),
    N_("your group may not see other users' calendars"),
    N_("your group may not see other users' tasks"),
]
