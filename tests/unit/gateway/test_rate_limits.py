"""Each hook's token bucket: a burst at once, then its rate, and the wait until then."""

import pytest

from services.gateway.rate_limits import RateLimits


def test_a_hook_takes_its_burst_at_once_then_waits_for_its_rate() -> None:
    limits = RateLimits(per_minute=60, burst=3)
    assert [limits.wait("am", 100.0) for _ in range(3)] == [0, 0, 0]
    assert limits.wait("am", 100.0) == pytest.approx(1.0)
    assert limits.wait("am", 100.5) == pytest.approx(0.5)
    assert limits.wait("am", 101.0) == 0
    assert limits.wait("am", 101.0) > 0


def test_each_hook_has_its_own_bucket() -> None:
    limits = RateLimits(per_minute=6, burst=1)
    assert limits.wait("am", 0.0) == 0
    assert limits.wait("am", 0.0) == pytest.approx(10.0)
    assert limits.wait("grafana", 0.0) == 0


def test_a_bucket_refills_to_its_burst_and_no_more() -> None:
    limits = RateLimits(per_minute=60, burst=2)
    assert limits.wait("am", 0.0) == 0
    assert [limits.wait("am", 3600.0) for _ in range(3)][:2] == [0, 0]
    assert limits.wait("am", 3600.0) > 0
