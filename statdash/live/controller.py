"""The running dashboard's data side: one store, one session at a time, swapped on reload.

The screen (or a headless caller) talks to `LiveController` only: pause, resume, poll now,
apply a new plan after the layout file changed, close. The controller runs the session task,
feeds polled values into the store, and reports through two callbacks, which the UI turns
into messages. It never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from statdash.api.errors import StatisticsError
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.responses import StatisticValues
from statdash.layout.compile import CompiledLayout, KpiView, TrendView
from statdash.live.recorder import ChangeRecorder
from statdash.live.session import Session, SessionClient, SessionStatus
from statdash.live.store import Ingested, Store

log = logging.getLogger("statdash.live")

HISTORY_SLACK = 2


@dataclass(frozen=True, slots=True)
class Plan:
    """What to subscribe to and how often: the part of a compiled layout the session needs."""

    items: Sequence[SubscriptionItem]
    interval: float
    history_capacity: Mapping[str, int] = field(default_factory=dict)
    """statisticId -> how many samples of history to keep (for KPI trends and trend widgets)."""


def plan_for(layout: CompiledLayout) -> Plan:
    """The plan of a compiled layout: its items, refresh, and history for trends and KPIs."""
    windows: dict[str, float] = {}
    for widget in layout.widgets():
        if isinstance(widget, KpiView) and widget.trend_window is not None:
            windows[widget.stat_id] = max(windows.get(widget.stat_id, 0.0), widget.trend_window)
        elif isinstance(widget, TrendView):
            for series in widget.series:
                windows[series.stat_id] = max(windows.get(series.stat_id, 0.0), widget.window)
    # One sample per poll, plus slack for polls that come a little early.
    capacity = {
        stat_id: math.ceil(window / layout.refresh) + HISTORY_SLACK
        for stat_id, window in windows.items()
    }
    return Plan(layout.items, layout.refresh, capacity)


ChangeCallback = Callable[[Ingested], None]
StatusCallback = Callable[[SessionStatus], None]
SubscriptionHook = Callable[[str], None]


class LiveController:
    """Owns the store and the current session; everything runs on one event loop."""

    def __init__(
        self,
        client: SessionClient,
        plan: Plan,
        *,
        on_change: ChangeCallback,
        on_status: StatusCallback,
        on_opened: SubscriptionHook | None = None,
        on_deleted: SubscriptionHook | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        recorder: ChangeRecorder | None = None,
    ) -> None:
        self._client = client
        self.recorder = recorder
        self._on_change = on_change
        self._on_status = on_status
        self._on_opened = on_opened
        self._on_deleted = on_deleted
        self._clock = clock
        self._wall_clock = wall_clock
        self.plan = plan
        self.store = Store(plan.history_capacity)
        self._reached = False
        self._last_failure: StatisticsError | None = None
        self._session = self._new_session(plan)
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> SessionStatus:
        """The current session's status."""
        return self._session.status

    @property
    def paused(self) -> bool:
        """True while the user paused polling."""
        return self._session.paused

    @property
    def reached(self) -> bool:
        """True once any subscribe or poll succeeded, in this session or an earlier one."""
        return self._reached

    @property
    def last_failure(self) -> StatisticsError | None:
        """The latest failure of any session so far, if there was one."""
        return self._last_failure

    def _new_session(self, plan: Plan) -> Session:
        return Session(
            self._client,
            plan.items,
            plan.interval,
            on_values=self._ingest,
            on_status=self._status_changed,
            on_opened=self._on_opened,
            on_deleted=self._on_deleted,
            clock=self._clock,
        )

    def _status_changed(self, status: SessionStatus) -> None:
        # A reload starts a new session at zero polls: remember that the server answered.
        self._reached = self._reached or status.polls > 0
        self._last_failure = self._session.last_failure or self._last_failure
        self._on_status(status)

    def _ingest(self, statistics: Sequence[StatisticValue]) -> None:
        now, wall = self._clock(), self._wall_clock()
        if isinstance(statistics, StatisticValues):
            # The client's answer: read the columns, never build a model per statistic.
            result = self.store.ingest_columns(*statistics.columns(), now=now, wall=wall)
        else:
            triples = ((value.statistic_id, value.value, value.timestamp) for value in statistics)
            result = self.store.ingest(triples, now=now, wall=wall)
        if self.recorder is not None:
            self.recorder.record(self.store, result, wall)
        self._on_change(result)

    def start(self) -> None:
        """Start polling in a task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._session.run())

    def pause(self) -> None:
        """Stop polling; the subscription stays open."""
        self._session.pause()

    def resume(self) -> None:
        """Poll again, starting now."""
        self._session.resume()

    def toggle_pause(self) -> bool:
        """Pause or resume; True when now paused."""
        if self._session.paused:
            self.resume()
        else:
            self.pause()
        return self._session.paused

    def poll_now(self) -> None:
        """Poll at once (also ends a retry wait)."""
        self._session.poll_now()

    async def apply(self, plan: Plan) -> None:
        """Switch to a new plan: close the old subscription, keep values of shared statistics."""
        was_paused = self._session.paused
        await self._stop_task()
        self.plan = plan
        keep = {item.statistic_id for item in plan.items}
        self.store.forget(keep)
        self.store.track_history(plan.history_capacity)
        self._session = self._new_session(plan)
        if was_paused:
            self._session.pause()
        self.start()

    async def close(self) -> None:
        """Stop polling and delete the subscription; safe to call more than once."""
        await self._stop_task()
        await self._session.close()
        if self.recorder is not None:
            # Joins the writer thread: what was gathered is committed before the app ends.
            await asyncio.to_thread(self.recorder.close)

    async def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._session.stop()
        try:
            # The session deletes its subscription on the way out (bounded by its own timeout).
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except TimeoutError:
            log.warning("session did not stop in time; cancelling it")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
