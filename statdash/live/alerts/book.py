"""Alert rules evaluated on store changes: per rule and object, raised -> acknowledged -> cleared.

`AlertBook` holds one tracker per (rule, watched object) and the alerts of the shift. It has
no clock of its own: every call takes `now` (monotonic seconds, for `for`, `clear_after`,
`repeat` and staleness) and `wall` (epoch seconds, the times shown and logged), so tests
drive it with plain numbers. Each call returns the events it caused; the caller logs them
and runs the actions (`statdash.live.alerts.log`, `statdash.live.alerts.actions`).

The rules of the state machine:
- An alert is raised once its condition has held for `hold` seconds on fresh values.
- While raised, every `repeat` seconds (when > 0) a `repeated` event asks for the actions
  again; an acknowledged alert never repeats, but stays listed until it clears.
- It clears once the condition has been over for `clear_after` seconds on fresh values.
- Stale or missing inputs never raise or clear: the pending delay starts again once the
  values are fresh, and an alert already raised is marked stale until then.
- A rule with `active` windows is judged only inside them, by the `wall` time handed in.
  When its window closes, its running delays stop and a standing alert clears, with a
  `cleared` event whose `why` is "off-hours" (so the log, and a pager a command or webhook
  opened, hear that it ended); when the window opens, its objects are judged afresh.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal, Protocol

from statdash.api.values import StatValue
from statdash.layout.views import AlertTarget, AlertView, RowObject

# Cleared alerts kept for the history of the shift; older ones are dropped.
HISTORY_LIMIT = 1000

AlertKey = tuple[str, str, str]
"""(rule name, objectType, objectId): one alert at a time per key."""
EventKind = Literal["raised", "acknowledged", "cleared", "repeated"]
ClearedWhy = Literal["off-hours"]
OFF_HOURS: ClearedWhy = "off-hours"


class AlertState(Enum):
    """Where an alert is in its life."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of one rule on one object, as it stands; replaced, never edited in place."""

    key: AlertKey
    rule: AlertView
    object: RowObject
    state: AlertState
    value: float | str | None
    raised_at: float
    """Epoch seconds."""
    acknowledged_at: float | None = None
    cleared_at: float | None = None
    stale: bool = False
    """The inputs are stale or missing: the alert stands, but nothing current confirms it."""
    worst: float | str | None = None
    """The worst figure of the episode (the highest for `waiting > 5`), kept after it clears."""

    @property
    def active(self) -> bool:
        """True until the alert clears."""
        return self.state is not AlertState.CLEARED


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """Something that happened to an alert, at epoch time `time`; `alert` is as it is after."""

    kind: EventKind
    alert: Alert
    time: float
    why: ClearedWhy | None = None
    """Why a `cleared` event happened when it was not the condition ending: "off-hours"."""


@dataclass(frozen=True, slots=True)
class RuleState:
    """One rule as it stands now: how many objects it watches and where each one is."""

    rule: AlertView
    watched: int
    holding: int
    """Objects whose condition holds and whose `for:` delay is running."""
    raised: int
    acknowledged: int
    off_hours: bool = False
    """Outside its `active:` windows now: it raises nothing until they open."""


class ValueSource(Protocol):
    """What the book reads: the latest values and whether they are fresh (a `Store`)."""

    def get(self, statistic_id: str) -> StatValue | None: ...

    def is_stale(self, statistic_id: str, now: float, interval: float) -> bool: ...


@dataclass(slots=True)
class _Tracker:
    rule: AlertView
    target: AlertTarget
    key: AlertKey
    holding_since: float | None = None
    """Monotonic time the condition began to hold, while no alert is raised yet."""
    over_since: float | None = None
    """Monotonic time the condition stopped holding, while an alert stands."""
    notified_at: float | None = None
    """Monotonic time the actions last ran for the standing alert."""


