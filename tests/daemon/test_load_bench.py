"""The short version of bench/load.py: two instances on PostgreSQL, agents with the panel
open on both and linked to Telegram, bursts of calls, agents asking the bot and Locust clicking
through pages: every pop-up arrives, every call notifies its agent, the bot answers every
question and no page fails (the figures themselves are the bench's, not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.daemon.test_cli_demo import REPO
from tests.daemon.test_cluster_instances import PG

pytestmark = pytest.mark.postgres_only  # on PG whatever the pass: run once, in its pass


def test_load_bench_short_run_loses_no_popup_and_fails_no_page():
    args = [sys.executable, str(REPO / "bench" / "load.py"), "--instances", "2"]
    args += ["--agents", "10", "--calls", "4", "--users", "3", "--seconds", "8"]
    args += ["--burst-every", "3", "--bot-questions", "2", "--pg-url", PG]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    popups = next(line for line in done.stdout.splitlines() if line.startswith("pop-ups:"))
    arrived, sent = popups.split()[1].split("/")
    assert arrived == sent and int(sent) >= 4
    bot = next(line for line in done.stdout.splitlines() if line.startswith("bot:"))
    notifications = int(bot.split()[1])
    answered, asked = bot.split(", ")[1].split()[0].split("/")
    assert notifications >= int(sent)  # each ringing agent is linked to a chat
    assert answered == asked and int(asked) >= 4
    aggregated = next(line for line in done.stdout.splitlines() if "Aggregated" in line)
    assert " 0 failed" in aggregated
