"""Checking rows in worker processes, for big files.

Reading a phone number is pure Python (phonenumbers), and in one process it is what limits an
import of 100,000 rows. Worker processes check chunks in parallel while the event loop's
process writes the previous ones; results come back in file order. Small files stay in one
process: starting workers costs more than it saves.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from models.importing.readers import Cell
from models.importing.rows import Record, Rejection, RowChecker

# Below this many rows a file is checked in a thread of the server's own process.
PARALLEL_MIN_ROWS = 20_000

WORKER_GC_THRESHOLD = 50_000

RawChunk = list[tuple[int, list[Cell]]]
Checked = list[Record | Rejection]


def default_workers() -> int:
    """A worker per core but one (left to the event loop and the database), at most four."""
    cores = os.cpu_count() or 1
    return max(0, min(4, cores - 1))


def check_chunk(checker: RowChecker, chunk: RawChunk) -> Checked:
    if gc.get_threshold()[0] < WORKER_GC_THRESHOLD:
        # In a worker process, which does nothing else: see engine.fewer_collections.
        gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    return [checker.check(number, cells) for number, cells in chunk]


def read_chunk(rows: Iterator[tuple[int, list[Cell]]], size: int) -> RawChunk:
    chunk: RawChunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            break
    return chunk


async def checked_in_processes(
    rows: Iterator[tuple[int, list[Cell]]], checker: RowChecker, *, workers: int, chunk_rows: int
) -> AsyncIterator[tuple[Checked, int]]:
    """(checked rows, rows read) per chunk, in file order, checked by `workers` processes."""
    loop = asyncio.get_running_loop()
    # "spawn": a fork of a process running an event loop and driver threads is not safe.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    in_flight: deque[tuple[Future | asyncio.Future, int]] = deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < workers + 1:
                raw = await asyncio.to_thread(read_chunk, rows, chunk_rows)
                if not raw:
                    exhausted = True
                    break
                in_flight.append((loop.run_in_executor(pool, check_chunk, checker, raw), len(raw)))
            if not in_flight:
                return
            future, read = in_flight.popleft()
            yield await future, read
    finally:
        for future, _ in in_flight:
            future.cancel()
        await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
