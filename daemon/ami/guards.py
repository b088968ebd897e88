"""Our thin layer around panoramisk 1.4: the protocol, action and manager subclasses
that guard against its known defects.

panoramisk 1.4 (the PyPI release, 2021) has four defects that bite a CRM:

(a) An ``Originate`` without an explicit ``Async`` header makes ``Action.multi`` read
    ``self['async']``, which raises ``KeyError('async')`` inside ``data_received`` when the
    "Originate successfully queued" answer arrives; asyncio then drops the connection.
    ``GuardedAction`` reads the header with a default, and completes an Originate on its first
    answer (the outcome comes later as an ``OriginateResponse`` event, which then reaches the
    event stream like any other event).
(b) Each TCP chunk is decoded on its own with errors ignored, so a UTF-8 character split
    across two reads vanishes ("José" arrives as "Jos").
    ``GuardedProtocol`` reads through daemon.ami.wire's ``Framer``: one incremental decoder.
(c) After a reconnect, actions that got no answer are sent again (a click-to-call would ring
    twice), and actions that got one answer of several never complete.
    ``GuardedProtocol.close`` fails every pending action with ``AmiConnectionLost`` and
    ``GuardedManager`` never re-sends; the link also puts a timeout on every request.
(d) Ping answers are never checked. The link runs a watchdog (see ``daemon.ami.link``).

The protocol frames, parses and writes messages with daemon.ami.wire (the module the PBX
simulator and the trace loaders use too), straight into ``dict[str, str]`` for events
(panoramisk builds a case-insensitive ``Message`` per event and matches it against fnmatch
patterns; we only need plain dicts), which is what lets the link beat bare panoramisk on
ingest. Answers to actions still become panoramisk ``Message`` objects, because its
``Action`` decides from them when an action is complete.

These classes override or lean on panoramisk 1.4's internals; pyproject.toml pins that
exact version and tests/daemon/test_panoramisk_pin.py fails when they change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from panoramisk import actions
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager
from panoramisk.message import Message

from daemon.ami.wire import Framer, encode, parse_message

logger = logging.getLogger(__name__)

PANORAMISK_VERSION = "1.4"  # the release whose defects and internals this module knows
# Events that belong to a list action's answer; they go to that action, not to the stream.
_LIST_EVENTS = frozenset(
    {
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "Status",
        "StatusComplete",
        "ListDialplan",
        "ShowDialPlanComplete",
    }
)


class AmiConnectionLost(ConnectionError):
    """The AMI connection dropped before the action was answered."""


class GuardedAction(actions.Action):
    """An Action whose ``multi`` never raises and whose Originate completes on its first answer."""

    in_stream = False  # when it completes, put its result in the event stream (resync)

    @property
    def multi(self) -> bool:
        if str(self.get("action", "")).lower() == "originate":
            # Defect (a): panoramisk looked up self['async'] here. The Originate's outcome is
            # followed through its OriginateResponse event instead.
            return False
        resp = self.responses[0]
        msg = resp.message.lower()
        if self.as_list is not None:
            return bool(self.as_list)
        if resp.subevent == "Start" or resp.get("EventList") == "start":
            return True
        if "will follow" in msg:
            return True
        return msg.startswith("added") and msg.endswith("to queue")


def message_to_dict(message: Message) -> dict[str, str]:
    """A panoramisk Message (from an action's answer) as a plain dict."""
    out: dict[str, str] = {}
    for key, value in message.items():
        if key == "content":
            continue
        out[key] = "\n".join(value) if isinstance(value, list) else str(value)
    return out


class GuardedProtocol(AMIProtocol):
    """AMIProtocol with an incremental UTF-8 decoder and a fast path for events.

    ``sink(items)`` receives, per TCP read, every event as ``dict[str, str]`` in stream order,
    and the completed in-stream actions (resync) as the ``GuardedAction`` itself.
    """

    # Set by AMIProtocol.connection_made (untyped in panoramisk).
    version: str | None
    closed: bool

    def __init__(self, sink: Callable[[Any], None], encoding: str = "utf-8") -> None:
        super().__init__()
        self.sink = sink
        self.encoding = encoding
        self.malformed = 0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.log = logger
        # Defect (b): one decoder for the whole stream keeps a split character's first bytes.
        self._framer = Framer(self.encoding)

    def send(self, data: Any, as_list: Any = None) -> Any:
        if not isinstance(data, actions.Action):
            data = GuardedAction(data, as_list=as_list)
        data.as_list = as_list
        if self.closed:
            data.future.set_exception(
                AmiConnectionLost(f"connection closed; {data.get('action')} not sent")
            )
            return data.future
        self.responses[data.id] = data
        try:
            self.transport.write(encode(data, self.encoding))
        except Exception:
            logger.exception("cannot send AMI action %s", data.get("action"))
        return data.future

    def data_received(self, data: bytes) -> None:
        blocks = self._framer.feed(data)
        if self.version is None and self._framer.version is not None:
            self.version = self._framer.version
            logger.info("AMI server speaks protocol %s", self.version)
        out: list[Any] = []
        for block in blocks:
            try:
                headers = parse_message(block)
                # The common case inline: an event that belongs to no action.
                if headers is not None and "ActionID" not in headers and "Event" in headers:
                    if headers["Event"] == "Shutdown":
                        logger.warning("the PBX announced a shutdown")
                    out.append(headers)
                else:
                    self._handle_message(headers, block, out)
            except Exception:
                # One bad message must never take the connection down with it.
                self.malformed += 1
                logger.exception(
                    "skipping an AMI message that could not be handled: %r", block[:500]
                )
        if out:
            self.sink(out)

    def _handle_message(self, headers: dict[str, str] | None, block: str, out: list[Any]) -> None:
        if headers is None and not block.strip():
            return
        if headers is None or ("Event" not in headers and "Response" not in headers):
            self.malformed += 1
            logger.warning("skipping a malformed AMI message: %r", block[:500])
            return
        action_id = headers.get("ActionID")
        pending = self.responses.get(action_id) if action_id else None
        if pending is None:
            if "Event" in headers:
                out.append(headers)
            else:
                logger.debug("answer to an action nobody waits for: %r", headers)
            return
        self.handle_message(Message(headers))
        event = headers.get("Event")
        if event and event not in _LIST_EVENTS and not event.endswith("Complete"):
            # Events tied to an action (OriginateResponse of a multi action) are events too.
            out.append(headers)
        if isinstance(pending, GuardedAction) and pending.in_stream and pending.future.done():
            out.append(pending)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.close()
            if self.factory is not None:
                self.factory.connection_lost(exc)

    def close(self) -> None:
        # Defect (c): never queue unanswered actions for a resend; fail them all now.
        pending = list(self.responses.values())
        self.responses.clear()
        for action in pending:
            if not action.future.done():
                action.future.set_exception(
                    AmiConnectionLost(f"connection lost before {action.get('action')} was answered")
                )
                # Nobody may be awaiting it any more (a timed-out caller): mark it retrieved.
                action.future.exception()
        if not self.closed:
            try:
                self.transport.close()
            finally:
                self.closed = True


class GuardedManager(Manager):
    """A panoramisk Manager that never reconnects, pings or re-sends on its own.

    The link (daemon.ami.link) owns the connection's life: connect, login, watchdog, backoff.
    """

    def __init__(self, on_lost: Callable[[Exception | None], None], **config: Any) -> None:
        config.setdefault("forgetable_actions", ())
        super().__init__(**config)
        self._on_lost = on_lost
        self.callbacks.clear()
        self.patterns.clear()

    def attach(self, protocol: GuardedProtocol) -> None:
        """Adopt a freshly connected protocol (what Manager.connection_made does, minus login)."""
        self.protocol = protocol
        protocol.factory = self
        self.responses = protocol.responses
        self._connected = True

    async def send_awaiting_actions(self, *_: Any) -> None:
        # Defect (c): an action sent on a dead connection is never sent again.
        self.awaiting_actions.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self._on_lost(exc)

    def close(self) -> None:
        if self.protocol is not None:
            self.protocol.close()
