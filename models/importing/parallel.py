"""Reading and checking big files in worker processes.

Reading a phone number is pure Python (phonenumbers), and in one process it is what limits an
import of 100,000 rows. Each worker process opens the file itself (the table is a path and
a few settings) and reads it from the start; of every `workers` chunks it checks one, its
own, and sends the result back through its own bounded queue. The event loop's process
takes the chunks from the queues in turn, so they arrive in file order, and does nothing
but plan and write them: it never reads or pickles the file's rows. Small files stay in
one process: starting workers costs more than it saves.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import queue
from collections.abc import AsyncGenerator, Iterator
from typing import Any

from models.importing.processes import prepare_child
from models.importing.readers import Cell, Table
from models.importing.rows import Record, Rejection, RowChecker

# Below this many rows a file is checked in a thread of the server's own process.
PARALLEL_MIN_ROWS = 20_000
# Checked chunks waiting in each worker's queue: memory stays bounded however big the file.
QUEUED_CHUNKS = 2
# How often a wait for the next chunk looks whether its worker is still alive.
POLL_SECONDS = 0.5

WORKER_GC_THRESHOLD = 50_000

RawChunk = list[tuple[int, list[Cell]]]
Checked = list[Record | Rejection]


def default_workers() -> int:
    """A worker per core but one (left to the event loop and the database), at most four."""
    cores = os.cpu_count() or 1
    return max(0, min(4, cores - 1))


def check_chunk(checker: RowChecker, chunk: RawChunk) -> Checked:
    return [checker.check(number, cells) for number, cells in chunk]


def read_chunk(rows: Iterator[tuple[int, list[Cell]]], size: int) -> RawChunk:
    chunk: RawChunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            break
    return chunk


class WorkerFailed(RuntimeError):
    """A worker process stopped with an error, or without a word."""


def _check_file(
    table: Table,
    checker: RowChecker,
    worker: int,
    workers: int,
    chunk_rows: int,
    skip: int,
    out: multiprocessing.Queue[Any],
    parent_pid: int,
    memory_bytes: int | None,
) -> None:
    """In a worker process: check chunks skip + worker, skip + worker + workers, ... of the
    file (the first `skip` chunks are checked by the importing process)."""
    # Dies with the server, even a killed one (it holds the upload open), and may not take
    # more memory than the file's check allowed.
    prepare_child(parent_pid, memory_bytes)
    # The process does nothing else: see engine.fewer_collections.
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    rows = table.rows()
    try:
        index = -skip
        while chunk := read_chunk(rows, chunk_rows):
            if index >= 0 and index % workers == worker:
                out.put((check_chunk(checker, chunk), len(chunk)))
            index += 1
        out.put(None)  # no chunk with the next index of this worker: the file has ended
    except BaseException as err:  # noqa: BLE001 - reported to the importing process
        out.put(WorkerFailed(f"checking the file failed: {type(err).__name__}: {err}"))
    finally:
        rows.close()


async def checked_in_processes(
    table: Table,
    checker: RowChecker,
    *,
    workers: int,
    chunk_rows: int,
    memory_bytes: int | None = None,
) -> AsyncGenerator[tuple[Checked, int], None]:
    """(checked rows, rows read) per chunk, in file order, read and checked by `workers`
    processes, each with at most `memory_bytes` of address space (None: unbounded)."""
    # "spawn": a fork of a process running an event loop and driver threads is not safe.
    context = multiprocessing.get_context("spawn")
    # A worker needs about a second to start and import what it needs: meanwhile a thread
    # here checks the first chunk of a CSV file (an .xlsx would have to be loaded whole).
    skip = 1 if table.format == "csv" else 0
    queues = [context.Queue(maxsize=QUEUED_CHUNKS) for _ in range(workers)]
    processes = [
        context.Process(
            target=_check_file,
            args=(
                table,
                checker,
                worker,
                workers,
                chunk_rows,
                skip,
                queues[worker],
                os.getpid(),
                memory_bytes,
            ),
            name=f"import-check-{worker}",
            daemon=True,
        )
        for worker in range(workers)
    ]
    first: asyncio.Future[tuple[Checked, int]] | None = None
    try:
        for process in processes:
            process.start()
        if skip:
            first = asyncio.ensure_future(
                asyncio.to_thread(_check_first, table, checker, chunk_rows)
            )
            checked, read = await asyncio.shield(first)
            if not read:
                return
            yield checked, read
        index = 0
        while True:
            worker = index % workers
            item = await _next(queues[worker], processes[worker])
            if item is None:
                return
            if isinstance(item, WorkerFailed):
                raise item
            yield item
            index += 1
    finally:
        if first is not None and not first.done():
            await asyncio.wait([first])  # a thread cannot be interrupted: let it end
        # Stopped early (an error, a cancelled import) or done: no worker outlives the import.
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            if process.pid is not None:
                await asyncio.to_thread(process.join)
        for q in queues:
            q.close()


def _check_first(table: Table, checker: RowChecker, chunk_rows: int) -> tuple[Checked, int]:
    rows = table.rows()
    try:
        chunk = read_chunk(rows, chunk_rows)
        return check_chunk(checker, chunk), len(chunk)
    finally:
        rows.close()


async def _next(
    source: multiprocessing.Queue[Any], process: multiprocessing.process.BaseProcess
) -> tuple[Checked, int] | WorkerFailed | None:
    while True:
        try:
            # Unpickled in a thread: records are tuples of strings, cheap to rebuild.
            return await asyncio.to_thread(source.get, True, POLL_SECONDS)
        except queue.Empty:
            if not process.is_alive():
                try:
                    last: tuple[Checked, int] | WorkerFailed | None = source.get_nowait()
                    return last
                except queue.Empty:
                    raise WorkerFailed(
                        f"the worker process checking the file stopped (exit code "
                        f"{process.exitcode})"
                    ) from None
