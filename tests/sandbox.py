"""The sandbox Didit for tests: settings pointed at it, a quick client, a full sync.

Shared by every test that talks to the sandbox, so they all reach it the same way: over
real HTTP on loopback, never the network.
"""

from __future__ import annotations

from django.utils import timezone

from verifications.didit.client import DiditClient
from verifications.models import VerificationSession
from verifications.sync import sync_sessions

API_KEY = "sandbox-api-key"
WEBHOOK_SECRET = "test-webhook-secret"  # pyproject's pytest env sets the same


def point_settings_at(server, settings) -> None:
    """The console's Didit settings -> ``server`` (API key auth, no pacing, short timeouts)."""
    settings.DIDIT_VERIFICATION_URL = server.base_url
    settings.DIDIT_AUTH_URL = server.base_url
    settings.DIDIT_API_KEY = API_KEY
    settings.DIDIT_CLIENT_ID = ""
    settings.DIDIT_CLIENT_SECRET = ""
    settings.DIDIT_MEDIA_HOSTS = []
    settings.DIDIT_RATE_LIMITS = ""
    settings.DIDIT_CONNECT_TIMEOUT = 2.0
    settings.DIDIT_READ_TIMEOUT = 5.0
    settings.DIDIT_WEBHOOK_SECRET = WEBHOOK_SECRET


def fast_client(server, **overrides) -> DiditClient:
    """A client on ``server``: no pacing, short timeouts, retries in milliseconds."""
    options = {
        "verification_url": server.base_url,
        "auth_url": server.base_url,
        "api_key": API_KEY,
        "rate_limits": None,
        "timeout": (2.0, 5.0),
        "backoff": 0.01,
        "max_backoff": 0.05,
        **overrides,
    }
    return DiditClient(**options)


def sync_all(server, settings) -> None:
    """Point the settings at ``server`` and sync it whole: the test database equals Didit's."""
    point_settings_at(server, settings)
    sync_sessions(DiditClient.from_settings(), full=True)


def session_row(session_id: str, **fields) -> VerificationSession:
    """An unsaved session row (not synced), for tests of what the console shows: save it or
    bulk_create it."""
    now = timezone.now()
    values = {
        "status": "In Review",
        "api_shape": "v3",
        "decision": {},
        "decision_hash": "x",
        "synced_at": now,
        "created_at": now,
        **fields,
    }
    return VerificationSession(session_id=session_id, **values)
