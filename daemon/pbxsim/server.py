"""The simulator's AMI server: sessions, login, and the actions a CRM sends.

It answers as Asterisk 22 does in the recordings: the banner, ``Authentication accepted`` then
``FullyBooted``, ``Permission denied`` before login, ``Authentication failed`` then a closed
socket for a wrong secret, the ``ActionID`` echoed on every answer, ``Ping: Pong``,
``Originate successfully queued``, list actions as ``EventList: start`` ... ``Complete``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from daemon.ami.wire import BANNER_PREFIX, Fields, Framer, encode, parse_fields
from daemon.pbxsim.actions import PbxScripts
from daemon.pbxsim.calls import RemoteOutcome, SimCall
from daemon.pbxsim.clock import SimClock
from daemon.pbxsim.dialplan import listing
from daemon.pbxsim.dongle import DongleModem
from daemon.pbxsim.inventory import InventoryActions
from daemon.pbxsim.pbx import Pbx
from daemon.pbxsim.replay import Trace
from daemon.pbxsim.wire import Action

logger = logging.getLogger(__name__)

BANNER = f"{BANNER_PREFIX}11.0.0"


@dataclass
class Session:
    writer: asyncio.StreamWriter
    number: int
    is_logged_in: bool = False
    wants_events: bool = True
    actions: list[dict[str, str]] = field(default_factory=list)
    resynced: asyncio.Event = field(default_factory=asyncio.Event)

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class PbxSimulator(InventoryActions):
    """An AMI server over TCP backed by a simulated PBX; scriptable from tests.

    ``speed`` scales time: at 100, a 30 s call lasts 0.3 s (event Timestamps stay in PBX time).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "crm",
        secret: str = "crm-secret",
        speed: float = 1.0,
        timestamps: bool = True,
        banner: str = BANNER,
        replay: Trace | None = None,
        version: str = "22.10.1",
        **scripts: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.banner = banner
        self.clock = SimClock(speed)
        self.pbx = Pbx(self.clock, self.broadcast, timestamps=timestamps)
        self.scripts = PbxScripts(self.pbx, self.clock, **scripts)
        self.dongle = DongleModem(self.clock, self.broadcast)  # chan_dongle SMS
        self.sessions: list[Session] = []
        self.actions: list[dict[str, str]] = []  # every action received, in order
        self.logins = 0  # successful logins
        self.answer_pings = True  # False: a half-dead PBX that reads but never answers Ping
        self.answer_actions = True  # False: actions are read and never answered
        # Actions the manager user may not send (lower-case names): `Permission denied`, as
        # Asterisk answers a user without the write right the action needs.
        self.denied_actions: set[str] = set()
        # The manager user's read= and write= classes (None: all); see daemon.pbxsim.inventory.
        self.read_classes: set[str] | None = None
        self.write_classes: set[str] | None = None
        self.version = version  # CoreSettings' AsteriskVersion
        self.endpoints: list[str] | None = None  # PJSIPShowEndpoints; None: see endpoint_names
        self.endpoint_source: Any = None  # returns the CRM's extensions (the product's sim)
        self.sent_hook: Any = None  # called with each event's fields after it is written
        self.replay = replay  # a recorded trace served to every client that logs in
        self.replays_done = 0
        self.replay_finished = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self._sessions_seq = 0
        self._handlers: set[asyncio.Task[None]] = set()
        self._replays: set[asyncio.Task[None]] = set()

    # -- life -----------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("PBX simulator listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop every client (as a PBX that goes down); calls stay scripted."""
        if self._server is not None:
            self._server.close()
            await self.drop_clients()
            await self._server.wait_closed()
            self._server = None

    async def close(self) -> None:
        await self.stop()
        await self.scripts.close()
        await self.dongle.close()

    async def drop_clients(self) -> None:
        """Cut every client's connection at once (a crash, not a polite Logoff)."""
        for task in list(self._replays):
            task.cancel()
        for session in list(self.sessions):
            session.writer.transport.abort()
        handlers = list(self._handlers) + list(self._replays)
        if handlers:
            await asyncio.wait(handlers)

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- scripting API ----------------------------------------------------------------

    async def inbound_call(self, caller: str, did: str, ring: list[str], **kwargs: Any) -> SimCall:
        """An outside caller dials `did`; `ring` extensions ring (see CallScripts.inbound_call)."""
        return await self.scripts.inbound_call(caller, did, ring, **kwargs)

    async def outbound_call(self, extension: str, number: str, **kwargs: Any) -> SimCall:
        return await self.scripts.outbound_call(extension, number, **kwargs)

    def script_number(self, number: str, result: str = "answer", **kwargs: Any) -> None:
        """What `number` does when dialed: answer, noanswer, busy, congestion, unallocated."""
        from daemon.pbxsim.calls import number_key

        self.scripts.outcomes[number_key(number)] = RemoteOutcome(result, **kwargs)

    def script_agent(self, extension: str, behaviour: str) -> None:
        """How an agent's phone reacts when rung: answer, noanswer or busy."""
        self.scripts.agents[extension] = behaviour

    def define_context(self, context: str, extensions: Any) -> None:
        """Give the dialplan a context (a list of extensions, or extension -> "App(data)")."""
        self.scripts.dialplan.define(context, extensions)

    def received(self, action: str) -> list[dict[str, str]]:
        """The actions of this name received so far (case-insensitive name)."""
        return [a for a in self.actions if a.get("Action", "").lower() == action.lower()]

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are to every logged-in client (malformed-event tests)."""
        for session in self.sessions:
            if session.is_logged_in:
                session.send(data)

    async def send_chunks(self, chunks: list[bytes], pause: float = 0.05) -> None:
        """Write the chunks as separate TCP segments (a UTF-8 character split across reads)."""
        for chunk in chunks:
            self.send_raw(chunk)
            for session in self.sessions:
                with contextlib.suppress(ConnectionError):
                    await session.writer.drain()
            await asyncio.sleep(pause)

    def broadcast(self, fields: Fields) -> None:
        data = encode(fields)
        for session in self.sessions:
            if session.is_logged_in and session.wants_events and self.may_read(fields):
                session.send(data)
        if self.sent_hook is not None:
            self.sent_hook(fields)

    # -- sessions -------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._sessions_seq += 1
        session = Session(writer, self._sessions_seq)
        self.sessions.append(session)
        framer = Framer()
        try:
            session.send(f"{self.banner}\r\n".encode())
            while not writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    break
                for action in _actions(framer.feed(data)):
                    if not self._handle(session, action):
                        await writer.drain()
                        writer.close()
                        return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.sessions.remove(session)
            writer.close()
            self._handlers.discard(task)

    def _reply(self, session: Session, action: Action, fields: Fields) -> None:
        head: Fields = [fields[0]]
        if action.action_id is not None:
            head.append(("ActionID", action.action_id))
        session.send(encode(head + fields[1:]))

    def _handle(self, session: Session, action: Action) -> bool:
        """Answer one action; False closes the session."""
        record = action.as_dict()
        self.actions.append(record)
        session.actions.append(record)
        name = action.name
        if name == "login":
            return self._login(session, action)
        if name == "logoff":
            self._reply(
                session, action, [("Response", "Goodbye"), ("Message", "Thanks for all the fish.")]
            )
            return False
        if not session.is_logged_in:
            self._reply(session, action, [("Response", "Error"), ("Message", "Permission denied")])
            return True
        if not self.answer_actions or (name == "ping" and not self.answer_pings):
            return True
        if name in self.denied_actions or not self.may_write(name):
            self._reply(session, action, [("Response", "Error"), ("Message", "Permission denied")])
            return True
        handler = getattr(self, f"_action_{name}", None)
        if handler is None:
            self._reply(
                session, action, [("Response", "Error"), ("Message", "Invalid/unknown command")]
            )
            return True
        handler(session, action)
        return True

    def _login(self, session: Session, action: Action) -> bool:
        if action.get("Username") != self.username or action.get("Secret") != self.secret:
            self._reply(
                session, action, [("Response", "Error"), ("Message", "Authentication failed")]
            )
            return False
        session.is_logged_in = True
        session.wants_events = action.get("Events", "on").lower() not in ("off", "no", "false", "0")
        self.logins += 1
        self._reply(
            session, action, [("Response", "Success"), ("Message", "Authentication accepted")]
        )
        if session.wants_events and self.may_read([("Privilege", "system,all")]):
            session.send(
                encode(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", "11"),
                        ("LastReload", "11"),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        if self.replay is not None and session.wants_events:
            task = asyncio.get_running_loop().create_task(
                self._replay(session), name=f"pbxsim:replay:{session.number}"
            )
            self._replays.add(task)
            task.add_done_callback(self._replays.discard)
        return True

    async def _replay(self, session: Session) -> None:
        assert self.replay is not None
        try:
            await self.replay.stream(session.writer, session.resynced, self.clock.speed)
        except ConnectionError:
            return
        self.replays_done += 1
        self.replay_finished.set()

    # -- actions --------------------------------------------------------------------

    def _action_ping(self, session: Session, action: Action) -> None:
        self._reply(
            session,
            action,
            [("Response", "Success"), ("Ping", "Pong"), ("Timestamp", f"{self.clock.epoch():.6f}")],
        )

    def _action_originate(self, session: Session, action: Action) -> None:
        if not action.get("Channel") or not (action.get("Exten") or action.get("Application")):
            self._reply(
                session, action, [("Response", "Error"), ("Message", "Channel not specified")]
            )
            return
        self._reply(
            session, action, [("Response", "Success"), ("Message", "Originate successfully queued")]
        )
        self.scripts.originate(action, self.broadcast)

    def _action_donglesendsms(self, session: Session, action: Action) -> None:
        self.dongle.send_sms(action, lambda fields: self._reply(session, action, fields))

    def _action_hangup(self, session: Session, action: Action) -> None:
        chan = self.pbx.find(action.get("Channel"))
        if chan is None:
            self._reply(session, action, [("Response", "Error"), ("Message", "No such channel")])
            return
        self._reply(session, action, [("Response", "Success"), ("Message", "Channel Hungup")])
        self.scripts.hangup_channel(chan, int(action.get("Cause") or 16))

    def _action_redirect(self, session: Session, action: Action) -> None:
        chan = self.pbx.find(action.get("Channel"))
        if chan is None:
            self._reply(
                session,
                action,
                [("Response", "Error"), ("Message", "Channel specified does not exist")],
            )
            return
        self._reply(session, action, [("Response", "Success"), ("Message", "Redirect successful")])
        self.scripts.redirect(chan, action.get("Context"), action.get("Exten"))

    def _action_showdialplan(self, session: Session, action: Action) -> None:
        """The dialplan as Asterisk lists it: ListDialplan per priority, or an error."""
        steps, error = self.scripts.dialplan.show(action.get("Context"), action.get("Extension"))
        if error:
            self._reply(session, action, [("Response", "Error"), ("Message", error)])
            return
        self._reply(
            session,
            action,
            [
                ("Response", "Success"),
                ("EventList", "start"),
                ("Message", "DialPlan list will follow"),
            ],
        )
        for fields in listing(steps, action.action_id):
            session.send(encode(fields))

    def _action_coreshowchannels(self, session: Session, action: Action) -> None:
        self._reply(
            session,
            action,
            [("Response", "Success"), ("EventList", "start"), ("Message", "Channels will follow")],
        )
        action_id = [("ActionID", action.action_id)] if action.action_id else []
        channels = list(self.pbx.channels.values())
        for chan in channels:
            session.send(
                encode(
                    [("Event", "CoreShowChannel")] + action_id + self.pbx.show_channel_fields(chan)
                )
            )
        session.send(
            encode(
                [("Event", "CoreShowChannelsComplete")]
                + action_id
                + [("EventList", "Complete"), ("ListItems", str(len(channels)))]
            )
        )
        session.resynced.set()

    def _action_events(self, session: Session, action: Action) -> None:
        session.wants_events = action.get("EventMask", "on").lower() not in (
            "off",
            "no",
            "false",
            "0",
        )
        self._reply(
            session,
            action,
            [("Response", "Success"), ("Events", "On" if session.wants_events else "Off")],
        )


def _actions(blocks: list[str]) -> list[Action]:
    return [Action(fields) for fields in map(parse_fields, blocks) if fields]
