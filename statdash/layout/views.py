"""A compiled layout as live/ and ui/ read it: rows, columns, widgets, pages, alert rules,
derived statistics, and `CompiledLayout` that holds them all.

Every value here is resolved (statisticIds, labels, formats, thresholds) and immutable;
`statdash.layout.compile` builds them from a validated layout. Nothing here reads a file or
talks to a server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from statdash.api.models import (
    SubscriptionItem,
    SubscriptionItems,
    SubscriptionRequest,
)
from statdash.api.values import AgentStateValue, StatValue
from statdash.layout.formats import (
    LOGGED_OUT,
    FormatName,
    Level,
    StateStyle,
    Thresholds,
    number_of,
    state_style,
)
from statdash.layout.formulas import Aggregate, Formula
from statdash.layout.hours import ActiveHours
from statdash.layout.problems import SourceLocation
from statdash.layout.source import LayoutSource
from statdash.layout.vocabulary import (
    AlertActionName,
    AlertLevelName,
    TableOrderName,
    TrendStyleName,
    UpdatesName,
)

# --- Small value types ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowObject:
    """An object a widget shows: its id, API objectType (Agent, Queue, ...) and display label."""

    id: str
    type: str
    label: str


# --- Views: what the UI shows, resolved -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnView:
    """One column of a table, resolved: every default applied, width in cells."""

    index: int
    label: str
    format: FormatName
    decimals: int
    width: int
    priority: int
    thresholds: Thresholds | None
    statistic: str
    location: SourceLocation
    fixed_width: bool = False
    """The layout gave `width:`: the column is that wide, whatever its content."""


@dataclass(frozen=True, slots=True)
class TableView:
    """An agents or queues table: ordered rows, ordered columns, a statisticId per cell.

    In an agents table the first column is the state column (format `state`) unless the
    layout hid it; the row label (agent id or label) is the fixed first column of the UI.
    """

    kind: Literal["agents", "queues"]
    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    rows: tuple[RowObject, ...]
    columns: tuple[ColumnView, ...]
    cells: Mapping[tuple[str, str, int], str] = field(repr=False)
    hidden_states: frozenset[str] = frozenset()
    """Agents in these states are left out (status names, and numbers as text)."""
    order: TableOrderName = "layout"
    """attention: rows at alarm first, then at warning, each in the layout's (or sort) order."""
    page_every: float | None = None
    """Seconds each page of rows stays when the table is longer than its widget (None: it
    scrolls, and never pages itself)."""

    def stat_id(self, row: RowObject, column: ColumnView) -> str:
        """The statisticId of one cell."""
        return self.cells[(row.type, row.id, column.index)]


@dataclass(frozen=True, slots=True)
class KpiView:
    """One statistic of one object as a big figure, with thresholds and an optional trend line."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    object: RowObject
    stat_id: str
    label: str
    format: FormatName
    decimals: int
    thresholds: Thresholds | None
    trend_window: float | None

    @property
    def trend(self) -> bool:
        """True when a trend line is drawn under the figure (over `trend_window` seconds)."""
        return self.trend_window is not None


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One line of a trend."""

    label: str
    stat_id: str
    object: RowObject
    location: SourceLocation


@dataclass(frozen=True, slots=True)
class TrendView:
    """History of statistics over `window` seconds, as sparklines or a chart."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    series: tuple[SeriesView, ...]
    window: float
    style: TrendStyleName
    format: FormatName
    decimals: int


@dataclass(frozen=True, slots=True)
class StatesView:
    """How many agents are in each state: the state statisticId of every agent."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    agents: tuple[tuple[RowObject, str], ...]


@dataclass(frozen=True, slots=True)
class ClockView:
    """The time of day: with seconds or not, with the date or not, in a zone or local time."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    seconds: bool
    date: bool
    timezone: str | None
    """An IANA zone name; None for the computer's own time zone."""


