"""A validated `Layout` -> `CompiledLayout`: the subscription and a view of every widget.

This is the contract between the layout file and everything live: the session subscribes to
`CompiledLayout.items`; each panel reads its values from the store by the statisticIds its
view names; `origins` says which line of the file asked for each statistic, so a server's
rejection can be reported as `file:line:column`.

One name per idea, across the layers, spec -> view -> widget:
- `XxxSpec` (`statdash.layout.specs`): what the layout file says, validated (`KpiSpec`,
  `ColumnSpec`, `PageSpec`; the union of widget specs is `WidgetSpec`).
- `XxxView` (`statdash.layout.views`, built here): the same part compiled and resolved,
  every default applied and every statistic an id (`KpiView`, `ColumnView`, `PageView`; the
  union of widget views is `View`).
  Plain frozen data, no Textual.
- Textual classes (`statdash.ui`): a view is drawn by its page-level `XxxPanel`
  (`statdash.ui.panels`), built on a drawing widget with a descriptive name (`KpiTile`,
  `LiveTable`, `TrendChart`, `TrendPlot`, `StateSummary`); a `PageView` by a `PageGrid`.

Thresholds, state styles and format names are `statdash.layout.formats`'s, so the widgets evaluate
and draw exactly what the layout said.

Formulas compile into derived statistics (`FormulaStat` per object, `AggregateStat` per
aggregate over a set of objects) with ids of their own (`f_` + 12 hex digits over what they
are computed from), listed in `CompiledLayout.derived` inputs first; their server inputs are
subscribed like any other statistic, once, even when no widget shows them.

Statistic ids are `s_` + 12 hex digits of a SHA-256 over the canonical JSON of (objectType,
objectId, statistic), so the same layout always yields the same ids and the same (object,
statistic) pair, asked for by several widgets, is subscribed once. Everything here is
immutable: frozen dataclasses, tuples and read-only mappings.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from statdash.api.models import (
    StatisticDefinition,
    SubscriptionItem,
)
from statdash.layout.formats import (
    FormatName,
    Thresholds,
    duration,
    matching_states,
)
from statdash.layout.formulas import Aggregate, Comparison, Formula, Name, Number
from statdash.layout.hours import ActiveHours, Window
from statdash.layout.problems import SourceLocation
from statdash.layout.specs import (
    ActionEntry,
    AgentsRef,
    AgentsSpec,
    AlertSettingsSpec,
    AlertSpec,
    ClockSpec,
    ColumnSpec,
    CommandActionSpec,
    KpiSpec,
    Layout,
    ObjectRef,
    QueuesSpec,
    StatesSpec,
    StatisticDecl,
    StatSource,
    TextSpec,
    ThresholdsSpec,
    TopSpec,
    TrendSpec,
    WidgetSpec,
    entry_id,
)
from statdash.layout.views import (
    AggregateStat,
    AlertAction,
    AlertTarget,
    AlertView,
    ClockView,
    ColumnView,
    CommandAction,
    CompiledLayout,
    DerivedStat,
    FormulaCondition,
    FormulaStat,
    KpiView,
    PageView,
    RowObject,
    SeriesView,
    StatesView,
    StatOrigin,
    TableView,
    TextView,
    ThresholdCondition,
    TopView,
    TrendView,
    View,
    WebhookAction,
)
from statdash.layout.vocabulary import (
    DEFAULT_PRIORITY,
    OBJECT_TYPES,
)
from statdash.layout.yamlsource import Located, format_path

ID_PREFIX = "s_"
DERIVED_ID_PREFIX = "f_"
ID_HEX_DIGITS = 12

# Cells a value of each format needs, before the label's own width is considered.
DEFAULT_WIDTHS: Mapping[str, int] = MappingProxyType(
    {"integer": 6, "decimal": 7, "percent": 6, "duration": 8, "state": 18, "text": 12}
)
DEFAULT_DECIMALS: Mapping[str, int] = MappingProxyType({"decimal": 1, "percent": 0})
STATE_COLUMN_LABEL = "State"
# Priority of columns that are never dropped for width (the agent state column).
KEEP_ALWAYS = 0


# --- Compiling -----------------------------------------------------------------------------


# One encoder: `json.dumps` with these options builds a new one on every call, and a floor
# compiles each of its ~10,000 ids from three of them.
_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class _Stat:
    """A statistic as subscribed: a predefined name or a definition, plus how to call it.

    With `formula`, it is computed here instead (name and definition are None).
    """

    name: str | None
    definition: StatisticDefinition | None
    description: str
    formula: Formula | None = None
    # Its canonical JSON, encoded once: a floor compiles it into thousands of ids.
    canonical: str = field(init=False)

    def __post_init__(self) -> None:
        spec = {"definition": self.definition.to_wire()} if self.definition else {"name": self.name}
        object.__setattr__(self, "canonical", _json(spec))


def _canonical(object_type: str, object_id: str, statistic_json: str) -> str:
    # Exactly _json({"objectId", "objectType", "statistic"}): the keys are in sorted order.
    return (
        f'{{"objectId":{_json(object_id)},"objectType":{_json(object_type)},'
        f'"statistic":{statistic_json}}}'
    )


def _digest(canonical: str, digits: int, prefix: str = ID_PREFIX) -> str:
    return prefix + hashlib.sha256(canonical.encode()).hexdigest()[:digits]


@dataclass(frozen=True, slots=True)
class _Objects:
    """The objects a bare aggregate (`sum(waiting)`) runs over: the widget's, or a list's."""

    rows: tuple[RowObject, ...]
    key: str
    """Tells object sets apart in the compiler's memo (a digest of the rows, or the list)."""

    @classmethod
    def of(cls, rows: tuple[RowObject, ...]) -> _Objects:
        ids = _json([[row.type, row.id] for row in rows])
        return cls(rows, hashlib.sha256(ids.encode()).hexdigest())


