"""Didit's per-credential rate limits (sliding window) and seeded fault injection."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque

# Requests per window, by endpoint family (docs/didit-api.md, "Rate limits").
LIMITS = {"decision": 100, "pdf": 100, "create": 600, "read": 600, "write": 300}


def family(operation: str, method: str) -> str:
    if operation in ("decision", "pdf", "create"):
        return operation
    return "read" if method == "GET" else "write"


class RateLimiter:
    """Sliding-window counters per (credential, family); limits are per `window` seconds."""

    def __init__(self, *, enabled: bool, window: float) -> None:
        self.enabled = enabled
        self.window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def configure(self, *, enabled: bool, window: float | None = None) -> None:
        with self._lock:
            self.enabled = enabled
            if window is not None:
                self.window = window
            self._hits.clear()

    def hit(self, credential: str, kind: str) -> tuple[bool, dict[str, str]]:
        """Record one request; (allowed, headers). Headers are empty while limits are off."""
        if not self.enabled:
            return True, {}
        limit = LIMITS[kind]
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault((credential, kind), deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            oldest = hits[0] if hits else now
        wait = max(0.0, oldest + self.window - now)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(hits))),
            "X-RateLimit-Reset": str(math.ceil(time.time() + wait)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return allowed, headers


class FaultInjector:
    """Picks a fault for a fraction of API requests, from a seeded RNG."""

    def __init__(self, *, seed: int, rate: float, kinds: tuple[str, ...]) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.rate = rate
        self.kinds = tuple(kinds)

    def configure(self, *, rate: float, kinds: tuple[str, ...] | None = None) -> None:
        with self._lock:
            self.rate = rate
            if kinds is not None:
                self.kinds = tuple(kinds)

    def choose(self) -> str | None:
        with self._lock:
            if not self.kinds or self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.kinds)
