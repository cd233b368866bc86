"""What a layout file says, as pydantic models: statistics, thresholds, columns, objects, widgets.

`Layout` is the whole file; each widget kind has its `...Spec` (compiled into a `...View` by
`statdash.layout.compile`). The JSON Schema of the language (`statdash schema`) is generated
from these models, so the docstrings below are what an editor shows on hover.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Discriminator, Field, PrivateAttr, Tag
from pydantic_core import InitErrorDetails

from statdash.api.models import StatisticDefinition
from statdash.api.values import STATUS_NUMBERS
from statdash.layout.durations import format_duration, is_duration
from statdash.layout.files import ObjectLine
from statdash.layout.formats import STATE_STYLES, StateStyle, matching_states, state_style
from statdash.layout.formulas import Formula, formula_chains, formula_cycles, unknown_names
from statdash.layout.problems import SourceLocation
from statdash.layout.source import LayoutSource
from statdash.layout.suggest import did_you_mean, one_of
from statdash.layout.validation import (
    LIST_TAG,
    MAPPING_TAG,
    TEXT_TAG,
    ActiveWindow,
    AlertActionWord,
    AlertDelay,
    AlertLevel,
    Colour,
    CommandTimeout,
    DeclaredName,
    Direction,
    EnvName,
    Format,
    FormulaText,
    Glyph,
    Message,
    Node,
    NotificationMode,
    ObjectId,
    ObjectKind,
    PageRows,
    PageTime,
    ReasonCode,
    Refresh,
    Scope,
    StatisticText,
    StatusName,
    TableOrder,
    Text,
    ThresholdValue,
    TimeZone,
    TopOrder,
    TrendOption,
    TrendStyle,
    TrendWindow,
    Updates,
    WebhookTimeout,
    WebhookUrl,
    object_list_name,
    pick_by_shape,
)
from statdash.layout.vocabulary import (
    DECIMAL_FORMATS,
    DEFAULT_ALERT_ACTIONS,
    DEFAULT_ALERT_COMMAND_TIMEOUT,
    DEFAULT_PRIORITY,
    DEFAULT_REFRESH,
    DEFAULT_STATE_STATISTIC,
    DEFAULT_TOP_COUNT,
    DEFAULT_TREND_WINDOW,
    DEFAULT_WEBHOOK_TIMEOUT,
    FORMATS,
    MAX_FORMULA_DEPTH,
    MAX_PAGE_COLUMNS,
    MAX_WIDGETS,
    MIN_TREND_POINTS,
    NUMERIC_FORMATS,
    OBJECT_KINDS,
    QUEUE_TABLE_KINDS,
    TOP_COUNT_BOUNDS,
    WIDGET_KIND_TAG,
    AlertActionName,
)
from statdash.layout.wording import problem_at, shown
from statdash.layout.yamlsource import Located, SourceMap, format_path
from statdash.text import counted

# --- Statistics ----------------------------------------------------------------------------

_DEFINITION_KEYS = (
    "category",
    "subject",
    "mainMask",
    "relativeMask",
    "notificationMode",
    "notificationFrequency",
    "insensitivity",
    "intervalType",
    "intervalLength",
    "dynamicFilter",
    "timeRangeLeft",
    "timeRangeRight",
)


def formula_problems(
    formula: Formula | None, scope: Scope | None, at: tuple[str | int, ...]
) -> Iterator[InitErrorDetails]:
    """Names and object lists a parsed formula (a `FormulaText` field at key path `at`) reads
    that the layout does not declare, each pointing inside the formula, with a did-you-mean."""
    if formula is None or scope is None:
        return
    for issue in unknown_names(formula, scope.statistics, scope.object_lists):
        yield problem_at(at, issue.message, offset=issue.offset)


class StatSource(Node):
    """A statistic: a predefined `name`, or an ad-hoc definition (category, subject, ...)."""

    name: Text | None = None
    """The server's predefined statistic name, e.g. ServiceLevel (any name the server knows)."""
    category: Text | None = Field(
        default=None,
        json_schema_extra={
            "examples": [
                "CurrentState",
                "CurrentNumber",
                "CurrentTime",
                "TotalNumber",
                "TotalTime",
                "TotalAdjustedTime",
                "AverageTime",
                "MaxTime",
                "ServiceFactor1",
                "TotalNumberInTimeRange",
            ]
        },
    )
    """Stat Server category of an ad-hoc statistic, e.g. TotalNumber or ServiceFactor1."""
    subject: Text | None = Field(
        default=None,
        json_schema_extra={
            "examples": [
                "AgentStatus",
                "DNStatus",
                "DNAction",
                "GroupStatus",
                "PlaceStatus",
                "Action",
            ]
        },
    )
    """Stat Server subject, e.g. DNAction or AgentStatus."""
    main_mask: Text | None = Field(default=None, alias="mainMask")
    """Comma list of Stat Server actions counted (`*` all, `~X` excludes); default `*`."""
    relative_mask: Text | None = Field(default=None, alias="relativeMask")
    """Actions of the denominator for relative categories."""
    notification_mode: NotificationMode | None = Field(default=None, alias="notificationMode")
    """When the server recomputes: Immediate, Periodical, Reset or NoNotification."""
    notification_frequency: int | None = Field(
        default=None, alias="notificationFrequency", ge=1, le=3600
    )
    """Seconds between notifications in Periodical mode."""
    insensitivity: int | None = Field(default=None, ge=0)
    """Smallest change that triggers a notification."""
    interval_type: Text | None = Field(
        default=None,
        alias="intervalType",
        json_schema_extra={"examples": ["GrowingWindow", "SlidingWindow"]},
    )
    """Time profile: GrowingWindow or SlidingWindow."""
    interval_length: int | None = Field(default=None, alias="intervalLength", ge=1)
    """Length of a sliding window, in seconds."""
    dynamic_filter: Text | None = Field(default=None, alias="dynamicFilter")
    """Filter such as MediaType=voice."""
    time_range_left: int | None = Field(default=None, alias="timeRangeLeft", ge=0)
    """Start of the time range in seconds (service level thresholds)."""
    time_range_right: int | None = Field(default=None, alias="timeRangeRight", ge=0)
    """End of the time range in seconds."""
    formula: FormulaText | None = None
    """Computed by the dashboard instead of asked of the server, from other declared
    statistics of the same object, e.g. `100 * busy / logged_in` or `sum(waiting)` over the
    widget's objects (see docs/layouts.md, Formulas)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        # An empty value (`name:` with nothing after it) counts as absent.
        given = {key for key, value in data.items() if value is not None}
        defined = [key for key in _DEFINITION_KEYS if key in given]
        if "formula" in given:
            others = [key for key in ("name", *defined) if key in given]
            if others:
                yield problem_at(
                    (),
                    f"give either 'formula' (computed here) or {', '.join(repr(k) for k in others)}"
                    " (asked of the server), not both",
                )
        elif "name" in given and defined:
            yield problem_at(
                (),
                "give either 'name' (a predefined statistic) or a definition"
                f" ({', '.join(defined)}), not both",
            )
        elif "name" not in given and not defined:
            yield problem_at(
                (),
                "give 'name' (a predefined statistic), 'category' and 'subject'"
                " (an ad-hoc definition) or 'formula' (computed from other statistics)",
            )
        elif defined:
            for key in ("category", "subject"):
                if key not in given:
                    yield problem_at((), f"an ad-hoc definition needs '{key}'")

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from formula_problems(self.formula, scope, ("formula",))
        left, right = self.time_range_left, self.time_range_right
        if left is not None and right is not None and left > right:
            yield problem_at(
                ("timeRangeLeft",), f"timeRangeLeft ({left}) is after timeRangeRight ({right})"
            )

    def definition(self) -> StatisticDefinition | None:
        """The API definition of an ad-hoc statistic, or None for a predefined name."""
        if self.name is not None or self.category is None or self.subject is None:
            return None
        return StatisticDefinition(
            category=self.category,
            subject=self.subject,
            main_mask=self.main_mask or "*",
            relative_mask=self.relative_mask,
            notification_mode=self.notification_mode,
            notification_frequency=self.notification_frequency,
            insensitivity=self.insensitivity,
            interval_type=self.interval_type,
            interval_length=self.interval_length,
            dynamic_filter=self.dynamic_filter,
            time_range_left=self.time_range_left,
            time_range_right=self.time_range_right,
        )

    def describe(self) -> str:
        """How a message names this statistic: its name, `category/subject`, or its formula."""
        if self.name is not None:
            return self.name
        if self.formula is not None:
            return self.formula.text.strip()
        return f"{self.category}/{self.subject} ({self.main_mask or '*'})"


StatRef = Annotated[
    Annotated[StatisticText, Tag(TEXT_TAG)] | Annotated[StatSource, Tag(MAPPING_TAG)],
    pick_by_shape(
        dict,
        "expected a statistic: a predefined name, a $reference to a declared statistic,"
        " or a mapping with name, category/subject or formula",
    ),
]


class ThresholdsSpec(Node):
    """Warning and alarm levels of a numeric value, shown by colour and by a word and glyph."""

    warn: ThresholdValue | None = None
    """Level at which the value is a warning (a number, or a duration like 2m for durations)."""
    alarm: ThresholdValue | None = None
    """Level at which the value is an alarm."""
    direction: Direction = "above"
    """`above`: high values are bad (waiting time); `below`: low values are bad (service level)."""
    when_logged_out: bool = False
    """In an agents table: judge agents who are logged out too (by default their figures,
    such as a 0% productivity, raise no warning or alarm)."""
    alert: bool = False
    """Raise an alert (level alarm) for every object whose value reaches the alarm level,
    without writing a rule under `alerts:`; `alert_settings:` gives its delays and actions."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        if "warn" not in data and "alarm" not in data:
            yield problem_at((), "give 'warn', 'alarm' or both")
        elif data.get("alert") is True and data.get("alarm") is None:
            yield problem_at(
                ("alert",), "'alert: true' raises an alert at the alarm level; give 'alarm'"
            )

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        if self.warn is None or self.alarm is None:
            return
        if self.direction == "above" and self.warn > self.alarm:
            yield problem_at(
                ("warn",),
                f"warn ({self.warn:g}) is above alarm ({self.alarm:g}); with direction 'above'"
                " the alarm level is the higher one (use direction: below for the reverse)",
            )
        if self.direction == "below" and self.warn < self.alarm:
            yield problem_at(
                ("warn",),
                f"warn ({self.warn:g}) is below alarm ({self.alarm:g}); with direction 'below'"
                " the alarm level is the lower one",
            )