def statistic_id(object_type: str, object_id: str, statistic: Mapping[str, object]) -> str:
    """The stable id of (object, statistic): `s_` + 12 hex digits of its canonical JSON.

    `statistic` is `{"name": ...}` or `{"definition": {...wire fields...}}`.
    """
    return _digest(_canonical(object_type, object_id, _json(statistic)), ID_HEX_DIGITS)


class _Compiler:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.items: dict[str, SubscriptionItem] = {}
        self.keys: dict[str, str] = {}
        self.origins: dict[str, tuple[RowObject, str, list[SourceLocation], str]] = {}
        # `alert: true` thresholds: rule name -> (where first asked for, targets by object).
        self.threshold_alerts: dict[
            str, tuple[SourceLocation, dict[tuple[str, str], AlertTarget]]
        ] = {}
        # `alert: true` rule name -> the thresholds it judges by (format, decimals, direction).
        self.threshold_rules: dict[str, Thresholds] = {}
        self.derived: dict[str, DerivedStat] = {}
        self.derived_memo: dict[tuple[int, str, str, str], str] = {}

    # Statistics and their ids.

    def resolve(self, ref: str | StatSource) -> tuple[_Stat, StatisticDecl | None]:
        if isinstance(ref, str) and ref.startswith("$"):
            declaration = self.layout.statistics[ref[1:]]
            return self.source(declaration, ref[1:]), declaration
        if isinstance(ref, str):
            return _Stat(ref, None, ref), None
        return self.source(ref), None

    @staticmethod
    def source(source: StatSource, declared_as: str | None = None) -> _Stat:
        if source.formula is not None:
            return _Stat(None, None, declared_as or source.describe(), source.formula)
        if source.name is not None:
            return _Stat(source.name, None, source.name)
        return _Stat(None, source.definition(), source.describe())

    def subscribe(
        self, row: RowObject, stat: _Stat, located: Located, objects: _Objects | None = None
    ) -> str:
        """The statisticId of (row, stat), adding the item the first time it is asked for.

        A formula is compiled into derived statistics instead; `objects` are the widget's,
        which its bare aggregates run over (default: the row alone).
        """
        if stat.formula is not None:
            return self.derive(row, stat.formula, objects or _Objects.of((row,)))
        canonical = _canonical(row.type, row.id, stat.canonical)
        digits = ID_HEX_DIGITS
        stat_id = _digest(canonical, digits)
        # Two different pairs on the same 48-bit id are unlikely, but never merged: the later
        # one (in file order, so still deterministic) takes a longer id.
        while stat_id in self.keys and self.keys[stat_id] != canonical:
            digits += 4
            stat_id = _digest(canonical, digits)
        if stat_id not in self.keys:
            self.keys[stat_id] = canonical
            self.items[stat_id] = SubscriptionItem(
                statistic_id=stat_id,
                object_id=row.id,
                object_type=row.type,
                name=stat.name,
                definition=stat.definition,
            )
            self.origins[stat_id] = (row, stat.description, [located.location], located.path)
        else:
            locations = self.origins[stat_id][2]
            if located.location not in locations:
                locations.append(located.location)
        return stat_id

    # Formulas.

    def input_of(self, row: RowObject, name: str, objects: _Objects) -> str:
        """The id of declared statistic `name` of `row`, as a formula's input."""
        stat, _ = self.resolve("$" + name)
        # A server's refusal of an input points at the input's declaration.
        return self.subscribe(row, stat, self.layout.locate(("statistics", name)), objects)

    def add_derived(self, canonical: str, make: Callable[[str], DerivedStat]) -> str:
        stat_id = _digest(canonical, ID_HEX_DIGITS, DERIVED_ID_PREFIX)
        digits = ID_HEX_DIGITS
        while stat_id in self.keys and self.keys[stat_id] != canonical:
            digits += 4
            stat_id = _digest(canonical, digits, DERIVED_ID_PREFIX)
        if stat_id not in self.keys:
            self.keys[stat_id] = canonical
            # After its inputs (compiled above): `derived` stays in dependency order.
            self.derived[stat_id] = make(stat_id)
        return stat_id

    def formula_ids(self, formula: Formula, rows: tuple[RowObject, ...]) -> tuple[str, ...]:
        """The derived statistic id of `formula` for each of `rows`, its inputs subscribed.

        For parts of a layout that evaluate a formula per object outside any widget (alert
        rules): bare aggregates run over `rows`; the values land in the store like a column's.
        """
        objects = _Objects.of(rows)
        return tuple(self.derive(row, formula, objects) for row in rows)

    def derive(self, row: RowObject, formula: Formula, objects: _Objects) -> str:
        """The id of `formula` computed for `row`, compiling it (and its inputs) once."""
        memo = (id(formula), row.type, row.id, objects.key)
        known = self.derived_memo.get(memo)
        if known is not None:
            return known
        inputs = {name: self.input_of(row, name, objects) for name in sorted(formula.object_names)}
        aggregates = tuple(self.aggregate(node, objects) for node in formula.aggregates)
        canonical = _json(
            {
                "formula": formula.text,
                "object": [row.type, row.id],
                "inputs": inputs,
                "aggregates": aggregates,
            }
        )
        # Only what it reads directly: the server statistics behind an aggregate are the
        # aggregate's, never copied into each of its N objects' formulas (N x N entries).
        stat_id = self.add_derived(
            canonical,
            lambda stat_id: FormulaStat(
                stat_id, row, formula, MappingProxyType(inputs), aggregates
            ),
        )
        self.derived_memo[memo] = stat_id
        return stat_id

    def aggregate(self, node: Aggregate, objects: _Objects) -> str:
        """The id of one aggregate over the widget's objects or over a declared list."""
        if node.objects is not None:
            objects = _Objects(self.object_list(node.objects), "list:" + node.objects)
        memo = (id(node), "", "", objects.key)
        known = self.derived_memo.get(memo)
        if known is not None:
            return known
        names = sorted(node.argument.names)
        members = tuple(
            MappingProxyType({name: self.input_of(row, name, objects) for name in names})
            for row in objects.rows
        )
        canonical = _json(
            {
                "aggregate": node.function,
                "argument": node.argument.text,
                "members": [dict(member) for member in members],
            }
        )
        stat_id = self.add_derived(canonical, lambda stat_id: AggregateStat(stat_id, node, members))
        self.derived_memo[memo] = stat_id
        return stat_id

    # Objects.

    def agents(self, ref: AgentsRef) -> tuple[RowObject, ...]:
        if isinstance(ref, str):
            return self.object_list(ref)
        rows = []
        for entry in ref:
            label = None if isinstance(entry, str) else entry.label
            rows.append(RowObject(entry_id(entry), "Agent", label or entry_id(entry)))
        return tuple(rows)

    def object_list(self, name: str) -> tuple[RowObject, ...]:
        declared = self.layout.objects[name]
        object_type = OBJECT_TYPES[declared.type]
        return tuple(RowObject(i, object_type, label or i) for i, label in declared.entries())

    @staticmethod
    def object(ref: ObjectRef) -> RowObject:
        return RowObject(ref.object_id, OBJECT_TYPES[ref.kind], ref.label or ref.object_id)

    # Widgets: each spec -> its view.

    def view(self, spec: WidgetSpec, at: tuple[str | int, ...]) -> View:
        if isinstance(spec, AgentsSpec | QueuesSpec):
            return self.table(spec, at)
        if isinstance(spec, KpiSpec):
            return self.kpi(spec, at)
        if isinstance(spec, TopSpec):
            return self.top(spec, at)
        if isinstance(spec, TrendSpec):
            return self.trend(spec, at)
        if isinstance(spec, ClockSpec):
            return ClockView(
                title=spec.title,
                span=spec.span,
                height=spec.height,
                location=self.layout.locate(at).location,
                seconds=spec.seconds,
                date=spec.date,
                timezone=spec.timezone or self.layout.timezone,
            )
        if isinstance(spec, TextSpec):
            return TextView(
                title=spec.title,
                span=spec.span,
                height=spec.height,
                location=self.layout.locate(at).location,
                message=spec.message,
            )
        return self.states(spec, at)

    def table(self, spec: AgentsSpec | QueuesSpec, at: tuple[str | int, ...]) -> TableView:
        if isinstance(spec, AgentsSpec):
            rows = self.agents(spec.agents)
        elif isinstance(spec.objects, str):
            rows = self.object_list(spec.objects)
        else:
            rows = tuple(self.object(o) for o in spec.objects)
        # (column spec, key path of its entry), in display order.
        entries: list[tuple[str | ColumnSpec, tuple[str | int, ...]]] = []
        has_state = isinstance(spec, AgentsSpec) and spec.state is not None
        if isinstance(spec, AgentsSpec) and spec.state is not None:
            entries.append((_shorthand(spec.state), (*at, "state")))
        if spec.column_set is not None:
            entries.extend(
                (entry, ("column_sets", spec.column_set, i))
                for i, entry in enumerate(self.layout.column_sets[spec.column_set])
            )
        entries.extend((entry, (*at, "columns", i)) for i, entry in enumerate(spec.columns))
        columns: list[ColumnView] = []
        cells: dict[tuple[str, str, int], str] = {}
        objects = _Objects.of(rows)
        for index, (entry, where) in enumerate(entries):
            is_state = has_state and index == 0
            column_spec = entry if isinstance(entry, ColumnSpec) else _shorthand(entry)
            stat, declaration = self.resolve(column_spec.stat)
            located = self.layout.locate(where)
            column = self.column(index, column_spec, stat, declaration, located, is_state)
            columns.append(column)
            for row in rows:
                cells[(row.type, row.id, index)] = self.subscribe(row, stat, located, objects)
            if column.thresholds is not None and _alerting(column_spec.thresholds, declaration):
                for row in rows:
                    inputs = [cells[(row.type, row.id, index)]]
                    if has_state and not column.thresholds.when_logged_out:
                        inputs.append(cells[(row.type, row.id, 0)])
                    self.threshold_alert(column.label, column, row, tuple(inputs))
        return TableView(
            kind=spec.kind,
            title=spec.title,
            span=spec.span,
            height=spec.height,
            location=self.layout.locate(at).location,
            rows=rows,
            columns=tuple(columns),
            cells=MappingProxyType(cells),
            hidden_states=self.hidden_states(spec.hide)
            if isinstance(spec, AgentsSpec)
            else frozenset(),
            order=spec.order,
            page_every=spec.page_rows,
        )

    def hidden_states(self, names: list[str]) -> frozenset[str]:
        """Every status (and number) the names of `hide:` mean."""
        styles = self.layout.state_styles()
        return frozenset().union(*(matching_states(name, styles) for name in names))

    def column(
        self,
        index: int,
        spec: ColumnSpec,
        stat: _Stat,
        declaration: StatisticDecl | None,
        located: Located,
        is_state: bool,
    ) -> ColumnView:
        fmt: FormatName = "state" if is_state else _format(spec.format, declaration)
        label = (
            STATE_COLUMN_LABEL
            if is_state
            else spec.label or (declaration.label if declaration else None) or stat.description
        )
        width = spec.width or max(len(label), DEFAULT_WIDTHS[fmt])
        return ColumnView(
            index=index,
            label=label,
            format=fmt,
            decimals=_decimals(fmt, spec.decimals, declaration),
            width=width,
            priority=KEEP_ALWAYS if is_state else (spec.priority or DEFAULT_PRIORITY),
            thresholds=_thresholds(
                spec.thresholds, declaration, fmt, _decimals(fmt, spec.decimals, declaration)
            ),
            statistic=stat.description,
            location=located.location,
            fixed_width=spec.width is not None,
        )

    def kpi(self, spec: KpiSpec, at: tuple[str | int, ...]) -> KpiView:
        stat, declaration = self.resolve(spec.stat)
        row = self.object(spec.object)
        fmt = _format(spec.format, declaration)
        view = KpiView(
            title=spec.title,
            span=spec.span,
            height=spec.height,
            location=self.layout.locate(at).location,
            object=row,
            stat_id=self.subscribe(row, stat, self.layout.locate((*at, "stat"))),
            label=spec.label or (declaration.label if declaration else None) or stat.description,
            format=fmt,
            decimals=_decimals(fmt, spec.decimals, declaration),
            thresholds=_thresholds(
                spec.thresholds, declaration, fmt, _decimals(fmt, spec.decimals, declaration)
            ),
            trend_window=spec.trend,
        )
        if view.thresholds is not None and _alerting(spec.thresholds, declaration):
            self.threshold_alert(view.label, view, row, (view.stat_id,))
        return view

    def top(self, spec: TopSpec, at: tuple[str | int, ...]) -> TopView:
        """A leaderboard: its objects, and the figure each is ranked by."""
        if isinstance(spec.objects, str):
            rows = self.object_list(spec.objects)
        else:
            rows = tuple(self.object(ref) for ref in spec.objects)
        stat, declaration = self.resolve(spec.by)
        located = self.layout.locate((*at, "by"))
        # A formula's bare aggregates (`sum(calls)`) run over the board's objects.
        objects = _Objects.of(rows)
        fmt = _format(spec.format, declaration)
        decimals = _decimals(fmt, spec.decimals, declaration)
        return TopView(
            title=spec.title,
            span=spec.span,
            height=spec.height,
            location=self.layout.locate(at).location,
            rows=rows,
            stat_ids=tuple(self.subscribe(row, stat, located, objects) for row in rows),
            label=spec.label or (declaration.label if declaration else None) or stat.description,
            format=fmt,
            decimals=decimals,
            thresholds=_thresholds(spec.thresholds, declaration, fmt, decimals),
            count=spec.count,
            descending=spec.order == "desc",
        )

    # Alerts.

    def threshold_alert(
        self, label: str, shown: ColumnView | KpiView, row: RowObject, inputs: tuple[str, ...]
    ) -> None:
        """Watch `row` for the alarm level of a use's thresholds (`alert: true`)."""
        thresholds = shown.thresholds
        assert thresholds is not None and thresholds.alarm is not None
        mark = "\u2265" if thresholds.direction == "above" else "\u2264"
        name = f"{label} {mark} {_limit_text(thresholds.alarm, shown.format)}"
        _, targets = self.threshold_alerts.setdefault(name, (shown.location, {}))
        self.threshold_rules.setdefault(name, thresholds)
        # The same object under the same rule once, whichever widget asked first.
        targets.setdefault(
            (row.type, row.id), AlertTarget(row, inputs, ThresholdCondition(thresholds))
        )

    def rule_view(self, index: int, spec: AlertSpec) -> AlertView:
        """A rule of `alerts:`: its formula compiled per object, the settings filled in."""
        settings = self.layout.alert_settings
        formula = spec.when
        rows = self.rule_rows(spec, formula)
        results = self.formula_ids(formula, rows)
        side = _left_side(formula)
        figures = self.formula_ids(side, rows) if side is not None else None
        condition = FormulaCondition()
        targets = tuple(
            AlertTarget(row, (result,) if figures is None else (result, figures[i]), condition)
            for i, (row, result) in enumerate(zip(rows, results, strict=True))
        )
        fmt, decimals = self.figure_format(side)
        return AlertView(
            name=spec.name,
            level=spec.level,
            hold=settings.hold if spec.hold is None else spec.hold,
            clear_after=settings.clear_after if spec.clear_after is None else spec.clear_after,
            repeat=settings.repeat if spec.repeat is None else spec.repeat,
            quiet=settings.quiet if spec.quiet is None else spec.quiet,
            actions=(
                _actions(self.layout, settings.actions, ("alert_settings", "actions"))
                if spec.actions is None
                else _actions(self.layout, spec.actions, ("alerts", index, "actions"))
            ),
            targets=targets,
            location=self.layout.locate(("alerts", index)).location,
            format=fmt,
            decimals=decimals,
            worse=_worse(formula),
            when=formula.text,
            active=_active_hours(self.layout, spec.active),
        )

    def figure_format(self, side: Formula | None) -> tuple[FormatName | None, int]:
        """The format of a rule's figure: that of the declared statistic it names, if any."""
        if side is None or not isinstance(side.tree, Name):
            return None, 0
        declaration = self.layout.statistics.get(side.tree.name)
        if declaration is None or declaration.format is None:
            return None, 0
        return declaration.format, _decimals(declaration.format, None, declaration)

    def rule_rows(self, spec: AlertSpec, formula: Formula) -> tuple[RowObject, ...]:
        """The rule's objects, or every object the widgets have every named statistic of."""
        if isinstance(spec.objects, str):
            return self.object_list(spec.objects)
        if spec.objects is not None:
            return tuple(self.object(ref) for ref in spec.objects)
        subscribed = set(self.keys.values())
        derived = {(memo[0], memo[1], memo[2]) for memo in self.derived_memo}
        known: dict[tuple[str, str], RowObject] = {}
        for row, *_ in self.origins.values():
            known.setdefault((row.type, row.id), row)
        for stat in self.derived.values():
            if isinstance(stat, FormulaStat):
                known.setdefault((stat.object.type, stat.object.id), stat.object)
        stats = [self.resolve("$" + name)[0] for name in sorted(formula.names)]

        def has(row: RowObject, stat: _Stat) -> bool:
            if stat.formula is not None:
                return (id(stat.formula), row.type, row.id) in derived
            return _canonical(row.type, row.id, stat.canonical) in subscribed

        return tuple(row for row in known.values() if all(has(row, stat) for stat in stats))

    def alert_views(self) -> tuple[AlertView, ...]:
        """Every alert rule of the layout, `alert: true` thresholds included."""
        settings = self.layout.alert_settings
        actions = _actions(self.layout, settings.actions, ("alert_settings", "actions"))
        rules = [self.rule_view(index, spec) for index, spec in enumerate(self.layout.alerts)]
        views = [
            AlertView(
                name=name,
                level="alarm",
                hold=settings.hold,
                clear_after=settings.clear_after,
                repeat=settings.repeat,
                quiet=settings.quiet,
                actions=actions,
                targets=tuple(targets.values()),
                location=location,
                format=self.threshold_rules[name].format,
                decimals=self.threshold_rules[name].decimals,
                worse="higher" if self.threshold_rules[name].direction == "above" else "lower",
                # The name says the condition (`Prod ≤ 40%`); this says where it comes from.
                when="a threshold with alert: true",
                active=_active_hours(self.layout, None),
            )
            for name, (location, targets) in self.threshold_alerts.items()
        ]
        return (*rules, *views)

    def trend(self, spec: TrendSpec, at: tuple[str | int, ...]) -> TrendView:
        series: list[SeriesView] = []
        first_declaration: StatisticDecl | None = None
        for index, line in enumerate(spec.series):
            stat, declaration = self.resolve(line.stat)
            first_declaration = first_declaration or declaration
            # The model guarantees an object here (the series' own or the spec's).
            ref = line.object or spec.object
            assert ref is not None
            row = self.object(ref)
            name = (declaration.label if declaration else None) or stat.description
            located = self.layout.locate((*at, "series", index))
            series.append(
                SeriesView(
                    label=line.label or f"{row.label} {name}",
                    stat_id=self.subscribe(row, stat, located),
                    object=row,
                    location=located.location,
                )
            )
        fmt = _format(spec.format, first_declaration)
        return TrendView(
            title=spec.title,
            span=spec.span,
            height=spec.height,
            location=self.layout.locate(at).location,
            series=tuple(series),
            window=spec.window,
            style=spec.style,
            format=fmt,
            decimals=_decimals(fmt, None, first_declaration),
        )

    def states(self, spec: StatesSpec, at: tuple[str | int, ...]) -> StatesView:
        stat, _ = self.resolve(spec.state)
        rows = self.agents(spec.agents)
        located = self.layout.locate((*at, "state"))
        objects = _Objects.of(rows)
        return StatesView(
            title=spec.title,
            span=spec.span,
            height=spec.height,
            location=self.layout.locate(at).location,
            agents=tuple((row, self.subscribe(row, stat, located, objects)) for row in rows),
        )


