"""How the layout's mappings and values are checked: the `Scope`, the `Node` base, field types.

Validation reports every problem of a mapping at once (unknown keys with a did-you-mean,
cross-key rules, bad values), in words a supervisor can act on; each error carries its key
path and the loader turns that into `file:line:column`. References between parts of a layout
(`$statistic`, `column_set:`, named object lists) are checked against the names the loader
found in the file, handed in through the validation context as a `Scope`.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails

from statdash.layout.durations import DURATION_PATTERN, format_duration, parse_duration
from statdash.layout.files import FileProblem, ObjectFile, parse_object_list, read_text
from statdash.layout.formats import Direction as DirectionName
from statdash.layout.formats import FormatName
from statdash.layout.formulas import MAX_FORMULA_LENGTH, Formula, FormulaError, parse_formula
from statdash.layout.hours import EXAMPLES, Window, WindowError, parse_window
from statdash.layout.suggest import did_you_mean, one_of
from statdash.layout.vocabulary import (
    ALERT_ACTIONS,
    ALERT_COMMAND_TIMEOUT_BOUNDS,
    ALERT_DELAY_BOUNDS,
    ALERT_LEVELS,
    COLOURS,
    DEFAULT_KPI_TREND_WINDOW,
    DEFAULT_PAGE_ROWS_SECONDS,
    FORMATS,
    MESSAGE_MAX,
    OBJECT_KINDS,
    PAGE_TIME_BOUNDS,
    REFRESH_BOUNDS,
    TABLE_ORDERS,
    TOP_ORDERS,
    TREND_WINDOW_BOUNDS,
    UPDATES_MODES,
    AlertActionName,
    AlertLevelName,
    ColourName,
    NotificationModeName,
    ObjectKindName,
    TableOrderName,
    TopOrderName,
    TrendStyleName,
    UpdatesName,
)
from statdash.layout.wording import as_final_errors, describe, problem, problem_at, shown

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_MAX_TEXT = 200

CONTEXT_KEY = "statdash.layout.scope"

# The tags of a union that picks its branch by the value's shape (they show in error paths).
TEXT_TAG = "<text>"
MAPPING_TAG = "<mapping>"
LIST_TAG = "<list>"


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
    given_files: Mapping[str, str] | None = None
    """Files beside the layout as a recording kept them: read from here, not from disk."""
    files_read: dict[str, str] = field(default_factory=dict)
    """Every file beside the layout that was read, by the name the layout gives it."""

    @property
    def reads_files(self) -> bool:
        """True when files beside the layout can be read (from disk or as given)."""
        return self.base_dir is not None or self.given_files is not None

    def read_object_list(self, name: str) -> ObjectFile:
        """The object list file `name` beside the layout, its problems included."""
        if self.given_files is not None:
            text = self.given_files.get(name)
            if text is None:
                return ObjectFile((), (FileProblem("the recording does not hold this file"),))
        else:
            assert self.base_dir is not None
            try:
                text = read_text(self.base_dir / name)
            except FileProblem as problem:
                return ObjectFile((), (problem,))
        self.files_read[name] = text
        return parse_object_list(text)

    @classmethod
    def from_raw(
        cls,
        data: object,
        base_dir: Path | None,
        display_dir: str,
        given_files: Mapping[str, str] | None = None,
    ) -> Scope:
        """The declared names of a raw (parsed, not yet validated) layout mapping."""
        scope = cls(base_dir=base_dir, display_dir=display_dir, given_files=given_files)
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


def _scope(info: ValidationInfo) -> Scope | None:
    context = info.context
    if isinstance(context, dict):
        scope = context.get(CONTEXT_KEY)
        if isinstance(scope, Scope):
            return scope
    return None


# --- The base of every mapping in the language -------------------------------------------------


class Node(BaseModel):
    """A mapping of the layout: unknown keys, cross-key rules and field errors all reported."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        # No `use_attribute_docstrings`: the keys' docstrings are read by `statdash schema`
        # alone (commands/schema.py), not at every import (~40 ms of each start).
        # Build the validators at the first validation, not at import: a command that never
        # reads a layout (peek, cleanup) saves ~0.1 s; one that does pays it once, later
        # (docs/performance.md, "Start-up", measured both ways).
        defer_build=True,
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
            raise ValidationError.from_exception_data(
                cls.__name__, own + as_final_errors(kept)
            ) from None
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
                yield problem_at((key,), cls._elsewhere[text], on_key=True)
                continue
            hint = did_you_mean(text, known)
            yield problem_at(
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


def _message(value: Any) -> Any:
    # A message may run over lines (a YAML `|` block), unlike every other text of a layout.
    if not isinstance(value, str):
        raise problem(f"expected text, got {describe(value)}")
    lines = [line.strip() for line in value.strip().splitlines()]
    text = "\n".join(lines)
    if not text:
        raise problem("must not be empty")
    if len(text) > MESSAGE_MAX:
        raise problem(f"is too long ({len(text)} characters; at most {MESSAGE_MAX})")
    if _CONTROL.search(text.replace("\n", "")):
        raise problem("must not contain control characters (tabs, escapes)")
    return text


def _time_zone(value: Any) -> Any:
    text = _text(value)
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise problem(
            f"unknown time zone {shown(text)} (an IANA name such as Europe/Berlin,"
            " America/New_York or UTC)"
        ) from None
    return text


def webhook_url_problem(url: str) -> str | None:
    """What is wrong with a webhook URL, in words that never repeat it (it is a secret:
    Slack's and Teams' carry their token in the path), or None when it is usable."""
    if _CONTROL.search(url) or url != url.strip() or " " in url:
        return "the webhook URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return "the webhook URL cannot be read; expected https://host/path"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL must start with https:// (or http://) and name a host"
    return None


def _webhook_url(value: Any) -> Any:
    if not isinstance(value, str):
        raise problem(
            "expected the webhook's URL, or {env: VARIABLE} naming where to read it,"
            f" got {describe(value)}"
        )
    wrong = webhook_url_problem(value)
    if wrong is not None:
        raise problem(wrong)
    return value


def _env_name(value: Any) -> Any:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise problem(
            f"expected the name of an environment variable such as SLACK_WEBHOOK_URL,"
            f" got {describe(value)}"
        )
    return value


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
Updates = Annotated[UpdatesName, BeforeValidator(_choice("updates", UPDATES_MODES))]
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
AlertLevel = Annotated[AlertLevelName, BeforeValidator(_choice("alert level", ALERT_LEVELS))]
TableOrder = Annotated[TableOrderName, BeforeValidator(_choice("table order", TABLE_ORDERS))]
TopOrder = Annotated[TopOrderName, BeforeValidator(_choice("leaderboard order", TOP_ORDERS))]
AlertActionWord = Annotated[AlertActionName, BeforeValidator(_choice("action", ALERT_ACTIONS))]
AlertDelay = Annotated[
    float,
    BeforeValidator(_duration("an alert delay", *ALERT_DELAY_BOUNDS)),
    _duration_schema("30s"),
]
CommandTimeout = Annotated[
    float,
    BeforeValidator(_duration("a command timeout", *ALERT_COMMAND_TIMEOUT_BOUNDS)),
    _duration_schema("10s"),
]
PageTime = Annotated[
    float,
    BeforeValidator(_duration("a page's time on screen", *PAGE_TIME_BOUNDS)),
    _duration_schema("15s"),
]
Message = Annotated[str, BeforeValidator(_message), WithJsonSchema({"type": "string"})]


def _page_rows(value: Any) -> Any:
    """`auto` (every DEFAULT_PAGE_ROWS_SECONDS) or how long each page of rows is shown."""
    if value == "auto":
        return DEFAULT_PAGE_ROWS_SECONDS
    if isinstance(value, str) and not any(char.isdigit() for char in value):
        raise problem(f"expected auto or a duration such as 10s, got {describe(value)}")
    return _duration("a page of rows' time on screen", *PAGE_TIME_BOUNDS)(value)


PageRows = Annotated[
    float,
    BeforeValidator(_page_rows),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "string", "pattern": DURATION_PATTERN, "examples": ["10s"]},
            ]
        },
        mode="validation",
    ),
]

