"""Runs the dashboard: the session starts first, the screen is built while it connects.

Shared by `statdash run` and `statdash demo` (and the benchmarks), so both take the same code
path. The order is the first frame's (issue 23): the session's first request (the CometD
handshake, or the subscribe) goes out as soon as the layout is compiled, and Textual and the
screen's modules (~0.15 s of CPU) load on a thread meanwhile, so that the server's work on the
subscription (~0.2 s for floor.yaml) overlaps the screen's own. This module therefore loads no
Textual itself; what the session says before the app exists waits in the bridge.

From the first request on, every exit path deletes the subscription: a signal during the
start ends the start (the app's own handlers take over once it runs), and the `finally` here
closes the controller, which deletes the subscription with a short timeout. Every
subscription is written down while open, so a run killed outright can be cleaned up later.
A run that never once reached its server says so after the screen is restored and exits 1,
so a wrong URL is not mistaken for a dashboard that worked.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statdash.api.client import StatisticsClient
from statdash.api.describe import describe
from statdash.api.settings import Endpoint, ServerSettings
from statdash.hub.sources import SourceClient, open_source
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.lifecycle import install_signal_handlers
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.controller import Listener
from statdash.live.push_feed import ChannelFactory
from statdash.live.subscriptions.leftovers import delete_left_behind
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.live.wiring import LiveSession, live_session
from statdash.text import clean
from statdash.ui.bridge import Bridge

if TYPE_CHECKING:
    from statdash.ui.app import StatdashApp

SCREEN_MODULE = "statdash.ui.launch"
"""The screen's side (Textual, the app, the widgets), imported on a thread during the start."""


def dashboard_session(
    layout: CompiledLayout,
    client: StatisticsClient | SourceClient,
    bridge: Bridge,
    *,
    open_channel: ChannelFactory | None = None,
    records: SubscriptionRecords | None = None,
    alert_log: AlertLog | None = None,
    updates: UpdatesName | None = None,
    recorder: Listener | None = None,
    alert_commands: bool = True,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> LiveSession:
    """The dashboard's live session, reporting to the screen through `bridge`.

    A `recorder` hears every ingest of the store, as a listener
    (`statdash.live.recordings.recorder`). `alert_commands=False` shows alerts (banner,
    toasts, bell, the alerts screen) but runs none of their commands: under `statdash serve`
    the serving process runs them, once.
    """
    return live_session(
        client,
        layout,
        open_channel=open_channel,
        # The alerts reach the screen as messages through the bridge, like everything else.
        actions=AlertActions(
            terminal=bridge.write_to_terminal,
            say=bridge.say_alert,
            banner=bridge.flash_banner,
            # Toasts: a floor going into alarm at once must not bury the screen.
            max_lines=3,
            run_commands=alert_commands,
        ),
        say=lambda line: bridge.say_alert(line, problem=True),
        on_change=bridge.store_changed,
        on_status=bridge.status_changed,
        on_alerts=bridge.alerts_changed,
        alert_log=alert_log,
        records=records,
        updates=updates,
        listeners=[recorder] if recorder is not None else (),
        clock=clock,
        wall_clock=wall_clock,
    )


class _StartExit:
    """Where SIGTERM, SIGINT and SIGHUP go while the dashboard starts.

    Before the app runs, a signal stops the start (the `finally` of `run_dashboard` deletes
    the subscription); once the app exists, it asks the app to quit, the way its own
    handlers do when they take over at its mount.
    """

    def __init__(self) -> None:
        self.app: StatdashApp | None = None
        self.requested = False
        self._starting: asyncio.Task[Any] | None = None

    def starting(self, task: asyncio.Task[Any]) -> None:
        """`task` is the start's wait: a signal cancels it."""
        self._starting = task

    def __call__(self, reason: str) -> None:
        if self.app is not None:
            self.app.request_exit(reason)
            return
        self.requested = True
        if self._starting is not None:
            self._starting.cancel()


async def run_dashboard(
    layout: CompiledLayout,
    settings: Endpoint,
    *,
    layout_path: Path | None,
    demo: bool = False,
    theme: str | None = None,
    records: SubscriptionRecords | None = None,
    alert_log: AlertLog | None = None,
    updates: UpdatesName | None = None,
    kiosk: bool = False,
    recorder: Listener | None = None,
    alert_commands: bool = True,
    say: Callable[[str], None],
) -> int:
    """Run the dashboard until the user quits; always deletes the subscription.

    `say` prints a line to the user in the calling command's voice (after the screen is
    restored), e.g. that the server was never reached.

    With `records`, open subscriptions are written down and those a dead run left behind
    on this server are deleted first (the demo's simulator lives as long as the run, so it
    keeps none).
    """
    # No RetryPolicy: the session retries on its own schedule (and shows it).
    source = open_source(settings, name="statdash run")
    client = source.client
    if not source.keeps_records:
        records = None  # the hub holds the upstream subscriptions, and cleans up after itself
    session: LiveSession | None = None
    app: StatdashApp | None = None
    # From the session's first request on, a signal must end the run through the quit that
    # deletes the subscription, not kill it outright.
    exit_start = _StartExit()
    remove_handlers = install_signal_handlers(asyncio.get_running_loop(), exit_start)
    try:
        if records is not None and isinstance(client, StatisticsClient):
            await delete_left_behind(client, records, client.server)
        bridge = Bridge()
        session = dashboard_session(
            layout,
            client,
            bridge,
            open_channel=source.open_channel,
            records=records,
            alert_log=alert_log,
            updates=updates,
            recorder=recorder,
            alert_commands=alert_commands,
        )
        if not exit_start.requested:
            session.controller.start()
            # The screen's modules load while the handshake and the subscribe run here.
            loading = asyncio.get_running_loop().create_task(
                asyncio.to_thread(importlib.import_module, SCREEN_MODULE)
            )
            exit_start.starting(loading)
            try:
                await loading
            except asyncio.CancelledError:
                if not exit_start.requested:
                    raise
        if exit_start.requested:
            # Stopped before the screen existed: the `finally` deletes the subscription.
            return _ended(session, settings, say, return_code=0)
        # why here: loaded above, on the thread (this import finds it in sys.modules).
        from statdash.ui.launch import dashboard_app

        app = dashboard_app(
            layout,
            session,
            bridge,
            server_label=settings.label,
            layout_path=layout_path,
            demo=demo,
            insecure=isinstance(settings, ServerSettings) and settings.insecure,
            theme=theme,
            kiosk=kiosk,
        )
        exit_start.app = app
        await app.run_async()
    finally:
        remove_handlers()
        if session is not None:
            # Deletes the subscription, then closes the listeners: alerts, the recorder.
            await session.controller.close()
        elif recorder is not None:
            await recorder.aclose()
        await client.aclose()
    assert session is not None and app is not None  # else the start returned or raised
    return _ended(session, settings, say, return_code=app.return_code)


def _ended(
    session: LiveSession, settings: Endpoint, say: Callable[[str], None], *, return_code: int | None
) -> int:
    """The exit status of a run whose screen (if any) is gone and whose session is closed."""
    if return_code or session.controller.reached:
        return return_code or 0
    # The screen is restored by now, so this line stays readable in the user's terminal.
    failure = session.controller.last_failure
    why = describe(failure) if failure is not None else "no answer before the dashboard closed"
    say(f"never reached {clean(settings.url, 200)}: {clean(why, 300)}; nothing was shown")
    return 1
