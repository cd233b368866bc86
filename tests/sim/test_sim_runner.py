"""Running the simulator: background thread from sync and async code, ports, loopback checks."""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import time

import httpx
import pytest
import uvicorn

from statdash.sim.config import SimConfig
from statdash.sim.runner import (
    PortUnavailableError,
    bind,
    is_loopback,
    running_simulator,
    url_host,
)
from tests.sim.support import API_KEY, client


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


def test_uvicorn_internals_the_fast_stop_relies_on_still_hold(sim_config: SimConfig) -> None:
    """uvicorn still has the on_tick, server_state, servers and lifespan that runner.py uses.

    runner._Server replaces uvicorn's main_loop and shutdown; if a uvicorn release moves any of
    these, this fails before a stop silently turns slow, leaks sockets or stops refreshing Date.
    """
    assert list(inspect.signature(uvicorn.Server.on_tick).parameters) == ["self", "counter"]
    assert inspect.iscoroutinefunction(uvicorn.Server.main_loop)
    assert list(inspect.signature(uvicorn.Server.shutdown).parameters) == ["self", "sockets"]
    with running_simulator(sim_config) as sim, client(sim) as http:
        # A kept-alive connection, as every test's client leaves one behind at stop time.
        response = http.delete("/subscriptions/x")
        server = sim._server
        assert server is not None
        state = server.server_state
        assert isinstance(state.connections, set) and isinstance(state.tasks, set)
        assert all(callable(connection.shutdown) for connection in state.connections)
        assert state.connections, "the open keep-alive connection is tracked"
        assert server.servers and all(isinstance(s, asyncio.Server) for s in server.servers)
        assert inspect.iscoroutinefunction(server.lifespan.shutdown)
        assert response.headers["date"], "on_tick(0) set the Date header"
        # The Date header is refreshed on ticks whose counter is a multiple of 10 (runner.py
        # ticks with 0, 10, 20, ...); a server of its own, so the running one cannot race.
        idle = uvicorn.Server(server.config)
        assert asyncio.run(idle.on_tick(1)) is False
        assert idle.server_state.default_headers == []
        assert asyncio.run(idle.on_tick(10)) is False
        assert [name for name, _ in idle.server_state.default_headers] == [b"date"]
        idle.should_exit = True
        assert asyncio.run(idle.on_tick(20)) is True


def test_a_stop_is_quicker_than_uvicorns_own_shutdown_pause(sim_config: SimConfig) -> None:
    """Stopping a simulator with a client connected takes under uvicorn's fixed 0.1 s pause.

    uvicorn's own shutdown always sleeps 0.1 s, so this fails if the fast stop is lost; the
    best of three keeps a busy machine from failing it.
    """
    durations: list[float] = []
    for _ in range(3):
        sim = running_simulator(sim_config).start()
        sim.state()
        started = time.perf_counter()
        sim.stop()
        durations.append(time.perf_counter() - started)
    assert min(durations) < 0.1, durations