WebhookUrl = Annotated[
    str,
    BeforeValidator(_webhook_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://", "format": "uri"}),
]
"""A webhook's URL written in the layout: http or https with a host; never shown in a message."""
EnvName = Annotated[
    str,
    BeforeValidator(_env_name),
    WithJsonSchema({"type": "string", "pattern": f"^{_ENV_NAME.pattern}$"}),
]
WebhookTimeout = Annotated[
    float,
    BeforeValidator(_duration("a webhook timeout", *ALERT_COMMAND_TIMEOUT_BOUNDS)),
    _duration_schema("5s"),
]
TimeZone = Annotated[
    str,
    BeforeValidator(_time_zone),
    WithJsonSchema({"type": "string", "examples": ["Europe/Berlin", "America/New_York", "UTC"]}),
]


def _active_window(value: Any) -> Window:
    if not isinstance(value, str):
        raise problem(
            f'expected a time window in quotes, e.g. "{EXAMPLES[0]}", got {describe(value)}'
        )
    try:
        return parse_window(_text(value))
    except WindowError as error:
        raise problem(f"{shown(value.strip())}: {error}") from None


ActiveWindow = Annotated[
    Window,
    PlainValidator(_active_window),
    PlainSerializer(lambda window: window.text),
    WithJsonSchema({"type": "string", "examples": list(EXAMPLES)}),
]
"""A time window when alert rules are on, e.g. `Mon-Fri 08:00-20:00` (statdash.layout.hours)."""


def _formula(value: Any) -> Formula:
    if not isinstance(value, str):
        raise problem(
            f'expected a formula in quotes, e.g. "100 * busy / logged_in", got {describe(value)}'
        )
    try:
        return parse_formula(value)
    except FormulaError as error:
        raise problem(error.message, offset=error.offset) from None


FormulaText = Annotated[
    Formula,
    PlainValidator(_formula),
    PlainSerializer(lambda formula: formula.text),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_FORMULA_LENGTH,
            "examples": [
                "100 * busy / logged_in",
                "sum(waiting)",
                "if(ready > 0, waiting / ready, 0)",
            ],
        }
    ),
]


