"""What the simulated PBX says about itself: its version (CoreSettings, ``core show version``),
its PJSIP endpoints (PJSIPShowEndpoints, DeviceStateList), the manager user's rights
(``manager show user``), and the read and write classes that shape what a manager user may
send and receive — so that the PBX doctor can be tested against a PBX set up wrong.

As on Asterisk: an action needs one of the write classes it is registered with, else
``Permission denied``; an event reaches a session only when its ``Privilege`` shares a class
with the user's ``read=``; ``SIPpeers`` is unknown (chan_sip is gone since Asterisk 21).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from daemon.ami.wire import Fields, encode
from daemon.pbxsim.wire import Action

ALL_CLASSES = (
    "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,"
    "originate,agi,cc,aoc,test,security,message"
).split(",")
# The write classes Asterisk registers the actions with (any one of them is enough).
ACTION_CLASSES = {
    "originate": {"originate"},
    "redirect": {"call"},
    "hangup": {"system", "call"},
    "coreshowchannels": {"system", "reporting"},
    "showdialplan": {"config", "reporting"},
    "coresettings": {"system", "reporting"},
    "pjsipshowendpoints": {"system"},
    "devicestatelist": {"call", "reporting"},
    "command": {"command"},
    "donglesendsms": {"call"},
}


class InventoryActions:
    """Mixed into PbxSimulator: the actions above and the manager user's classes."""

    username: str
    version: str
    read_classes: set[str] | None  # None: read = all
    write_classes: set[str] | None  # None: write = all
    endpoints: list[str] | None  # None: every CRM extension (endpoint_source) and the trunk
    endpoint_source: Callable[[], Iterable[str] | None] | None
    scripts: Any

    if TYPE_CHECKING:  # PbxSimulator's own, declared for the type checker only

        def _reply(self, session: Any, action: Action, fields: Fields) -> None: ...

    def may_write(self, name: str) -> bool:
        needed = ACTION_CLASSES.get(name)
        return self.write_classes is None or needed is None or bool(needed & self.write_classes)

    def may_read(self, fields: Fields) -> bool:
        if self.read_classes is None:
            return True
        privilege = next((v for k, v in fields if k == "Privilege"), "")
        return bool(set(privilege.lower().split(",")) & self.read_classes)

    def endpoint_names(self) -> list[str]:
        if self.endpoints is not None:
            return list(self.endpoints)
        known = self.scripts.extensions
        if known is None and self.endpoint_source is not None:
            known = self.endpoint_source()
        return sorted(known or ()) + [self.scripts.trunk]

    def _list(self, session: Any, action: Action, what: str, items: list[Fields]) -> None:
        self._reply(
            session,
            action,
            [("Response", "Success"), ("EventList", "start"), ("Message", f"{what} will follow")],
        )
        tag: Fields = [("ActionID", action.action_id)] if action.action_id else []
        for fields in items:
            session.send(encode([fields[0], *tag, *fields[1:]]))

    def _action_coresettings(self, session: Any, action: Action) -> None:
        self._reply(
            session,
            action,
            [
                ("Response", "Success"),
                ("AMIversion", "11.0.0"),
                ("AsteriskVersion", self.version),
                ("SystemName", ""),
                ("CoreMaxCalls", "0"),
            ],
        )

    def _action_pjsipshowendpoints(self, session: Any, action: Action) -> None:
        names = self.endpoint_names()
        if not names:
            self._reply(session, action, [("Response", "Error"), ("Message", "No endpoints found")])
            return
        items: list[Fields] = [
            [
                ("Event", "EndpointList"),
                ("ObjectType", "endpoint"),
                ("ObjectName", name),
                ("Transport", ""),
                ("Aor", name),
                ("Auths", name),
                ("OutboundAuths", ""),
                ("DeviceState", "Not in use"),
                ("ActiveChannels", ""),
            ]
            for name in names
        ]
        complete: Fields = [
            ("Event", "EndpointListComplete"),
            ("EventList", "Complete"),
            ("ListItems", str(len(names))),
        ]
        self._list(session, action, "A listing of Endpoints", items + [complete])

    def _action_devicestatelist(self, session: Any, action: Action) -> None:
        names = self.endpoint_names()
        items: list[Fields] = [
            [("Event", "DeviceStateChange"), ("Device", f"PJSIP/{name}"), ("State", "NOT_INUSE")]
            for name in names
        ]
        complete: Fields = [
            ("Event", "DeviceStateListComplete"),
            ("EventList", "Complete"),
            ("ListItems", str(len(names))),
        ]
        self._list(session, action, "Device State Changes", items + [complete])

    def _action_command(self, session: Any, action: Action) -> None:
        words = action.get("Command").split()
        if words[:3] == ["manager", "show", "user"] and len(words) == 4:
            if words[3] != self.username:
                output = [f" There is no manager called {words[3]}"]
            else:
                output = [
                    "",
                    f"          username: {self.username}",
                    "            secret: <Set>",
                    "               ACL: no",
                    f"         read perm: {_classes(self.read_classes)}",
                    f"        write perm: {_classes(self.write_classes)}",
                    "   displayconnects: yes",
                    "allowmultiplelogin: yes",
                ]
        elif words == ["core", "show", "version"]:
            output = [f"Asterisk {self.version} built by pbxsim on a x86_64 running Linux"]
        else:
            output = [f"No such command '{action.get('Command')}' (type 'core show help' for help)"]
        self._reply(
            session,
            action,
            [("Response", "Success"), ("Message", "Command output follows")]
            + [("Output", line) for line in output],
        )


def _classes(classes: set[str] | None) -> str:
    if classes is None:
        return ",".join(ALL_CLASSES)
    return ",".join(c for c in ALL_CLASSES if c in classes) or "<none>"
