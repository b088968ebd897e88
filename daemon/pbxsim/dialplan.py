"""The simulated PBX's dialplan: the contexts it has and the extensions each one knows.

It answers ``ShowDialPlan`` the way Asterisk does (``pbx.c`` ``manager_show_dialplan``): one
``ListDialplan`` event per priority of each matching extension, then ``ShowDialPlanComplete``;
``Did not find context X`` or ``Did not find extension E@X`` as an error. An extension is
written literally (``104``) or as a pattern (``_1XX``: X a digit, Z 1-9, N 2-9, ``[1-5]`` a set,
``.`` one or more characters, ``!`` zero or more), and a pattern lists under its own name.

A channel sent (Redirect) into an extension its context lacks finds nothing to run: Asterisk
logs "sent to invalid extension but no invalid handler", runs ``h`` when the context has one,
and hangs the channel up (daemon.pbxsim.actions does that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from daemon.pbxsim.wire import Fields

# What an extension runs when the dialplan is given as a plain list of extensions.
DEFAULT_STEP = ("Dial", "PJSIP/${EXTEN},20")


@dataclass(frozen=True)
class Step:
    """One priority of one extension (a ListDialplan event)."""

    context: str
    extension: str
    priority: int
    application: str
    data: str


@lru_cache(maxsize=256)
def _pattern(name: str) -> re.Pattern[str]:
    """Asterisk's extension pattern `_NXX.` as a regular expression."""
    out: list[str] = []
    i = 1
    while i < len(name):
        c = name[i]
        upper = c.upper()
        if upper == "X":
            out.append("[0-9]")
        elif upper == "Z":
            out.append("[1-9]")
        elif upper == "N":
            out.append("[2-9]")
        elif c == "[":
            end = name.find("]", i)
            if end < 0:
                out.append(re.escape(c))
            else:
                out.append("[" + name[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        elif c == ".":
            out.append(".+")
        elif c == "!":
            out.append(".*")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def matches(extension: str, dialled: str) -> bool:
    """Does the dialplan's `extension` (literal or `_pattern`) run for the number `dialled`?"""
    if extension.startswith("_"):
        return _pattern(extension).fullmatch(dialled) is not None
    return extension == dialled


class Dialplan:
    """Contexts -> extensions -> their priorities.

    ``Dialplan({"colleagues": ["101", "102"], "pstn": {"_+X.": "Dial(PJSIP/${EXTEN}@carrier)"}})``
    : a list gives each extension one ``Dial`` priority; a mapping names the application.
    """

    def __init__(self, contexts: Mapping[str, Iterable[str] | Mapping[str, str]]) -> None:
        self._contexts: dict[str, list[Step]] = {}
        for context, extensions in contexts.items():
            self.define(context, extensions)

    def define(self, context: str, extensions: Iterable[str] | Mapping[str, str]) -> None:
        """Set (or replace) what `context` holds."""
        steps: list[Step] = []
        for extension in extensions:
            if isinstance(extensions, Mapping):
                app, _, data = str(extensions[extension]).partition("(")
                application, data = app.strip(), data.rstrip(")")
            else:
                application, data = DEFAULT_STEP
            steps.append(Step(context, extension, 1, application, data))
        self._contexts[context] = steps

    @property
    def contexts(self) -> list[str]:
        return list(self._contexts)

    def has_context(self, context: str) -> bool:
        return context in self._contexts

    def find(self, context: str, dialled: str) -> Step | None:
        """What runs for `dialled` in `context` (a literal match before a pattern), or None."""
        steps = self._contexts.get(context, [])
        for step in steps:
            if step.extension == dialled:
                return step
        for step in steps:
            if step.extension.startswith("_") and matches(step.extension, dialled):
                return step
        return None

    def show(self, context: str = "", extension: str = "") -> tuple[list[Step], str]:
        """ShowDialPlan's answer: the matching steps, or an error message (Asterisk's words)."""
        if context and context not in self._contexts:
            return [], f"Did not find context {context}"
        contexts = [context] if context else list(self._contexts)
        steps = [
            step
            for name in contexts
            for step in self._contexts[name]
            if not extension or matches(step.extension, extension)
        ]
        if extension and not steps:
            where = f"@{context}" if context else " in any context"
            return [], f"Did not find extension {extension}{where}"
        if not steps:
            return [], "No dialplan items found"
        return steps, ""


def open_contexts(
    *contexts: str, agent_device: str = "PJSIP/{extension}", trunk: str = "carrier"
) -> dict[str, dict[str, str]]:
    """Contexts that reach every phone (`_X.`) and every outside number (`_+X.`)."""
    phone = f"Dial({agent_device.format(extension='${EXTEN}')})"
    outside = f"Dial(PJSIP/${{EXTEN}}@{trunk})"
    return {context: {"_X.": phone, "_+X.": outside} for context in contexts}


def listing(steps: list[Step], action_id: str | None) -> list[Fields]:
    """The events that follow ShowDialPlan's `Success`: ListDialplan each, then the summary."""
    tag: Fields = [("ActionID", action_id)] if action_id else []
    events: list[Fields] = [
        [("Event", "ListDialplan"), *tag]
        + [
            ("Context", step.context),
            ("Extension", step.extension),
            ("Priority", str(step.priority)),
            ("Application", step.application),
            ("AppData", step.data),
            ("Registrar", "pbx_config"),
        ]
        for step in steps
    ]
    events.append(
        [("Event", "ShowDialPlanComplete"), *tag]
        + [
            ("EventList", "Complete"),
            ("ListItems", str(len(steps))),
            ("ListExtensions", str(len({(s.context, s.extension) for s in steps}))),
            ("ListPriorities", str(len(steps))),
            ("ListContexts", str(len({s.context for s in steps}))),
        ]
    )
    return events
