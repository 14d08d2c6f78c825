"""The sandbox's sessions without its server: their decisions rendered in memory.

For development tooling that fills a database in bulk (``devtools.seeding``): the same seed
gives the same people, sessions, AML hits and reviews as a server started with it, each
decision in its session's API shape.
"""

from __future__ import annotations

import threading

from .config import SandboxConfig
from .data import SessionStore
from .items import Context
from .media import MediaSigner
from .render import decision


class DecisionSource:
    """``sessions`` generated from ``seed``; media URLs point at ``media_base_url``."""

    def __init__(self, *, sessions: int, seed: int, media_base_url: str, media_ttl: int) -> None:
        self._store = SessionStore(SandboxConfig(sessions=sessions, seed=seed), threading.RLock())
        self._signer = MediaSigner(base_url=media_base_url, ttl=media_ttl, secret=b"offline")

    def __len__(self) -> int:
        return len(self._store.sessions)

    def vendors(self) -> list[str]:
        """Every vendor_data that has sessions, in order of first appearance."""
        return list(self._store.by_vendor)

    def decisions(self, start: int, stop: int) -> list[dict]:
        """The decisions of sessions ``start`` to ``stop`` (oldest first), rendered once."""
        store = self._store
        batch = store.sessions[start:stop]
        rendered = [
            decision(
                Context(
                    session=session,
                    person=store.person(session),
                    facts=store.facts(session),
                    media=self._signer,
                    reviews=store.reviews(session),
                ),
                session.shape,
            )
            for session in batch
        ]
        store.forget_derived(batch)
        return rendered
