"""The sandbox Didit, synced into the test database, for the console's view tests."""

from __future__ import annotations

from verifications.didit.client import DiditClient
from verifications.sync import sync_sessions

API_KEY = "sandbox-api-key"


def point_settings_at(server, settings) -> None:
    settings.DIDIT_VERIFICATION_URL = server.base_url
    settings.DIDIT_AUTH_URL = server.base_url
    settings.DIDIT_API_KEY = API_KEY
    settings.DIDIT_RATE_LIMITS = ""
    settings.DIDIT_CONNECT_TIMEOUT = 2.0
    settings.DIDIT_READ_TIMEOUT = 5.0


def sync_all(server, settings) -> None:
    point_settings_at(server, settings)
    sync_sessions(DiditClient.from_settings(), full=True)
