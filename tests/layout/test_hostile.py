"""Hostile files get one clear, located error quickly, without a traceback or a memory spike."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from statdash.layout.files import MAX_FILE_BYTES
from statdash.layout.loader import LayoutError, load_layout, load_layout_text
from statdash.layout.vocabulary import MAX_WIDGETS
from statdash.layout.yamlsource import MAX_DEPTH, MAX_INTEGER_DIGITS, parse_yaml

# A page that is sound, so the only problem of a layout is the one a test is about.
ONE_PAGE = (
    "pages:\n  - widgets:\n      - {kind: kpi, object: {queue: q1}, stat: Current_In_Queue}\n"
)


def problems_of(path: Path) -> list[str]:
    """The problem lines `load_layout` reports for `path` (fails if it loads)."""
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    return [str(p) for p in caught.value.problems]


def text_problems(text: str) -> list[str]:
    """The problem lines for layout `text` (fails if it loads)."""
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="x.yaml")
    return [str(p) for p in caught.value.problems]


def test_billion_laughs_stops_fast_at_the_alias_cap() -> None:
    """A nine-level alias bomb is refused in well under a second, naming aliases."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    start = time.perf_counter()
    found = text_problems("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1.0
    assert len(found) == 1
    assert "too many values" in found[0] and "after expanding aliases" in found[0]


def test_deep_nesting_is_refused_without_recursion() -> None:
    """100,000 nested lists are refused quickly as too deep, instead of exhausting the stack.

    libyaml has a limit of its own (1,000 levels) that can fire before ours; either message
    names the nesting.
    """
    start = time.perf_counter()
    found = text_problems("[" * 100_000 + "]" * 100_000)
    assert time.perf_counter() - start < 1.0
    assert len(found) == 1 and "nesting" in found[0]


def test_nesting_past_our_cap_is_refused_at_the_level_it_crosses() -> None:
    """Block nesting just past MAX_DEPTH is reported where it crosses the cap."""
    text = "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_DEPTH + 5))
    found = text_problems(text)
    assert found == [
        f"x.yaml:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: nesting is deeper than {MAX_DEPTH}"
        " levels; a layout never needs this"
    ]


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A 300 MB (sparse) file is refused from its size alone, instantly."""
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    start = time.perf_counter()
    found = problems_of(path)
    assert time.perf_counter() - start < 0.5
    assert found == [f"{path}: the file is 300.0 MB; the limit is 4.0 MB"]


def test_a_file_just_over_the_limit_is_refused(tmp_path: Path) -> None:
    """The size limit is exact: one byte over is refused."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert problems_of(path) == [f"{path}: the file is 4.0 MB; the limit is 4.0 MB"]


def test_binary_data_is_named_as_such(tmp_path: Path) -> None:
    """NUL bytes mean binary data: reported with where the first one is."""
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"title: x\npa\x00ges: []\n")
    assert problems_of(path) == [
        f"{path}:2:3: this is binary data, not a text file (it contains NUL bytes)"
    ]


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    """A Latin-1 byte in a UTF-8 file is reported at its line and column."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Caf\xe9\n".encode("latin-1"))
    assert problems_of(path) == [
        f"{path}:1:11: not valid UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


def test_a_directory_and_a_missing_file_are_plain_messages(tmp_path: Path) -> None:
    """Neither a directory nor a missing path raises anything but LayoutError."""
    assert problems_of(tmp_path) == [f"{tmp_path}: this is a directory, not a file"]
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_device_is_refused_unread() -> None:
    """/dev/zero (size 0, never ends) is refused as a device, not read at all."""
    assert problems_of(Path("/dev/zero")) == ["/dev/zero: this is a character device, not a file"]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO as the layout is named as such at once; opening it would wait for a writer."""
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert problems_of(path) == [f"{path}: this is a FIFO (named pipe), not a file"]


