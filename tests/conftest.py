"""Shared fixtures: personas, and the sandbox Didit server (from its pytest plugin)."""

from __future__ import annotations
