"""Work: tasks, planned calls, meetings and reminders, and the calendar's days.

Owns tasks (`tasks`) and the calendar's view of them (`calendar`).
"""
