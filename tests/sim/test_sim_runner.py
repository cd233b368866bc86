"""Running the simulator: background thread from sync and async code, ports, loopback checks."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from statdash.sim.config import SimConfig
from statdash.sim.runner import (
    PortUnavailableError,
    bind,
    is_loopback,
    running_simulator,
    url_host,
)
from tests.sim.support import API_KEY


async def test_usable_from_async_tests(sim_config: SimConfig) -> None:
    """`async with running_simulator(...)` serves on a loopback port an async client can use."""
    async with running_simulator(sim_config) as sim:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.base_url)
        assert sim.api_url == sim.base_url + "/statistics/v3"
        async with httpx.AsyncClient(base_url=sim.api_url, trust_env=False) as api:
            response = await api.delete("/subscriptions/x", headers={"x-api-key": API_KEY})
    assert response.json()["status"]["code"] == 0


def test_two_at_once_and_the_port_is_freed(sim_config: SimConfig) -> None:
    """Simulators run side by side on their own ports, and a stopped one frees its port."""
    with running_simulator(sim_config) as first, running_simulator(sim_config) as second:
        assert first.port != second.port
        port = first.port
        first.stop()
        freed = bind("127.0.0.1", port)
        freed.close()
        assert second.state()["open_subscriptions"] == 0


def test_binding_a_taken_port_is_a_clear_error() -> None:
    """Binding a port already in use raises PortUnavailableError saying so."""
    taken = bind("127.0.0.1", 0)
    try:
        with pytest.raises(PortUnavailableError, match="already in use"):
            bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_accepted_connections_do_not_wait_for_delayed_acks() -> None:
    """The listening socket says TCP explicitly, so asyncio turns Nagle off on connections."""
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.5.5", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    """Only loopback addresses count as loopback; anything else gets a warning in the CLI."""
    assert is_loopback(host) is loopback


def test_ipv6_hosts_are_bracketed_in_urls() -> None:
    """IPv6 literals go in brackets in URLs; names and IPv4 do not."""
    assert (url_host("::1"), url_host("127.0.0.1"), url_host("localhost")) == (
        "[::1]",
        "127.0.0.1",
        "localhost",
    )
