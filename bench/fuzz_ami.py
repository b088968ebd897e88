"""Fuzz the AMI wire parser (daemon/ami/wire.py) and the call tracker behind it.

Each input is a byte stream made from a recorded trace (tests/fixtures/ami-traces) by a few
random mutations: line ends switched between CRLF and LF, lines cut short or split, random
and invalid UTF-8 bytes, colons removed, lines repeated, huge values, giant lines with no end,
``Response: Follows`` answers with and without their ``--END COMMAND--``, stray banners. It is
fed to a `Framer` in random chunk sizes (1 byte to 64 KiB), every block is parsed, and every
event goes to a `CallTracker`. Checked for each input:

1. nothing raises (wire.py documents no error: it never raises; the tracker logs and skips);
2. the framer never holds more than its cap (``--cap`` characters) between reads;
3. the fast and the exact parse of every block agree;
4. the messages do not depend on how the stream was cut (same as one read of it all),
   unless an oversized message was dropped;
5. a "recovery" input (garbage, a blank line, then a clean trace) yields the whole clean
   trace: the parser reads on at the next blank line, even after a giant line or an endless
   ``Response: Follows`` past the cap.

Input i is made by ``random.Random(seed + i)``: a failure is reproduced by its number (saved
under ``--crash-dir``). ``--engine hypothesis`` drives the same checks through hypothesis
(slower: it records and shrinks). Prints figures, asserts nothing.

    python bench/fuzz_ami.py [--inputs 1000000] [--seed 0] [--cap 65536] [--jobs 1]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from daemon.ami.tracker import CallTracker  # noqa: E402
from daemon.ami.wire import Framer, parse_fields, parse_message, to_message  # noqa: E402

TRACES_DIR = ROOT / "tests" / "fixtures" / "ami-traces"
DEFAULT_CAP = 16 * 1024  # small, so that inputs past it are cheap to make and common
JUNK = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\r\n",
    b"\r\r\n",
    b":",
    b": ",
    b" : ",
    b"\t",
    b"Jos\xc3\xa9",
    b"Asterisk Call Manager/",
    b"Response: Follows\r\n",
    b"--END COMMAND--",
    b"Event:",
    b"ActionID: ",
    b"Response: Success\r\n",
    b"\x1b[0m",
    b"\xe2\x80\xa8",
]


def load_traces() -> list[list[bytes]]:
    """Each recorded trace as its messages' raw bytes (banner first), CRLF kept."""
    traces = []
    for path in sorted(TRACES_DIR.glob("*.ami")):
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        head, sep, rest = data.partition(b"\r\n")
        parts = [head + sep] + [m + b"\r\n\r\n" for m in rest.split(b"\r\n\r\n") if m.strip()]
        traces.append(parts)
    return traces


# -- making inputs -----------------------------------------------------------------------------


def _window(rng: random.Random, traces: list[list[bytes]], banner: bool) -> bytes:
    parts = rng.choice(traces)
    count = rng.choice((1, 2, 5, 10, 30))
    at = rng.randrange(1, max(2, len(parts) - count))
    body = b"".join(parts[at : at + count])
    return parts[0] + body if banner else body


def _line_span(rng: random.Random, data: bytes) -> tuple[int, int]:
    """A random line of `data` (start, end without its line end)."""
    if not data:
        return 0, 0
    at = rng.randrange(len(data))
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    end = len(data) if end < 0 else end
    if end > start and data[end - 1 : end] == b"\r":
        end -= 1
    return start, end


