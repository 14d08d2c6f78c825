"""Clients pointed at a sandbox Didit server over real HTTP."""

from __future__ import annotations

import pytest

from verifications.didit.client import DiditClient

API_KEY = "sandbox-api-key"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


class RecordedSleep:
    """Stands in for time.sleep: records the delays and waits only a token amount."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def recorded_sleep():
    return RecordedSleep()


@pytest.fixture
def make_client():
    """Build a client for a sandbox: ``make_client(server, auth="oauth", **overrides)``."""

    def build(server, *, auth: str = "api_key", **overrides) -> DiditClient:
        credentials = (
            {"api_key": API_KEY}
            if auth == "api_key"
            else {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )
        options = {
            "verification_url": server.base_url,
            "auth_url": server.base_url,
            "timeout": (2.0, 5.0),
            "backoff": 0.01,
            "max_backoff": 0.05,
            "rate_limits": None,
            **credentials,
            **overrides,
        }
        return DiditClient(**options)

    return build
