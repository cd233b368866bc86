"""Each command's arguments, apart from the command: what `statdash COMMAND --help` (and an
argument error) loads.

`statdash.cli` builds a command's parser from `arguments.COMMAND.add_arguments` and imports the
command's own module (`statdash.commands.COMMAND`, with its layout models, pydantic, httpx or
Textual) only to run it. So every module here imports argparse, pathlib and the few light
constants the help text names, nothing heavy: an import-linter contract (pyproject.toml) and
tests/commands/test_light_help.py hold it.
"""
