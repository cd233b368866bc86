"""The README's map of the code names every package, room and entry point as they stand."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_START = README.index("## Layout of the code")
MAP = README[_START : README.index("\n## ", _START + 1)]


def test_the_map_names_every_package_and_room() -> None:
    """Each package of statdash (and its top-level modules), each room of live/, each module
    of the simulator and each benchmark entry point has its line on the map."""
    package = ROOT / "statdash"
    wanted = [
        f"statdash/{path.name}/" for path in package.iterdir() if (path / "__init__.py").is_file()
    ]
    wanted += [path.name for path in package.glob("*.py") if path.name not in ("__init__.py",)]
    wanted += [
        f"live/{path.name}/"
        for path in (package / "live").iterdir()
        if (path / "__init__.py").is_file()
    ]
    wanted += [path.name for path in (package / "sim").glob("*.py") if path.name != "__init__.py"]
    wanted += [path.name for path in (ROOT / "benchmarks").glob("*.py")]
    wanted.append("benchkit/")
    missing = [name for name in wanted if name not in MAP]
    assert missing == []
