"""YAML text -> plain data plus the line and column of every key and value (`SourceMap`).

Built straight from the parser's event stream rather than `yaml.safe_load`, for three reasons:
positions (every error points at a line), safety (nesting depth and the number of values
after alias expansion are capped while reading, so a billion-laughs file stops after a few
thousand events instead of exhausting memory), and fewer YAML 1.1 surprises: only `true`/
`false` are booleans (not yes/no/on/off), only plain decimal numbers are numbers (`0123` and
`1:30` stay text, so ids are never mangled), duplicate keys are an error rather than silently
overwritten, and tags (`!!python/object`, `!foo`) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from statdash.layout.problems import LayoutProblem, SourceLocation

# Our layouts nest about eight levels deep; anything past this is a mistake or an attack.
MAX_DEPTH = 40
# Values after expanding aliases; a 2,000-agent floor written inline is ~10,000.
MAX_VALUES = 200_000
# Digits of a plain integer. Past ~308 a number no longer fits the float every figure becomes
# (OverflowError), and past 4,300 Python refuses to read it at all (ValueError).
MAX_INTEGER_DIGITS = 300

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = _YAML_TAG_PREFIX + "str"
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+)")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_$@-]+")
_MAX_KEY_SHOWN = 60

# libyaml when PyYAML was built with it (several times faster), else the pure-Python parser.
_EventLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]


def format_path(parts: Sequence[str | int]) -> str:
    """`pages[0].widgets[2].columns[1].format` from its parts."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _SIMPLE_KEY.fullmatch(part) and len(part) <= _MAX_KEY_SHOWN:
            text += f".{part}" if text else part
        else:
            shown = part if len(part) <= _MAX_KEY_SHOWN else part[: _MAX_KEY_SHOWN - 1] + "…"
            text += f"[{shown!r}]"
    return text


@dataclass
class _Marks:
    """Positions inside one mapping or list: (line, column), 1-based."""

    start: tuple[int, int]
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    items: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Located:
    """Where a key path points in the file, and the part of the path that exists there."""

    location: SourceLocation
    path: str


class SourceMap:
    """The parsed data of a file and where each of its keys and values was written."""

    def __init__(self, file: str, data: Any, marks: dict[int, _Marks], keep: list[Any]) -> None:
        self.file = file
        self.data = data
        self._marks = marks
        # Containers must stay alive: marks are keyed by their id().
        self._keep = keep

    def locate(self, loc: Sequence[str | int], *, on_key: bool = False) -> Located:
        """The position a key path (e.g. a pydantic error's `loc`) refers to.

        Parts that do not exist in the data (a missing key, a union branch tag) are skipped,
        so a missing key points at its parent mapping. With `on_key`, the last key's own
        position is used instead of its value's (for "unknown key" errors).
        """
        node = self.data
        marks = self._marks.get(id(node))
        position = marks.start if marks else (1, 1)
        parts: list[str | int] = []
        for index, part in enumerate(loc):
            marks = self._marks.get(id(node))
            if marks is None:
                break
            last = index == len(loc) - 1 or loc[index + 1] == "[key]"
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                parts.append(part)
                if last and (on_key or index < len(loc) - 1):
                    position = marks.keys[part]
                    break
                position = marks.values[part]
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                parts.append(part)
                position = marks.items[part]
                node = node[part]
        return Located(SourceLocation(self.file, *position), format_path(parts))


class _Stop(Exception):
    """Reading cannot go on (syntax error, cap reached); the problem is already recorded."""


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    marks: _Marks
    anchor: str | None
    size: int = 1
    # A mapping alternates key, value: after a key it awaits that key's value.
    awaiting_value: bool = False
    # The pending key and its position; None after a key that is not plain text.
    key: tuple[str, tuple[int, int]] | None = None


