"""A hostile or runaway browser: an input flood before the tab closes, oversized and deeply
nested messages. Nothing outlives the tab; a refused message costs one line, not the viewer."""

from __future__ import annotations

import asyncio
import json
import os
import signal

from statdash.web.front import MAX_BROWSER_MESSAGE, parse_browser_message
from tests.support.wait import CEILING, until_async
from tests.support.web import read_until_closed

from .conftest import DELETE_BOUND, START_BOUND, ServeFront

# What the sweep sent in 2.5 s before closing the tab: keys and mouse moves.
FLOOD = 1_400


def flood_messages(count: int) -> list[str]:
    """`count` stdin envelopes as textual.js sends them: keys, arrows and SGR mouse moves."""
    keys = ["\t", "\x1b[B", "\x1b[A", "j", "k", "\x1b[C"]
    return [
        json.dumps(["stdin", keys[n % len(keys)] if n % 2 else f"\x1b[<35;{n % 100 + 1};5M"])
        for n in range(count)
    ]


async def test_a_flooded_dashboard_too_busy_to_quit_leaves_no_subscription(
    serve_front: ServeFront,
) -> None:
    """~1,400 input messages, then the tab closes, while the dashboard cannot act on its
    quit in time (it is stopped here, as a loaded machine leaves one working through its
    queued keys for longer than the quit grace): it is killed, and serve deletes the
    subscription it recorded. The simulator holds none within 10 s of the close."""
    served = await serve_front()
    socket = await served.connect()
    reader = asyncio.create_task(read_until_closed(socket))
    await served.wait_for_subscriptions(1, START_BOUND)
    (pid,) = served.front.viewer_pids
    os.kill(pid, signal.SIGSTOP)
    for message in flood_messages(FLOOD):
        await socket.send_str(message)
    await socket.close()
    await reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)
    assert not os.path.exists(f"/proc/{pid}")
    assert any(f"viewer {pid}: deleted its subscription" in line for line in served.said)


async def test_a_flood_the_dashboard_cannot_read_does_not_hold_the_close_back(
    serve_front: ServeFront,
) -> None:
    """1,400 pastes of 200 keys (280 KB: more than the dashboard's input pipe and its buffer
    hold) into a dashboard that reads none of it, then the tab closes: the relay drops what
    the dashboard cannot take instead of waiting on it, so it sees the close, and the
    subscription is deleted within 10 s. One line says input was dropped."""
    served = await serve_front()
    socket = await served.connect()
    reader = asyncio.create_task(read_until_closed(socket))
    await served.wait_for_subscriptions(1, START_BOUND)
    (pid,) = served.front.viewer_pids
    os.kill(pid, signal.SIGSTOP)
    paste = json.dumps(["stdin", "j" * 200])
    for _ in range(FLOOD):
        await socket.send_str(paste)
    await socket.close()
    await reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)
    dropped = [line for line in served.said if "dropped input" in line]
    assert len(dropped) == 1 and dropped[0].startswith(f"viewer {pid}: "), served.said


async def test_a_flooded_dashboard_that_quits_deletes_its_own(serve_front: ServeFront) -> None:
    """The same flood on a dashboard left running: it quits and deletes its subscription
    itself within 10 s, and serve has nothing left to delete."""
    served = await serve_front()
    socket = await served.connect()
    reader = asyncio.create_task(read_until_closed(socket))
    await served.wait_for_subscriptions(1, START_BOUND)
    for message in flood_messages(FLOOD):
        await socket.send_str(message)
    await socket.close()
    await reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)


def test_browser_messages_are_bounded_before_parsing() -> None:
    """Too big, nested too deeply, not JSON: each refused in words; textual.js's own pass."""
    assert parse_browser_message('["stdin", "q"]') == ["stdin", "q"]
    assert parse_browser_message('["resize", {"width": 80, "height": 24}]') == [
        "resize",
        {"width": 80, "height": 24},
    ]
    assert parse_browser_message('["blur"]') == ["blur"]
    too_big = json.dumps(["stdin", "x" * MAX_BROWSER_MESSAGE])
    assert "allowed" in str(parse_browser_message(too_big))
    for deep in ("[" * 5_000 + "]" * 5_000, '["resize", {"w": [[[[1]]]]}]'):
        assert "nested too deeply" in str(parse_browser_message(deep))
    assert parse_browser_message('["stdin", "unterminated') == "not JSON"


async def test_hostile_messages_are_refused_and_the_viewer_goes_on(
    serve_front: ServeFront,
) -> None:
    """100,000 nested brackets, and 5,000 (under the size bound): each refused with one line
    in serve's log, no traceback, and the same dashboard still answers."""
    served = await serve_front()
    socket = await served.connect()
    await served.wait_for_subscriptions(1, START_BOUND)
    (pid,) = served.front.viewer_pids
    pongs: list[bytes] = []
    reader = asyncio.create_task(read_until_closed(socket, pongs.append))
    await socket.send_str("[" * 100_000 + "]" * 100_000)
    await socket.send_str("[" * 5_000 + "]" * 5_000)
    await socket.send_str(json.dumps(["ping", "still-here"]))
    await until_async(lambda: any(b"still-here" in chunk for chunk in pongs), what="the pong")
    refusals = [line for line in served.said if "refused a browser message" in line]
    assert len(refusals) == 2, served.said
    assert refusals[0].startswith(f"viewer {pid}: refused a browser message: 200,000 characters")
    assert "nested too deeply" in refusals[1]
    assert served.front.viewer_pids == [pid]
    assert not any("Traceback" in line for line in served.said)
    await socket.close()
    await asyncio.wait_for(reader, CEILING)
    await served.wait_for_subscriptions(0, DELETE_BOUND)