@dataclass(frozen=True, slots=True)
class TextView:
    """A message from the layout (lines separated by newlines)."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    message: str


# The view of one widget, whichever its kind.
@dataclass(frozen=True, slots=True)
class TopView:
    """A leaderboard: `count` of `rows` ranked by one statistic (or formula) each."""

    title: str | None
    span: int
    height: int | None
    location: SourceLocation
    rows: tuple[RowObject, ...]
    stat_ids: tuple[str, ...]
    """The ranked figure of each row, in `rows` order (which breaks ties)."""
    label: str
    format: FormatName
    decimals: int
    thresholds: Thresholds | None
    count: int
    descending: bool


View = TableView | KpiView | TopView | TrendView | StatesView | ClockView | TextView


@dataclass(frozen=True, slots=True)
class PageView:
    """A page: a grid of `columns`, widgets in reading order (each spans `widget.span`)."""

    title: str
    columns: int
    widgets: tuple[View, ...]
    show_for: float | None = None
    """Seconds this page stays on screen while the pages rotate (None: not rotating)."""


@dataclass(frozen=True, slots=True)
class StatOrigin:
    """What a statisticId asks for and where in the file it was asked for (first use first)."""

    statistic_id: str
    object: RowObject
    statistic: str
    locations: tuple[SourceLocation, ...]
    path: str

    @property
    def location(self) -> SourceLocation:
        """Where it was first asked for."""
        return self.locations[0]


# --- Alerts: rules compiled, one target per watched object -----------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a condition says about one object's current values."""

    holds: bool | None
    """True or False; None when the values cannot say (an input missing or not a number)."""
    value: float | str | None
    """The figure the alert is about (shown, logged), when there is one."""


class Condition(Protocol):
    """A rule's condition over the current values of its inputs, in the target's order."""

    def __call__(self, values: tuple[StatValue | None, ...]) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class ThresholdCondition:
    """`alert: true` on a threshold: the first input is at the alarm level.

    A second input, when given, is the agent's state: a logged-out agent's figures raise
    nothing unless the thresholds say `when_logged_out` (as they colour nothing either).
    """

    thresholds: Thresholds

    def __call__(self, values: tuple[StatValue | None, ...]) -> Verdict:
        figure = number_of(values[0])
        if figure is None:
            return Verdict(None, None)
        if len(values) > 1:
            state = values[1]
            if state is None:
                return Verdict(None, figure)
            if isinstance(state, AgentStateValue) and state.status == LOGGED_OUT:
                return Verdict(False, figure)
        return Verdict(self.thresholds.level(figure) is Level.ALARM, figure)


@dataclass(frozen=True, slots=True)
class FormulaCondition:
    """A rule's `when:`: the first input is the formula's result as the store holds it (true
    1, false 0, n/a); the second, when there is one, the figure the alert is about (the
    comparison's left side), else the result itself is that figure."""

    def __call__(self, values: tuple[StatValue | None, ...]) -> Verdict:
        result = number_of(values[0])
        if result is None:
            return Verdict(None, None)
        figure = number_of(values[1]) if len(values) > 1 else result
        return Verdict(result != 0, figure)


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """One object a rule watches: the statisticIds its condition reads, in order."""

    object: RowObject
    inputs: tuple[str, ...]
    condition: Condition = field(compare=False)


@dataclass(frozen=True, slots=True)
class CommandAction:
    """Run `argv` (no shell) with the alert as JSON on stdin, killed after `timeout` seconds."""

    argv: tuple[str, ...]
    timeout: float


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """Post the alert as JSON to `url`, or to the URL in environment variable `env`.

    The URL is a secret (a chat tool's token is in it): it is kept out of `repr`, and
    messages name the webhook by its host or its variable (`statdash.live.alerts.webhook`).
    """

    url: str | None = field(repr=False)
    env: str | None
    timeout: float
    location: SourceLocation = field(compare=False)
    """Where the action is written, for a message about it."""


AlertAction = AlertActionName | CommandAction | WebhookAction


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert rule, resolved: delays in seconds, actions, and every object it watches."""

    name: str
    level: AlertLevelName
    hold: float
    """Seconds the condition must hold before the alert is raised."""
    clear_after: float
    """Seconds the condition must be over before the alert clears."""
    repeat: float
    """Seconds between repeated actions while raised and not acknowledged (0: once)."""
    quiet: bool
    actions: tuple[AlertAction, ...]
    targets: tuple[AlertTarget, ...]
    location: SourceLocation
    format: FormatName | None = None
    """How the alert's figure is shown: its statistic's format (None: as computed)."""
    decimals: int = 0
    worse: Literal["higher", "lower"] | None = None
    """Which way the figure gets worse: the episode's worst value is kept (None: unknown)."""
    when: str = ""
    """The condition as the layout writes it (`waiting > 5`), for the alerts screen."""
    active: ActiveHours | None = None
    """When the rule is on (its `active:` windows, else alert_settings'); None: always."""