def _display_problems(
    data: dict[Any, Any], fmt: object, thresholds_from_declaration: bool
) -> Iterator[InitErrorDetails]:
    """Format, decimals and thresholds that do not fit together (on raw values).

    `fmt` is the raw format in effect (None: the default, integer). A format that failed its
    own check judges nothing: advice derived from a typo ("'3m' is a duration, but the
    format is durration") would only bury the one real problem.
    """
    if fmt is not None and not (isinstance(fmt, str) and fmt in FORMATS):
        return
    effective = fmt or "integer"
    if "decimals" in data and effective not in DECIMAL_FORMATS:
        yield problem_at(
            ("decimals",), f"'decimals' applies to decimal and percent, not {effective}"
        )
    thresholds = data.get("thresholds")
    has_thresholds = isinstance(thresholds, dict) or (
        thresholds_from_declaration and "format" in data
    )
    if has_thresholds and effective not in NUMERIC_FORMATS:
        where: tuple[str, ...] = ("thresholds",) if "thresholds" in data else ("format",)
        yield problem_at(
            where,
            f"thresholds need a numeric format ({one_of(sorted(NUMERIC_FORMATS))}),"
            f" not {effective}",
        )
    elif isinstance(thresholds, dict) and effective != "duration":
        for key in ("warn", "alarm"):
            value = thresholds.get(key)
            # Text that is no duration at all is reported by the value's own check.
            if isinstance(value, str) and is_duration(value):
                yield problem_at(
                    ("thresholds", key),
                    f"{shown(value)} is a duration, but the format is {effective}; give a number",
                )


