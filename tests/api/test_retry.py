"""The one retry rule: which failures are worth another try, and how long to wait first."""

from __future__ import annotations

from typing import TypedDict

import pytest

from statdash.api import errors
from statdash.api.retry import Backoff, refused, transient

SERVICE = errors.ServiceUnavailableError(503, "busy")


@pytest.mark.parametrize(
    ("error", "is_transient", "is_refused"),
    [
        (errors.ConnectError("refused"), True, False),
        (errors.RequestTimeoutError("slow"), True, False),
        (SERVICE, True, False),
        (errors.GatewayTimeoutError(504, "slow backend"), True, False),
        (errors.ServerError(500, "boom"), False, False),
        (errors.ShapeError("not JSON"), False, False),
        (errors.EnvelopeError(3, "no"), False, False),
        (errors.AuthError("down", http_status=503), True, False),
        (errors.AuthError("bad secret", http_status=401), False, True),
        (errors.AuthError("nonsense"), False, False),
        (errors.AuthenticationError(401, "expired"), False, True),
        (errors.PermissionDeniedError(403, "no"), False, True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_failure_is_transient_refused_or_neither(
    error: errors.StatisticsError, is_transient: bool, is_refused: bool
) -> None:
    """No answer, 503 and 504 are transient; refused credentials are final; the rest neither."""
    assert (transient(error), refused(error)) == (is_transient, is_refused)


def test_retry_after_replaces_the_computed_delay_up_to_the_cap() -> None:
    """A server's Retry-After is the wait, capped; without one the jittered ceiling is."""
    backoff = Backoff(base=2.0, cap=10.0, jitter="half", random=lambda: 0.0)
    assert backoff.delay(1, retry_after=4.0) == 4.0
    assert backoff.delay(1, retry_after=60.0) == 10.0
    assert backoff.delay(1) == 1.0 and backoff.delay(3) == 4.0


class Delays(TypedDict, total=False):
    """The delays a Backoff is built with."""

    base: float
    cap: float


@pytest.mark.parametrize("delays", [{"base": -1.0}, {"base": 1.0, "cap": float("nan")}])
def test_unusable_delays_are_a_config_error(delays: Delays) -> None:
    """A negative or non-finite delay is refused when the backoff is built."""
    with pytest.raises(errors.ConfigError):
        Backoff(**delays)
