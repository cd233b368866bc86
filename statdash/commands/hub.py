"""`statdash hub`: collect each statistic once upstream and fan the values out over NATS.

A long-running collector (`statdash.hub.collector.Hub`) for many dashboards: the API server
and its credentials are resolved as every command resolves them, the NATS server and its
credentials from `--nats`, `STATDASH_HUB_*` or the config file's [hub] table. Each event is
one line on stderr, after the time (hub up, subscriptions opened and closed, upstream lost
and back, leases lapsed); library warnings come the same way, never with a traceback.
SIGTERM, SIGINT and SIGHUP stop it: every upstream subscription is deleted, push
disconnected, then NATS closed.

Exit status: 0 stopped by a signal; 1 NATS or the API server could not be used; 2 bad
settings or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
from collections.abc import Iterator

from statdash.api.connect import make_client
from statdash.api.describe import describe
from statdash.api.errors import ConfigError, StatisticsError, TransportError
from statdash.api.settings import HubSettings, ServerSettings, resolve_hub_settings
from statdash.commands.common import EXIT_FAILED, EXIT_OK
from statdash.commands.server_options import resolve_server
from statdash.commands.voice import Refused, Voice
from statdash.hub.collector import Hub
from statdash.hub.connection import NATS_ERRORS, close, connect, describe_nats
from statdash.hub.protocol import Subjects
from statdash.layout.vocabulary import REFRESH_BOUNDS, UpdatesName
from statdash.lifecycle import install_signal_handlers
from statdash.live.subscriptions.records import SubscriptionRecords

VOICE = Voice("hub")
SESSION_VOICE = Voice("hub", stamped=True)
"""Once serving, every line starts with the time (a journal reads it later)."""


def run(args: argparse.Namespace) -> int:
    """Check the settings, then collect until a signal stops it."""
    settings = resolve_server(args, voice=VOICE)
    try:
        hub_settings = resolve_hub_settings(
            {"url": args.nats, "namespace": args.namespace},
            config_path=args.config,
            warn=VOICE.say,
        )
    except ConfigError as error:
        raise Refused(str(error)) from None
    low, high = REFRESH_BOUNDS
    if not (math.isfinite(args.interval) and low <= args.interval <= high):
        raise Refused(f"--interval must be from {low:g} to {high:g} seconds")
    if not (math.isfinite(args.grace) and args.grace >= 0):
        raise Refused("--grace must be a number of seconds >= 0")
    updates: UpdatesName = args.updates or "auto"
    records = SubscriptionRecords(args.records)
    try:
        # The hub's own lines and statdash's log records, one stamped line each, while it runs.
        with _logs_said():
            return asyncio.run(
                _collect(settings, hub_settings, args.interval, updates, args.grace, records)
            )
    except ConfigError as error:
        raise Refused(str(error)) from None


class _SayHandler(logging.Handler):
    """statdash's log records as the hub's stamped lines: the message only, no traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            SESSION_VOICE.say(record.getMessage())
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _logs_said() -> Iterator[None]:
    """statdash's logs as the hub's lines for the block: its own events at INFO (NATS lost
    and back), the rest of statdash (a failed poll, a lost push channel) at WARNING, none
    through Python's last-resort handler. Put back as they were after it."""
    root, hub = logging.getLogger("statdash"), logging.getLogger("statdash.hub")
    before = (root.level, root.propagate, hub.level)
    handler = _SayHandler()
    root.addHandler(handler)
    root.propagate = False
    root.setLevel(logging.WARNING)
    hub.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        root.propagate = before[1]
        hub.setLevel(before[2])


async def _collect(
    settings: ServerSettings,
    hub_settings: HubSettings,
    interval: float,
    updates: UpdatesName,
    grace: float,
    records: SubscriptionRecords,
) -> int:
    say = SESSION_VOICE.say

    async def nats_lost() -> None:
        say("NATS connection lost; reconnecting")

    async def nats_back() -> None:
        say("NATS connection back")

    try:
        nats = await connect(
            hub_settings,
            name="statdash hub",
            on_disconnected=nats_lost,
            on_reconnected=nats_back,
        )
    except TransportError as error:
        # "cannot reach NATS at HOST:PORT: connection refused" (no credential in either).
        say(f"{error}: {error.reason}" if error.reason else str(error))
        return EXIT_FAILED
    client = make_client(settings)
    hub = Hub(
        client,
        nats,
        Subjects(hub_settings.namespace),
        interval=interval,
        updates=updates,
        grace=grace,
        records=records,
        say=say,
    )

    def request_exit(reason: str) -> None:
        say(f"stopping ({reason})")
        hub.stop()

    remove_handlers = install_signal_handlers(asyncio.get_running_loop(), request_exit)
    code = EXIT_OK
    try:
        await hub.run()
    except StatisticsError as error:
        say(f"stopped: {describe(error)}")
        code = EXIT_FAILED
    except NATS_ERRORS as error:
        say(f"stopped: NATS failed: {describe_nats(error)}")
        code = EXIT_FAILED
    finally:
        # Each step is bounded and never raises: upstream first, then NATS, then HTTP.
        await hub.close()
        await close(nats)
        await client.aclose()
        remove_handlers()
    return code
