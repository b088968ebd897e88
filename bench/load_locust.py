"""Locust users for bench/load.py: agents logged in on the instances, clicking through the
panel's busiest pages. Not a benchmark by itself: bench/load.py runs it headless."""

import itertools
import json
import os
import re
from pathlib import Path

from locust import HttpUser, between, events, task

URLS = os.environ["LOAD_URLS"].split(",")
FIRST_EXTENSION = int(os.environ.get("LOAD_FIRST_EXTENSION", "1000"))
AGENTS = int(os.environ.get("LOAD_AGENTS", "200"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "bench-password-1")
_numbers = itertools.count()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_page_times: list[float] = []  # every page's time in ms, the log-ins left out


@events.request.add_listener
def _time_page(name: str, response_time: float, **_: object) -> None:
    if not name.startswith("/login"):
        _page_times.append(response_time)


@events.quitting.add_listener
def _write_page_times(**_: object) -> None:
    """bench/load.py reads them for the pages' percentiles over all pages but the log-in
    (Locust's own "Aggregated" line counts the log-ins, which queue for the password hasher)."""
    target = os.environ.get("LOAD_PAGE_TIMES")
    if target:
        Path(target).write_text(json.dumps(_page_times))


class Agent(HttpUser):
    wait_time = between(1, 3)
    host = URLS[0]

    def on_start(self) -> None:
        n = next(_numbers)
        self.base = URLS[n % len(URLS)]
        username = f"agent{FIRST_EXTENSION + n % AGENTS}"
        page = self.client.get(self.base + "/login", name="/login")
        token = CSRF.search(page.text)
        self.client.post(
            self.base + "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": token.group(1) if token else "",
            },
            name="/login (post)",
        )

    @task(4)
    def dashboard(self) -> None:
        self.client.get(self.base + "/", name="dashboard")

    @task(3)
    def clients(self) -> None:
        self.client.get(self.base + "/clients", name="clients")

    @task(2)
    def calls(self) -> None:
        self.client.get(self.base + "/calls", name="calls")

    @task(2)
    def task_list(self) -> None:
        self.client.get(self.base + "/tasks", name="tasks")

    @task(1)
    def deals(self) -> None:
        self.client.get(self.base + "/deals", name="deals (kanban)")

    @task(1)
    def search(self) -> None:
        self.client.get(self.base + "/search?q=ana", name="search")
