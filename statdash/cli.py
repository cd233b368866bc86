"""argv -> one statdash command. Friendly errors and exit status 2 before any app starts.

Each command is two modules: its arguments, `statdash.commands.arguments.COMMAND` with
`add_arguments(parser)`, light; and the command, `statdash.commands.COMMAND` with
`run(args) -> int`. This module only builds the parser and dispatches. Every command lists
itself with the one-line help below, so `statdash --help` loads none of them; the named
command's arguments module is imported to parse, and the command's own module (its layout
models, pydantic, httpx, Textual) only once the arguments parsed, to run it. So
`statdash run --help`, or a misspelt flag, is answered without loading the dashboard.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from statdash import __version__
from statdash.commands.voice import Refused, Voice


class _ArgumentsModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...


class _CommandModule(Protocol):
    def run(self, args: argparse.Namespace) -> int: ...


# command -> (module implementing it, one-line help); its arguments are in arguments_module().
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("statdash.commands.run", "run the live dashboard for a layout file"),
    "demo": ("statdash.commands.demo", "run the dashboard on the built-in simulator"),
    "sim": ("statdash.commands.sim", "run the Statistics API v3 simulator"),
    "check": ("statdash.commands.check", "validate a layout file (offline, or against a server)"),
    "schema": ("statdash.commands.schema", "print the JSON Schema of the layout language"),
    "peek": ("statdash.commands.peek", "read a predefined statistic's current values (no layout)"),
    "snapshot": (
        "statdash.commands.snapshot",
        "read every statistic of a layout once, as a table, JSON or CSV",
    ),
    "cleanup": ("statdash.commands.cleanup", "delete subscriptions that earlier runs left open"),
    "watch": ("statdash.commands.watch", "run a layout's alert rules without a screen"),
    "serve": ("statdash.commands.serve", "serve the live dashboard to web browsers"),
    "replay": ("statdash.commands.replay", "replay a recording through the dashboard (no server)"),
    "export": ("statdash.commands.export", "print a recording's values as CSV or JSON lines"),
    "hub": (
        "statdash.commands.hub",
        "collect statistics once for many dashboards and fan them out over NATS",
    ),
}

EXIT_USAGE = 2
# Packages of an optional extra: a command that needs one says which extra to install.
OPTIONAL_PACKAGES = {"nats": "hub"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command with its one-line help, and the arguments of `command` (from its module)."""
    # No abbreviations anywhere: `watch --record F` must not quietly mean `--records F`.
    parser = argparse.ArgumentParser(
        prog="statdash",
        description="A real-time terminal dashboard for contact-center supervisors.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"statdash {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if name == command:
            add_command_arguments(name, sub)
    return parser


def arguments_module(command: str) -> str:
    """The module of `command`'s arguments: `statdash.commands.arguments.COMMAND`."""
    return f"statdash.commands.arguments.{command}"


def add_command_arguments(command: str, parser: argparse.ArgumentParser) -> None:
    """Add `command`'s arguments to `parser`, importing its (light) arguments module only."""
    module: _ArgumentsModule = importlib.import_module(arguments_module(command))
    module.add_arguments(parser)


def _load(module_name: str) -> _CommandModule:
    module: _CommandModule = importlib.import_module(module_name)
    return module


def named_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is not an option.

    The top-level parser's own options (`--help`, `--version`) take no value, so the first
    other word is the command (or a misspelling, which argparse then reports).
    """
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `statdash` script and `python -m statdash`."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(named_command(words))
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help(sys.stderr)
        print(
            "\nTo try statdash without a Genesys system: statdash demo",
            file=sys.stderr,
        )
        return EXIT_USAGE
    module_name, _ = COMMANDS[args.command]
    try:
        module = _load(module_name)
    except ModuleNotFoundError as error:
        extra = OPTIONAL_PACKAGES.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        Voice(args.command).say(f'needs the {extra} extra: pip install "statdash[{extra}]"')
        return EXIT_USAGE
    return invoke(args.command, module.run, args)


def invoke(command: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command with its parsed `args`: its exit status, or its refusal said once."""
    try:
        return run(args)
    except Refused as refusal:
        # Every command refuses to start this one way: one line, exit 2, nothing started.
        if refusal.message is not None:
            Voice(command).say(refusal.message)
        return refusal.code
    except KeyboardInterrupt:
        return 130
