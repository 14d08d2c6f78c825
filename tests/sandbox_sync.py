"""Point the settings at a sandbox Didit server and sync it: shared by the console's tests."""

from __future__ import annotations

from verifications.didit.client import DiditClient
from verifications.sync import sync_sessions


def sync_sandbox(server, settings) -> None:
    """Settings -> ``server`` (API and media host), then a full sync into the test database."""
    settings.DIDIT_VERIFICATION_URL = server.base_url
    settings.DIDIT_AUTH_URL = server.base_url
    settings.DIDIT_API_KEY = "sandbox-api-key"
    settings.DIDIT_MEDIA_HOSTS = []
    settings.DIDIT_RATE_LIMITS = ""
    settings.DIDIT_READ_TIMEOUT = 5.0
    sync_sessions(DiditClient.from_settings(), full=True)
