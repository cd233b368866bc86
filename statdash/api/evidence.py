"""What a failed request proves about a subscription: that none was created, or none is there.

The subscription records (`live.records`) must hold every subscription that may exist and
nothing else: a record of one that never existed makes every `statdash cleanup` fail. Two
kinds of failure are proof:

- the request never left this machine: a refused connection (or no route, no name, a failed
  TLS handshake), a request rejected locally, a token that could not be had;
- the answer came from a server that is not a Statistics API at that URL: a redirect, 404,
  405 or 501 without the API's JSON envelope, which is what an ordinary web server (or the
  wrong path) answers. No Statistics API created a subscription to send that.

Everything else may have reached a Statistics API: no answer (timed out, cut off), an answer
in the API's envelope, and the statuses a gateway in front of one sends (401, 403, 429, 5xx
without an envelope), since the gateway may have passed the request on or may be refusing
only these credentials.
"""

from __future__ import annotations

from statdash.api.errors import (
    AuthError,
    ConfigError,
    ConnectError,
    HTTPStatusError,
    RequestValidationError,
    StatisticsError,
)

# 404 no such path, 405 no such method here, 501 no such method at all: the answers of a
# server that has no Statistics API behind the URL.
_NO_API_HERE = frozenset({404, 405, 501})


def never_sent(error: BaseException) -> bool:
    """The request provably reached no server: refused, rejected locally, or no token."""
    return isinstance(error, ConnectError | RequestValidationError | ConfigError | AuthError)


def not_a_statistics_api(error: BaseException) -> bool:
    """The answer came from something that is not a Statistics API (see the module docstring)."""
    if not isinstance(error, HTTPStatusError) or error.code is not None:
        return False  # no answer at all, or an answer in the API's own envelope
    return 300 <= error.http_status < 400 or error.http_status in _NO_API_HERE


def created_nothing(error: StatisticsError) -> bool:
    """A failed open that provably created no subscription."""
    return never_sent(error) or not_a_statistics_api(error)