def _shorthand(stat: str | StatSource) -> ColumnSpec:
    # A column given as just a statistic: every display setting takes its default.
    return ColumnSpec.model_construct(stat=stat)


def _format(own: FormatName | None, declaration: StatisticDecl | None) -> FormatName:
    return own or (declaration.format if declaration else None) or "integer"


def _decimals(fmt: str, own: int | None, declaration: StatisticDecl | None) -> int:
    if own is not None:
        return own
    if declaration is not None and declaration.decimals is not None:
        return declaration.decimals
    return DEFAULT_DECIMALS.get(fmt, 0)


def _thresholds(
    own: ThresholdsSpec | None, declaration: StatisticDecl | None, fmt: FormatName, decimals: int
) -> Thresholds | None:
    spec = own or (declaration.thresholds if declaration else None)
    if spec is None:
        return None
    # Judged on the figure as shown, in the dashboard, snapshot, alerts and wallboard alike.
    return Thresholds(
        warn=spec.warn,
        alarm=spec.alarm,
        direction=spec.direction,
        when_logged_out=spec.when_logged_out,
        format=fmt,
        decimals=decimals,
    )


def _worse(formula: Formula) -> Literal["higher", "lower"] | None:
    """Which way a rule's figure gets worse: `waiting > 5` higher, `sl < 80` lower."""
    tree = formula.tree
    if not isinstance(tree, Comparison) or len(tree.operators) != 1:
        return None
    operator = tree.operators[0]
    if operator in (ast.Gt, ast.GtE):
        return "higher"
    if operator in (ast.Lt, ast.LtE):
        return "lower"
    return None


