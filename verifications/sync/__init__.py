"""Didit -> our database: the only code that imports both the API client and the models.

- ``apply_decision(decision, *, list_row=None)`` maps one decision (v1, v2 or v3 shape).
"""

from .apply import CREATED, UNCHANGED, UPDATED, apply_decision
from .parse import DecisionError, list_fingerprint, parse_decision

__all__ = [
    "CREATED",
    "UNCHANGED",
    "UPDATED",
    "DecisionError",
    "apply_decision",
    "list_fingerprint",
    "parse_decision",
]
