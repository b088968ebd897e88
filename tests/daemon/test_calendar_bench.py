"""The short version of bench/calendar_sync.py: every task and event crosses, and a sync with
nothing new makes one API call per calendar (the bench exits 1 when a count is missed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_calendar_bench_short_run_meets_its_counts():
    backend = "sqlite" if os.environ.get("CENTRALITA_TEST_DB", "sqlite") == "sqlite" else "postgres"
    args = [sys.executable, str(REPO / "bench" / "calendar_sync.py"), "--tasks", "30"]
    args += ["--backend", backend]
    if backend == "postgres":
        args += ["--pg-url", os.environ["CENTRALITA_TEST_DB"]]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "30 events in" in done.stdout and "30 tasks in" in done.stdout
    assert "nothing new: 1 API call(s) for 1 calendar" in done.stdout
