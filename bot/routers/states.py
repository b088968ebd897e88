"""The chat dialogs' states (aiogram FSM)."""

from aiogram.fsm.state import State, StatesGroup


class NoteForCall(StatesGroup):
    """After "Note" under a call: the next text is the note."""

    text = State()


class TaskDialog(StatesGroup):
    """/task: title, then due time, then (optionally) the client or lead."""

    title = State()
    due = State()
    contact = State()
