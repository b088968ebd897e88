"""Child processes of an import: bounded in memory, and never outliving the process that
started them.

An uploaded file is read in child processes (the .xlsx check, the parallel row checkers):
- `limit_memory` caps the child's address space (RLIMIT_AS), so that a file which unpacks
  to gigabytes ends the child, not the server;
- `die_with_parent` has Linux kill the child when its parent dies, even by `kill -9`
  (prctl PR_SET_PDEATHSIG), and a watchdog thread ends it anyway when it finds itself
  adopted by another process (where prctl does not exist, or if the parent died first);
- `run_in_child` runs one function in such a child and returns its result.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
# How often the watchdog looks whether the parent is still there.
WATCHDOG_SECONDS = 1.0
# Address space of a child beyond what its data needs: the interpreter, the modules it
# imports, the reservations of the libraries and of malloc's per-thread arenas (a worker
# checking 50,000 CSV rows reaches 260 MB of address space for 50 MB resident).
BASE_MEMORY = 512 << 20
# Memory a reading child may use per byte of the upload limit (a 20 MB workbook unpacks to
# some 20 times its size in cells; measured: 200,000 rows of 5 columns, 6.7 MB, take
# 210 MB of address space in calamine).
MEMORY_PER_UPLOAD_BYTE = 32


def memory_limit(max_upload_bytes: int) -> int:
    """The address space a child reading an upload of at most `max_upload_bytes` gets."""
    return BASE_MEMORY + MEMORY_PER_UPLOAD_BYTE * max_upload_bytes


class ChildFailed(RuntimeError):
    """A child process ended without an answer (killed, out of memory, or too slow)."""

    def __init__(self, message: str, *, exitcode: int | None) -> None:
        super().__init__(message)
        self.exitcode = exitcode


def limit_memory(max_bytes: int) -> None:
    """Cap this process's address space: an allocation past it fails (MemoryError in
    Python; a library written in Rust aborts the process)."""
    try:
        import resource
    except ImportError:  # not on Windows: the child runs unbounded there
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def die_with_parent(parent_pid: int) -> None:
    """End this process when `parent_pid` ends: at once on Linux (the kernel sends SIGKILL),
    within WATCHDOG_SECONDS elsewhere or if the parent was already gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the line above: nobody would tell us
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(WATCHDOG_SECONDS):
        if os.getppid() != parent_pid:
            os._exit(1)


def prepare_child(parent_pid: int, memory_bytes: int | None) -> None:
    """First thing a child of ours does: bound its memory, tie its life to its parent's."""
    die_with_parent(parent_pid)
    if memory_bytes is not None:
        limit_memory(memory_bytes)
        # Out of memory, calamine (Rust) aborts: one line on stderr, not a whole backtrace.
        os.environ["RUST_BACKTRACE"] = "0"


def _child_main(
    parent_pid: int,
    memory_bytes: int,
    target: Callable[..., Any],
    args: tuple[Any, ...],
    answer: Any,
) -> None:
    prepare_child(parent_pid, memory_bytes)
    try:
        result: tuple[str, Any] = ("ok", target(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as err:  # noqa: BLE001 - sent to the parent, which raises it
        result = ("error", err)
    try:
        answer.send(result)
    except Exception as err:  # noqa: BLE001 - an unpicklable error: say what it was
        answer.send(("error", RuntimeError(f"{type(err).__name__}: {err}")))
    finally:
        answer.close()


def run_in_child(
    target: Callable[..., T],
    *args: Any,
    memory_bytes: int,
    timeout: float,
    name: str = "import-reader",
) -> T:
    """`target(*args)` in a new process with at most `memory_bytes` of address space; its
    exception is raised here. ChildFailed when the child runs out of memory, is killed or
    takes longer than `timeout` seconds (it is then killed)."""
    # "spawn": a fork of a process running an event loop and driver threads is not safe.
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_child_main,
        args=(os.getpid(), memory_bytes, target, args, send),
        name=name,
        daemon=True,
    )
    process.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise ChildFailed(f"{name} took longer than {timeout:g} s", exitcode=None)
        status, value = receive.recv()
    except EOFError:  # the child ended without a word: killed, or out of memory in a library
        process.join()
        raise ChildFailed(
            f"{name} ended without an answer (exit code {process.exitcode})",
            exitcode=process.exitcode,
        ) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receive.close()
    if status == "memory":
        raise ChildFailed(f"{name} ran out of memory", exitcode=process.exitcode)
    if status == "error":
        raise value
    result: T = value
    return result
