"""The layout language as pydantic models: dashboard, pages, widgets, statistics, objects.

Validation reports every problem of a mapping at once (unknown keys with a did-you-mean,
cross-key rules, bad values), in words a supervisor can act on; each error carries its key
path and the loader turns that into `file:line:column`. References between parts of a layout
(`$statistic`, `column_set:`, named object lists) are checked against the names the loader
found in the file, handed in through the validation context as a `Scope`.

The JSON Schema of the language (`statdash schema`) is generated from these models, so the
docstrings below are what an editor shows on hover.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from statdash.api.models import StatisticDefinition
from statdash.layout.durations import DURATION_PATTERN, format_duration, parse_duration
from statdash.layout.files import ObjectLine, read_object_file
from statdash.layout.formats import Direction as DirectionName
from statdash.layout.formats import FormatName
from statdash.layout.problems import SourceLocation
from statdash.layout.suggest import did_you_mean, one_of
from statdash.layout.yamlsource import Located, SourceMap, format_path
from statdash.text import clean

# --- Vocabulary ----------------------------------------------------------------------------

FORMATS: tuple[str, ...] = get_args(FormatName)
NUMERIC_FORMATS = frozenset({"integer", "decimal", "percent", "duration"})
DECIMAL_FORMATS = frozenset({"decimal", "percent"})

# The palette `statdash.ui.palette` maps per theme (including the 16-colour ANSI one).
ColourName = Literal["green", "red", "yellow", "blue", "magenta", "cyan", "white", "grey"]
COLOURS: tuple[str, ...] = get_args(ColourName)

ObjectKindName = Literal["agent", "agent_group", "queue", "route_point", "queue_group"]
OBJECT_KINDS: tuple[str, ...] = get_args(ObjectKindName)
# Layout word -> the API's objectType.
OBJECT_TYPES: dict[str, str] = {
    "agent": "Agent",
    "agent_group": "GroupAgents",
    "queue": "Queue",
    "route_point": "RoutePoint",
    "queue_group": "GroupQueues",
}
QUEUE_TABLE_KINDS = ("queue", "route_point", "queue_group", "agent_group")

WidgetKindName = Literal["agents", "queues", "kpi", "trend", "states"]
WIDGET_KINDS: tuple[str, ...] = get_args(WidgetKindName)

NotificationModeName = Literal["Immediate", "Periodical", "Reset", "NoNotification"]
TrendStyleName = Literal["sparkline", "chart"]

DEFAULT_STATE_STATISTIC = "CurrentAgentState"
DEFAULT_PRIORITY = 5
MAX_PAGE_COLUMNS = 4
REFRESH_BOUNDS = (1.0, 3600.0)
TREND_WINDOW_BOUNDS = (60.0, 86400.0)
DEFAULT_TREND_WINDOW = 900.0
DEFAULT_KPI_TREND_WINDOW = 600.0
# Enough points for a sparkline to show a shape.
MIN_TREND_POINTS = 4

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_TEXT = 200
_MAX_SHOWN = 60

CONTEXT_KEY = "statdash.layout.scope"


# --- What the loader knows before validating -------------------------------------------------


@dataclass
class Scope:
    """Names declared in the layout, read from the raw file before validation.

    Widgets refer to declarations by name; knowing the names up front lets each reference be
    checked where it is written, in the same pass as everything else.
    """

    statistics: dict[str, dict[str, Any]] = field(default_factory=dict)
    column_sets: frozenset[str] = frozenset()
    object_lists: dict[str, str | None] = field(default_factory=dict)
    base_dir: Path | None = None
    # How a path beside the layout is shown in messages (as the user typed the layout path).
    display_dir: str = ""

    @classmethod
    def from_raw(cls, data: object, base_dir: Path | None, display_dir: str) -> Scope:
        """The declared names of a raw (parsed, not yet validated) layout mapping."""
        scope = cls(base_dir=base_dir, display_dir=display_dir)
        if not isinstance(data, dict):
            return scope
        statistics = data.get("statistics")
        if isinstance(statistics, dict):
            scope.statistics = {
                str(k): v if isinstance(v, dict) else {} for k, v in statistics.items()
            }
        column_sets = data.get("column_sets")
        if isinstance(column_sets, dict):
            scope.column_sets = frozenset(str(k) for k in column_sets)
        objects = data.get("objects")
        if isinstance(objects, dict):
            scope.object_lists = {
                str(k): v.get("type") if isinstance(v, dict) else None for k, v in objects.items()
            }
        return scope

    def declared_format(self, statistic: str) -> str | None:
        """The `format:` of a declared statistic, when it has a valid one."""
        value = self.statistics.get(statistic, {}).get("format")
        return value if isinstance(value, str) and value in FORMATS else None


def _scope(info: ValidationInfo) -> Scope | None:
    context = info.context
    if isinstance(context, dict):
        scope = context.get(CONTEXT_KEY)
        if isinstance(scope, Scope):
            return scope
    return None


# --- Messages ------------------------------------------------------------------------------


def shown(value: object) -> str:
    """A user value quoted for a message, clipped so a hostile file cannot flood the terminal."""
    return f"'{clean(value if isinstance(value, str) else repr(value), _MAX_SHOWN)}'"


def describe(value: object) -> str:
    """What a value is, in words: `a list`, `a number (12)`, `text ('abc')`."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({shown(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of keys"
    return type(value).__name__


