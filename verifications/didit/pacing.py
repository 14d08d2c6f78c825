"""Client-side pacing: keep each Didit endpoint family under its per-window call limit.

Didit counts calls per API key in a sliding 60-second window (docs/didit-api.md, "Rate
limits"). A sync that fires requests as fast as it can spends its time bouncing off 429s;
instead the client waits for a free slot before each call, so a long run proceeds at the
ceiling.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

# Didit's published limits per 60 seconds (docs/didit-api.md). Session create is allowed
# 600/min, but it shares the stricter write family here: a console never creates sessions in bulk.
DIDIT_LIMITS = "decision=100/60,pdf=100/60,read=600/60,write=300/60"


@dataclass(frozen=True)
class Limit:
    calls: int
    seconds: float


def parse_limits(spec: str) -> dict[str, Limit]:
    """Parse ``"decision=100/60,read=600/60"`` into ``{"decision": Limit(100, 60.0), ...}``."""
    limits: dict[str, Limit] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        try:
            family, rate = part.split("=", 1)
            calls, seconds = rate.split("/", 1)
            limit = Limit(int(calls), float(seconds))
        except ValueError:
            raise ValueError(f"Bad rate limit {part!r}; expected family=calls/seconds") from None
        if limit.calls < 1 or limit.seconds <= 0:
            raise ValueError(f"Bad rate limit {part!r}; calls and seconds must be positive")
        limits[family.strip()] = limit
    return limits


class RateLimiter:
    """A sliding-window limiter per endpoint family, shared by all threads using one client.

    Each call holds a slot stamped with the time its response ended (not when it was sent):
    the server saw the call at some moment in between, so a window measured from the end is
    never shorter than the server's, and the client can run right at the limit without 429s.
    """

    def __init__(
        self,
        limits: Mapping[str, Limit],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, deque[list[float]]] = {family: deque() for family in self.limits}
        self._lock = threading.Lock()
        self.waited = 0.0

    @contextmanager
    def slot(self, family: str) -> Iterator[None]:
        """Wait for a free slot in ``family``, hold it for the call, stamp it when done."""
        limit = self.limits.get(family)
        if limit is None:
            yield
            return
        stamp = self._acquire(family, limit)
        try:
            yield
        finally:
            with self._lock:
                stamp[0] = self._clock()

    def _acquire(self, family: str, limit: Limit) -> list[float]:
        slots = self._slots[family]
        while True:
            with self._lock:
                now = self._clock()
                while slots and slots[0][0] <= now - limit.seconds:
                    slots.popleft()
                if len(slots) < limit.calls:
                    # In flight: stamped "now" until the response ends, which only pushes the
                    # slot's expiry later, never earlier.
                    stamp = [float("inf")]
                    slots.append(stamp)
                    return stamp
                oldest = slots[0][0]
                # A slot still in flight has no end time yet; check back shortly.
                wait = 0.05 if oldest == float("inf") else oldest + limit.seconds - now
            wait = max(wait, 0.001)
            self.waited += wait
            self._sleep(wait)
