"""pytest fixtures for the sandbox Didit server.

Load with ``pytest_plugins = ["verifications.didit.sandbox.pytest_plugin"]``.
"""

from __future__ import annotations

import pytest

from .config import SandboxConfig
from .server import SandboxServer


@pytest.fixture
def didit_sandbox_factory():
    """``didit_sandbox_factory(**config_overrides)`` -> a started server, stopped at teardown."""
    servers: list[SandboxServer] = []

    def start(**overrides) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def didit_sandbox(didit_sandbox_factory) -> SandboxServer:
    """A sandbox with 30 sessions (seed 1) and default credentials."""
    return didit_sandbox_factory(sessions=30, seed=1)
