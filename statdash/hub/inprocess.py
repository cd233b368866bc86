"""A hub in the dashboard's own process, for `statdash demo --hub`: up before, closed after.

The same `Hub` as `statdash hub` runs, on the same loop as the dashboard, with its own NATS
connection: so the demo shows the whole path (simulator, hub, NATS, dashboard) on one
machine, and the hub's subscriptions are deleted when the dashboard ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from statdash.api.connect import make_client
from statdash.api.settings import HubSettings, ServerSettings
from statdash.hub.collector import Hub
from statdash.hub.connection import close, connect
from statdash.hub.protocol import Subjects
from statdash.layout.vocabulary import UpdatesName

log = logging.getLogger("statdash.hub")

# A demo's layout is reloaded as it is edited: statistics it drops go after a short while.
DEMO_GRACE = 10.0


async def hub_beside(
    api: ServerSettings,
    hub: HubSettings,
    dashboard: Coroutine[Any, Any, int],
    *,
    updates: UpdatesName,
    refresh: float,
) -> int:
    """Run a hub for `api` on `hub`'s NATS while `dashboard` runs; its exit code.

    The hub's lines go to the log, not the screen (the dashboard owns the terminal).
    """
    client = make_client(api)
    try:
        connection = await connect(hub, name="statdash hub (demo)")
    except BaseException:
        dashboard.close()
        await client.aclose()
        raise
    collector = Hub(
        client,
        connection,
        Subjects(hub.namespace),
        interval=refresh,
        updates=updates,
        grace=DEMO_GRACE,
        say=log.info,
    )
    serving = asyncio.get_running_loop().create_task(collector.run())
    try:
        return await dashboard
    finally:
        collector.stop()
        with contextlib.suppress(Exception):
            await serving
        await collector.close()
        await close(connection)
        await client.aclose()
