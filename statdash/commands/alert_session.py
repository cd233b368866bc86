"""A layout's alert rules on a live session of their own, with no screen: `watch`, and `serve`
(once for all its viewers).

The same session as the dashboard's (`LiveController`, push where the server offers it, else
polling; `updates` chooses): one subscription, written down while open, deleted on every way
out, after what a killed run left open on this server is deleted first. Each alert event is
written to the alert log, then the rules' actions run (`AlertActions`, given by the owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from statdash.api.client import StatisticsClient
from statdash.api.describe import describe
from statdash.api.settings import Endpoint
from statdash.commands.common import EXIT_FAILED, EXIT_OK
from statdash.commands.voice import Voice
from statdash.hub.sources import open_source
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.controller import Listener, LiveController
from statdash.live.session import RETRY_REFUSED_SECONDS, Phase, SessionStatus
from statdash.live.subscriptions.leftovers import delete_left_behind
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.live.wiring import live_session
from statdash.text import clean, counted

TICK_SECONDS = 1.0


class AlertSession:
    """Runs `layout`'s alert rules against `settings`' server until told to stop."""

    def __init__(
        self,
        layout: CompiledLayout,
        settings: Endpoint,
        *,
        actions: AlertActions,
        log: AlertLog | None,
        records: SubscriptionRecords,
        updates: UpdatesName | None,
        voice: Voice,
        on_refused: Callable[[], None] | None = None,
        recorder: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`actions` carry out the rules' actions; `log` is written first (and closed at the
        end); `voice` says how the session goes. When the server refuses to serve the run
        (credentials), `on_refused` is called (`watch` stops); without it the session tries
        again every RETRY_REFUSED_SECONDS (`serve` keeps serving). A `recorder` records the
        session (`watch --record`: a shift recorded with no screen)."""
        self._layout = layout
        self._settings = settings
        self._actions = actions
        self._log = log
        self._records = records
        self._updates = updates
        self._voice = voice
        self._on_refused = on_refused
        self._clock = clock
        self._recorder = recorder
        self._last_phase: Phase | None = None
        self._last_stopped: str | None = None
        self._retry_at: float | None = None

    async def run(self, stopping: asyncio.Event) -> int:
        """Watch until `stopping` is set; then delete the subscription and close the log.

        Returns EXIT_OK when the server answered, else EXIT_FAILED after saying why.
        """
        settings, voice = self._settings, self._voice
        source = open_source(settings, name="statdash watch")
        client = source.client
        server = client.server
        # Through a hub the hub holds the subscriptions (and its own records).
        records = self._records if source.keeps_records else None

        def status_changed(status: SessionStatus) -> None:
            if status.stopped and status.stopped != self._last_stopped:
                # A feature stopped on its own (recording on a full disk) or working on
                # degraded (recording paused, then the gap it left): one line each, once.
                self._last_stopped = status.stopped
                voice.say(clean(status.stopped, 300))
            if self._last_phase is status.phase:
                return
            self._last_phase = status.phase
            if status.phase is Phase.LIVE:
                rules = counted(runner.book.rules, "alert target")
                voice.say(f"live on {settings.label}: {rules}")
            elif status.phase in (Phase.RETRYING, Phase.FAILED) and status.last_error:
                voice.say(f"{status.phase.value}: {clean(status.last_error, 300)}")
            if status.phase is Phase.FAILED and self._on_refused is not None:
                self._on_refused()

        session = live_session(
            client,
            self._layout,
            open_channel=source.open_channel,
            actions=self._actions,
            say=voice.say,
            on_change=lambda result: None,
            on_status=status_changed,
            alert_log=self._log,
            records=records,
            updates=self._updates,
            listeners=[self._recorder] if self._recorder is not None else (),
        )
        controller, runner = session.controller, session.alerts
        try:
            # As the dashboard does: what a killed run left open on this server goes first.
            if records is not None and isinstance(client, StatisticsClient):
                await delete_left_behind(client, records, server)
            controller.start()
            while not stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), TICK_SECONDS)
                runner.tick()
                self._retry_refused(controller)
        finally:
            # Deletes the subscription, then closes the alerts (their log) and the recorder.
            await controller.close()
            await client.aclose()
        if controller.reached and controller.status.phase is not Phase.FAILED:
            return EXIT_OK
        failure = controller.last_failure
        why = describe(failure) if failure is not None else "no answer before it was stopped"
        voice.say(f"never reached {clean(settings.url, 200)}: {clean(why, 300)}")
        return EXIT_FAILED

    def _retry_refused(self, controller: LiveController) -> None:
        """Without `on_refused`, nobody is there to press `r`: try again now and then."""
        if self._on_refused is not None or controller.status.phase is not Phase.FAILED:
            self._retry_at = None
            return
        now = self._clock()
        if self._retry_at is None:
            self._retry_at = now + RETRY_REFUSED_SECONDS
        elif now >= self._retry_at:
            self._retry_at = now + RETRY_REFUSED_SECONDS
            controller.poll_now()