def problem(message: str, **where: Any) -> PydanticCustomError:
    """An error whose message is final.

    `where` may carry `at=(file, line, column)` (a spot in another file, e.g. an object list)
    or `on_key=True` (point at the key itself rather than its value).
    """
    return PydanticCustomError("layout", message, where or None)


def _init_error(loc: tuple[str | int, ...], message: str, **where: Any) -> InitErrorDetails:
    return InitErrorDetails(type=problem(message, **where), loc=loc, input=None)


_QUOTED = re.compile(r"'([^']*)'")


def friendly_message(error: ErrorDetails) -> str:
    """The words a user reads for one pydantic error (ours are already final)."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind == "layout":
        return error["msg"]
    if kind == "missing":
        return f"missing required key '{error['loc'][-1]}'" if error["loc"] else "missing value"
    if kind == "union_tag_not_found":
        return f"a widget is a mapping with 'kind': one of {one_of(WIDGET_KINDS)}"
    if kind == "union_tag_invalid":
        expected = [
            t.removeprefix(_KIND_TAG) for t in _QUOTED.findall(str(ctx.get("expected_tags", "")))
        ]
        tag = str(ctx.get("tag", value)).removeprefix(_KIND_TAG)
        return (
            f"unknown widget kind {shown(tag)}{did_you_mean(tag, expected)}"
            f" (one of {one_of(expected)})"
        )
    if kind == "literal_error":
        expected = _QUOTED.findall(str(ctx.get("expected", "")))
        hint = did_you_mean(value, expected) if isinstance(value, str) else ""
        return f"{shown(value)} is not allowed{hint} (one of {one_of(expected)})"
    simple: dict[str, str] = {
        "string_type": f"expected text, got {describe(value)}",
        "int_type": f"expected a whole number, got {describe(value)}",
        "int_parsing": f"expected a whole number, got {describe(value)}",
        "int_from_float": f"expected a whole number, got {describe(value)}",
        "float_type": f"expected a number, got {describe(value)}",
        "float_parsing": f"expected a number, got {describe(value)}",
        "bool_type": f"expected true or false, got {describe(value)}",
        "bool_parsing": f"expected true or false, got {describe(value)}",
        "list_type": f"expected a list, got {describe(value)}",
        "dict_type": f"expected a mapping of keys, got {describe(value)}",
        "model_type": f"expected a mapping of keys, got {describe(value)}",
        "model_attributes_type": f"expected a mapping of keys, got {describe(value)}",
        "literal_error": f"{shown(value)} is not allowed",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, got {value}",
        "less_than_equal": f"must be at most {ctx.get('le')}, got {value}",
        "greater_than": f"must be more than {ctx.get('gt')}, got {value}",
        "less_than": f"must be less than {ctx.get('lt')}, got {value}",
        "too_short": f"needs at least {ctx.get('min_length')} item(s)",
        "too_long": f"has too many items (at most {ctx.get('max_length')})",
        "string_too_short": "must not be empty",
        "string_too_long": f"is too long (at most {ctx.get('max_length')} characters)",
        "finite_number": "must be a finite number",
        "extra_forbidden": "unknown key",
    }
    if kind in simple:
        return simple[kind]
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _rebuild(errors: list[ErrorDetails]) -> list[InitErrorDetails]:
    """Pydantic errors as final-message errors, so they can be raised again with our own."""
    rebuilt = []
    for error in errors:
        ctx = error.get("ctx") if error["type"] == "layout" else None
        rebuilt.append(
            InitErrorDetails(
                type=PydanticCustomError("layout", friendly_message(error), ctx),
                loc=error["loc"],
                input=None,
            )
        )
    return rebuilt


# --- The base of every mapping in the language -------------------------------------------------


class _Node(BaseModel):
    """A mapping of the layout: unknown keys, cross-key rules and field errors all reported."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        use_attribute_docstrings=True,
    )

    # What a misplaced key probably is, for keys that belong elsewhere in the language.
    _elsewhere: ClassVar[dict[str, str]] = {
        "<<": "merge keys (<<) are not supported; declare reusable statistics under "
        "'statistics:' and reusable columns under 'column_sets:'",
    }

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys this mapping accepts, as written in a layout."""
        return tuple(f.alias or name for name, f in cls.model_fields.items())

    @model_validator(mode="wrap")
    @classmethod
    def _validate_mapping(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        if isinstance(data, cls):
            return handler(data)
        if not isinstance(data, dict):
            raise problem(f"expected a mapping of keys, got {describe(data)}")
        scope = _scope(info)
        own = [*cls._unknown_keys(data), *cls._raw_problems(data, scope)]
        try:
            result = handler(data)
        except ValidationError as exc:
            # Our own unknown-key errors (with a did-you-mean) replace pydantic's.
            kept = [
                e
                for e in exc.errors()
                if not (e["type"] == "extra_forbidden" and len(e["loc"]) == 1)
            ]
            raise ValidationError.from_exception_data(cls.__name__, own + _rebuild(kept)) from None
        own.extend(result._model_problems(scope))
        if own:
            raise ValidationError.from_exception_data(cls.__name__, own)
        return result

    @classmethod
    def _unknown_keys(cls, data: dict[Any, Any]) -> Iterator[InitErrorDetails]:
        known = cls.keys()
        for key in data:
            if key in known:
                continue
            text = str(key)
            if text in cls._elsewhere:
                yield _init_error((key,), cls._elsewhere[text], on_key=True)
                continue
            hint = did_you_mean(text, known)
            yield _init_error(
                (key,),
                f"unknown key {shown(text)}{hint} (allowed: {', '.join(known)})",
                on_key=True,
            )

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        """Rules across keys, checked on the raw mapping so they show even beside other errors."""
        return iter(())

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        """Rules that need valid values; they run once the mapping's own keys are sound."""
        return iter(())


