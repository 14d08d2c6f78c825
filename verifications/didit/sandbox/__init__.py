"""A sandbox Didit server on loopback, written from Didit's docs (../shared/didit-api/).

    from verifications.didit.sandbox import SandboxConfig, SandboxServer
    with SandboxServer(SandboxConfig(sessions=50)) as server:
        server.base_url  # http://127.0.0.1:<port>

It imports neither Django, the API client nor the models: it stands in for Didit.
"""

from __future__ import annotations

from .config import SandboxConfig
from .server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]