class StatisticDecl(StatSource):
    """A statistic declared once under `statistics:` and used as `$name`, with display defaults."""

    label: Text | None = None
    """Default column or tile label wherever the statistic is used."""
    format: Format | None = None
    """Default format: integer, decimal, percent, duration, state or text."""
    decimals: int | None = Field(default=None, ge=0, le=6)
    """Digits after the point for decimal and percent."""
    thresholds: ThresholdsSpec | None = None
    """Default thresholds wherever the statistic is used."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from super()._raw_problems(data, scope)
        yield from _display_problems(data, data.get("format"), False)


def _use_display_problems(data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
    """`_display_problems` of a use of a statistic (a column, a KPI), on raw values.

    A `$reference` in `data['stat']` brings its declaration's format (unless the use gives
    its own) and thresholds. A reference to nothing declared brings an unknown format, so
    the use's display settings are not judged by a guess.
    """
    stat = data.get("stat")
    declared_format: object = None
    declared_thresholds = False
    if scope is not None and isinstance(stat, str) and stat.startswith("$"):
        if stat[1:] not in scope.statistics:
            return
        declaration = scope.statistics[stat[1:]]
        declared_format = declaration.get("format")
        declared_thresholds = isinstance(declaration.get("thresholds"), dict)
    fmt = data["format"] if data.get("format") is not None else declared_format
    yield from _display_problems(data, fmt, declared_thresholds)


class ColumnSpec(Node):
    """One column of a table: a statistic per row, with its label, format and thresholds."""

    stat: StatRef
    """The statistic: a predefined name, `$declared`, or an inline definition."""
    label: Text | None = None
    """Header text; default: the declared label, else the statistic's name."""
    format: Format | None = None
    """integer (default), decimal, percent, duration (h:mm:ss), state or text."""
    decimals: int | None = Field(default=None, ge=0, le=6)
    """Digits after the point for decimal (default 1) and percent (default 0)."""
    width: int | None = Field(default=None, ge=1, le=80)
    """Width in cells; default: as wide as the label and the values shown (up to 20)."""
    priority: int = Field(default=DEFAULT_PRIORITY, ge=1, le=9)
    """1 (kept longest) to 9 (dropped first) when the table is too narrow."""
    thresholds: ThresholdsSpec | None = None
    """Warning and alarm levels (numeric formats only)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _use_display_problems(data, scope)


ColumnEntry = Annotated[
    Annotated[StatisticText, Tag(TEXT_TAG)] | Annotated[ColumnSpec, Tag(MAPPING_TAG)],
    pick_by_shape(
        dict,
        "expected a column: a mapping with 'stat' (and label, format, ...),"
        " or just a statistic name or $reference",
    ),
]


# --- Objects -------------------------------------------------------------------------------


class ObjectRef(Node):
    """One object, its type as the key: `{queue: 8001@SIP_Switch, label: Sales}`."""

    agent: ObjectId | None = None
    """An agent's employee id, e.g. ana.silva."""
    agent_group: ObjectId | None = None
    """An agent group, e.g. Team_01."""
    queue: ObjectId | None = None
    """A queue DN, e.g. 8001@SIP_Switch."""
    route_point: ObjectId | None = None
    """A route point DN, e.g. 7001@SIP_Switch."""
    queue_group: ObjectId | None = None
    """A queue group, e.g. QueueGroup_01."""
    label: Text | None = None
    """What the dashboard shows instead of the id."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        # `queue:` with nothing after it names no object, so it counts as absent.
        given = [key for key in OBJECT_KINDS if data.get(key) is not None]
        if len(given) > 1:
            yield problem_at((), f"one object per entry; this one has {' and '.join(given)}")
        elif not given and "id" not in data and "type" not in data:
            yield problem_at(
                (),
                f"give the object's type as the key, one of {one_of(OBJECT_KINDS)},"
                " e.g. {queue: 8001@SIP_Switch}",
            )

    _elsewhere: ClassVar[dict[str, str]] = {
        **Node._elsewhere,
        "id": "write the object's type as the key, e.g. {queue: 8001@SIP_Switch}"
        " or {agent: ana.silva}",
        "type": "write the object's type as the key, e.g. {queue: 8001@SIP_Switch}"
        " or {agent: ana.silva}",
    }

    @property
    def kind(self) -> str:
        """The layout word for the type: agent, agent_group, queue, route_point, queue_group."""
        return next(key for key in OBJECT_KINDS if getattr(self, key) is not None)

    @property
    def object_id(self) -> str:
        """The object's id."""
        value: str = getattr(self, self.kind)
        return value


class IdEntry(Node):
    """An id with a display label, in a list whose type is known: `{id: ana.silva, label: Ana}`."""

    id: ObjectId
    """The object's id."""
    label: Text | None = None
    """What the dashboard shows instead of the id."""


def _id_or_mapping(value: Any) -> str | None:
    # Not `pick_by_shape`: numbers go to the id branch too, which accepts whole numbers and
    # explains the others.
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return TEXT_TAG
    return MAPPING_TAG if isinstance(value, dict) else None


ListEntry = Annotated[
    Annotated[ObjectId, Tag(TEXT_TAG)] | Annotated[IdEntry, Tag(MAPPING_TAG)],
    Discriminator(
        _id_or_mapping,
        custom_error_type="layout",
        custom_error_message="expected an id, or a mapping {id: ..., label: ...}",
    ),
]


