"""The chat dialogs' states (aiogram FSM), kept in the database (bot/dialog_storage.py).

Any command but /skip ends the open dialog (bot/context.py `CommandEndsDialog`).
"""

from aiogram.fsm.state import State, StatesGroup


class NoteDialog(StatesGroup):
    """A note: whose (a name or phone typed, or a button among several matches), then its text.

    Data: `card` (client_id or lead_id, name, company), `notification_id` and `call_id` when
    the note is about a call, `body` when the text came with /note, `choices` for the buttons.
    """

    contact = State()
    text = State()


class TaskDialog(StatesGroup):
    """/task: title, due time (confirmed with buttons), then (optionally) the client or lead."""

    title = State()
    due = State()
    confirm = State()
    contact = State()


class CallDialog(StatesGroup):
    """/call NAME matched several contacts or phones: the agent picks one with a button."""

    choose = State()