def test_a_file_swapped_for_a_fifo_after_the_look_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open itself never blocks: a FIFO that appears between the look and the open (the
    look is made to see a regular file) is refused from the open descriptor."""
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    monkeypatch.setattr("statdash.regular.require_regular", lambda _path: None)
    assert problems_of(path) == [f"{path}: this is a FIFO (named pipe), not a file"]


def test_an_object_list_that_is_a_fifo_is_a_located_problem(tmp_path: Path) -> None:
    """An object list beside the layout that is a FIFO is refused where the layout names it."""
    os.mkfifo(tmp_path / "agents.txt")
    path = tmp_path / "floor.yaml"
    path.write_text(
        "title: t\nobjects:\n  floor: {type: agent, file: agents.txt}\npages:\n"
        "  - widgets:\n      - {kind: agents, agents: floor, columns: [CurrentAgentState]}\n"
    )
    found = problems_of(path)
    assert len(found) == 1 and "FIFO (named pipe)" in found[0], found


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- a\n- b\n", "a list"),
        ("42\n", "a number (42)"),
        ("just words\n", "text ('just words')"),
        ("true\n", "true/false (true)"),
    ],
)
def test_a_document_that_is_not_a_mapping_says_what_it_is(text: str, got: str) -> None:
    """A list, a number, text or a boolean document gets 'must be a mapping of keys, got ...'."""
    assert text_problems(text) == [f"x.yaml:1:1: the layout must be a mapping of keys, got {got}"]


def test_control_characters_are_a_yaml_error() -> None:
    """An escape character in the text is refused by the YAML reader, with its position."""
    assert text_problems("title: a\x1bb\n") == [
        "x.yaml:1:9: character #x001b is not allowed in YAML text"
    ]


def test_a_second_document_is_refused() -> None:
    """Two YAML documents in one file are one layout too many."""
    found = text_problems("title: a\n---\ntitle: b\n")
    assert found == [
        "x.yaml:2:1: a layout file holds one YAML document; this is a second one (after ---)"
    ]


def test_huge_strings_are_clipped_in_messages() -> None:
    """A 100,000-character bad value is quoted in at most a short excerpt."""
    found = text_problems("title: x\nrefresh: " + "z" * 100_000 + "\npages: []\n")
    assert all(len(line) < 300 for line in found)


def test_bidi_and_invisible_characters_never_reach_the_terminal() -> None:
    """A key holding a right-to-left override (legal in YAML) is printed without it."""
    found = text_problems("title: x\npages: []\nev\u202eil: 1\n")
    assert found and all("\u202e" not in line for line in found)
    assert any("unknown key 'evil'" in line for line in found)


def test_an_integer_of_4301_digits_is_a_located_problem() -> None:
    """An integer past Python's int-string limit (4,300 digits) is one located problem, not a
    ValueError from int()."""
    found = text_problems("title: x\nrefresh: " + "9" * 4301 + "\npages: []\n")
    assert found == [
        f"x.yaml:2:10: refresh: a number of 4,301 digits; no figure in a layout needs more than"
        f" {MAX_INTEGER_DIGITS} (put an id in quotes)"
    ]


def test_an_integer_too_big_for_a_float_is_a_located_problem() -> None:
    """A 400-digit threshold (fine for int(), an OverflowError for float()) is one located
    problem; quoted, the same digits stay text."""
    number = "9" * 400
    found = text_problems(
        "title: x\nstatistics:\n  busy: {name: CurrentBusyAgents, thresholds: {warn: "
        + number
        + "}}\npages: []\n"
    )
    assert found == [
        "x.yaml:3:54: statistics.busy.thresholds.warn: a number of 400 digits; no figure in a"
        f" layout needs more than {MAX_INTEGER_DIGITS} (put an id in quotes)"
    ]
    assert parse_yaml(f"id: '{number}'\n", "x.yaml").source.data == {"id": number}


def test_a_duration_of_310_digits_is_a_located_problem() -> None:
    """`refresh: 999...9s` (310 digits: infinity as a float) is one located problem, not an
    OverflowError while wording the range it is outside of."""
    found = text_problems("title: x\nrefresh: " + "9" * 310 + "s\n" + ONE_PAGE)
    assert found == [
        f"x.yaml:2:10: refresh: '{'9' * 39}…' is longer than any duration statdash uses"
        " (at most 87600h)"
    ]


def test_a_layout_with_too_many_widgets_is_refused_before_it_compiles() -> None:
    """MAX_WIDGETS + 1 widgets: one problem at `pages` (20,000 took a minute to compile)."""
    widget = "      - {kind: kpi, object: {queue: q}, stat: CurrentNumberWaitingCalls}\n"
    text = "title: Big\npages:\n  - widgets:\n" + widget * (MAX_WIDGETS + 1)
    assert text_problems(text) == [
        f"x.yaml:3:3: pages: {MAX_WIDGETS + 1} widgets; a layout has at most {MAX_WIDGETS}"
        " (a wallboard shows a dozen or two)"
    ]
