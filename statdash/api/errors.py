"""One exception tree for every way a Statistics API call can fail, so callers act by type.

    StatisticsError
    ├── TransportError            the request never got an answer
    │   ├── ConnectError          refused, unreachable, DNS, TLS handshake
    │   └── RequestTimeoutError   connect/read/write/pool timeout
    ├── HTTPStatusError           a non-2xx answer (itself for 3xx/4xx without a class, e.g. 418)
    │   ├── BadRequestError       400
    │   ├── AuthenticationError   401
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError         404
    │   └── ServerError           500 and other 5xx
    │       ├── ServiceUnavailableError 503
    │       └── GatewayTimeoutError     504
    ├── EnvelopeError             HTTP 200 but `status.code` is a failure and no data came
    ├── ShapeError                the body is not JSON, or not the shape the operation returns
    ├── AuthError                 the token endpoint refused or answered nonsense
    ├── PushUnavailable           the server offers no CometD push channel here
    ├── PushLost                  the push channel ended (advice "none") or cannot be re-made
    ├── RequestValidationError    a request rejected locally, before anything was sent
    └── ConfigError               a setting is missing or unusable (URL, key, CA file, config)

Messages never contain secrets: they are built from status codes and server messages only
(the client also scrubs its own secrets out of server messages, in case a server echoes them),
and server messages are truncated so a hostile server cannot flood a log line.
Which of them are worth another attempt is decided in `retry.py`; how each reads as a sentence
for people, in every command and on the status line, in `describe.py`.
"""

from __future__ import annotations

MAX_SERVER_MESSAGE = 300


def clip(text: str, limit: int = MAX_SERVER_MESSAGE) -> str:
    """Shorten a server-supplied string for a message, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatisticsError(Exception):
    """Base of every error the client raises."""


class TransportError(StatisticsError):
    """The request got no HTTP answer; `reason` is why, in a few words (for `describe`)."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(message)


class ConnectError(TransportError):
    """The server could not be reached (refused, unreachable, name or TLS failure)."""


class RequestTimeoutError(TransportError):
    """The server did not answer within the configured timeout."""


class HTTPStatusError(StatisticsError):
    """The server answered with a non-2xx HTTP status."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        code: int | None = None,
        path: str | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.server_message = clip(message)
        self.path = path
        where = f" {path}" if path else ""
        detail = f": {self.server_message}" if self.server_message else ""
        super().__init__(f"HTTP {http_status}{where}{detail}")


class BadRequestError(HTTPStatusError):
    """400: the server rejected the request as malformed."""


class AuthenticationError(HTTPStatusError):
    """401: missing, expired or revoked bearer token."""


class PermissionDeniedError(HTTPStatusError):
    """403: the API key or token is not allowed to do this."""


class NotFoundError(HTTPStatusError):
    """404: unknown statistic, object or subscription."""


class ServerError(HTTPStatusError):
    """5xx other than 503 and 504."""


class ServiceUnavailableError(ServerError):
    """503: the service is temporarily unavailable; worth retrying."""


class GatewayTimeoutError(ServerError):
    """504: the backend (Stat Server) timed out; worth retrying."""


class EnvelopeError(StatisticsError):
    """HTTP 2xx, but the envelope's `status.code` reports a failure and no data came with it."""

    def __init__(self, code: int, message: str | None, *, path: str | None = None) -> None:
        self.code = code
        self.server_message = clip(message or "")
        self.path = path
        detail = f": {self.server_message}" if self.server_message else ""
        super().__init__(f"request failed with status code {code}{detail}")


class ShapeError(StatisticsError):
    """The body is not JSON, or not the shape this operation answers with."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        self.http_status = http_status
        super().__init__(clip(message))


class AuthError(StatisticsError):
    """The OAuth token endpoint refused the credentials or answered something unusable.

    `http_status` tells an unavailable endpoint (503/504, worth retrying) from a refusal.
    """

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        self.http_status = http_status
        super().__init__(clip(message))


class PushUnavailable(StatisticsError):
    """The server offers no CometD push channel here: polling is the way to get values.

    Raised when the handshake is answered 404 or 405, with something that is not Bayeux, or
    unsuccessfully without advice to try again. `reason` is why, in a few words.
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(clip(message))


class PushLost(StatisticsError):
    """The push channel ended: the server advised no reconnect, or it cannot be re-made.

    `reason` is why, in a few words (for `describe`).
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(clip(message))


class RequestValidationError(StatisticsError):
    """A request that would be invalid on the wire; it was rejected before anything was sent.

    `problems` lists each one as "location: reason" with wire (camelCase) field names.
    """

    def __init__(self, what: str, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(self.problems) if self.problems else "invalid"
        super().__init__(clip(f"invalid {what}: {listed}", limit=2 * MAX_SERVER_MESSAGE))


class ConfigError(StatisticsError):
    """A setting is missing or unusable: the server URL, credentials, CA bundle or config file.

    The one ConfigError: raised while settings are resolved (`api.settings`) and while the
    client is built from them (`api.connect`, `api.client`). The message says which setting
    and where it came from, never a secret.
    """


_STATUS_CLASSES: dict[int, type[HTTPStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def error_for_status(
    http_status: int, message: str, *, code: int | None = None, path: str | None = None
) -> HTTPStatusError:
    """The most specific HTTPStatusError subclass for an HTTP status."""
    cls = _STATUS_CLASSES.get(http_status)
    if cls is None:
        cls = ServerError if http_status >= 500 else HTTPStatusError
    return cls(http_status, message, code=code, path=path)