def _left_side(formula: Formula) -> Formula | None:
    """The left side of a comparison (`waiting` of `waiting > 5`), as a formula of its own:
    the figure an alert shows and logs. None when the condition is no comparison."""
    tree = formula.tree
    if not isinstance(tree, Comparison) or isinstance(tree.operands[0], Number):
        return None
    # Same names and aggregates (their indexes hold); its own text, so its own id.
    return Formula(
        f"{formula.text} [left side]",
        tree.operands[0],
        formula.object_names,
        formula.aggregates,
        formula.name_offsets,
    )


def _alerting(own: ThresholdsSpec | None, declaration: StatisticDecl | None) -> bool:
    """True when the thresholds in effect for a use say `alert: true`."""
    spec = own or (declaration.thresholds if declaration else None)
    return spec is not None and spec.alert


def _limit_text(limit: float, fmt: FormatName) -> str:
    """An alarm level as the rule's name shows it: `6`, `1:00`, `70%`."""
    if fmt == "duration":
        return duration(limit)
    return f"{limit:g}%" if fmt == "percent" else f"{limit:g}"


def _actions(
    layout: Layout, entries: list[ActionEntry], at: tuple[str | int, ...]
) -> tuple[AlertAction, ...]:
    """A list of `actions:` (written at key path `at`) as the live side runs them."""
    actions: list[AlertAction] = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            actions.append(entry)
        elif isinstance(entry, CommandActionSpec):
            actions.append(CommandAction(tuple(entry.command), entry.timeout))
        else:
            hook = entry.webhook
            where = layout.locate((*at, index, "webhook")).location
            if isinstance(hook, str):
                actions.append(WebhookAction(hook, None, entry.timeout, where))
            else:
                actions.append(WebhookAction(None, hook.env, entry.timeout, where))
    return tuple(actions)


