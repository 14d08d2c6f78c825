"""The client-side limiter, on a fake clock (no waiting in tests)."""

from __future__ import annotations

import pytest

from verifications.didit.pacing import Limit, RateLimiter, parse_limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_parse_limits_reads_family_calls_and_seconds():
    assert parse_limits("decision=100/60, read=600/60") == {
        "decision": Limit(100, 60.0),
        "read": Limit(600, 60.0),
    }


@pytest.mark.parametrize("spec", ["decision=100", "decision=x/60", "decision=0/60", "read=5/0"])
def test_parse_limits_rejects_malformed_specs(spec):
    with pytest.raises(ValueError, match="Bad rate limit"):
        parse_limits(spec)


def test_limiter_never_lets_more_calls_than_the_limit_into_any_window():
    clock = FakeClock()
    limiter = RateLimiter({"decision": Limit(10, 60.0)}, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(35):
        with limiter.slot("decision"):
            starts.append(clock.now)
            clock.now += 0.5  # each call takes half a second
    for i, start in enumerate(starts):
        in_window = [s for s in starts[i:] if s < start + 60.0]
        assert len(in_window) <= 10
    # Runs at the ceiling: 35 calls need 3 full windows after the first burst, little more.
    assert starts[-1] - starts[0] < 3 * 60.0 + 10 * 0.5 + 1


def test_limiter_measures_the_window_from_the_end_of_each_call():
    clock = FakeClock()
    limiter = RateLimiter({"pdf": Limit(1, 10.0)}, clock=clock, sleep=clock.sleep)
    with limiter.slot("pdf"):
        clock.now += 4.0  # a slow download
    with limiter.slot("pdf"):
        second = clock.now
    assert second >= 1000.0 + 4.0 + 10.0


def test_limiter_lets_unknown_families_through_without_waiting():
    clock = FakeClock()
    limiter = RateLimiter({}, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        with limiter.slot("read"):
            pass
    assert clock.now == 1000.0
    assert limiter.waited == 0
