"""`statdash COMMAND --help`, and an argument error, load none of the dashboard (issue 23);
importing the layout models builds none of their validators.

Each command's arguments live apart from the command (`statdash.commands.arguments`), so the
help and a misspelt flag are answered without the layout models, pydantic, httpx or Textual.
This checks the behaviour (what a fresh interpreter has in `sys.modules`), never a time: one
child process asks every command for its help and for a flag it does not know.
"""

from __future__ import annotations

import json
import subprocess
import sys

from statdash.cli import COMMANDS

from .conftest import ROOT

# What `--help` must not load: the layout's pydantic models and validation, the API's models,
# the network client, the YAML reader, the push decoder, Textual and the web/sim servers.
HEAVY = (
    "pydantic",
    "httpx",
    "textual",
    "yaml",
    "msgspec",
    "starlette",
    "uvicorn",
    "statdash.layout.specs",
    "statdash.layout.validation",
    "statdash.layout.loader",
    "statdash.layout.compile",
    "statdash.api.models",
    "statdash.api.settings",
    "statdash.ui",
    "statdash.live",
    "statdash.sim",
    "statdash.web",
)

# The child runs every argv in turn (one process each would cost a second of the suite) and
# records the heavy modules loaded so far after each: the first argv that loads one shows it.
# A call's exit status proves it was answered (0 for --help, 2 for an unknown flag).
CHILD = """
import contextlib, io, json, sys
from statdash.cli import main
heavy = tuple(sys.argv[1].split(","))
found = {}
for argv in json.loads(sys.argv[2]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code
    loaded = sorted(
        name for name, module in sys.modules.items()
        if module is not None and any(name == h or name.startswith(h + ".") for h in heavy)
    )
    found[" ".join(argv)] = [code, loaded]
print(json.dumps(found))
"""


def loaded_by(argvs: list[list[str]]) -> dict[str, list[object]]:
    """`statdash ARGV` for each argv in one fresh interpreter: {argv: [exit status, heavy
    modules loaded so far]}."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(HEAVY), json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    found: dict[str, list[object]] = json.loads(done.stdout)
    return found


def test_every_commands_help_and_argument_error_load_nothing_heavy() -> None:
    """`statdash COMMAND --help` exits 0 and `statdash COMMAND --no-such-flag` exits 2, for
    every command, and neither loads a heavy module (pydantic, httpx, Textual, layout models)."""
    argvs = [[*words] for name in COMMANDS for words in ([name, "--help"], [name, "--no-such"])]
    found = loaded_by([["--help"], *argvs])
    assert found["--help"] == [0, []]
    for name in COMMANDS:
        assert found[f"{name} --help"] == [0, []], name
        assert found[f"{name} --no-such"] == [2, []], name


# The layout language imported, as by a command that reads no layout (peek, cleanup): built?
BUILT = """
import json
import statdash.layout.specs
from statdash.layout.validation import Node

def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)

models = list(every(Node))
print(json.dumps([len(models), sorted({m.__name__ for m in models if m.__pydantic_complete__})]))
"""


def test_the_layout_models_build_their_validators_only_when_a_layout_is_read() -> None:
    """Importing the layout language (as `peek` and `cleanup` do) builds none of its
    validators: pydantic builds them at the first validation (`defer_build`), so only a
    command that reads a layout pays for them. The layout tests prove validation unchanged."""
    done = subprocess.run(
        [sys.executable, "-c", BUILT], capture_output=True, text=True, cwd=ROOT, check=True
    )
    models, built = json.loads(done.stdout)
    assert models > 20  # the language's models were imported, so the check means something
    assert built == []


SOURCES_READ = """
import inspect, json
from pathlib import Path
read = []
def noting(find):
    def noted(thing):
        read.append(getattr(thing, "__qualname__", repr(thing)))
        return find(thing)
    return noted
inspect.getsourcelines = noting(inspect.getsourcelines)
inspect.findsource = noting(inspect.findsource)
from statdash.layout.loader import load_layout_text
text = Path("layouts/demo.yaml").read_text(encoding="utf-8")
text = text.replace("    for: 10s\\n", '    for: 10s\\n    active: "Mon-Fri 08:00-20:00"\\n', 1)
layout = load_layout_text(text, base_dir=Path("layouts"))
print(json.dumps([len(layout.alerts), read]))
"""


def test_reading_a_layout_reads_no_source_for_field_descriptions() -> None:
    """Importing the layout models and the first layout read (formulas and an alert's active
    hours included) parse no module's source for field descriptions: those are read by
    `statdash schema` alone. pydantic's attribute docstrings cost ~40 ms at import, and
    ~0.1 s more in the first read of floor.yaml (the dataclasses a formula is read into)."""
    done = subprocess.run(
        [sys.executable, "-c", SOURCES_READ], capture_output=True, text=True, cwd=ROOT, check=True
    )
    alerts, read = json.loads(done.stdout)
    assert alerts == 1  # the rule with its window was read, so the check means something
    assert read == []


def test_talking_to_a_server_loads_no_command_line_client() -> None:
    """`statdash run` (the client, the session, the screen) loads none of httpx's own
    command-line client: click, pygments, rich's progress bars and syntax highlighting were
    ~35 ms of every start, imported by httpx's package whenever they are installed."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, statdash.commands.run, statdash.ui.start, statdash.ui.launch\n"
            "print(sorted(m for m, module in sys.modules.items() if module is not None and"
            " (m.split('.')[0] in ('click', 'pygments')"
            " or m in ('httpx._main', 'rich.syntax', 'rich.progress'))))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stdout.strip() == "[]"
