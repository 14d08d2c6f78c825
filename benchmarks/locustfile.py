"""Simulated reviewers for ``./dev bench load`` (Locust): queue, search, session pages,
decisions through Didit, a PDF now and then. Started by ``benchmarks/load_bench.py``, which
passes the accounts and the sessions to decide through the environment."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading

from locust import HttpUser, between, task

PASSWORD = os.environ["LOAD_PASSWORD"]
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "30"))
PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
BROWSE = PLAN["browse"]  # session ids to look at
SEARCHES = PLAN["searches"]  # queue search terms (prefixes of document numbers, names)
TO_DECIDE = list(PLAN["decide"])  # In Review sessions, each decided by one reviewer once
_numbers = itertools.count()
_lock = threading.Lock()
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


class Reviewer(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = f"load-reviewer-{next(_numbers) % ACCOUNTS}"
        self.client.get("/accounts/login/", name="login page")
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "next": "/sessions/"},
            headers=self._csrf(),
            name="login",
        )
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"{self.username} could not log in")

    def _csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    @task(6)
    def queue(self) -> None:
        self.client.get("/sessions/", name="queue")

    @task(3)
    def queue_filtered(self) -> None:
        status = random.choice(["In Review", "Approved", "Declined"])
        self.client.get(
            "/sessions/", params={"status": status, "aml": "yes"}, name="queue filtered"
        )

    @task(2)
    def queue_htmx_page(self) -> None:
        self.client.get(
            "/sessions/",
            params={"page": random.randint(2, 20)},
            headers={"HX-Request": "true"},
            name="queue page (htmx)",
        )

    @task(3)
    def search(self) -> None:
        self.client.get("/sessions/", params={"q": random.choice(SEARCHES)}, name="queue search")

    @task(6)
    def session_page(self) -> None:
        self.client.get(f"/sessions/{random.choice(BROWSE)}/", name="session page")

    @task(2)
    def decision(self) -> None:
        with _lock:
            session_id = TO_DECIDE.pop() if TO_DECIDE else None
        if session_id is None:
            return
        page = self.client.get(f"/sessions/{session_id}/", name="session page")
        token = FORM_TOKEN.search(page.text)
        if token is None:
            return
        self.client.post(
            f"/sessions/{session_id}/status/",
            {
                # Declined: approving asks the reviewer to acknowledge the session's warnings
                # and hits first (the form's "ack"), which a script cannot judge.
                "new_status": "Declined",
                "comment": f"load test decision by {self.username}",
                "form_token": token.group(1),
            },
            headers={**self._csrf(), "HX-Request": "true"},
            name="decision",
        )

    @task(1)
    def report_pdf(self) -> None:
        if random.random() < 0.3:
            self.client.get(f"/sessions/{random.choice(BROWSE)}/report.pdf", name="report pdf")
