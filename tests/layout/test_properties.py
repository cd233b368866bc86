"""Property tests: mutated shipped layouts give a clean error or a valid layout, never a traceback.

Mutations are the mistakes people make while editing: a key deleted, a key renamed (typo or
nonsense), a value retyped. The floor layout is left out: it is the same language at 40 times
the compile time, and test_shipped covers it. Run longer with STATDASH_LAYOUT_EXAMPLES=2000.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from statdash.layout.compile import compile_layout
from statdash.layout.loader import LayoutError, load_layout_text

from .conftest import LAYOUT_SETTINGS, LAYOUTS, SHIPPED

Path = tuple[str | int, ...]

MUTATED = tuple(name for name in SHIPPED if name != "floor")
ORIGINALS = {
    name: yaml.safe_load((LAYOUTS / f"{name}.yaml").read_text(encoding="utf-8")) for name in SHIPPED
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["$sl", "$nope", "2s", "0", "agents", "kpi", "percent", "8001@SIP_Switch"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every key path in a parsed layout (mapping keys and list indexes)."""
    found: list[Path] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(paths(child, (*prefix, index)))
    return found


def parent_of(data: Any, path: Path) -> Any:
    """The container holding the last part of `path`."""
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def check(data: Any) -> None:
    """The mutated layout loads and compiles, or fails with located problems only."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        layout = load_layout_text(text, file="m.yaml", base_dir=LAYOUTS)
    except LayoutError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message
            assert str(problem).count(": ") >= 1
            if problem.file == "m.yaml":
                assert problem.line is not None and problem.line >= 1
        return
    compiled = compile_layout(layout)
    assert len({i.statistic_id for i in compiled.items}) == len(compiled.items)


@pytest.mark.parametrize("name", MUTATED)
@LAYOUT_SETTINGS
@given(st.data())
def test_deleting_a_key_or_item_never_crashes(name: str, data: st.DataObject) -> None:
    """Removing any key or list item yields a valid layout or clean, located problems."""
    layout = copy.deepcopy(ORIGINALS[name])
    path = data.draw(st.sampled_from(paths(layout)))
    del parent_of(layout, path)[path[-1]]
    check(layout)


@pytest.mark.parametrize("name", MUTATED)
@LAYOUT_SETTINGS
@given(st.data())
def test_renaming_a_key_never_crashes(name: str, data: st.DataObject) -> None:
    """Renaming a key (a typo, a case change, or nonsense) never crashes the loader."""
    layout = copy.deepcopy(ORIGINALS[name])
    keyed = [p for p in paths(layout) if isinstance(p[-1], str)]
    path = data.draw(st.sampled_from(keyed))
    old = str(path[-1])
    new = data.draw(
        st.one_of(
            st.just(old.upper()),
            st.just(old[:-1]),
            st.just(old + old[-1]),
            st.text(min_size=1, max_size=10),
        )
    )
    parent = parent_of(layout, path)
    parent[new] = parent.pop(old)
    check(layout)


@pytest.mark.parametrize("name", MUTATED)
@LAYOUT_SETTINGS
@given(st.data())
def test_retyping_a_value_never_crashes(name: str, data: st.DataObject) -> None:
    """Replacing any value with a value of another shape never crashes the loader."""
    layout = copy.deepcopy(ORIGINALS[name])
    path = data.draw(st.sampled_from(paths(layout)))
    parent_of(layout, path)[path[-1]] = data.draw(values)
    check(layout)


@LAYOUT_SETTINGS
@given(st.text(max_size=300))
def test_any_text_gives_a_layout_or_a_layout_error(text: str) -> None:
    """Arbitrary text never raises anything but LayoutError."""
    try:
        load_layout_text(text, file="t.yaml")
    except LayoutError as exc:
        assert exc.problems


def test_unmutated_shipped_layouts_pass_the_same_check() -> None:
    """The round trip used above (safe_dump of the parsed file) keeps every layout valid."""
    for data in ORIGINALS.values():
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        compile_layout(load_layout_text(text, file="m.yaml", base_dir=LAYOUTS))