def entry_id(entry: str | IdEntry) -> str:
    """The id of a list entry written either as text or as `{id, label}`."""
    return entry if isinstance(entry, str) else entry.id


def _duplicate_ids(ids: list[str | None], key: str) -> Iterator[InitErrorDetails]:
    """Entries of list `key` whose id came before; None marks an entry without a usable id."""
    first: dict[str, int] = {}
    for index, object_id in enumerate(ids):
        if object_id is None:
            continue
        if object_id in first:
            yield problem_at(
                (key, index),
                f"{shown(object_id)} is listed twice (first as {key}[{first[object_id]}])",
            )
        else:
            first.setdefault(object_id, index)


class ObjectListSpec(Node):
    """A named list of objects of one type, declared under `objects:`; ids inline or in a file."""

    type: ObjectKind
    """agent, agent_group, queue, route_point or queue_group."""
    ids: list[ListEntry] | None = Field(default=None, min_length=1)
    """The ids, each as text or {id, label}."""
    file: Text | None = None
    """A file beside the layout: one id per line (# comments), or CSV with an `id` column
    (and optionally `label`)."""

    _file_entries: tuple[ObjectLine, ...] = PrivateAttr(default=())

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        if ("ids" in data) == ("file" in data):
            yield problem_at((), "give either 'ids' (a list) or 'file' (a file beside the layout)")

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        if self.ids is not None:
            yield from _duplicate_ids([entry_id(e) for e in self.ids], "ids")
        if self.file is None or self.ids is not None or scope is None or not scope.reads_files:
            return
        shown_path = str(Path(scope.display_dir) / self.file) if scope.display_dir else self.file
        listed = scope.read_object_list(self.file)
        for issue in listed.problems:
            if issue.line is None:
                # About the file as a whole (missing, empty, too big): the `file:` line is
                # where to fix it.
                yield problem_at(("file",), f"{shown_path}: {issue.message}")
            else:
                yield problem_at(
                    ("file",), issue.message, at=(shown_path, issue.line, issue.column)
                )
        # Kept on the model so compiling needs no second read of the file.
        self._file_entries = listed.entries

    def entries(self) -> tuple[tuple[str, str | None], ...]:
        """(id, label) of every object, from `ids` or from the file the loader read."""
        if self.ids is not None:
            return tuple((e, None) if isinstance(e, str) else (e.id, e.label) for e in self.ids)
        return tuple((line.id, line.label) for line in self._file_entries)


AgentsRef = Annotated[
    Annotated[Text, AfterValidator(object_list_name(("agent",))), Tag(TEXT_TAG)]
    | Annotated[list[ListEntry], Field(min_length=1), Tag(LIST_TAG)],
    pick_by_shape(list, "expected the name of an object list, or a list of agent ids"),
]
QueueObjectsRef = Annotated[
    Annotated[Text, AfterValidator(object_list_name(QUEUE_TABLE_KINDS)), Tag(TEXT_TAG)]
    | Annotated[list[ObjectRef], Field(min_length=1), Tag(LIST_TAG)],
    pick_by_shape(
        list,
        "expected the name of an object list, or a list of objects"
        " such as {queue: 8001@SIP_Switch}",
    ),
]


# --- Widgets -------------------------------------------------------------------------------


class _WidgetSpec(Node):
    title: Text | None = None
    """Title shown above the widget."""
    span: int = Field(default=1, ge=1, le=MAX_PAGE_COLUMNS)
    """How many of the page's columns the widget spans."""
    height: int | None = Field(default=None, ge=3, le=200)
    """Height in terminal rows; default: shared fairly with the widgets beside it."""