class _Builder:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.problems: list[LayoutProblem] = []
        self.marks: dict[int, _Marks] = {}
        self.keep: list[Any] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.stack: list[_Frame] = []
        self.total = 0
        self.documents = 0
        self.root: Any = None
        self.fatal = False

    def problem(self, position: tuple[int, int] | None, message: str, path: str = "") -> None:
        location = SourceLocation(self.file, *position) if position else SourceLocation(self.file)
        self.problems.append(LayoutProblem(location, path, message))

    def path(self, *, between_items: bool = False) -> str:
        """The key path of the value being read now.

        With `between_items`, a list that is waiting for its next item is reported at its
        last item instead: a syntax error there ("did not find expected '-'") is almost
        always a line of that item indented wrongly, not a new item.
        """
        parts: list[str | int] = []
        for depth, frame in enumerate(self.stack):
            if isinstance(frame.container, list):
                innermost = depth == len(self.stack) - 1
                size = len(frame.container)
                parts.append(size - 1 if between_items and innermost and size else size)
            elif frame.awaiting_value and frame.key is not None:
                parts.append(frame.key[0])
        return format_path(parts)

    def run(self) -> None:
        loader = _EventLoader(self.text)
        try:
            while loader.check_event():
                self.handle(loader.get_event())
        except _Stop:
            self.fatal = True
        except yaml.MarkedYAMLError as exc:
            self.fatal = True
            mark = exc.problem_mark or exc.context_mark
            detail = exc.problem or "invalid YAML"
            if exc.context and exc.context_mark is not None:
                at = exc.context_mark
                detail += f" ({exc.context} at line {at.line + 1}, column {at.column + 1})"
            self.problem(_pos(mark), f"YAML syntax error: {detail}", self.path(between_items=True))
        except yaml.reader.ReaderError as exc:
            self.fatal = True
            offset = max(0, min(exc.position, len(self.text)))
            line = self.text.count("\n", 0, offset) + 1
            column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
            what = (
                f"character #x{exc.character:04x}"
                if isinstance(exc.character, int)
                else "this character"
            )
            self.problem((line, column), f"{what} is not allowed in YAML text")
        except yaml.YAMLError as exc:
            self.fatal = True
            self.problem(None, f"YAML error: {exc}")
        finally:
            loader.dispose()

    def handle(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.problem(
                    _pos(event.start_mark),
                    "a layout file holds one YAML document; this is a second one (after ---)",
                )
                raise _Stop
        elif isinstance(event, yaml.ScalarEvent):
            self.check_tag(event)
            self.count(1, event)
            self.check_number(event)
            self.deliver(self.scalar(event), _pos(event.start_mark), 1, event.anchor, event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.check_tag(event)
            self.count(1, event)
            container: dict[str, Any] | list[Any] = (
                {} if isinstance(event, yaml.MappingStartEvent) else []
            )
            self.keep.append(container)
            marks = _Marks(_pos(event.start_mark))
            self.marks[id(container)] = marks
            self.stack.append(_Frame(container, marks, event.anchor))
            if len(self.stack) > MAX_DEPTH:
                self.problem(
                    marks.start,
                    f"nesting is deeper than {MAX_DEPTH} levels; a layout never needs this",
                )
                raise _Stop
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            self.deliver(frame.container, frame.marks.start, frame.size, frame.anchor, None)
        elif isinstance(event, yaml.AliasEvent):
            position = _pos(event.start_mark)
            if event.anchor not in self.anchors:
                self.problem(
                    position,
                    f"alias *{event.anchor} refers to no anchor defined before it"
                    f" (an anchor is written &{event.anchor})",
                    self.path(),
                )
                self.deliver(None, position, 1, None, None)
                return
            value, size = self.anchors[event.anchor]
            self.count(size, event)
            self.deliver(value, position, size, None, None)

    def check_tag(self, event: yaml.NodeEvent) -> None:
        tag = getattr(event, "tag", None)
        if tag is None or tag in ("!", _STR_TAG):
            return
        # Shown as written: `!!python/object`, not `tag:yaml.org,2002:python/object`.
        written = (
            "!!" + tag.removeprefix(_YAML_TAG_PREFIX) if tag.startswith(_YAML_TAG_PREFIX) else tag
        )
        self.problem(
            _pos(event.start_mark),
            f"YAML tags such as {written} are not allowed in a layout (only plain values)",
            self.path(),
        )

    def count(self, size: int, event: yaml.Event) -> None:
        self.total += size
        if self.total <= MAX_VALUES:
            return
        if isinstance(event, yaml.AliasEvent):
            message = (
                f"too many values (over {MAX_VALUES:,}) after expanding aliases: aliases (*name)"
                " that repeat big anchors multiply the size of a file"
            )
        else:
            message = f"too many values (over {MAX_VALUES:,}); a layout is never this big"
        self.problem(_pos(event.start_mark), message, self.path())
        raise _Stop

    def check_number(self, event: yaml.ScalarEvent) -> None:
        """Stop at a plain integer too long to be any figure (see MAX_INTEGER_DIGITS)."""
        value: str = event.value
        if event.style or len(value) <= MAX_INTEGER_DIGITS or not _INT.fullmatch(value):
            return
        digits = len(value.lstrip("+-"))
        if digits <= MAX_INTEGER_DIGITS:
            return
        self.problem(
            _pos(event.start_mark),
            f"a number of {digits:,} digits; no figure in a layout needs more than"
            f" {MAX_INTEGER_DIGITS} (put an id in quotes)",
            self.path(),
        )
        raise _Stop

    @staticmethod
    def scalar(event: yaml.ScalarEvent) -> Any:
        value: str = event.value
        # Plain style is None from the Python parser and "" from libyaml.
        if event.style or event.tag == _STR_TAG:
            return value
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        return value

    def deliver(
        self,
        value: Any,
        position: tuple[int, int],
        size: int,
        anchor: str | None,
        event: yaml.ScalarEvent | None,
    ) -> None:
        """Place a finished value (scalar, container or alias target) into its parent."""
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            container.append(value)
            frame.marks.items.append(position)
            return
        if not frame.awaiting_value:
            frame.awaiting_value = True
            if event is None:
                self.problem(
                    position, "a key must be plain text, not a list, mapping or alias", self.path()
                )
                frame.key = None
            else:
                frame.key = (event.value, position)
            return
        path = self.path()
        frame.awaiting_value = False
        if frame.key is None:
            return
        key, key_position = frame.key
        frame.key = None
        if key in container:
            first = frame.marks.keys[key]
            self.problem(
                key_position,
                f"duplicate key '{key}' (first on line {first[0]}); YAML would silently keep"
                " only the last one",
                path,
            )
            return
        container[key] = value
        frame.marks.keys[key] = key_position
        frame.marks.values[key] = position


def _pos(mark: Any) -> tuple[int, int]:
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


@dataclass(frozen=True, slots=True)
class ParsedYaml:
    """The outcome of reading YAML text: data and positions, and the problems met on the way.

    `complete` is False when reading stopped early (syntax error, a cap reached), in which
    case `source` holds only what was read and should not be validated.
    """

    source: SourceMap
    problems: tuple[LayoutProblem, ...]
    complete: bool


def parse_yaml(text: str, file: str) -> ParsedYaml:
    """Read YAML `text` (named `file` in messages) into data with positions."""
    builder = _Builder(file, text)
    builder.run()
    if builder.documents == 0 and not builder.fatal:
        builder.root = None
    source = SourceMap(file, builder.root, builder.marks, builder.keep)
    return ParsedYaml(source, tuple(builder.problems), not builder.fatal)
