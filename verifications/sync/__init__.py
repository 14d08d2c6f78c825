"""Didit -> our database: the only code that imports both the API client and the models.

- ``apply_decision(decision, *, list_row=None)`` maps one decision (v1, v2 or v3 shape).
- ``sync_sessions(client, ...)`` lists sessions and applies the ones that changed.
- ``resync_session(client, session_id)`` fetches and applies one (webhooks, admin, console).
- ``insert_sessions(rows)`` writes new sessions in bulk, as ``apply_decision`` writes one;
  ``session_row`` and ``session_children`` are those rows, for bulk loaders.
"""

from .apply import (
    CREATED,
    UNCHANGED,
    UPDATED,
    apply_decision,
    insert_sessions,
    session_children,
    session_row,
)
from .parse import DecisionError, list_fingerprint, parse_decision
from .runs import SyncLocked, SyncLockLost, resync_session, start_run, sync_sessions

__all__ = [
    "CREATED",
    "UNCHANGED",
    "UPDATED",
    "DecisionError",
    "SyncLockLost",
    "SyncLocked",
    "apply_decision",
    "insert_sessions",
    "list_fingerprint",
    "parse_decision",
    "resync_session",
    "session_children",
    "session_row",
    "start_run",
    "sync_sessions",
]
