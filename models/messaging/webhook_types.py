"""The outgoing webhooks' event types and the keys of each one's `data` (the integrators'
reference: the README's table is this one). Every key is always present; null when unknown.
Ids are those of /api/v1 (clients, leads, deals, tasks, calls, users); times are ISO 8601 UTC.
"""

from __future__ import annotations

TEST_EVENT = "webhook.test"  # sent by Settings -> Webhooks' "Send a test event"

_CALL = {
    "linkedid": "the PBX's id of the call (the same in every call.* event of one call)",
    "extension": "the agent's extension",
    "user_id": "the agent, or null",
}
_DEAL = {
    "deal_id": "the deal",
    "from_status": "new | in_progress | awaiting_decision | awaiting_payment | won | cancelled",
    "to_status": "the same choices",
    "user_id": "who moved it",
}

# type: (when it is sent, {key of data: what it holds})
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "call.ringing": (
        "A call rings (or is being dialed) for an agent: one event per agent rung.",
        {
            **_CALL,
            "direction": "in | out | internal",
            "number": "the other party's number (E.164 when known)",
            "client_id": "the known client, or null",
            "lead_id": "the known lead, or null",
            "did": "the number the caller dialed (incoming calls)",
            "at": "when it started ringing",
        },
    ),
    "call.answered": ("An agent answered a call.", {**_CALL, "at": "when it was answered"}),
    "call.ended": (
        "A call ended.",
        {
            **_CALL,
            "call_id": "the call in /api/v1/calls",
            "result": "answered | missed | busy | failed | ...",
            "talk_seconds": "seconds of conversation",
            "wait_seconds": "seconds before it was answered",
            "at": "when it ended",
        },
    ),
    "call.missed": (
        "An incoming call was not answered: one event per agent it rang (user_id says who).",
        {
            **_CALL,
            "call_id": "the call in /api/v1/calls",
            "number": "the caller's number",
            "client_id": "the known client, or null",
            "lead_id": "the known lead, or null",
        },
    ),
    "lead.created": (
        "A lead was created (panel, API, web form, incoming call or mail).",
        {
            "lead_id": "the lead",
            "source": "manual | call | web form | email | api | import | sms | webhook",
            "responsible_id": "its responsible user, or null (unhandled)",
        },
    ),
    "client.created": (
        "A client was created.",
        {"client_id": "the client", "responsible_id": "its responsible user, or null"},
    ),
    "deal.moved": ("A deal changed status; also sent when it is won or lost.", _DEAL),
    "deal.won": ("A deal was won (to_status is won).", _DEAL),
    "deal.lost": ("A deal was lost (to_status is cancelled).", _DEAL),
    "task.done": (
        "A task was completed.",
        {"task_id": "the task", "user_id": "who completed it"},
    ),
}
