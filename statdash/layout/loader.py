"""A layout file -> a validated `Layout`, or one `LayoutError` listing every problem at once.

The steps, each stopping early only when the next could not make sense of the input:
read the bytes safely (`files`), parse YAML with positions and caps (`yamlsource`), then
validate with the models and point each error at its `file:line:column` and key path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from statdash.layout.files import FileProblem, read_text
from statdash.layout.problems import LayoutError, LayoutProblem, SourceLocation
from statdash.layout.source import LayoutSource
from statdash.layout.specs import Layout
from statdash.layout.validation import CONTEXT_KEY, Scope
from statdash.layout.wording import describe, friendly_message
from statdash.layout.yamlsource import SourceMap, parse_yaml

__all__ = [
    "LayoutError",
    "LayoutProblem",
    "LayoutSource",
    "load_layout",
    "load_layout_source",
    "load_layout_text",
]


def load_layout(path: str | os.PathLike[str]) -> Layout:
    """Read, parse and validate the layout file at `path`; raise LayoutError with every problem."""
    shown = os.fspath(path)
    try:
        text = read_text(Path(path))
    except FileProblem as exc:
        location = SourceLocation(shown, exc.line, exc.column)
        raise LayoutError([LayoutProblem(location, "", exc.message)]) from None
    return load_layout_text(text, file=shown, base_dir=Path(path).parent)


def load_layout_source(source: LayoutSource) -> Layout:
    """Validate a layout as it was read before (a recording's): its object lists come from
    `source.files`, never from disk."""
    return load_layout_text(source.text, file=source.file, given_files=source.files)


def load_layout_text(
    text: str,
    *,
    file: str = "<layout>",
    base_dir: Path | None = None,
    given_files: Mapping[str, str] | None = None,
) -> Layout:
    """Parse and validate layout `text`; `file` names it in messages, object files are read
    relative to `base_dir` or taken from `given_files` (not at all when both are None)."""
    parsed = parse_yaml(text, file)
    problems = list(parsed.problems)
    if not parsed.complete:
        raise LayoutError(problems)
    source = parsed.source
    data = source.data
    if not isinstance(data, dict):
        located = source.locate(())
        if data is None:
            message = "the layout is empty; it needs at least 'title' and 'pages'"
        else:
            message = f"the layout must be a mapping of keys, got {describe(data)}"
        raise LayoutError([*problems, LayoutProblem(located.location, "", message)])
    reads_files = base_dir is not None or given_files is not None
    display_dir = os.path.dirname(file) if reads_files else ""
    scope = Scope.from_raw(data, base_dir, display_dir, given_files)
    try:
        layout = Layout.model_validate(data, context={CONTEXT_KEY: scope})
    except ValidationError as exc:
        problems.extend(_problem(source, error, text) for error in exc.errors())
        raise LayoutError(problems) from None
    if problems:
        raise LayoutError(problems)
    layout.attach_source(source, LayoutSource(file, text, MappingProxyType(scope.files_read)))
    return layout


def _problem(source: SourceMap, error: Any, text: str) -> LayoutProblem:
    ctx = error.get("ctx") or {}
    message = friendly_message(error)
    located = source.locate(error["loc"], on_key=bool(ctx.get("on_key")))
    at = ctx.get("at")
    if isinstance(at, tuple) and len(at) == 3:
        # A problem inside a file the layout refers to (an object list): point into that file.
        file, line, column = at
        return LayoutProblem(SourceLocation(str(file), line, column), located.path, message)
    offset = ctx.get("offset")
    if isinstance(offset, int):
        return LayoutProblem(_inside(located.location, offset, text), located.path, message)
    return LayoutProblem(located.location, located.path, message)


def _inside(location: SourceLocation, offset: int, text: str) -> SourceLocation:
    """The spot `offset` characters into the one-line text value written at `location`.

    A formula's problem points at the very name or operator; the value may be plain or in
    quotes (the text starts one column later). A block scalar (`|`, `>`) or a value that
    does not fit on its line keeps the value's own position.
    """
    if location.line is None or location.column is None:
        return location
    lines = text.splitlines()
    if not 0 < location.line <= len(lines):
        return location
    line = lines[location.line - 1]
    start = location.column - 1
    if start >= len(line) or line[start] in "|>":
        return location
    if line[start] in "\"'":
        start += 1
    if start + offset > len(line):
        return location
    return SourceLocation(location.file, location.line, start + offset + 1)
