"""Run the simulator: blocking `serve()` for the CLI, `running_simulator()` for tests and demos."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from statdash.sim.config import SimConfig
from statdash.sim.server import create_app
from statdash.sim.wire import API

# Held long-polls must not keep a stopping server alive for long.
_GRACEFUL_SHUTDOWN_SECONDS = 2
_START_TIMEOUT_SECONDS = 10.0


class PortUnavailableError(OSError):
    """The address to listen on is taken or cannot be bound."""


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """`host` as it goes in a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 picks a free one); PortUnavailableError if not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets
    # whose proto says TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailableError(exc.errno, f"{host}:{port} is already in use") from None
        raise PortUnavailableError(
            exc.errno or 0, f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.set_inheritable(True)
    return sock


def _release_long_polls(server: uvicorn.Server) -> None:
    """Answer every held CometD connect now, so a stop never waits out a 20 s hold."""
    state = getattr(server.config.app, "state", None)
    simulator = getattr(state, "simulator", None)
    if simulator is not None:
        simulator.notifier.close()


class _ServingServer(uvicorn.Server):
    """uvicorn's server for `serve()`, releasing held connects as its shutdown begins."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        _release_long_polls(self)
        await super().shutdown(sockets)


class _Server(uvicorn.Server):
    """uvicorn's server, stopped at once by `request_stop` instead of on its next 0.1 s tick.

    Test suites start and stop a simulator per test: with uvicorn's own loop and shutdown (a
    0.1 s tick, then a fixed 0.1 s pause) a stop takes about 170 ms, with these about 6 ms.
    `main_loop` and `shutdown` replace uvicorn's and read its internals (`on_tick`,
    `server_state`, `servers`, `lifespan`), so pyproject pins uvicorn to the release they were
    checked against and tests/sim/test_sim_runner.py fails if they stop holding.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            # on_tick refreshes the Date header whenever counter % 10 == 0: once a second here.
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Like uvicorn's, minus its fixed 0.1 s pause: wait only while connections are open."""
        _release_long_polls(self)
        state = self.server_state
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _GRACEFUL_SHUTDOWN_SECONDS
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()

    def request_stop(self) -> None:
        """Ask the server to shut down gracefully; safe from any thread."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                loop.call_soon_threadsafe(wake.set)


def _uvicorn_config(
    config: SimConfig, *, access_log: bool, log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(config),
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )


def serve(
    config: SimConfig,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    access_log: bool = False,
    sock: socket.socket | None = None,
) -> None:
    """Serve until Ctrl+C (uvicorn handles the signal and shuts down gracefully).

    Pass an already bound `sock` (from `bind`) to report the address before serving.
    """
    listener = sock if sock is not None else bind(host, port)
    server = _ServingServer(_uvicorn_config(config, access_log=access_log))
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()


class RunningSimulator:
    """A simulator serving on loopback in a background thread.

    Admin helpers talk to it over HTTP like any client would, so they are safe from any
    thread or event loop.
    """

    def __init__(
        self,
        config: SimConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
    ) -> None:
        self.config = config
        self.host = host
        self.log_level = log_level
        self._requested_port = port
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321 (the API lives under /statistics/v3)."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        """e.g. http://127.0.0.1:54321/statistics/v3."""
        return self.base_url + API

    def start(self) -> RunningSimulator:
        """Bind, start serving and wait until requests are accepted."""
        sock = bind(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        server = _Server(_uvicorn_config(self.config, access_log=False, log_level=self.log_level))
        self._server = server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # start() reports it if serving never began
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"statdash-sim-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"simulator failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"simulator did not start within {_START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish."""
        if self._server is not None:
            self._server.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=_GRACEFUL_SHUTDOWN_SECONDS + 5)
        self._server = None
        self._thread = None
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # ------------------------------------------------------------ context manager protocol

    def __enter__(self) -> RunningSimulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> RunningSimulator:
        # Starting blocks briefly; keep the caller's event loop free meanwhile.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ---------------------------------------------------------------------- admin helpers

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        with self._http_lock:
            if self._http is None:
                # Loopback only: proxy settings from the environment must not apply.
                self._http = httpx.Client(base_url=self.base_url, timeout=30.0, trust_env=False)
            response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        """GET /simulator/state."""
        result: dict[str, Any] = self._admin("GET", "/simulator/state")
        return result

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """POST /simulator/faults with these fields; returns the faults now in force."""
        result: dict[str, Any] = self._admin("POST", "/simulator/faults", faults)
        return result

    def clear_faults(self) -> dict[str, Any]:
        """DELETE /simulator/faults."""
        result: dict[str, Any] = self._admin("DELETE", "/simulator/faults")
        return result

    def advance(self, seconds: float) -> float:
        """POST /simulator/advance; returns the new simulated time (epoch seconds)."""
        result = self._admin("POST", "/simulator/advance", {"seconds": seconds})
        return float(result["sim_time"])


def running_simulator(
    config: SimConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
) -> RunningSimulator:
    """A simulator to use as `with` or `async with`; port 0 picks a free loopback port.

    uvicorn's log handler writes to the real stderr from the server thread; under a full-screen
    UI pass `log_level="critical"` so nothing scribbles over the screen.
    """
    return RunningSimulator(config or SimConfig(), host, port, log_level=log_level)
