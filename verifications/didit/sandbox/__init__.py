"""A sandbox Didit server on loopback, written from Didit's docs (docs/didit-api.md).

    from verifications.didit.sandbox import SandboxConfig, SandboxServer
    with SandboxServer(SandboxConfig(sessions=50)) as server:
        server.base_url  # http://127.0.0.1:<port>; the auth endpoint is on the same port

It imports neither Django, the API client nor the models: it stands in for Didit.

Where the docs disagree or are silent, the sandbox chooses, and says so here:

- Both pagination styles (`limit`/`offset` and `page`/`page_size`), at most 100 per page;
  `next` keeps the style of the request.
- List rows give liveness and face-match scores from 0 to 1, as the list example does;
  decisions give them from 0 to 100, as the decision examples do.
- `X-RateLimit-Reset` is a Unix time (seconds); `Retry-After` is a number of seconds.
- Faults never change state: a `slow` fault on a write waits, then answers 504 unapplied;
  `malformed` and `drop` on a write answer a generic body, also unapplied.
- Video URLs point at a tiny placeholder (an MP4 header, not playable).
- The PDF report's font is not embedded; its text extracts exactly (ToUnicode map).

Module map: config (settings), people/catalog (vocabularies), data (sessions and their
mutable state), facts/details/items/render (decisions in three shapes, derived on demand
from per-session seeds), queries (lists, users), report/pdf (generate-pdf), media (signed
URLs, images), auth, limits (rate limits, faults), webhooks, handlers/app (endpoints,
dispatch), wire (request/response), server (the socket), __main__ (command line),
pytest_plugin (fixtures).
"""

from __future__ import annotations

from .config import SandboxConfig
from .server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]
