"""`describe`: every failure of a Statistics API call as the one sentence people read."""

from __future__ import annotations

import socket

import pytest

from statdash.api import errors
from statdash.api.describe import describe, describe_item
from statdash.api.responses import ItemError

# (error, the sentence without a server, the sentence with one)
CASES = [
    (
        errors.ConnectError("cannot connect to http://h:1: nope", reason="nope"),
        "cannot reach the server: nope",
        "cannot reach the server at h:1: nope",
    ),
    (
        errors.RequestTimeoutError("/statistics/v3/subscriptions: no answer in time (ReadTimeout)"),
        "the server did not answer in time",
        "the server at h:1 did not answer in time",
    ),
    (
        TimeoutError(),
        "the server did not answer in time",
        "the server at h:1 did not answer in time",
    ),
    (
        errors.TransportError("/x: RemoteProtocolError", reason="RemoteProtocolError"),
        "lost the connection to the server (RemoteProtocolError)",
        "lost the connection to the server at h:1 (RemoteProtocolError)",
    ),
    (
        errors.PermissionDeniedError(403, "Forbidden", path="/statistics/v3/subscriptions"),
        "the server refused the credentials (HTTP 403: Forbidden)",
        "the server at h:1 refused the credentials (HTTP 403: Forbidden)",
    ),
    (
        errors.AuthError("token request (password grant) refused: HTTP 401", http_status=401),
        "the server refused the credentials (token request (password grant) refused: HTTP 401)",
        "the server at h:1 refused the credentials"
        " (token request (password grant) refused: HTTP 401)",
    ),
    (
        errors.ServiceUnavailableError(503, "busy", path="/statistics/v3/subscriptions/s1"),
        "the server answered HTTP 503: busy",
        "the server at h:1 answered HTTP 503: busy",
    ),
    (
        errors.HTTPStatusError(418, ""),
        "the server answered HTTP 418",
        "the server at h:1 answered HTTP 418",
    ),
    (
        errors.EnvelopeError(503, "Service Unavailable", path="/statistics/v3/subscriptions"),
        "the server answered status 503: Service Unavailable",
        "the server at h:1 answered status 503: Service Unavailable",
    ),
    (
        errors.ShapeError("/statistics/v3/subscriptions: response body is not JSON"),
        "the server sent a malformed reply: response body is not JSON",
        "the server at h:1 sent a malformed reply: response body is not JSON",
    ),
    (
        errors.StatisticsError("/statistics/v3/x: request failed (KeyError)"),
        "the server failed: request failed (KeyError)",
        "the server at h:1 failed: request failed (KeyError)",
    ),
    (
        errors.ConfigError("cannot load CA bundle 'x.pem': no certificate"),
        "cannot load CA bundle 'x.pem': no certificate",
        "cannot load CA bundle 'x.pem': no certificate",
    ),
    (ValueError("a secret?"), "ValueError", "ValueError"),
]


@pytest.mark.parametrize(("error", "alone", "_"), CASES, ids=lambda c: type(c).__name__)
def test_each_failure_reads_as_one_sentence(error: BaseException, alone: str, _: str) -> None:
    """Without a server the sentence says "the server"; no request path, no exception noise."""
    assert describe(error) == alone


@pytest.mark.parametrize(("error", "_", "named"), CASES, ids=lambda c: type(c).__name__)
def test_the_server_is_named_when_known(error: BaseException, _: str, named: str) -> None:
    """With a server label the same sentence names it."""
    assert describe(error, "h:1") == named


async def test_a_real_refused_connection_reads_the_same() -> None:
    """The client's own ConnectError (nothing listens on the port) reads as the cases above."""
    from statdash.api.client import RetryPolicy, StatisticsClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with StatisticsClient(url, "k", retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(errors.ConnectError) as caught:
            await client.delete_subscription("s1")
    assert describe(caught.value, f"127.0.0.1:{port}") == (
        f"cannot reach the server at 127.0.0.1:{port}: All connection attempts failed"
    )


def test_item_errors_read_message_and_code() -> None:
    """A per-item error is its message and code; a missing one says that nothing came."""
    assert describe_item(ItemError(code=404, message="Unknown object 'Agent:x'")) == (
        "Unknown object 'Agent:x' (code 404)"
    )
    assert describe_item(ItemError(code=400)) == "refused (code 400)"
    assert describe_item(None) == "the server returned no value"