class AlertBook:
    """Every rule's trackers, the alerts standing now, and the history of the shift."""

    def __init__(self, rules: Iterable[AlertView], interval: float) -> None:
        self.interval = interval
        self.revision = 0
        """Moves whenever an alert changes, so a screen knows when to redraw."""
        self._trackers: dict[AlertKey, _Tracker] = {}
        self._by_input: dict[str, list[_Tracker]] = {}
        self._active: dict[AlertKey, Alert] = {}
        self._cleared: deque[Alert] = deque(maxlen=HISTORY_LIMIT)
        self._rules: list[AlertView] = []
        self._timed: list[AlertView] = []
        """The rules with `active` windows, in the layout's order."""
        self._off: frozenset[str] = frozenset()
        """Names of the rules that were outside their windows at the last evaluation."""
        self._load(rules)

    def replace_rules(self, rules: Iterable[AlertView], wall: float) -> list[AlertEvent]:
        """Watch `rules` from now on (the layout changed).

        A rule and object still watched keep their alert and delays; an alert whose rule or
        object is gone is cleared, with an event, so that the log never loses track of it.
        """
        old = self._trackers
        self._trackers, self._by_input = {}, {}
        self._load(rules)
        events = []
        for key, tracker in old.items():
            kept = self._trackers.get(key)
            if kept is not None:
                kept.holding_since = tracker.holding_since
                kept.over_since = tracker.over_since
                kept.notified_at = tracker.notified_at
                alert = self._active.get(key)
                if alert is not None:
                    self._put(replace(alert, rule=kept.rule))
            elif key in self._active:
                cleared = replace(self._active.pop(key), state=AlertState.CLEARED, cleared_at=wall)
                self._cleared.append(cleared)
                self.revision += 1
                events.append(AlertEvent("cleared", cleared, wall))
        return events

    def _load(self, rules: Iterable[AlertView]) -> None:
        self._rules = list(rules)
        self._timed = []
        for rule in self._rules:
            if rule.active is not None:
                self._timed.append(rule)
            for target in rule.targets:
                key = (rule.name, target.object.type, target.object.id)
                tracker = _Tracker(rule, target, key)
                self._trackers[key] = tracker
                for statistic_id in target.inputs:
                    self._by_input.setdefault(statistic_id, []).append(tracker)

    @property
    def rules(self) -> int:
        """How many (rule, object) pairs are watched."""
        return len(self._trackers)

    def rule_states(self) -> list[RuleState]:
        """Every rule in the layout's order (one that watches nothing too), with what its
        objects are doing now."""
        counts = {rule.name: [0, 0, 0, 0] for rule in self._rules}
        for tracker in self._trackers.values():
            alert = self._active.get(tracker.key)
            state = None if alert is None else alert.state
            row = counts[tracker.rule.name]
            row[0] += 1
            row[1] += alert is None and tracker.holding_since is not None
            row[2] += state is AlertState.RAISED
            row[3] += state is AlertState.ACKNOWLEDGED
        states = []
        for rule in self._rules:
            watched, holding, raised, acknowledged = counts[rule.name]
            off = rule.name in self._off
            states.append(RuleState(rule, watched, holding, raised, acknowledged, off_hours=off))
        return states

    def active(self) -> list[Alert]:
        """Standing alerts (raised or acknowledged), alarms first, then oldest first."""
        return sorted(
            self._active.values(), key=lambda a: (a.rule.level != "alarm", a.raised_at, a.key)
        )

    def unacknowledged(self) -> list[Alert]:
        """Raised alerts nobody has acknowledged yet."""
        return [alert for alert in self.active() if alert.state is AlertState.RAISED]

    def history(self) -> list[Alert]:
        """Alerts that cleared during this run, the latest first."""
        return list(reversed(self._cleared))

    def evaluate(
        self, values: ValueSource, changed: Collection[str] | None, now: float, wall: float
    ) -> list[AlertEvent]:
        """Re-judge the rules reading `changed` (None: all), and every delay that is running.

        Call it after each ingest with what changed, and on a steady tick with an empty
        `changed`, so that delays end and staleness shows without new values.
        """
        opened = self._hours(wall)
        if changed is None:
            trackers: Iterable[_Tracker] = list(self._trackers.values())
        else:
            trackers = self._due(changed, opened)
        events: list[AlertEvent] = []
        for tracker in trackers:
            if tracker.rule.name in self._off:
                events.extend(self._off_hours(tracker, wall))
            else:
                events.extend(self._judge(tracker, values, now, wall))
        return events

    def off_hours(self) -> list[str]:
        """Names of the rules outside their `active` windows now (as of the last evaluation),
        in the layout's order."""
        return [rule.name for rule in self._timed if rule.name in self._off]

    def _hours(self, wall: float) -> frozenset[str]:
        """Note which rules are off-hours at `wall`; the names of those that just came on."""
        off = frozenset(
            rule.name for rule in self._timed if rule.active and not rule.active.is_open(wall)
        )
        opened = self._off - off
        if off != self._off:
            self._off = off
            self.revision += 1
        return opened

    def _off_hours(self, tracker: _Tracker, wall: float) -> Iterator[AlertEvent]:
        """A rule outside its windows: nothing runs on, and a standing alert clears."""
        tracker.holding_since = tracker.over_since = tracker.notified_at = None
        alert = self._active.pop(tracker.key, None)
        if alert is None:
            return
        cleared = replace(alert, state=AlertState.CLEARED, cleared_at=wall)
        self._cleared.append(cleared)
        self.revision += 1
        yield AlertEvent("cleared", cleared, wall, OFF_HOURS)

    def _due(self, changed: Collection[str], opened: Collection[str] = ()) -> list[_Tracker]:
        due: dict[AlertKey, _Tracker] = {}
        for statistic_id in changed:
            for tracker in self._by_input.get(statistic_id, ()):
                due[tracker.key] = tracker
        # A rule whose window just opened judges values that may have stood still for hours.
        for tracker in self._trackers.values():
            if tracker.rule.name in opened:
                due[tracker.key] = tracker
        # Running delays and standing alerts are judged on every call, changed or not.
        for tracker in self._trackers.values():
            if tracker.holding_since is not None or tracker.key in self._active:
                due[tracker.key] = tracker
        return list(due.values())

    def _judge(
        self, tracker: _Tracker, values: ValueSource, now: float, wall: float
    ) -> Iterator[AlertEvent]:
        inputs = tracker.target.inputs
        alert = self._active.get(tracker.key)
        fresh = not any(values.is_stale(i, now, self.interval) for i in inputs)
        verdict = tracker.target.condition(tuple(values.get(i) for i in inputs)) if fresh else None
        if verdict is None or verdict.holds is None:
            # Nothing current to judge by: no delay may run on, no alert may rise or clear.
            tracker.holding_since = tracker.over_since = None
            if alert is not None and not alert.stale:
                self._put(replace(alert, stale=True))
            return
        rule = tracker.rule
        if alert is None:
            if not verdict.holds:
                tracker.holding_since = None
                return
            if tracker.holding_since is None:
                tracker.holding_since = now
            if now - tracker.holding_since >= rule.hold:
                tracker.holding_since = None
                tracker.notified_at = now
                raised = Alert(
                    tracker.key,
                    rule,
                    tracker.target.object,
                    AlertState.RAISED,
                    verdict.value,
                    wall,
                    worst=verdict.value,
                )
                self._put(raised)
                yield AlertEvent("raised", raised, wall)
            return
        if alert.stale or alert.value != verdict.value:
            worst = _worse(rule, alert.worst, verdict.value)
            alert = replace(alert, stale=False, value=verdict.value, worst=worst)
            self._put(alert)
        if verdict.holds:
            tracker.over_since = None
            notified = tracker.notified_at if tracker.notified_at is not None else now
            if (
                alert.state is AlertState.RAISED
                and rule.repeat > 0
                and now - notified >= rule.repeat
            ):
                tracker.notified_at = now
                yield AlertEvent("repeated", alert, wall)
            return
        if tracker.over_since is None:
            tracker.over_since = now
        if now - tracker.over_since >= rule.clear_after:
            tracker.over_since = None
            tracker.notified_at = None
            cleared = replace(alert, state=AlertState.CLEARED, cleared_at=wall)
            del self._active[tracker.key]
            self._cleared.append(cleared)
            self.revision += 1
            yield AlertEvent("cleared", cleared, wall)

    def acknowledge(self, keys: Iterable[AlertKey] | None, wall: float) -> list[AlertEvent]:
        """Acknowledge the raised alerts among `keys` (None: every raised alert)."""
        wanted = list(self._active) if keys is None else list(keys)
        events = []
        for key in wanted:
            alert = self._active.get(key)
            if alert is None or alert.state is not AlertState.RAISED:
                continue
            acknowledged = replace(alert, state=AlertState.ACKNOWLEDGED, acknowledged_at=wall)
            self._put(acknowledged)
            events.append(AlertEvent("acknowledged", acknowledged, wall))
        return events

    def _put(self, alert: Alert) -> None:
        self._active[alert.key] = alert
        self.revision += 1


def _worse(
    rule: AlertView, worst: float | str | None, value: float | str | None
) -> float | str | None:
    """The worse of the episode's worst figure so far and `value`, the way the rule says."""
    if not isinstance(value, float) or not isinstance(worst, float) or rule.worse is None:
        return worst if worst is not None else value
    return max(worst, value) if rule.worse == "higher" else min(worst, value)
