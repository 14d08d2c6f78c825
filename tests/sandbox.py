"""The sandbox Didit for tests: settings pointed at it, a quick client, a full sync, and the
synced world that ``tests/conftest.py``'s ``synced_sandbox`` fixture hands out.

Shared by every test that talks to the sandbox, so they all reach it the same way: over
real HTTP on loopback, never the network.
"""

from __future__ import annotations

import copy
import secrets
import socket
import time
from datetime import UTC, datetime

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model

from verifications.didit.client import DiditClient
from verifications.didit.sandbox.config import SandboxConfig
from verifications.didit.sandbox.server import SandboxServer
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
    bulk_create it. (``tests.factories.SessionFactory.build``, by its older name.)"""
    from tests.factories import SessionFactory

    return SessionFactory.build(session_id=session_id, **fields)


class SyncedWorld:
    """The default sandbox synced into the test database, once per test run (per xdist worker).

    Every test gets a fresh sandbox server (its own call counts, faults and status changes)
    built from one config: same sessions, same address, same media-signing secret, so it
    serves exactly what the first one did. The first test syncs it over HTTP, as
    ``sync_all`` does, and keeps the rows that sync wrote; later tests get those rows back by
    bulk insert: a few queries instead of a sync's ~700. A test whose database already holds
    rows of our apps, or whose server could not have the shared address, syncs for itself.
    """

    APPS = ("users", "verifications")
    # Media URLs of the kept rows live an hour (media_ttl): sync again well before.
    MAX_AGE = 15 * 60

    def __init__(self, *, sessions: int = 30, seed: int = 1) -> None:
        self.cfg = SandboxConfig(
            sessions=sessions,
            seed=seed,
            port=_free_port(),
            anchor=datetime.now(UTC),
            media_secret=secrets.token_bytes(32),
        )
        self.rows: list[tuple[type[Model], list[dict]]] | None = None
        self.taken_at = 0.0

    def start(self) -> SandboxServer:
        try:
            return SandboxServer(self.cfg).start()
        except OSError:  # The address was taken meanwhile: this test syncs for itself.
            return SandboxServer(self.cfg.replace(port=0)).start()

    def fill(self, server: SandboxServer, settings) -> None:
        """Make the test database equal ``server``'s data, and the settings point at it."""
        point_settings_at(server, settings)
        shared = server.cfg == self.cfg and not any(m.objects.exists() for m in self._models())
        if shared and self.rows is not None and time.monotonic() - self.taken_at < self.MAX_AGE:
            self._restore()
            return
        sync_sessions(DiditClient.from_settings(), full=True)
        server.calls.clear()  # Tests count the calls they cause, not the sync's.
        if shared:
            self.rows = [
                (model, [_values(row) for row in model.objects.order_by("pk")])
                for model in self._models()
            ]
            self.taken_at = time.monotonic()

    def _models(self) -> list[type[Model]]:
        app_list = [(apps.get_app_config(label), None) for label in self.APPS]
        return serializers.sort_dependencies(app_list, allow_cycles=True)

    def _restore(self) -> None:
        # One transaction: foreign keys are checked at its end (SQLite and PostgreSQL defer
        # them), whatever order the tables come in, in transactional tests too.
        with transaction.atomic():
            self._insert_rows()

    def _insert_rows(self) -> None:
        written = []
        for model, rows in self.rows:
            if rows:
                model.objects.bulk_create([model(**copy.deepcopy(row)) for row in rows])
                written.append(model)
        # PostgreSQL's sequences do not follow explicit primary keys (SQLite's do).
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), written):
                cursor.execute(statement)


def _values(instance: Model) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
