"""A webhook receiver for tests: a real HTTP server on loopback that keeps what was posted.

It runs uvicorn on the test's own event loop (a port the kernel picks), answers each post with
the next status of `answers` (then 200), and records every request's path and JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.wait import until_async


@dataclass
class Receiver:
    """Where to post (`url`, its path a stand-in secret) and what arrived."""

    url: str
    answers: list[int]
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@asynccontextmanager
async def receiver(
    answers: list[int] | None = None, path: str = "/services/T000/B000/s3cr3t-token"
) -> AsyncIterator[Receiver]:
    """A receiver at http://127.0.0.1:PORT`path`, stopped on the way out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    got = Receiver(f"http://127.0.0.1:{port}{path}", list(answers or []))

    async def hook(request: Request) -> Response:
        got.posts.append((request.url.path, json.loads(await request.body())))
        got.headers.append(dict(request.headers))
        status = got.answers.pop(0) if got.answers else 200
        return Response("ok" if status < 400 else "no", status_code=status)

    app = Starlette(routes=[Route("/{rest:path}", hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    # Not the main loop's signals: the test runner keeps its own Ctrl-C.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        await until_async(lambda: server.started or task.done(), what="the receiver started")
        yield got
    finally:
        server.should_exit = True
        await task
        sock.close()