def _follows(rng: random.Random, ended: bool, cap: int) -> bytes:
    lines = [b"Response: Follows", b"Privilege: Command", b"ActionID: fz-%d" % rng.randrange(99)]
    for _ in range(rng.randrange(8)):
        lines.append(rng.choice([b"", b"Channel: x", b"  1 active call", b"a: b", b"\xc3"]))
    if not ended and rng.random() < 0.3:
        lines.append(b"out " * (cap // 3))  # past the cap, no blank line
    if ended:
        lines.append(b"--END COMMAND--")
    eol = rng.choice((b"\r\n", b"\n"))
    return eol.join(lines) + eol + (eol if ended else b"")


def mutate(rng: random.Random, data: bytes, cap: int) -> bytes:
    """One random mutation of a stream."""
    kind = rng.randrange(16)
    start, end = _line_span(rng, data)
    if kind == 0:  # every line end LF
        return data.replace(b"\r\n", b"\n")
    if kind == 1:  # some line ends LF
        return b"".join(
            p.replace(b"\r\n", b"\n") if rng.random() < 0.5 else p for p in data.split(b"\r\n\r\n")
        )
    if kind == 2:  # a line cut short
        return data[: rng.randint(start, end)] + data[end:]
    if kind == 3:  # junk bytes in a line
        at = rng.randint(start, end)
        junk = b"".join(rng.choice(JUNK) for _ in range(rng.randrange(1, 6)))
        return data[:at] + junk + data[at:]
    if kind == 4:  # random bytes
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.randbytes(rng.randrange(1, 64)) + data[at:]
    if kind == 5:  # a colon removed
        colon = data.find(b":", start, end)
        return data if colon < 0 else data[:colon] + data[colon + 1 :]
    if kind == 6:  # a line repeated (a duplicate key)
        line = data[start:end] + b"\r\n"
        return data[:start] + line * rng.randrange(1, 4) + data[start:]
    if kind == 7:  # a huge value (sometimes past the cap)
        size = rng.choice((1000, cap // 2, cap + rng.randrange(1000)))
        return data[:end] + b"x" * size + data[end:]
    if kind == 8:  # a giant line with no end at all, at the end of the stream
        return data + b"y" * (cap + rng.randrange(1, 5000))
    if kind == 9:  # an old Command answer, ended or not
        at = data.find(b"\r\n\r\n", start)
        at = len(data) if at < 0 else at + 4
        return data[:at] + _follows(rng, rng.random() < 0.6, cap) + data[at:]
    if kind == 10:  # a span deleted
        a = rng.randrange(len(data) + 1)
        return data[:a] + data[a + rng.randrange(1, 200) :]
    if kind == 11:  # a span repeated
        a = rng.randrange(len(data) + 1)
        return data[:a] + data[a : a + rng.randrange(1, 200)] * 2 + data[a:]
    if kind == 12:  # extra blank lines
        at = data.find(b"\r\n\r\n", start)
        return data if at < 0 else data[:at] + b"\r\n" * rng.randrange(1, 5) + data[at:]
    if kind == 13:  # a banner in the middle
        return data[:start] + b"Asterisk Call Manager/6.0.0\r\n" + data[start:]
    if kind == 14:  # a key with spaces, an empty key, a key with a colon
        return data[:start] + rng.choice([b"Bad Key: v", b": v", b"a:b: c", b"K:"]) + data[start:]
    return data[:start] + data[start:end].upper() + data[end:]  # kind 15


def make_input(
    rng: random.Random, traces: list[list[bytes]], cap: int
) -> tuple[bytes, bytes | None]:
    """(stream, None) for a mutated trace, or (garbage + blank line + clean, clean)."""
    if rng.random() < 0.2:
        clean = _window(rng, traces, banner=False)
        garbage = _window(rng, traces, banner=rng.random() < 0.5)
        for _ in range(rng.randrange(1, 5)):
            garbage = mutate(rng, garbage, cap)
        garbage = garbage.replace(b"Follows", b"Fallows")  # an open Follows waits for its end
        choice = rng.randrange(4)
        if choice == 0:
            garbage += b"z" * (cap + rng.randrange(1, 3000))  # a giant line
        elif choice == 1:
            garbage += b"Response: Follows\r\n" + b"out " * (cap // 3)  # endless, no blank line
        return garbage + b"\r\n\r\n" + clean, clean
    data = _window(rng, traces, banner=rng.random() < 0.7)
    for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
        data = mutate(rng, data, cap)
    return data, None


def chunks(rng: random.Random, data: bytes) -> list[bytes]:
    """The stream as TCP might deliver it."""
    mode = rng.randrange(4)
    if mode == 0 or len(data) > 300_000:
        top = 65536
    elif mode == 1:
        top = 16
    elif mode == 2:
        top = 1 if len(data) < 4000 else 64
    else:
        top = 2048
    top = max(top, len(data) // 150)  # at most a few hundred reads: inputs stay quick
    out, at = [], 0
    while at < len(data):
        size = rng.randint(1, top)
        out.append(data[at : at + size])
        at += size
    return out


# -- checking one input ------------------------------------------------------------------------


class FuzzFailure(AssertionError):
    """A property of the parser did not hold."""


def _messages(blocks: list[str]) -> list[dict[str, str]]:
    out = []
    for block in blocks:
        fast = parse_message(block)
        exact = to_message(parse_fields(block)) or None
        if fast != exact:
            raise FuzzFailure(f"fast and exact parse differ on {block[:200]!r}: {fast} / {exact}")
        if fast is not None:
            out.append(fast)
    return out


def _read(data: bytes, pieces: list[bytes], cap: int) -> tuple[Framer, list[dict[str, str]], int]:
    framer = Framer(max_message=cap)
    blocks: list[str] = []
    most = 0
    for piece in pieces:
        blocks.extend(framer.feed(piece))
        most = max(most, framer.buffered)
        if framer.buffered > cap:
            raise FuzzFailure(f"{framer.buffered} characters buffered, over the cap {cap}")
    blocks.extend(framer.flush())
    return framer, _messages(blocks), most


def check(rng: random.Random, traces: list[list[bytes]], cap: int) -> tuple[int, int]:
    """Make one input and check it; returns (max buffered characters, oversized drops)."""
    data, clean = make_input(rng, traces, cap)
    framer, messages, most = _read(data, chunks(rng, data), cap)
    if clean is not None:
        expected = _read(clean, [clean], cap)[1]
        if len(expected) > len(messages) or messages[len(messages) - len(expected) :] != expected:
            raise FuzzFailure("the parser did not read on after the garbage")
    else:
        whole, at_once, _ = _read(data, [data], cap)
        if framer.skipped == 0 and whole.skipped == 0 and messages != at_once:
            raise FuzzFailure("the messages depend on how the stream was cut")
    tracker = CallTracker(agent_channel=("PJSIP/{extension}", "SIP/{extension}"))
    for message in messages:
        if "Event" in message:
            tracker.feed(message)
    tracker.snapshot()
    return most, framer.skipped


# -- running -----------------------------------------------------------------------------------


class _SkipCounter(logging.Handler):
    """Counts what the tracker logged as skipped malformed events, by exception type."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.types: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            self.types[record.exc_info[0].__name__] += 1


def run(first: int, count: int, cap: int, crash_dir: Path) -> dict:
    """Check inputs first .. first+count-1; the figures of this share."""
    logging.disable(logging.NOTSET)
    logging.getLogger().setLevel(logging.CRITICAL)
    tracker_log = logging.getLogger("daemon.ami.tracker")
    tracker_log.setLevel(logging.WARNING)
    tracker_log.propagate = False
    skips = _SkipCounter()
    tracker_log.addHandler(skips)
    traces = load_traces()
    crashes: list[str] = []
    most = dropped = 0
    for i in range(first, first + count):
        try:
            buffered, skipped = check(random.Random(i), traces, cap)
        except Exception as err:  # noqa: BLE001 - every failure is a finding
            crash_dir.mkdir(parents=True, exist_ok=True)
            (crash_dir / f"input-{i}.txt").write_text(traceback.format_exc())
            crashes.append(f"input {i}: {type(err).__name__}: {str(err)[:200]}")
            continue
        most = max(most, buffered)
        dropped += skipped
    return {"crashes": crashes, "most": most, "dropped": dropped, "skips": dict(skips.types)}


def _run_args(args: tuple[int, int, int, Path]) -> dict:
    return run(*args)


def run_hypothesis(count: int, cap: int) -> None:
    """The same checks driven by hypothesis (seeded, no shrinking database)."""
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    traces = load_traces()
    logging.getLogger().setLevel(logging.CRITICAL)

    @seed(0)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.randoms(use_true_random=False))
    def fuzz(rng: random.Random) -> None:
        check(rng, traces, cap)

    fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0, help="input i uses Random(seed + i)")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help="Framer max_message")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--engine", choices=("random", "hypothesis"), default="random")
    parser.add_argument("--crash-dir", type=Path, default=Path("/tmp/fuzz_ami_crashes"))
    args = parser.parse_args()
    began = time.perf_counter()
    if args.engine == "hypothesis":
        run_hypothesis(args.inputs, args.cap)
        elapsed = time.perf_counter() - began
        print(
            f"hypothesis: {args.inputs:,} inputs in {elapsed:.1f} s, "
            f"{args.inputs / elapsed:,.0f} inputs/s, no failure"
        )
        return
    share = -(-args.inputs // args.jobs)
    tasks = [
        (args.seed + at, min(share, args.inputs - at), args.cap, args.crash_dir)
        for at in range(0, args.inputs, share)
    ]
    if args.jobs == 1:
        results = [run(*tasks[0])]
    else:
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(_run_args, tasks)
    elapsed = time.perf_counter() - began
    crashes = [c for r in results for c in r["crashes"]]
    skips: Counter[str] = Counter()
    for r in results:
        skips.update(r["skips"])
    print(
        f"inputs:               {args.inputs:,} (seed {args.seed}, cap {args.cap:,} chars, "
        f"{args.jobs} job(s))"
    )
    print(f"time:                 {elapsed:,.1f} s")
    print(f"inputs/s:             {args.inputs / elapsed:,.0f}")
    print(f"crashes / failures:   {len(crashes)}")
    print(f"max buffered:         {max(r['most'] for r in results):,} chars between reads")
    print(f"oversized dropped:    {sum(r['dropped'] for r in results):,} messages")
    print(f"tracker skipped:      {dict(skips) or 'nothing'} (malformed events, logged)")
    for line in crashes[:20]:
        print("  ", line)
    if crashes:
        print(f"tracebacks in {args.crash_dir}")


if __name__ == "__main__":
    main()
