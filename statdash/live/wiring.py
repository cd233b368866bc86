"""A layout's live session, wired once for every command: controller, push, records, alerts.

`run`, `demo`, `serve`'s viewers (through the dashboard) and `watch`/`serve` headless all
build their session here, so they differ only in what they hand in: how alert actions reach
the user, the alert log, a recorder, and the owner's callbacks. The data path (controller,
session, push feed, store) knows none of the features; this module hands them to it as
listeners.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from statdash.api.client import StatisticsClient
from statdash.api.push import PushChannel
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.alerts.runner import AlertRunner, EventsCallback
from statdash.live.controller import (
    ChangeCallback,
    Listener,
    LiveController,
    StatusCallback,
    plan_for,
)
from statdash.live.push_feed import ChannelFactory
from statdash.live.session import ServedClient
from statdash.live.subscriptions.records import SubscriptionRecords


@dataclass(frozen=True, slots=True)
class LiveSession:
    """The controller of a layout's session and the alert runner listening to it."""

    controller: LiveController
    alerts: AlertRunner


def live_session(
    client: StatisticsClient | ServedClient,
    layout: CompiledLayout,
    *,
    open_channel: ChannelFactory | None = None,
    actions: AlertActions,
    say: Callable[[str], None],
    on_change: ChangeCallback,
    on_status: StatusCallback,
    on_alerts: EventsCallback | None = None,
    alert_log: AlertLog | None = None,
    records: SubscriptionRecords | None = None,
    updates: UpdatesName | None = None,
    listeners: Sequence[Listener] = (),
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> LiveSession:
    """The session of `layout` on `client`; `listeners` (a recorder) hear it after the alerts.

    With `records`, each subscription is written down while open (for `statdash cleanup`).
    `say` reports the alerts' own problems (a command that failed, the log).
    `open_channel` opens the push channel; by default the CometD channel of `client` (a
    `StatisticsClient`), which shares its connection and cookies (one server session).
    """
    server = client.server
    if open_channel is None:
        if not isinstance(client, StatisticsClient):
            raise TypeError("a client other than StatisticsClient needs its open_channel")
        direct = client
        open_channel = lambda: PushChannel(direct)  # noqa: E731
    controller = LiveController(
        client,
        plan_for(layout),
        on_change=on_change,
        on_status=on_status,
        on_opened=(lambda sid: records.add(server, sid)) if records else None,
        on_deleted=(lambda sid: records.remove(server, sid)) if records else None,
        open_channel=open_channel,
        updates=updates,
        clock=clock,
        wall_clock=wall_clock,
        listeners=listeners,
    )
    alerts = AlertRunner(
        layout.alerts,
        controller.store,
        interval=layout.refresh,
        actions=actions,
        log=alert_log,
        say=say,
        on_events=on_alerts,
        clock=clock,
        wall_clock=wall_clock,
    )
    # The rules judge each ingest before the other listeners (and the screen) hear it.
    controller.listeners.insert(0, alerts)
    return LiveSession(controller, alerts)