def _status_key(value: Any) -> Any:
    """A status name, or a Stat Server status number (a YAML integer key) as its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 10_000:
            raise problem(f"a status number must be 0 to 9999, got {value}")
        return str(value)
    return _text(value)


StatusName = Annotated[str, BeforeValidator(_status_key)]
"""A status name (NotReadyForNextCall) or the number a server sends for it (8)."""
ReasonCode = Annotated[str, BeforeValidator(_status_key)]
"""A Not-ready reason code as the server sends it (3, or text such as R_03)."""


def pick_by_shape(other: type[dict[Any, Any]] | type[list[Any]], message: str) -> Discriminator:
    """How a union of text and a mapping (or a list) picks its branch: by the value's shape.

    Picking by shape rather than trying each branch makes an error name one branch only; a
    value of neither shape is reported as `message`. The branches are tagged `TEXT_TAG` and
    `MAPPING_TAG` (or `LIST_TAG`).
    """
    other_tag = MAPPING_TAG if other is dict else LIST_TAG

    def pick(value: Any) -> str | None:
        if isinstance(value, str):
            return TEXT_TAG
        return other_tag if isinstance(value, other) else None

    return Discriminator(pick, custom_error_type="layout", custom_error_message=message)


# --- References checked against the scope --------------------------------------------------


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


def object_list_name(allowed: tuple[str, ...]) -> Callable[[str, ValidationInfo], str]:
    """A check of a named object list: declared, and holding objects of an `allowed` kind."""

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
