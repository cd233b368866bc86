"""One way to turn a failed Statistics API call into the sentence people read.

Every command (`check`, `peek`, `snapshot`, `cleanup`, `run`) and the dashboard's status line
say a failure in these words, so the same failure reads the same everywhere; each may add its
own context around the sentence (the status line: "polling stopped, press r to retry").

The sentences hold server text (messages, reasons), so they are raw: whoever puts one on a
terminal cleans it first (`statdash.text.clean`), as with every server string. They never
hold a secret, because the errors they are made from never do (see `errors.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statdash.api import errors
from statdash.api.retry import refused

if TYPE_CHECKING:
    # Only the type: the decoding stack behind it is what an offline `check` never loads.
    from statdash.api.responses import ItemError


def describe(error: BaseException, server: str | None = None) -> str:
    """Why a call failed, in one sentence; `server` (a host:port label) names the server.

    No request path (the subscription id in it is noise to people), no exception class
    names except for a failure that is not the server's (a bug, shown as its type only, in
    case its text quotes something it should not).
    """
    where = f"the server at {server}" if server else "the server"
    if isinstance(error, errors.RequestTimeoutError | TimeoutError):
        return f"{where} did not answer in time"
    if isinstance(error, errors.ConnectError):
        return f"cannot reach {where}{_detail(error.reason or _without_path(str(error)))}"
    if isinstance(error, errors.TransportError):
        reason = error.reason or _without_path(str(error))
        return f"lost the connection to {where}" + (f" ({reason})" if reason else "")
    if not isinstance(error, errors.StatisticsError):
        return type(error).__name__
    if isinstance(error, errors.PushUnavailable):
        return f"{where} offers no push channel{_detail(error.reason)}"
    if isinstance(error, errors.PushLost):
        return f"lost the push channel to {where}{_detail(error.reason)}"
    if refused(error):
        return f"{where} refused the credentials ({_answer(error)})"
    if isinstance(error, errors.HTTPStatusError | errors.EnvelopeError):
        return f"{where} answered {_answer(error)}"
    if isinstance(error, errors.ShapeError):
        return f"{where} sent a malformed reply{_detail(_without_path(str(error)))}"
    if isinstance(error, errors.ConfigError | errors.RequestValidationError):
        # Refused before anything was sent: the server has no part in it.
        return str(error)
    return f"{where} failed{_detail(_without_path(str(error)))}"


def describe_item(error: ItemError | None) -> str:
    """Why one statistic has no value: `<server message> (code 404)`."""
    if error is None:
        return "the server returned no value"
    return f"{error.message or 'refused'} (code {error.code})"


def _answer(error: errors.StatisticsError) -> str:
    """What the server answered: `HTTP 403: Forbidden`, `status 503: ...`, a token refusal."""
    if isinstance(error, errors.HTTPStatusError):
        return f"HTTP {error.http_status}{_detail(error.server_message)}"
    if isinstance(error, errors.EnvelopeError):
        return f"status {error.code}{_detail(error.server_message)}"
    return _without_path(str(error))


def _detail(text: str | None) -> str:
    return f": {text}" if text else ""


def _without_path(message: str) -> str:
    """`/statistics/v3/...: reason` -> `reason`: the path (and subscription id) is noise."""
    if message.startswith("/"):
        _, separator, rest = message.partition(": ")
        if separator:
            return rest
    return message
