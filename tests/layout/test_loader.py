"""The loader: positions, scalar rules, object list files, and the parts it is built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from statdash.layout.durations import format_duration, parse_duration
from statdash.layout.files import parse_object_list, read_text
from statdash.layout.loader import LayoutError, load_layout, load_layout_text
from statdash.layout.specs import KpiSpec
from statdash.layout.suggest import closest
from statdash.layout.yamlsource import parse_yaml

from .conftest import MINIMAL


def test_minimal_layout_loads_with_defaults() -> None:
    """The smallest useful layout loads; refresh defaults to 2 seconds."""
    layout = load_layout_text(MINIMAL)
    assert layout.refresh == 2.0
    assert isinstance(layout.pages[0].widgets[0], KpiSpec)


def test_every_problem_is_reported_at_once() -> None:
    """Problems in different parts of the file all come back in one LayoutError, in order."""
    text = MINIMAL.replace("title: Minimal", "title: Minimal\nrefresh: fast\ncolour: red")
    text = text.replace("kind: kpi", "kind: kpi\n        format: big")
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="m.yaml")
    assert [(p.line, p.path) for p in caught.value.problems] == [
        (2, "refresh"),
        (3, "colour"),
        (7, "pages[0].widgets[0].format"),
    ]


def test_positions_point_at_the_offending_value() -> None:
    """A bad value deep in the file is reported at its own line and column."""
    text = MINIMAL + "        label: 12\n"
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="m.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.path) == (7, 16, "pages[0].widgets[0].label")
    assert problem.message == "expected text, got a number (12)"


@pytest.mark.parametrize(
    ("yaml_text", "value"),
    [
        ("no", "no"),
        ("on", "on"),
        ("0123", "0123"),
        ("1:30", "1:30"),
        ("12", 12),
        ("-3", -3),
        ("2.5", 2.5),
        ("true", True),
        ("~", None),
        ('"12"', "12"),
        ("!!str 12", "12"),
    ],
)
def test_scalars_follow_yaml_1_2_not_1_1(yaml_text: str, value: object) -> None:
    """Only true/false are booleans and plain decimals numbers; ids like 0123 stay text."""
    parsed = parse_yaml(f"v: {yaml_text}\n", "x")
    assert parsed.source.data == {"v": value}
    assert type(parsed.source.data["v"]) is type(value)


def test_aliases_and_anchors_are_usable() -> None:
    """A shared mapping (anchor and alias) loads like a copy."""
    text = MINIMAL.replace(
        "object: {queue: 8001@SIP_Switch}", "object: &q {queue: 8001@SIP_Switch}"
    )
    text += "      - {kind: kpi, object: *q, stat: Total_Answered}\n"
    layout = load_layout_text(text)
    widgets = layout.pages[0].widgets
    assert isinstance(widgets[1], KpiSpec) and widgets[1].object.object_id == "8001@SIP_Switch"


def test_object_list_file_plain_ids(tmp_path: Path) -> None:
    """A plain list file skips comments and blank lines and keeps line numbers."""
    path = tmp_path / "a.txt"
    path.write_text("# team\nana.silva\n\n  ben.novak  \n", encoding="utf-8")
    listed = parse_object_list(read_text(path))
    assert [(e.id, e.label, e.line) for e in listed.entries] == [
        ("ana.silva", None, 2),
        ("ben.novak", None, 4),
    ]
    assert listed.problems == ()


def test_object_list_file_csv_with_labels(tmp_path: Path) -> None:
    """A CSV export is read by its id column, with labels from a label (or name) column."""
    path = tmp_path / "a.csv"
    path.write_text(
        "Name;ID;site\nAna Silva;ana.silva;Lisbon\n;ben.novak;Prague\n", encoding="utf-8"
    )
    listed = parse_object_list(read_text(path))
    assert [(e.id, e.label) for e in listed.entries] == [
        ("ana.silva", "Ana Silva"),
        ("ben.novak", None),
    ]


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("", "the file lists no ids", None),
        ("# only a comment\n", "the file lists no ids", None),
        (
            "name,site\nana,x\n",
            "a CSV object list needs an 'id' column; the header has: name, site",
            1,
        ),
        ("id,label\n,Nobody\n", "this row has no id", 2),
        ("id\n", "the CSV has a header but no rows", 1),
    ],
)
def test_object_list_file_problems(
    tmp_path: Path, content: str, message: str, line: int | None
) -> None:
    """Empty files, CSVs without an id column or with empty ids are located problems."""
    path = tmp_path / "a.csv"
    path.write_text(content, encoding="utf-8")
    (problem,) = parse_object_list(read_text(path)).problems
    assert (problem.message, problem.line) == (message, line)


def test_object_list_file_feeds_the_layout(tmp_path: Path) -> None:
    """Ids read from a file beside the layout become the agents of a widget."""
    (tmp_path / "team.txt").write_text("ana.silva\nben.novak\n", encoding="utf-8")
    (tmp_path / "l.yaml").write_text(
        "title: T\nobjects:\n  team: {type: agent, file: team.txt}\n"
        "pages:\n  - widgets:\n      - {kind: agents, agents: team}\n",
        encoding="utf-8",
    )
    layout = load_layout(tmp_path / "l.yaml")
    assert layout.objects["team"].entries() == (("ana.silva", None), ("ben.novak", None))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), ("8h", 28800.0), ("1h30m", 5400.0), ("1.5s", 1.5)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    """Durations with units parse to seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2", "", "2 sec", "s", "-1s", "1d"])
def test_bad_durations_are_refused(text: str) -> None:
    """A number without a unit, an unknown unit or a negative duration is a ValueError."""
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_is_the_inverse_for_whole_values() -> None:
    """format_duration writes what parse_duration reads back."""
    for seconds in (0.5, 1.0, 59.0, 90.0, 3600.0, 5400.0, 86400.0):
        assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("word", "options", "expected"),
    [
        ("main_mask", ["mainMask", "subject"], "mainMask"),
        ("Agents", ["agents", "queues"], "agents"),
        ("colums", ["columns", "widgets"], "columns"),
        ("zzz", ["columns", "widgets"], None),
    ],
)
def test_closest_suggestion(word: str, options: list[str], expected: str | None) -> None:
    """Case, separators and small typos find their word; nonsense finds none."""
    assert closest(word, options) == expected
