"""Signals the data layer sends for work that happens elsewhere (background tasks)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that stored a decision (created, changed or with fresh media
# URLs) commits; ``session_pk`` names the session. ``verifications.tasks`` archives its media.
decision_stored = Signal()
