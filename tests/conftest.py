"""Shared fixtures: personas, and the sandbox Didit server (from its pytest plugin)."""

from __future__ import annotations

pytest_plugins = ["verifications.didit.sandbox.pytest_plugin"]