# --- Scalars -------------------------------------------------------------------------------


def _choice(what: str, options: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and value in options:
            return value
        if isinstance(value, str):
            raise problem(
                f"unknown {what} {shown(value)}{did_you_mean(value, options)}"
                f" (one of {one_of(options)})"
            )
        raise problem(f"expected a {what} ({one_of(options)}), got {describe(value)}")

    return check


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise problem(f"expected text, got {describe(value)}")
    text = value.strip()
    if not text:
        raise problem("must not be empty")
    if len(text) > _MAX_TEXT:
        raise problem(f"is too long ({len(text)} characters; at most {_MAX_TEXT})")
    if _CONTROL.search(text):
        raise problem("must not contain control characters (tabs, escapes, line breaks)")
    return text


def _object_id(value: Any) -> Any:
    # An unquoted id such as 1234 reads as a number; it is still the id the user meant.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        raise problem(f"{value} reads as a number; put the id in quotes, e.g. '{value}'")
    return _text(value)


def _declared_name(value: Any) -> Any:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise problem(
            f"{shown(value)} is not a usable name: start with a letter, then letters, digits,"
            " '_' or '-' (at most 64)"
        )
    return value


def _duration(what: str, low: float, high: float) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise problem(f"expected a duration such as 2s, 1m or 8h, got {describe(value)}")
        try:
            seconds = parse_duration(str(value))
        except ValueError as exc:
            raise problem(str(exc)) from None
        if not low <= seconds <= high:
            raise problem(
                f"{what} must be between {format_duration(low)} and {format_duration(high)},"
                f" got {format_duration(seconds)}"
            )
        return seconds

    return check


def _threshold_value(value: Any) -> Any:
    if isinstance(value, bool):
        raise problem(f"expected a number, got {describe(value)}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    raise problem(f"expected a number (or a duration such as 2m), got {describe(value)}")


def _trend_option(value: Any) -> Any:
    if value is True:
        return DEFAULT_KPI_TREND_WINDOW
    if value is False or value is None:
        return None
    return _duration("a trend window", *TREND_WINDOW_BOUNDS)(value)


def _glyph(value: Any) -> Any:
    text = _text(value)
    if len(text) != 1 or unicodedata.east_asian_width(text) in ("W", "F"):
        raise problem(f"a glyph is one narrow character, got {shown(text)}")
    return text


def _duration_schema(example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": [example]}, mode="validation"
    )


Text = Annotated[str, BeforeValidator(_text)]
ObjectId = Annotated[
    str, BeforeValidator(_object_id), WithJsonSchema({"type": ["string", "integer"]})
]
DeclaredName = Annotated[
    str,
    BeforeValidator(_declared_name),
    WithJsonSchema({"type": "string", "pattern": f"^{_NAME.pattern}$"}),
]
Format = Annotated[FormatName, BeforeValidator(_choice("format", FORMATS))]
Colour = Annotated[ColourName, BeforeValidator(_choice("colour", COLOURS))]
ObjectKind = Annotated[ObjectKindName, BeforeValidator(_choice("object type", OBJECT_KINDS))]
Direction = Annotated[DirectionName, BeforeValidator(_choice("direction", ("above", "below")))]
TrendStyle = Annotated[TrendStyleName, BeforeValidator(_choice("style", ("sparkline", "chart")))]
NotificationMode = Annotated[
    NotificationModeName,
    BeforeValidator(_choice("notification mode", get_args(NotificationModeName))),
]
Refresh = Annotated[
    float, BeforeValidator(_duration("refresh", *REFRESH_BOUNDS)), _duration_schema("2s")
]
TrendWindow = Annotated[
    float,
    BeforeValidator(_duration("a trend window", *TREND_WINDOW_BOUNDS)),
    _duration_schema("15m"),
]
ThresholdValue = Annotated[
    float,
    BeforeValidator(_threshold_value),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DURATION_PATTERN}]}
    ),
]
TrendOption = Annotated[
    float | None,
    BeforeValidator(_trend_option),
    WithJsonSchema(
        {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": DURATION_PATTERN}]},
        mode="validation",
    ),
]
Glyph = Annotated[str, BeforeValidator(_glyph)]


def _by_shape(text_tag: str, other_tag: str, other: type) -> Callable[[Any], str | None]:
    # Unions pick their branch by the shape of the value, so an error names one branch only.
    def pick(value: Any) -> str | None:
        if isinstance(value, str):
            return text_tag
        return other_tag if isinstance(value, other) else None

    return pick


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


class StatSource(_Node):
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

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        # An empty value (`name:` with nothing after it) counts as absent.
        given = {key for key, value in data.items() if value is not None}
        defined = [key for key in _DEFINITION_KEYS if key in given]
        if "name" in given and defined:
            yield _init_error(
                (),
                "give either 'name' (a predefined statistic) or a definition"
                f" ({', '.join(defined)}), not both",
            )
        elif "name" not in given and not defined:
            yield _init_error(
                (),
                "give 'name' (a predefined statistic) or 'category' and 'subject'"
                " (an ad-hoc definition)",
            )
        elif defined:
            for key in ("category", "subject"):
                if key not in given:
                    yield _init_error((), f"an ad-hoc definition needs '{key}'")

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        left, right = self.time_range_left, self.time_range_right
        if left is not None and right is not None and left > right:
            yield _init_error(
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
        """How a message names this statistic: its name, or `category/subject`."""
        if self.name is not None:
            return self.name
        return f"{self.category}/{self.subject} ({self.main_mask or '*'})"


def _statistic_text(value: str, info: ValidationInfo) -> str:
    """A statistic written as text: `$declared` or a predefined name, checked against the scope."""
    scope = _scope(info)
    if value.startswith("$"):
        name = value[1:]
        if scope is None or name in scope.statistics:
            return value
        if not scope.statistics:
            raise problem(
                f"unknown statistic {shown(value)}: this layout declares no statistics"
                " (declare them under 'statistics:')"
            )
        hint = did_you_mean(name, scope.statistics, prefix="$")
        raise problem(
            f"unknown statistic {shown(value)}{hint}"
            f" (declared: {', '.join('$' + n for n in scope.statistics)})"
        )
    if scope is not None and value in scope.statistics:
        raise problem(
            f"{shown(value)} is declared under 'statistics:'; write ${value} to use it"
            f" (a plain name asks the server for its predefined statistic {value})"
        )
    return value


StatisticText = Annotated[Text, AfterValidator(_statistic_text)]
StatRef = Annotated[
    Annotated[StatisticText, Tag("<text>")] | Annotated[StatSource, Tag("<mapping>")],
    Discriminator(
        _by_shape("<text>", "<mapping>", dict),
        custom_error_type="layout",
        custom_error_message="expected a statistic: a predefined name, a $reference to a"
        " declared statistic, or a mapping with name or category/subject",
    ),
]


class ThresholdsSpec(_Node):
    """Warning and alarm levels of a numeric value, shown by colour and by a word and glyph."""

    warn: ThresholdValue | None = None
    """Level at which the value is a warning (a number, or a duration like 2m for durations)."""
    alarm: ThresholdValue | None = None
    """Level at which the value is an alarm."""
    direction: Direction = "above"
    """`above`: high values are bad (waiting time); `below`: low values are bad (service level)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        if "warn" not in data and "alarm" not in data:
            yield _init_error((), "give 'warn', 'alarm' or both")

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        if self.warn is None or self.alarm is None:
            return
        if self.direction == "above" and self.warn > self.alarm:
            yield _init_error(
                ("warn",),
                f"warn ({self.warn:g}) is above alarm ({self.alarm:g}); with direction 'above'"
                " the alarm level is the higher one (use direction: below for the reverse)",
            )
        if self.direction == "below" and self.warn < self.alarm:
            yield _init_error(
                ("warn",),
                f"warn ({self.warn:g}) is below alarm ({self.alarm:g}); with direction 'below'"
                " the alarm level is the lower one",
            )


def _display_problems(
    data: dict[Any, Any], fmt: str | None, thresholds_from_declaration: bool
) -> Iterator[InitErrorDetails]:
    """Format, decimals and thresholds that do not fit together (on raw values)."""
    effective = fmt or "integer"
    if "decimals" in data and effective not in DECIMAL_FORMATS:
        yield _init_error(
            ("decimals",), f"'decimals' applies to decimal and percent, not {effective}"
        )
    thresholds = data.get("thresholds")
    has_thresholds = isinstance(thresholds, dict) or (
        thresholds_from_declaration and "format" in data
    )
    if has_thresholds and effective not in NUMERIC_FORMATS:
        where: tuple[str, ...] = ("thresholds",) if "thresholds" in data else ("format",)
        yield _init_error(
            where,
            f"thresholds need a numeric format ({one_of(sorted(NUMERIC_FORMATS))}),"
            f" not {effective}",
        )
    if isinstance(thresholds, dict) and effective != "duration":
        for key in ("warn", "alarm"):
            value = thresholds.get(key)
            if isinstance(value, str):
                yield _init_error(
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
        fmt = data.get("format")
        yield from _display_problems(data, fmt if isinstance(fmt, str) else None, False)


def _declared_parts(data: dict[Any, Any], scope: Scope | None) -> tuple[str | None, bool]:
    """(format, has thresholds) a `$reference` in `data['stat']` brings from its declaration."""
    stat = data.get("stat")
    if scope is None or not isinstance(stat, str) or not stat.startswith("$"):
        return None, False
    declaration = scope.statistics.get(stat[1:], {})
    return scope.declared_format(stat[1:]), isinstance(declaration.get("thresholds"), dict)


class ColumnSpec(_Node):
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
    """Width in cells; default: fits the label and the format."""
    priority: int = Field(default=DEFAULT_PRIORITY, ge=1, le=9)
    """1 (kept longest) to 9 (dropped first) when the table is too narrow."""
    thresholds: ThresholdsSpec | None = None
    """Warning and alarm levels (numeric formats only)."""

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        declared_format, declared_thresholds = _declared_parts(data, scope)
        own = data.get("format")
        fmt = own if isinstance(own, str) else declared_format
        yield from _display_problems(data, fmt, declared_thresholds)


ColumnEntry = Annotated[
    Annotated[StatisticText, Tag("<text>")] | Annotated[ColumnSpec, Tag("<mapping>")],
    Discriminator(
        _by_shape("<text>", "<mapping>", dict),
        custom_error_type="layout",
        custom_error_message="expected a column: a mapping with 'stat' (and label, format, ...),"
        " or just a statistic name or $reference",
    ),
]


# --- Objects -------------------------------------------------------------------------------


class ObjectRef(_Node):
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
            yield _init_error((), f"one object per entry; this one has {' and '.join(given)}")
        elif not given and "id" not in data and "type" not in data:
            yield _init_error(
                (),
                f"give the object's type as the key, one of {one_of(OBJECT_KINDS)},"
                " e.g. {queue: 8001@SIP_Switch}",
            )

    _elsewhere: ClassVar[dict[str, str]] = {
        **_Node._elsewhere,
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


class IdEntry(_Node):
    """An id with a display label, in a list whose type is known: `{id: ana.silva, label: Ana}`."""

    id: ObjectId
    """The object's id."""
    label: Text | None = None
    """What the dashboard shows instead of the id."""


def _id_or_mapping(value: Any) -> str | None:
    # Numbers go to the id branch, which accepts whole numbers and explains the others.
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return "<text>"
    return "<mapping>" if isinstance(value, dict) else None


ListEntry = Annotated[
    Annotated[ObjectId, Tag("<text>")] | Annotated[IdEntry, Tag("<mapping>")],
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
            yield _init_error(
                (key, index),
                f"{shown(object_id)} is listed twice (first as {key}[{first[object_id]}])",
            )
        else:
            first.setdefault(object_id, index)


class ObjectListSpec(_Node):
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
            yield _init_error((), "give either 'ids' (a list) or 'file' (a file beside the layout)")

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        if self.ids is not None:
            yield from _duplicate_ids([entry_id(e) for e in self.ids], "ids")
        if self.file is None or self.ids is not None or scope is None or scope.base_dir is None:
            return
        shown_path = str(Path(scope.display_dir) / self.file) if scope.display_dir else self.file
        listed = read_object_file(scope.base_dir / self.file)
        for issue in listed.problems:
            if issue.line is None:
                # About the file as a whole (missing, empty, too big): the `file:` line is
                # where to fix it.
                yield _init_error(("file",), f"{shown_path}: {issue.message}")
            else:
                yield _init_error(
                    ("file",), issue.message, at=(shown_path, issue.line, issue.column)
                )
        # Kept on the model so compiling needs no second read of the file.
        self._file_entries = listed.entries

    def entries(self) -> tuple[tuple[str, str | None], ...]:
        """(id, label) of every object, from `ids` or from the file the loader read."""
        if self.ids is not None:
            return tuple((e, None) if isinstance(e, str) else (e.id, e.label) for e in self.ids)
        return tuple((line.id, line.label) for line in self._file_entries)


def _list_name(allowed: tuple[str, ...]) -> Callable[[str, ValidationInfo], str]:
    def check(value: str, info: ValidationInfo) -> str:
        scope = _scope(info)
        if scope is None:
            return value
        if value not in scope.object_lists:
            if not scope.object_lists:
                raise problem(
                    f"unknown object list {shown(value)}: this layout declares none"
                    " (declare lists under 'objects:', or list the objects here)"
                )
            hint = did_you_mean(value, scope.object_lists)
            raise problem(
                f"unknown object list {shown(value)}{hint}"
                f" (declared: {', '.join(scope.object_lists)})"
            )
        kind = scope.object_lists[value]
        if isinstance(kind, str) and kind in OBJECT_KINDS and kind not in allowed:
            raise problem(
                f"object list {shown(value)} holds {kind} objects; this widget needs"
                f" {one_of(allowed)}"
            )
        return value

    return check


AgentsRef = Annotated[
    Annotated[Text, AfterValidator(_list_name(("agent",))), Tag("<text>")]
    | Annotated[list[ListEntry], Field(min_length=1), Tag("<list>")],
    Discriminator(
        _by_shape("<text>", "<list>", list),
        custom_error_type="layout",
        custom_error_message="expected the name of an object list, or a list of agent ids",
    ),
]
QueueObjectsRef = Annotated[
    Annotated[Text, AfterValidator(_list_name(QUEUE_TABLE_KINDS)), Tag("<text>")]
    | Annotated[list[ObjectRef], Field(min_length=1), Tag("<list>")],
    Discriminator(
        _by_shape("<text>", "<list>", list),
        custom_error_type="layout",
        custom_error_message="expected the name of an object list, or a list of objects"
        " such as {queue: 8001@SIP_Switch}",
    ),
]


# --- Widgets -------------------------------------------------------------------------------


class _WidgetSpec(_Node):
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
        yield _init_error(("column_set",), message)


class AgentsSpec(_WidgetSpec):
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

    @classmethod
    def _raw_problems(cls, data: dict[Any, Any], scope: Scope | None) -> Iterator[InitErrorDetails]:
        yield from _column_set_problems(data, scope)
        agents = data.get("agents")
        if isinstance(agents, list):
            ids = [a.get("id") if isinstance(a, dict) else a for a in agents]
            yield from _duplicate_ids(
                [str(i) if isinstance(i, str | int) else None for i in ids], "agents"
            )


class QueuesSpec(_WidgetSpec):
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
            yield _init_error((), "a queues table needs 'columns' or a 'column_set'")
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
                    yield _init_error(
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
        declared_format, declared_thresholds = _declared_parts(data, scope)
        own = data.get("format")
        yield from _display_problems(
            data, own if isinstance(own, str) else declared_format, declared_thresholds
        )


class SeriesSpec(_Node):
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
                yield _init_error(
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


_KIND_TAG = "kind="


def _widget_kind(value: Any) -> str | None:
    # Tags are "kind=agents", not "agents": an error's key path holds the tag, and a bare
    # "agents" there would be mistaken for the agents widget's own `agents` key.
    kind = value.get("kind") if isinstance(value, dict) else None
    return f"{_KIND_TAG}{kind}" if isinstance(kind, str) else None


WidgetSpec = Annotated[
    Annotated[AgentsSpec, Tag(_KIND_TAG + "agents")]
    | Annotated[QueuesSpec, Tag(_KIND_TAG + "queues")]
    | Annotated[KpiSpec, Tag(_KIND_TAG + "kpi")]
    | Annotated[TrendSpec, Tag(_KIND_TAG + "trend")]
    | Annotated[StatesSpec, Tag(_KIND_TAG + "states")],
    # No custom error here: pydantic's union_tag_invalid carries the tag for a did-you-mean.
    Discriminator(_widget_kind),
]


class PageSpec(_Node):
    """A page of widgets in a grid of `columns`; each widget spans one or more of them."""

    title: Text | None = None
    """Page title (tab name); default: Page N."""
    columns: int = Field(default=1, ge=1, le=MAX_PAGE_COLUMNS)
    """Columns of the page's grid (1 to 4); narrow terminals stack widgets."""
    widgets: list[WidgetSpec] = Field(min_length=1)
    """The widgets, filling the grid left to right, top to bottom."""

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
                yield _init_error(
                    ("widgets", index, "span"),
                    f"span {span} is wider than the page's {columns} column(s);"
                    f" raise the page's 'columns' or lower the span",
                )


class StateStyleSpec(_Node):
    """How one agent status is shown: word, colour and glyph."""

    word: Text | None = None
    """The word shown, e.g. Ready."""
    color: Colour | None = None
    """A palette colour: green, red, yellow, blue, magenta, cyan, white or grey."""
    glyph: Glyph | None = None
    """One narrow character shown before the word, e.g. ●."""


StatusName = Annotated[str, BeforeValidator(_text)]


class Layout(_Node):
    """A dashboard: a title, a refresh interval, declarations, and one or more pages."""

    title: Text
    """Dashboard title."""
    refresh: Refresh = Field(default=2.0, json_schema_extra={"default": "2s"})
    """How often values are fetched, from 1s to 1h, e.g. 2s."""
    statistics: dict[DeclaredName, StatisticDecl] = Field(default_factory=dict)
    """Reusable statistics, used as $name, with default label, format and thresholds."""
    column_sets: dict[DeclaredName, Annotated[list[ColumnEntry], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    """Reusable lists of columns, used as `column_set: name`."""
    objects: dict[DeclaredName, ObjectListSpec] = Field(default_factory=dict)
    """Named object lists (ids inline or in a file), used by name in widgets."""
    states: dict[StatusName, StateStyleSpec] = Field(default_factory=dict)
    """Word, colour and glyph per agent status, over the defaults (e.g. NotReadyForNextCall)."""
    pages: list[PageSpec] = Field(min_length=1)
    """The pages of the dashboard."""

    _source: SourceMap | None = PrivateAttr(default=None)

    def attach_source(self, source: SourceMap) -> None:
        """Remember where each part was written (the loader calls this once)."""
        self._source = source

    def locate(self, path: tuple[str | int, ...]) -> Located:
        """Where the part at key `path` was written, e.g. ("pages", 0, "widgets", 1)."""
        if self._source is None:
            return Located(SourceLocation("<layout>"), format_path(path))
        return self._source.locate(path)

    def _model_problems(self, scope: Scope | None) -> Iterator[InitErrorDetails]:
        for p, page in enumerate(self.pages):
            for w, widget in enumerate(page.widgets):
                window = widget.window if isinstance(widget, TrendSpec) else None
                if isinstance(widget, KpiSpec):
                    window = widget.trend
                if window is not None and window < MIN_TREND_POINTS * self.refresh:
                    key = "window" if isinstance(widget, TrendSpec) else "trend"
                    yield _init_error(
                        ("pages", p, "widgets", w, key),
                        f"a window of {format_duration(window)} holds fewer than"
                        f" {MIN_TREND_POINTS} values at refresh {format_duration(self.refresh)};"
                        f" use at least {format_duration(MIN_TREND_POINTS * self.refresh)}",
                    )
