"""The benchmarks' shape: one entry point per question, shared code in benchkit/, no circle,
and nothing measured through a private name (read as source, nothing is run)."""

from __future__ import annotations

import ast
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
ENTRY_POINTS = {
    "perf",
    "push_vs_poll",
    "soak",
    "record_cost",
    "serve_viewers",
    "faults",
    "hub",
}


def _modules() -> dict[str, ast.Module]:
    """Every benchmark module by its import name (`perf`, `benchkit.cycle`...)."""
    found: dict[str, ast.Module] = {}
    for path in sorted(BENCHMARKS.rglob("*.py")):
        parts = path.relative_to(BENCHMARKS).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


def _imported(tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, name) of every import: `import a.b` gives (a.b, None)."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_one_entry_point_per_question_and_shared_code_in_benchkit() -> None:
    """benchmarks/ holds one entry point per question; everything else is in benchkit/."""
    top = {path.stem for path in BENCHMARKS.glob("*.py")}
    assert top == ENTRY_POINTS
    assert (BENCHMARKS / "benchkit" / "__init__.py").is_file()


def test_benchmarks_use_no_private_name() -> None:
    """No benchmark imports a private module or name, nor reaches one on an imported module
    (such as `textual._compositor` or `push._read_reply`): they measure through public seams."""
    problems: list[str] = []
    for name, tree in _modules().items():
        modules: set[str] = set()
        for module, imported in _imported(tree):
            if module == "__future__":
                continue
            if any(_private(part) for part in module.split(".")) or (
                imported is not None and _private(imported)
            ):
                problems.append(f"{name}: imports {module} {imported or ''}".strip())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and _private(node.attr)
            ):
                problems.append(f"{name}: {node.value.id}.{node.attr}")
    assert problems == []


def test_no_import_circle_and_benchkit_imports_no_entry_point() -> None:
    """Entry points import benchkit; benchkit never imports an entry point; no circle."""
    modules = _modules()
    edges = {
        name: {module for module, _ in _imported(tree) if module in modules}
        | {
            f"{module}.{imported}"
            for module, imported in _imported(tree)
            if imported is not None and f"{module}.{imported}" in modules
        }
        for name, tree in modules.items()
    }
    for name, targets in edges.items():
        if name.startswith("benchkit"):
            assert not targets & ENTRY_POINTS, f"{name} imports an entry point"
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import circle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for target in edges[name]:
            visit(target, (*path, name))
        done.add(name)

    for name in edges:
        visit(name, ())
