"""Tests for statdash.live.alerts.book: the alert state machine, driven by a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from statdash.api.values import NumberValue, StatValue
from statdash.layout.formats import Thresholds
from statdash.layout.hours import ActiveHours, parse_window
from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertTarget, AlertView, RowObject, ThresholdCondition, Verdict
from statdash.live.alerts.book import AlertBook, AlertState
from statdash.live.alerts.log import log_record

SALES = RowObject("8001@SIP_Switch", "Queue", "Sales")
SUPPORT = RowObject("8002@SIP_Switch", "Queue", "Support")
WALL0 = 1_700_000_000.0


@dataclass
class Values:
    """A fake store: set values by id; ids in `stale` read as stale."""

    numbers: dict[str, float] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)

    def get(self, statistic_id: str) -> StatValue | None:
        number = self.numbers.get(statistic_id)
        return None if number is None else NumberValue(number, f"{number:g}")

    def is_stale(self, statistic_id: str, now: float, interval: float) -> bool:
        return statistic_id in self.stale


def rule(
    *, hold: float = 0.0, clear_after: float = 0.0, repeat: float = 0.0, objects: int = 1
) -> AlertView:
    """`waiting >= 6` on Sales (and Support with objects=2)."""
    condition = ThresholdCondition(Thresholds(alarm=6))
    targets = [AlertTarget(SALES, ("w1",), condition), AlertTarget(SUPPORT, ("w2",), condition)]
    return AlertView(
        name="Backlog",
        level="alarm",
        hold=hold,
        clear_after=clear_after,
        repeat=repeat,
        quiet=False,
        actions=("bell",),
        targets=tuple(targets[:objects]),
        location=SourceLocation("layout.yaml", 3, 5),
    )


class Clock:
    """Monotonic and wall time that move together, by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    @property
    def wall(self) -> float:
        return WALL0 + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def step(
    book: AlertBook, values: Values, clock: Clock, changed: set[str] | None = None
) -> list[str]:
    """One evaluation of `changed` (default: nothing changed, a tick); the events' kinds."""
    events = book.evaluate(values, changed or set(), clock.now, clock.wall)
    return [event.kind for event in events]


def test_raises_at_once_without_a_hold_and_clears_at_once() -> None:
    """With no delays an alert rises on the first value at alarm and clears on the first below."""
    book, values, clock = AlertBook([rule()], 2.0), Values({"w1": 7}), Clock()
    assert step(book, values, clock, {"w1"}) == ["raised"]
    (alert,) = book.active()
    assert (alert.state, alert.value, alert.raised_at) == (AlertState.RAISED, 7, clock.wall)
    values.numbers["w1"] = 2
    assert step(book, values, clock, {"w1"}) == ["cleared"]
    assert book.active() == []
    assert [a.state for a in book.history()] == [AlertState.CLEARED]


def test_hold_must_pass_on_the_clock_before_the_alert_rises() -> None:
    """A condition must hold for the whole `for` delay; ticks without changes end the delay."""
    book, values, clock = AlertBook([rule(hold=30)], 2.0), Values({"w1": 7}), Clock()
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(29)
    assert step(book, values, clock) == []
    clock.advance(1)
    assert step(book, values, clock) == ["raised"]