@dataclass(frozen=True, slots=True)
class FormulaStat:
    """A statistic the dashboard computes for one object from a formula."""

    statistic_id: str
    object: RowObject
    formula: Formula
    inputs: Mapping[str, str]
    """Each name the formula reads for its object -> that statistic's id (server or derived)."""
    aggregates: tuple[str, ...]
    """The id of each of its aggregates (`AggregateStat`), in `formula.aggregates` order."""

    @property
    def reads(self) -> frozenset[str]:
        """The ids whose values it is computed from directly."""
        return frozenset(self.inputs.values()) | frozenset(self.aggregates)


@dataclass(frozen=True, slots=True)
class AggregateStat:
    """One aggregate of a formula (`sum(waiting)`) over a set of objects: one figure for all."""

    statistic_id: str
    aggregate: Aggregate
    members: tuple[Mapping[str, str], ...]
    """Per object of the set: each name the aggregate's argument reads -> its statistic id."""

    @property
    def reads(self) -> frozenset[str]:
        """The ids whose values it is computed from directly."""
        return frozenset(stat_id for member in self.members for stat_id in member.values())


# A statistic the dashboard computes rather than asks of the server.
DerivedStat = FormulaStat | AggregateStat


@dataclass(frozen=True, slots=True)
class CompiledLayout:
    """A layout ready to run: what to subscribe to, and how every widget shows it."""

    file: str
    title: str
    refresh: float
    pages: tuple[PageView, ...]
    items: tuple[SubscriptionItem, ...]
    origins: Mapping[str, StatOrigin]
    state_styles: Mapping[str, StateStyle]
    reasons: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Not-ready reason code (as text) -> the name shown (the layout's `reasons:`)."""
    alerts: tuple[AlertView, ...] = ()
    alert_log: str | None = None
    """The layout's alert log file (`alert_settings: log:`), as a path from the working
    directory; `--alert-log` overrides it."""
    updates: UpdatesName = "auto"
    """How values arrive: auto (push, else polling), push or poll."""
    rotate: float | None = None
    """The layout's `rotate:` (seconds per page unless a page says otherwise), if any."""

    @property
    def rotates(self) -> bool:
        """True when the pages cycle on their own (at least two of them, each with a time)."""
        return len(self.pages) > 1 and all(page.show_for is not None for page in self.pages)

    derived: Mapping[str, DerivedStat] = field(default_factory=lambda: MappingProxyType({}))
    """The statistics computed from formulas, by id, each after everything it reads."""
    source: LayoutSource | None = field(default=None, compare=False, repr=False)
    """The text the layout was compiled from (what a recording stores), when it was read."""

    def state_style(self, status: str, code: int | None = None) -> StateStyle:
        """The style of an agent status; a status the server sent as number `code` takes the
        layout's `states:` entry for that number first (middleware that renumbers).
        An unknown status is shown as it came, in grey."""
        if code is not None:
            numbered = self.state_styles.get(str(code))
            if numbered is not None:
                return numbered
        return self.state_styles.get(status) or state_style(status)

    def reason_text(self, reason: str) -> str:
        """A Not-ready reason as shown: a code the layout's `reasons:` names, by its name."""
        return self.reasons.get(reason, reason)

    def subscription_request(self, operation_id: str | None = None) -> SubscriptionRequest:
        """The body of POST /subscriptions with every item (a fresh UUID unless given)."""
        return SubscriptionRequest(
            operation_id=operation_id or str(uuid.uuid4()),
            data=SubscriptionItems(statistics=list(self.items)),
        )

    def secrets(self) -> frozenset[str]:
        """The secrets written in the layout's text (webhook URLs), to keep out of copies of
        it such as a recording's."""
        return frozenset(
            action.url
            for rule in self.alerts
            for action in rule.actions
            if isinstance(action, WebhookAction) and action.url is not None
        )

    def widgets(self) -> Iterator[View]:
        """Every widget of every page, in order."""
        for page in self.pages:
            yield from page.widgets

    @property
    def object_count(self) -> int:
        """How many distinct objects the layout watches."""
        return len({(o.object.type, o.object.id) for o in self.origins.values()})
