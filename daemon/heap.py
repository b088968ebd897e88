"""The process's heap after start-up, kept out of the garbage collector's full passes.

Python's cyclic garbage collector now and then walks every object the process holds (a full,
"generation 2" pass) and the event loop stops meanwhile. After start-up an instance holds
hundreds of thousands of objects that live as long as it does (modules, the ORM's models,
templates, phone-number metadata, translations): under load (bench/load.py) a full pass took
100-260 ms, and a burst of calls ringing then waited for it (the worst pop-ups of a run).
`settle` collects once, then moves everything alive into the permanent generation
(`gc.freeze`), so later full passes walk only what was made since. Objects made later are
collected as always; what start-up made and later drops is freed by reference counting (a
cycle among those would stay: there is no such churn after start-up).
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


# Allocations between two young collections (Python's default is 700). A young collection
# is cheap; with the default, the full passes they lead to came every few seconds under load.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    logger.debug(
        "heap settled: %d objects kept out of full collections (%.0f ms)",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