def test_a_flap_inside_the_hold_starts_the_delay_again() -> None:
    """A value dropping below the alarm during `for` resets it, so a flapping value never fires."""
    book, values, clock = AlertBook([rule(hold=30)], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    clock.advance(20)
    values.numbers["w1"] = 1
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(1)
    values.numbers["w1"] = 8
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(29)
    assert step(book, values, clock) == []
    clock.advance(1)
    assert step(book, values, clock) == ["raised"]


def test_clear_delay_keeps_the_alert_through_a_short_dip() -> None:
    """With `clear_after` the alert clears only once the condition has been over that long."""
    book, values, clock = AlertBook([rule(clear_after=60)], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    values.numbers["w1"] = 3
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(30)
    values.numbers["w1"] = 9  # back up: the clear delay starts over
    assert step(book, values, clock, {"w1"}) == []
    values.numbers["w1"] = 3
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(59)
    assert step(book, values, clock) == []
    clock.advance(1)
    assert step(book, values, clock) == ["cleared"]


def test_repeat_runs_again_until_acknowledged_then_stops() -> None:
    """A raised alert repeats every `repeat` seconds; once acknowledged it repeats no more."""
    book, values, clock = AlertBook([rule(repeat=60)], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    clock.advance(59)
    assert step(book, values, clock) == []
    clock.advance(1)
    assert step(book, values, clock) == ["repeated"]
    clock.advance(60)
    assert step(book, values, clock) == ["repeated"]
    events = book.acknowledge(None, clock.wall)
    assert [e.kind for e in events] == ["acknowledged"]
    clock.advance(600)
    assert step(book, values, clock) == []
    (alert,) = book.active()
    assert alert.state is AlertState.ACKNOWLEDGED
    assert alert.acknowledged_at == clock.wall - 600


def test_acknowledged_alert_stays_listed_until_it_clears() -> None:
    """Acknowledging keeps the alert among the active ones; clearing moves it to the history."""
    book, values, clock = AlertBook([rule()], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    book.acknowledge([("Backlog", "Queue", SALES.id)], clock.wall)
    assert [a.state for a in book.active()] == [AlertState.ACKNOWLEDGED]
    assert book.acknowledge(None, clock.wall) == []  # nothing left to acknowledge
    values.numbers["w1"] = 0
    assert step(book, values, clock, {"w1"}) == ["cleared"]
    (cleared,) = book.history()
    assert cleared.acknowledged_at is not None and cleared.cleared_at == clock.wall


def test_acknowledge_picks_only_the_keys_given() -> None:
    """Acknowledging one object's alert leaves the other object's alert raised."""
    book, clock = AlertBook([rule(objects=2)], 2.0), Clock()
    values = Values({"w1": 7, "w2": 8})
    assert step(book, values, clock, {"w1", "w2"}) == ["raised", "raised"]
    book.acknowledge([("Backlog", "Queue", SUPPORT.id)], clock.wall)
    states = {a.object.id: a.state for a in book.active()}
    assert states == {SALES.id: AlertState.RAISED, SUPPORT.id: AlertState.ACKNOWLEDGED}
    assert [a.object for a in book.unacknowledged()] == [SALES]


def test_stale_inputs_neither_raise_nor_clear_and_mark_the_alert() -> None:
    """Stale values never raise an alert or clear one; a standing alert is marked stale."""
    book, values, clock = AlertBook([rule()], 2.0), Values({"w1": 7}, stale={"w1"}), Clock()
    assert step(book, values, clock, {"w1"}) == []
    assert book.active() == []
    values.stale.clear()
    assert step(book, values, clock, {"w1"}) == ["raised"]
    values.stale.add("w1")
    values.numbers["w1"] = 0
    assert step(book, values, clock, {"w1"}) == []
    (alert,) = book.active()
    assert alert.stale and alert.state is AlertState.RAISED
    values.stale.clear()
    assert step(book, values, clock) == ["cleared"]


def test_stale_values_restart_a_running_hold() -> None:
    """A `for` delay does not run on across stale data: it starts again once values are fresh."""
    book, values, clock = AlertBook([rule(hold=30)], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    clock.advance(20)
    values.stale.add("w1")
    step(book, values, clock)
    values.stale.clear()
    clock.advance(10)
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(30)
    assert step(book, values, clock) == ["raised"]


def test_a_missing_value_is_no_reason_to_clear() -> None:
    """An input with no value (not arrived, or not a number) neither clears nor raises."""
    book, values, clock = AlertBook([rule()], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    del values.numbers["w1"]
    assert step(book, values, clock, {"w1"}) == []
    assert book.active()[0].stale


def test_a_new_alert_is_raised_after_one_cleared() -> None:
    """After clearing, the same rule and object raise a fresh alert with its own times."""
    book, values, clock = AlertBook([rule()], 2.0), Values({"w1": 7}), Clock()
    step(book, values, clock, {"w1"})
    values.numbers["w1"] = 0
    step(book, values, clock, {"w1"})
    clock.advance(5)
    values.numbers["w1"] = 9
    assert step(book, values, clock, {"w1"}) == ["raised"]
    assert book.active()[0].raised_at == clock.wall
    assert len(book.history()) == 1


def test_unchanged_inputs_are_not_judged_without_a_running_delay() -> None:
    """Only rules reading a changed statistic (or with a delay running) call their condition."""
    calls: list[tuple[StatValue | None, ...]] = []

    def counting(values: tuple[StatValue | None, ...]) -> Verdict:
        calls.append(values)
        return Verdict(False, None)

    quiet = replace(
        rule(objects=2),
        targets=tuple(replace(t, condition=counting) for t in rule(objects=2).targets),
    )
    book, values, clock = AlertBook([quiet], 2.0), Values({"w1": 1, "w2": 1}), Clock()
    step(book, values, clock, {"w2"})
    assert len(calls) == 1
    step(book, values, clock)
    assert len(calls) == 1
    book.evaluate(values, None, clock.now, clock.wall)
    assert len(calls) == 3


def test_a_new_layout_keeps_alerts_it_still_watches_and_clears_the_rest() -> None:
    """Replacing the rules keeps a still-watched alert and clears (with an event) a gone one."""
    book, clock = AlertBook([rule(objects=2)], 2.0), Clock()
    step(book, Values({"w1": 7, "w2": 7}), clock, {"w1", "w2"})
    events = book.replace_rules([rule(objects=1)], clock.wall)
    assert [(e.kind, e.alert.object) for e in events] == [("cleared", SUPPORT)]
    assert [a.object for a in book.active()] == [SALES]
    assert book.rules == 1


def test_rule_states_say_what_every_rule_is_doing_even_when_nothing_fired() -> None:
    """Every rule is listed in the layout's order, a quiet one and one that watches nothing
    too, with its objects counted as pending (`for:` running), raised and acknowledged."""
    backlog = rule(hold=30, objects=2)
    empty = replace(rule(), name="Nobody", targets=())
    book, values, clock = AlertBook([backlog, empty], 2.0), Values({"w1": 1, "w2": 1}), Clock()
    states = [
        (s.rule.name, s.watched, s.holding, s.raised, s.acknowledged) for s in book.rule_states()
    ]
    assert states == [("Backlog", 2, 0, 0, 0), ("Nobody", 0, 0, 0, 0)]
    values.numbers.update(w1=7, w2=7)
    step(book, values, clock, {"w1", "w2"})
    assert [(s.holding, s.raised) for s in book.rule_states()] == [(2, 0), (0, 0)]
    clock.advance(30)
    step(book, values, clock)
    book.acknowledge([("Backlog", SALES.type, SALES.id)], clock.wall)
    (backlog_state, _) = book.rule_states()
    assert (backlog_state.holding, backlog_state.raised, backlog_state.acknowledged) == (0, 1, 1)


def timed(window: str, *, hold: float = 0.0) -> AlertView:
    """`rule()` that is on only inside `window`, read in UTC (the clock starts at 22:15 UTC,
    a Tuesday)."""
    return replace(rule(hold=hold), active=ActiveHours((parse_window(window),), "UTC"))


def test_outside_its_window_a_rule_neither_raises_nor_holds() -> None:
    """On a Tuesday a Monday-only rule raises nothing and runs no `for:` delay; the book
    says it is off-hours."""
    book, clock = AlertBook([timed("Mon 08:00-20:00", hold=10)], 2.0), Clock()
    values = Values({"w1": 7})
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(60)
    assert step(book, values, clock, {"w1"}) == []
    assert book.active() == []
    assert book.off_hours() == ["Backlog"]


def test_a_standing_alert_clears_when_its_window_closes() -> None:
    """At 22:30 an alert raised at 22:15 under `22:00-22:30` clears with why=off-hours,
    though its condition still holds, and nothing rises again after the close."""
    book, clock = AlertBook([timed("22:00-22:30")], 2.0), Clock()
    values = Values({"w1": 7})
    assert step(book, values, clock, {"w1"}) == ["raised"]
    assert book.off_hours() == []
    clock.advance(15 * 60)
    events = book.evaluate(values, set(), clock.now, clock.wall)
    assert [(e.kind, e.why) for e in events] == [("cleared", "off-hours")]
    assert book.active() == [] and book.history()[0].cleared_at == clock.wall
    assert step(book, values, clock, {"w1"}) == []


def test_a_window_that_opens_judges_values_that_stood_still() -> None:
    """A value at alarm since before 22:20 raises at the first tick after `22:20-23:00`
    opens, with no new value arriving."""
    book, clock = AlertBook([timed("22:20-23:00")], 2.0), Clock()
    values = Values({"w1": 7})
    assert step(book, values, clock, {"w1"}) == []
    clock.advance(5 * 60)
    assert step(book, values, clock) == ["raised"]
    assert book.off_hours() == []


def test_an_off_hours_clear_is_logged_with_why() -> None:
    """The log's record of a window closing says `"why": "off-hours"`; others have no why."""
    book, clock = AlertBook([timed("22:00-22:30")], 2.0), Clock()
    values = Values({"w1": 7})
    raised = book.evaluate(values, {"w1"}, clock.now, clock.wall)
    clock.advance(15 * 60)
    cleared = book.evaluate(values, set(), clock.now, clock.wall)
    assert "why" not in log_record(raised[0])
    assert log_record(cleared[0])["why"] == "off-hours"