def _column_set_problems(data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
    name = data.get("column_set")
    if scope is not None and isinstance(name, str) and name not in scope.column_sets:
        if scope.column_sets:
            hint = did_you_mean(name, scope.column_sets)
            known = ", ".join(sorted(scope.column_sets))
            message = f"unknown column set {shown(name)}{hint} (declared: {known})"
        else:
            message = (
                f"unknown column set {shown(name)}: this layout declares none"
                " (under 'column_sets:')"
            )
        yield problem_at(("column_set",), message)


def _state_formula_problems(
    data: dict[Any, Any], scope: Scope | None
) -> Iterator[InitErrorDetails]:
    """An agent's state comes from the server: a formula gives a figure, never a state."""
    state = data.get("state")
    if isinstance(state, str) and state.startswith("$") and scope is not None:
        state = scope.statistics.get(state[1:])
    if isinstance(state, dict) and state.get("formula") is not None:
        yield problem_at(
            ("state",),
            "an agent's state must be a server statistic such as CurrentAgentState, not a"
            " formula (show a formula as a column)",
        )


class _TableSpec(_WidgetSpec):
    order: TableOrder = "layout"
    """Row order: layout (as listed, or as the user sorts) or attention (rows at alarm
    first, then at warning, each in that order)."""
    page_rows: PageRows | None = None
    """A table longer than its widget shows its rows a page at a time: auto (every 10s) or
    how long each page stays, e.g. 15s; the border says which rows are shown."""


class AgentsSpec(_TableSpec):
    """A table with one row per agent: name, state (word, glyph, colour, time in state), columns."""

    kind: Literal["agents"]
    """agents"""
    agents: AgentsRef
    """The name of an object list of agents, or a list of agent ids."""
    state: StatRef | None = DEFAULT_STATE_STATISTIC
    """The statistic giving each agent's state (default CurrentAgentState); null hides it."""
    column_set: DeclaredName | None = None
    """Columns from a set declared under `column_sets:` (before `columns`)."""
    columns: list[ColumnEntry] = Field(default_factory=list)
    """Columns of statistics, after the state column."""
    hide: list[StatusName] = Field(default_factory=list, max_length=64)
    """Agents in these states are left out, counted on the border: a status name
    (LoggedOut), its word (Logged out, logged_out) or the number a server sends."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _column_set_problems(data, scope)
        yield from _state_formula_problems(data, scope)
        agents = data.get("agents")
        if isinstance(agents, list):
            ids = [a.get("id") if isinstance(a, dict) else a for a in agents]
            yield from _duplicate_ids(
                [str(i) if isinstance(i, str | int) else None for i in ids], "agents"
            )


class QueuesSpec(_TableSpec):
    """A table with one row per queue, route point or group, and columns of statistics."""

    kind: Literal["queues"]
    """queues"""
    objects: QueueObjectsRef
    """The name of an object list, or a list like [{queue: 8001@SIP_Switch, label: Sales}]."""
    column_set: DeclaredName | None = None
    """Columns from a set declared under `column_sets:` (before `columns`)."""
    columns: list[ColumnEntry] = Field(default_factory=list)
    """Columns of statistics."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _column_set_problems(data, scope)
        if not data.get("columns") and "column_set" not in data:
            yield problem_at((), "a queues table needs 'columns' or a 'column_set'")
        objects = data.get("objects")
        if isinstance(objects, list):
            keys = [
                next((f"{k} {o[k]}" for k in OBJECT_KINDS if k in o), None)
                if isinstance(o, dict)
                else None
                for o in objects
            ]
            yield from _duplicate_ids(keys, "objects")
            for index, entry in enumerate(objects):
                if isinstance(entry, dict) and "agent" in entry:
                    yield problem_at(
                        ("objects", index),
                        "a queues table has no agent rows; use an agents widget for agents",
                    )


class KpiSpec(_WidgetSpec):
    """One statistic of one object, big, with thresholds and an optional trend line."""

    kind: Literal["kpi"]
    """kpi"""
    object: ObjectRef
    """The object, e.g. {queue: 8001@SIP_Switch}."""
    stat: StatRef
    """The statistic."""
    label: Text | None = None
    """Caption; default: the declared label, else the statistic's name."""
    format: Format | None = None
    """integer (default), decimal, percent, duration, state or text."""
    decimals: int | None = Field(default=None, ge=0, le=6)
    """Digits after the point for decimal and percent."""
    thresholds: ThresholdsSpec | None = None
    """Warning and alarm levels."""
    trend: TrendOption = None
    """A trend line under the figure: true (last 10m) or a window such as 30m."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _use_display_problems(data, scope)


TopObjectsRef = Annotated[
    Annotated[Text, AfterValidator(object_list_name(OBJECT_KINDS)), Tag(TEXT_TAG)]
    | Annotated[list[ObjectRef], Field(min_length=1), Tag(LIST_TAG)],
    pick_by_shape(
        list,
        "expected the name of an object list, or a list of objects"
        " such as {agent: ana.silva} or {queue: 8001@SIP_Switch}",
    ),
]


class TopSpec(_WidgetSpec):
    """A leaderboard: the top (or bottom) objects of a list by a statistic or a formula."""

    kind: Literal["top"]
    """top"""
    objects: TopObjectsRef
    """The name of an object list, or a list like [{agent: ana.silva}, {agent: ben.novak}]."""
    by: StatRef
    """The statistic or formula ranked by, e.g. $calls or InboundCalls."""
    count: int = Field(default=DEFAULT_TOP_COUNT, ge=TOP_COUNT_BOUNDS[0], le=TOP_COUNT_BOUNDS[1])
    """How many places are shown."""
    order: TopOrder = "desc"
    """desc: the highest first (calls handled); asc: the lowest first (handling time)."""
    label: Text | None = None
    """What the figure is; default: the declared label, else the statistic's name."""
    format: Format | None = None
    """integer (default), decimal, percent or duration."""
    decimals: int | None = Field(default=None, ge=0, le=6)
    """Digits after the point for decimal and percent."""
    thresholds: ThresholdsSpec | None = None
    """Warning and alarm levels, colouring each figure."""


class SeriesSpec(Node):
    """One line of a trend: a statistic of an object."""

    stat: StatRef
    """The statistic."""
    object: ObjectRef | None = None
    """The object; default: the trend widget's `object`."""
    label: Text | None = None
    """Legend text; default: the object's label and the statistic's name."""


class TrendSpec(_WidgetSpec):
    """History of one or more statistics over a window, as a sparkline or a chart."""

    kind: Literal["trend"]
    """trend"""
    object: ObjectRef | None = None
    """Default object of every series."""
    series: list[SeriesSpec] = Field(min_length=1)
    """The lines to draw."""
    window: TrendWindow = Field(default=DEFAULT_TREND_WINDOW, json_schema_extra={"default": "15m"})
    """How much history to show, e.g. 15m (1m to 24h)."""
    style: TrendStyle = "sparkline"
    """sparkline (one row per series) or chart (axes, all series together)."""
    format: Format | None = None
    """Format of the values on the axis and in the legend."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        series = data.get("series")
        if data.get("object") is not None or not isinstance(series, list):
            return
        for index, line in enumerate(series):
            if isinstance(line, dict) and line.get("object") is None:
                yield problem_at(
                    ("series", index),
                    "this series needs an 'object' (or give the trend widget an 'object')",
                )


class StatesSpec(_WidgetSpec):
    """How many agents are in each state, as one bar (the wallboard donut)."""

    kind: Literal["states"]
    """states"""
    agents: AgentsRef
    """The name of an object list of agents, or a list of agent ids."""
    state: StatRef = DEFAULT_STATE_STATISTIC
    """The statistic giving each agent's state (default CurrentAgentState)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _state_formula_problems(data, scope)


class ClockSpec(_WidgetSpec):
    """The time of day in big digits, with the date under it: a wallboard's clock."""

    kind: Literal["clock"]
    """clock"""
    seconds: bool = False
    """Show the seconds too (13:05:42); by default hours and minutes."""
    date: bool = True
    """Show the date under the time."""
    timezone: TimeZone | None = None
    """The time zone shown, an IANA name such as Europe/Berlin; default: the computer's."""


class TextSpec(_WidgetSpec):
    """A message from the layout, centred and wrapped to fit: a notice for the floor."""

    kind: Literal["text"]
    """text"""
    message: Message
    """The message; it may run over several lines (a YAML `|` block)."""


def _widget_kind(value: Any) -> str | None:
    # Tagged "kind=agents", not "agents" (see WIDGET_KIND_TAG).
    kind = value.get("kind") if isinstance(value, dict) else None
    return f"{WIDGET_KIND_TAG}{kind}" if isinstance(kind, str) else None


WidgetSpec = Annotated[
    Annotated[AgentsSpec, Tag(WIDGET_KIND_TAG + "agents")]
    | Annotated[QueuesSpec, Tag(WIDGET_KIND_TAG + "queues")]
    | Annotated[KpiSpec, Tag(WIDGET_KIND_TAG + "kpi")]
    | Annotated[TopSpec, Tag(WIDGET_KIND_TAG + "top")]
    | Annotated[TrendSpec, Tag(WIDGET_KIND_TAG + "trend")]
    | Annotated[StatesSpec, Tag(WIDGET_KIND_TAG + "states")]
    | Annotated[ClockSpec, Tag(WIDGET_KIND_TAG + "clock")]
    | Annotated[TextSpec, Tag(WIDGET_KIND_TAG + "text")],
    # No custom error here: pydantic's union_tag_invalid carries the tag for a did-you-mean.
    Discriminator(_widget_kind),
]


class PageSpec(Node):
    """A page of widgets in a grid of `columns`; each widget spans one or more of them."""

    title: Text | None = None
    """Page title (tab name); default: Page N."""
    columns: int = Field(default=1, ge=1, le=MAX_PAGE_COLUMNS)
    """Columns of the page's grid (1 to 4); narrow terminals stack widgets."""
    widgets: list[WidgetSpec] = Field(min_length=1)
    """The widgets, filling the grid left to right, top to bottom."""
    show_for: PageTime | None = None
    """On a rotating dashboard, how long this page stays on screen (default: `rotate`)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        columns = data.get("columns", 1)
        widgets = data.get("widgets")
        if isinstance(columns, bool) or not isinstance(columns, int):
            return
        if not isinstance(widgets, list):
            return
        for index, widget in enumerate(widgets):
            span = widget.get("span") if isinstance(widget, dict) else None
            if isinstance(span, int) and not isinstance(span, bool) and span > columns >= 1:
                yield problem_at(
                    ("widgets", index, "span"),
                    f"span {span} is wider than the page's {counted(columns, 'column')};"
                    f" raise the page's 'columns' or lower the span",
                )


class StateStyleSpec(Node):
    """How one agent status is shown: word, colour and glyph."""

    word: Text | None = None
    """The word shown, e.g. Ready."""
    color: Colour | None = None
    """A palette colour: green, red, yellow, blue, magenta, cyan, white or grey."""
    glyph: Glyph | None = None
    """One narrow character shown before the word, e.g. ●."""


# --- Alerts --------------------------------------------------------------------------------


class CommandActionSpec(Node):
    """Run a program with the alert as one JSON object on its stdin; never through a shell."""

    command: list[Text] = Field(min_length=1)
    """The program and its arguments, e.g. [/usr/local/bin/page-oncall, --team, sales]."""
    timeout: CommandTimeout = Field(
        default=DEFAULT_ALERT_COMMAND_TIMEOUT, json_schema_extra={"default": "10s"}
    )
    """How long the program may run before it is killed (default 10s)."""


class EnvSpec(Node):
    """A secret read from the environment when the dashboard starts, not written in the file."""

    env: EnvName
    """The environment variable's name, e.g. SLACK_WEBHOOK_URL."""


class WebhookActionSpec(Node):
    """Post the alert as JSON to a URL (Slack, Teams and most chat tools take one)."""

    webhook: Annotated[
        Annotated[WebhookUrl, Tag(TEXT_TAG)] | Annotated[EnvSpec, Tag(MAPPING_TAG)],
        pick_by_shape(
            dict, "expected the webhook's URL, or {env: VARIABLE} naming where to read it"
        ),
    ]
    """The URL (https://...), or {env: SLACK_WEBHOOK_URL} to read it from the environment at
    start; it is a secret, never shown (messages name its host)."""
    timeout: WebhookTimeout = Field(
        default=DEFAULT_WEBHOOK_TIMEOUT, json_schema_extra={"default": "5s"}
    )
    """How long one attempt may take before it counts as failed (default 5s)."""


WEBHOOK_TAG = "webhook"


def _action_shape(value: Any) -> str | None:
    # A mapping with `webhook` is a webhook; any other mapping is read as a command (so a
    # misspelt key gets the command's did-you-mean).
    if isinstance(value, str):
        return TEXT_TAG
    if isinstance(value, dict):
        return WEBHOOK_TAG if "webhook" in value else MAPPING_TAG
    return None


ActionEntry = Annotated[
    Annotated[AlertActionWord, Tag(TEXT_TAG)]
    | Annotated[CommandActionSpec, Tag(MAPPING_TAG)]
    | Annotated[WebhookActionSpec, Tag(WEBHOOK_TAG)],
    Discriminator(
        _action_shape,
        custom_error_type="layout",
        custom_error_message="expected an action: bell, banner, notify or log,"
        " {command: [program, args...]} or {webhook: URL}",
    ),
]

AlertObjectsRef = Annotated[
    Annotated[Text, AfterValidator(object_list_name(OBJECT_KINDS)), Tag(TEXT_TAG)]
    | Annotated[list[ObjectRef], Field(min_length=1), Tag(LIST_TAG)],
    pick_by_shape(
        list,
        "expected the name of an object list, or a list of objects"
        " such as {queue: 8001@SIP_Switch}",
    ),
]


ActiveHoursSpec = Annotated[
    Annotated[ActiveWindow, Tag(TEXT_TAG)]
    | Annotated[list[ActiveWindow], Field(min_length=1), Tag(LIST_TAG)],
    pick_by_shape(
        list,
        'expected a time window such as "Mon-Fri 08:00-20:00", or a list of them such as'
        ' ["Mon-Fri 08:00-20:00", "Sat 09:00-13:00"]',
    ),
]


def _default_actions() -> list[AlertActionName | CommandActionSpec | WebhookActionSpec]:
    return list(DEFAULT_ALERT_ACTIONS)


class AlertSettingsSpec(Node):
    """Defaults of every alert rule and of `alert: true` thresholds, and the alert log file."""

    actions: list[ActionEntry] = Field(default_factory=_default_actions)
    """What a raised alert does: bell, banner, notify (a desktop notification where the
    terminal supports it), log (a line of output), {command: [...]}, {webhook: URL}.
    Default: banner, bell, log."""
    hold: AlertDelay = Field(default=0.0, alias="for", json_schema_extra={"default": "0s"})
    """How long a condition must hold before the alert is raised (flap damping)."""
    clear_after: AlertDelay = Field(default=0.0, json_schema_extra={"default": "0s"})
    """How long the condition must be over before the alert clears (hysteresis)."""
    repeat: AlertDelay = Field(default=0.0, json_schema_extra={"default": "0s"})
    """Run the actions again this often while an alert is raised and not acknowledged
    (0s, the default: once)."""
    quiet: bool = False
    """Show and log alerts, but run no actions (no bell, banner, notification or command)."""
    active: ActiveHoursSpec | None = None
    """When the rules are on, in the layout's `timezone`: a window such as
    `Mon-Fri 08:00-20:00` (or `22:00-06:00`, across midnight), or a list of them. Outside
    them a rule raises nothing and a standing alert clears. Default: always."""
    log: Text | None = None
    """A file (beside the layout, or absolute) that gets one JSON line per raise, acknowledge
    and clear; `--alert-log` overrides it."""


class AlertSpec(Node):
    """A rule: when its condition holds for an object (for long enough), an alert is raised."""

    name: Text
    """The alert's name, as the banner, the alerts screen and the log show it."""
    when: FormulaText
    """The condition, a formula over the layout's declared statistics, judged per object,
    e.g. `waiting > 5` (true, or a figure other than 0, raises the alert)."""
    objects: AlertObjectsRef | None = None
    """The objects to watch (a list or an object list's name); default: every object of the
    layout that has the statistics the condition names."""
    level: AlertLevel = "alarm"
    """warn or alarm."""
    hold: AlertDelay | None = Field(default=None, alias="for")
    """How long the condition must hold before the alert is raised (default: alert_settings)."""
    clear_after: AlertDelay | None = None
    """How long the condition must be over before the alert clears (default: alert_settings)."""
    repeat: AlertDelay | None = None
    """Run the actions again this often until acknowledged; 0s: once (default: alert_settings)."""
    quiet: bool | None = None
    """Show and log only, no actions (default: alert_settings)."""
    actions: list[ActionEntry] | None = None
    """What this rule does when raised (default: alert_settings' actions)."""
    active: ActiveHoursSpec | None = None
    """When this rule is on (default: alert_settings' `active`, else always), e.g.
    `Mon-Fri 08:00-20:00` or a list of such windows, in the layout's `timezone`."""

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from formula_problems(self.when, scope, ("when",))


class Layout(Node):
    """A dashboard: a title, a refresh interval, declarations, and one or more pages."""

    title: Text
    """Dashboard title."""
    refresh: Refresh = Field(default=DEFAULT_REFRESH, json_schema_extra={"default": "2s"})
    """How often values are fetched, from 1s to 1h, e.g. 2s."""
    updates: Updates = "auto"
    """How values arrive: auto (push where the server offers it, else polling), push, or poll."""
    statistics: dict[DeclaredName, StatisticDecl] = Field(default_factory=dict)
    """Reusable statistics, used as $name, with default label, format and thresholds."""
    column_sets: dict[DeclaredName, Annotated[list[ColumnEntry], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    """Reusable lists of columns, used as `column_set: name`."""
    objects: dict[DeclaredName, ObjectListSpec] = Field(default_factory=dict)
    """Named object lists (ids inline or in a file), used by name in widgets."""
    states: dict[StatusName, StateStyleSpec] = Field(default_factory=dict)
    """Word, colour and glyph per agent status, over the defaults: by name
    (NotReadyForNextCall) or by the number the server sends (8), for middleware that renumbers."""
    reasons: dict[ReasonCode, Text] = Field(default_factory=dict)
    """Names of Not-ready reason codes the server sends as codes, e.g. 3: Lunch."""
    pages: list[PageSpec] = Field(min_length=1)
    """The pages of the dashboard."""
    alerts: list[AlertSpec] = Field(default_factory=list)
    """Alert rules: raised when a condition holds for an object, acknowledged, cleared."""
    alert_settings: AlertSettingsSpec = Field(default_factory=AlertSettingsSpec)
    """Defaults of the alert rules (actions, delays) and the alert log file."""
    timezone: TimeZone | None = None
    """The layout's time zone, an IANA name such as Europe/Berlin: alert rules' `active`
    windows and clocks without their own `timezone` use it. Default: the computer's."""
    rotate: PageTime | None = None
    """Cycle the pages, each shown this long (e.g. 15s) unless it sets `show_for`."""

    _source: SourceMap | None = PrivateAttr(default=None)
    _read_from: LayoutSource | None = PrivateAttr(default=None)

    def attach_source(self, source: SourceMap, read_from: LayoutSource) -> None:
        """Remember where each part was written and the text it was read from (the loader
        calls this once)."""
        self._source = source
        self._read_from = read_from

    @property
    def read_from(self) -> LayoutSource | None:
        """The layout's text and the files it read (None for a layout built in code)."""
        return self._read_from

    def state_styles(self) -> Mapping[str, StateStyle]:
        """The default state styles, with `states:` laid over them key by key."""
        styles = dict(STATE_STYLES)
        for status, spec in self.states.items():
            # A number's base is the state Stat Server's numbering gives it.
            number = int(status) if status.isdigit() else None
            base = state_style(STATUS_NUMBERS.get(number, status) if number is not None else status)
            styles[status] = StateStyle(
                word=spec.word or base.word,
                glyph=spec.glyph or base.glyph,
                colour=spec.color or base.colour,
            )
        return MappingProxyType(styles)

    def locate(self, path: tuple[str | int, ...]) -> Located:
        """Where the part at key `path` was written, e.g. ("pages", 0, "widgets", 1)."""
        if self._source is None:
            return Located(SourceLocation("<layout>"), format_path(path))
        return self._source.locate(path)

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        pages = data.get("pages")
        if isinstance(pages, list):
            widgets = sum(
                len(page["widgets"])
                for page in pages
                if isinstance(page, dict) and isinstance(page.get("widgets"), list)
            )
            if widgets > MAX_WIDGETS:
                yield problem_at(
                    ("pages",),
                    f"{widgets:,} widgets; a layout has at most {MAX_WIDGETS}"
                    " (a wallboard shows a dozen or two)",
                )
        # On the raw list, so a repeated name shows even while a rule has other problems.
        rules = data.get("alerts")
        if not isinstance(rules, list):
            return
        first_rule: dict[str, int] = {}
        for index, rule in enumerate(rules):
            name = rule.get("name") if isinstance(rule, dict) else None
            if not isinstance(name, str):
                continue
            name = name.strip()
            if name in first_rule:
                yield problem_at(
                    ("alerts", index, "name"),
                    f"{shown(name)} names two alerts (first alerts[{first_rule[name]}]);"
                    " each alert needs its own name",
                )
            first_rule.setdefault(name, index)

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _rotation_problems(self)
        if all(isinstance(w, ClockSpec | TextSpec) for page in self.pages for w in page.widgets):
            # The server refuses a subscription to nothing; say so before it is asked.
            yield problem_at(
                ("pages",),
                "this layout shows no statistic (only clocks and text); add a kpi, agents,"
                " queues, trend or states widget",
            )
        formulas = {
            name: decl.formula for name, decl in self.statistics.items() if decl.formula is not None
        }
        cycles = formula_cycles(formulas)
        for cycle in cycles:
            first, following = cycle[0], cycle[1]
            offset = formulas[first].name_offsets[following]
            yield problem_at(
                ("statistics", first, "formula"),
                f"formulas form a cycle: {_chain_text(cycle)}; a formula cannot depend on itself",
                offset=offset,
            )
        yield from _hidden_state_problems(self)
        in_cycles = {name for cycle in cycles for name in cycle}
        for name, chain in formula_chains(formulas, MAX_FORMULA_DEPTH).items():
            if in_cycles.intersection(chain):
                continue  # the cycle is the problem, said above
            yield problem_at(
                ("statistics", name, "formula"),
                f"formulas build on one another {len(chain)} deep here ({_chain_text(chain)});"
                f" at most {MAX_FORMULA_DEPTH} may be chained",
                offset=formulas[name].name_offsets[chain[1]],
            )
        for p, page in enumerate(self.pages):
            for w, widget in enumerate(page.widgets):
                window = widget.window if isinstance(widget, TrendSpec) else None
                if isinstance(widget, KpiSpec):
                    window = widget.trend
                if window is not None and window < MIN_TREND_POINTS * self.refresh:
                    key = "window" if isinstance(widget, TrendSpec) else "trend"
                    yield problem_at(
                        ("pages", p, "widgets", w, key),
                        f"a window of {format_duration(window)} holds fewer than"
                        f" {MIN_TREND_POINTS} values at refresh {format_duration(self.refresh)};"
                        f" use at least {format_duration(MIN_TREND_POINTS * self.refresh)}",
                    )


def _hidden_state_problems(layout: Layout) -> Iterator[InitErrorDetails]:
    """A state in `hide:` that no status is called (nor shown as), which would hide nobody."""
    styles = layout.state_styles()
    known = sorted({style.word for style in styles.values()})
    for p, page in enumerate(layout.pages):
        for w, widget in enumerate(page.widgets):
            if not isinstance(widget, AgentsSpec):
                continue
            if widget.hide and widget.state is None:
                yield problem_at(
                    ("pages", p, "widgets", w, "hide"),
                    "it needs the agents' states, and this table has none (state: null);"
                    " remove one of the two",
                )
                continue
            for index, name in enumerate(widget.hide):
                if matching_states(name, styles):
                    continue
                hint = did_you_mean(name, [*styles, *known])
                yield problem_at(
                    ("pages", p, "widgets", w, "hide", index),
                    f"no agent state is called {shown(name)}: name a state by its status"
                    f" (LoggedOut), its word (Logged out, logged_out) or its number (23){hint}",
                )


def _chain_text(names: list[str]) -> str:
    """`a -> b -> c`; a long chain (a file may hold thousands) as its first three and last."""
    shown_names = names if len(names) <= 5 else [*names[:3], "...", names[-1]]
    return " -> ".join(shown_names)


def _rotation_problems(layout: Layout) -> Iterator[InitErrorDetails]:
    """Pages of a rotating dashboard that would not know how long to stay on screen."""
    if layout.rotate is not None or all(page.show_for is None for page in layout.pages):
        return
    for p, page in enumerate(layout.pages):
        if page.show_for is None:
            yield problem_at(
                ("pages", p),
                "other pages rotate ('show_for:'), this one has no time on screen; give it"
                " 'show_for:' or give the dashboard 'rotate:' (the time of every other page)",
            )
