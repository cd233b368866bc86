"""Alerts while a layout runs: judged on each ingest and tick, then logged and acted on.

One `AlertRunner` serves the dashboard and `statdash watch` alike. It is a listener of the
data path (`statdash.live.controller.Listener`): it judges the rules that read what each
ingest changed, and takes a reloaded layout's rules. Its owner calls `tick()` about once a
second, so that `for`, `clear_after`, `repeat` and staleness take effect without new
values; `acknowledge()` for the `a` key. Every event is written to the alert log first
(one line, flushed), then the rule's actions run. A log that stops working is said once
through `say` and the alerts go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable

from statdash.layout.views import AlertView, CompiledLayout
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.book import AlertBook, AlertEvent, AlertKey, ValueSource
from statdash.live.alerts.log import AlertLog, AlertLogError
from statdash.live.controller import Listener
from statdash.live.store import Ingested, Store

EventsCallback = Callable[[list[AlertEvent]], None]


class AlertRunner(Listener):
    """The book, the values it reads, the log and the actions, on one event loop."""

    feature = "alerts"

    def __init__(
        self,
        rules: Iterable[AlertView],
        values: ValueSource,
        *,
        interval: float,
        actions: AlertActions,
        log: AlertLog | None = None,
        say: Callable[[str], None],
        on_events: EventsCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.book = AlertBook(rules, interval)
        self._values = values
        self._actions = actions
        self._log = log
        self._say = say
        self._on_events = on_events
        self._clock = clock
        self._wall_clock = wall_clock

    def changed(self, statistic_ids: Collection[str] | None) -> list[AlertEvent]:
        """After an ingest: judge the rules that read `statistic_ids` (None: every rule)."""
        events = self.book.evaluate(self._values, statistic_ids, self._clock(), self._wall_clock())
        self._handle(events)
        return events

    def ingested(self, store: Store, ingested: Ingested, wall: float, *, sampled: bool) -> None:
        """After an ingest: judge the rules that read what it changed (a refresh beat that
        changed nothing is the owner's `tick()`'s business)."""
        if ingested.changed:
            self.changed(ingested.changed)

    def layout_changed(self, layout: CompiledLayout) -> None:
        """The layout was reloaded: its rules replace the old ones."""
        self.replace_rules(layout.alerts, layout.refresh)

    def tick(self) -> list[AlertEvent]:
        """The steady beat: delays that ran out, repeats, inputs gone stale."""
        return self.changed(())

    def acknowledge(self, keys: Iterable[AlertKey] | None = None) -> list[AlertEvent]:
        """Acknowledge these alerts (None: every raised one)."""
        events = self.book.acknowledge(keys, self._wall_clock())
        self._handle(events)
        return events

    def replace_rules(self, rules: Iterable[AlertView], interval: float) -> list[AlertEvent]:
        """Watch a reloaded layout's rules; alerts of rules that are gone clear."""
        self.book.interval = interval
        events = self.book.replace_rules(rules, self._wall_clock())
        self._handle(events)
        return events

    def _handle(self, events: list[AlertEvent]) -> None:
        if not events:
            return
        if self._log is not None:
            for event in events:
                try:
                    self._log.write(event)
                except AlertLogError as error:
                    self._say(str(error))
        self._actions.run_all(events)
        if self._on_events is not None:
            self._on_events(events)

    async def aclose(self) -> None:
        """Let running commands finish and close the log."""
        await self._actions.aclose()
        if self._log is not None:
            self._log.close()