def _active_hours(layout: Layout, own: Window | list[Window] | None) -> ActiveHours | None:
    """A rule's windows: its own `active:`, else alert_settings', in the layout's zone."""
    windows = layout.alert_settings.active if own is None else own
    if windows is None:
        return None
    listed = (windows,) if isinstance(windows, Window) else tuple(windows)
    return ActiveHours(listed, layout.timezone)


def _alert_log(layout: Layout, settings: AlertSettingsSpec) -> str | None:
    """The layout's alert log path, beside the layout file unless absolute."""
    if settings.log is None:
        return None
    return os.path.join(os.path.dirname(layout.locate(()).location.file), settings.log)


def compile_layout(layout: Layout) -> CompiledLayout:
    """Compile a layout the loader validated; deterministic, and it never talks to a server."""
    compiler = _Compiler(layout)
    pages = []
    for p, page in enumerate(layout.pages):
        widgets = tuple(
            compiler.view(spec, ("pages", p, "widgets", w)) for w, spec in enumerate(page.widgets)
        )
        # A page's time on screen: its own `show_for:`, else the dashboard's `rotate:`.
        show_for = page.show_for if page.show_for is not None else layout.rotate
        pages.append(PageView(page.title or f"Page {p + 1}", page.columns, widgets, show_for))
    # Before the items are taken: a rule's inputs are subscribed even when no widget shows them.
    alerts = compiler.alert_views()
    origins = {
        stat_id: StatOrigin(stat_id, row, description, tuple(locations), path)
        for stat_id, (row, description, locations, path) in compiler.origins.items()
    }
    return CompiledLayout(
        file=layout.locate(()).location.file,
        title=layout.title,
        refresh=layout.refresh,
        pages=tuple(pages),
        items=tuple(compiler.items.values()),
        origins=MappingProxyType(origins),
        state_styles=layout.state_styles(),
        reasons=MappingProxyType(dict(layout.reasons)),
        alerts=alerts,
        alert_log=_alert_log(layout, layout.alert_settings),
        updates=layout.updates,
        rotate=layout.rotate,
        derived=MappingProxyType(compiler.derived),
        source=layout.read_from,
    )


