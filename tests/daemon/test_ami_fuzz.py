"""The AMI parser under garbage: fuzzed (the short run of bench/fuzz_ami.py), the defects the
fuzzer found, and the live link fed garbage over TCP (it reads on, it never hangs)."""

from __future__ import annotations

import asyncio
import logging
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.fuzz_ami import DEFAULT_CAP, check, load_traces
from daemon.ami.wire import MAX_MESSAGE, Framer, parse_message, parse_stream
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import eventually

sim = fx.sim
make_link = fx.make_link

TRACES = load_traces()


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_traces_in_any_chunks_never_break_the_parser(seed):
    # Mutated recorded traces (cut lines, mixed line ends, invalid UTF-8, missing colons,
    # repeated keys, giant lines, endless Follows) fed in random chunks: nothing raises,
    # nothing past the cap is held, the messages do not depend on how the stream was cut,
    # and after garbage the parser reads on at the next blank line (see bench/fuzz_ami.py).
    check(random.Random(seed), TRACES, DEFAULT_CAP)


def _read(data: bytes, size: int, framer: Framer | None = None) -> list[dict[str, str]]:
    framer = framer or Framer()
    blocks: list[str] = []
    for at in range(0, len(data), size):
        blocks += framer.feed(data[at : at + size])
    blocks += framer.flush()
    return [m for m in map(parse_message, blocks) if m is not None]


# -- what the fuzzer found ---------------------------------------------------------------------


def test_a_line_without_a_colon_does_not_shift_the_keys_of_the_lines_after_it():
    # One value holding ": " and one line without it used to balance out in the fast path.
    assert parse_message("A: b: c\r\nT\r\nD: e") == {"A": "b: c", "D": "e"}
    assert parse_message("a:b: c") == {"a": "b: c"}  # the key ends at the first colon


def test_a_stray_line_feed_or_carriage_return_in_a_crlf_message_is_a_line_end():
    assert parse_message("A: b\nc\r\nD: e") == {"A": "b", "D": "e"}
    assert parse_message("A: b\r\r\nD: e") == {"A": "b", "D": "e"}


def test_a_blank_line_in_mixed_line_ends_closes_the_message_however_the_stream_is_cut():
    data = b"Event: A\n\r\nEvent: B\r\n\r\nEvent: C\n\nEvent: D\r\n\n"
    expected = [{"Event": e} for e in "ABCD"]
    assert _read(data, len(data)) == expected
    assert _read(data, 1) == expected


def test_thousands_of_old_command_answers_in_one_read_are_all_read():
    # Each answer used to cost one level of recursion: a long read raised RecursionError.
    answer = "Response: Follows\r\nPrivilege: Command\r\n\r\nout\r\n--END COMMAND--\r\n\r\n"
    messages = parse_stream(answer * 3000)
    assert len(messages) == 3000
    assert messages[-1] == {"Response": "Follows", "Privilege": "Command", "Output": "\nout"}


def test_a_giant_line_is_dropped_with_a_warning_and_the_next_message_is_read(caplog):
    framer = Framer(max_message=1000)
    giant = b"Event: A\r\nValue: " + b"x" * 50_000  # trickled in small reads
    with caplog.at_level(logging.WARNING, logger="daemon.ami.wire"):
        blocks: list[str] = []
        for at in range(0, len(giant), 100):
            blocks += framer.feed(giant[at : at + 100])
            assert framer.buffered <= 1000
        blocks += framer.feed(b"\r\n\r\nEvent: B\r\n\r\n")
    assert [parse_message(b) for b in blocks] == [{"Event": "B"}]
    assert framer.skipped == 1
    assert "AMI message longer than 1000 characters" in caplog.text


def test_an_old_command_answer_without_its_end_is_not_kept_forever():
    framer = Framer(max_message=1000)
    head = b"Response: Follows\r\nPrivilege: Command\r\n\r\n"
    blocks = framer.feed(head)
    for _ in range(500):  # output with blank lines, and never --END COMMAND--
        blocks += framer.feed(b"some output\r\n\r\n")
        assert framer.buffered <= 1000
    blocks += framer.feed(b"Event: B\r\n\r\n")
    assert framer.skipped == 1
    assert [parse_message(b) for b in blocks][-1] == {"Event": "B"}


# -- the live link ---------------------------------------------------------------------------


async def test_the_link_reads_on_after_garbage_and_is_never_stuck(sim, make_link):
    link, rec, _ = await make_link()
    rng = random.Random(19)
    garbage = rng.randbytes(20_000).replace(b"Follows", b"")
    giant = b"Event: Giant\r\nValue: " + b"x" * (MAX_MESSAGE + 1000)  # no line end at all
    await sim.send_chunks([b"Asterisk Call Manager/1.0\r\n", garbage, b"\xff\xfe\r\n\r\n", giant])
    sim.send_raw(b"\r\n\r\nEvent: UserEvent\r\nUserEvent: AfterGarbage\r\n\r\n")

    async with asyncio.timeout(30):
        await eventually(
            lambda: (
                any(e.get("UserEvent") == "AfterGarbage" for e in rec.events)
                or (sim.logins >= 2 and link.is_ready)
            ),
            within=30,
        )
        answer = await link.send_action({"Action": "Ping"})
    assert answer["Response"] == "Success"
    assert not any(e.get("Event") == "Giant" for e in rec.events)


class GarbageFirst:
    """A TCP hop in front of the simulator that writes `garbage` to the link's first connection
    before anything of the PBX's (the banner and the login answer come after it)."""

    def __init__(self, upstream_port: int, garbage: bytes) -> None:
        self.upstream_port = upstream_port
        self.garbage = garbage
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> GarbageFirst:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        if self.connections == 1:
            writer.write(self.garbage)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(_pipe(source, sink), name="ami-hop")
            self._pipes.add(task)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()


async def test_garbage_that_swallows_the_login_answer_makes_the_link_log_in_again(sim, make_link):
    # Random bytes, then an old Command answer that never ends: the PBX's banner and its
    # answer to Login vanish into it. The login times out and the link connects again.
    garbage = random.Random(6).randbytes(5000).replace(b"Follows", b"")
    garbage += b"\r\n\r\nResponse: Follows\r\nPrivilege: Command\r\n"
    async with GarbageFirst(sim.port, garbage) as hop, asyncio.timeout(30):
        link, rec, _ = await make_link(wait=False, port=hop.port, action_timeout=1.0)
        await link.wait_ready(25)
        assert hop.connections == 2 and sim.logins == 2
        sim.send_raw(b"Event: UserEvent\r\nUserEvent: AfterGarbage\r\n\r\n")
        await eventually(lambda: any(e.get("UserEvent") == "AfterGarbage" for e in rec.events))
        await link.stop()