def formula_needs(layout: Layout) -> dict[str, tuple[str, ...]]:
    """Each formula -> the server statistics it is computed from, through other formulas too,
    as `name (ServerStatistic)` in declaration order (for `statdash check`).

    Declared formulas are keyed by name, those written inline in a widget by where they are
    (`pages[0].widgets[1].columns[2]`), in the order of the file.
    """
    declared = layout.statistics
    order = list(declared)

    def needs(formula: Formula, seen: frozenset[str]) -> list[str]:
        found: list[str] = []
        for read in formula.names:
            if read not in declared or read in seen:
                continue
            inner = declared[read].formula
            found.extend([read] if inner is None else needs(inner, seen | {read}))
        return found

    def listed(formula: Formula, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        leaves = sorted(set(needs(formula, seen)), key=order.index)
        return tuple(f"{leaf} ({declared[leaf].describe()})" for leaf in leaves)

    result = {
        name: listed(declaration.formula, frozenset({name}))
        for name, declaration in declared.items()
        if declaration.formula is not None
    }
    for path, formula in _inline_formulas(layout):
        result[format_path(path)] = listed(formula)
    return result


def _inline_formulas(layout: Layout) -> Iterator[tuple[tuple[str | int, ...], Formula]]:
    """Formulas written inline (`stat: {formula: ...}`), with the key path of their use."""

    def of(ref: object) -> Formula | None:
        if isinstance(ref, ColumnSpec):
            ref = ref.stat
        return ref.formula if isinstance(ref, StatSource) else None

    uses: list[tuple[tuple[str | int, ...], object]] = []
    for name, columns in layout.column_sets.items():
        uses.extend((("column_sets", name, i), column) for i, column in enumerate(columns))
    for p, page in enumerate(layout.pages):
        for w, widget in enumerate(page.widgets):
            at = ("pages", p, "widgets", w)
            if isinstance(widget, AgentsSpec | QueuesSpec):
                uses.extend(((*at, "columns", i), c) for i, c in enumerate(widget.columns))
            elif isinstance(widget, KpiSpec):
                uses.append(((*at, "stat"), widget.stat))
            elif isinstance(widget, TrendSpec):
                uses.extend(((*at, "series", i), line.stat) for i, line in enumerate(widget.series))
    for path, ref in uses:
        formula = of(ref)
        if formula is not None:
            yield path, formula
