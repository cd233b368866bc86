"""`statdash check LAYOUT [--url URL]`: validate a layout offline, and optionally on a server.

Exit status: 0 the layout is sound (and the server resolved every statistic); 2 the layout
has problems or the server rejected some of its statistics (each printed as
`file:line:column: key.path: message` on stderr); 1 the server check could not run (not
reachable, credentials refused, settings missing).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from statdash.api.errors import (
    AuthenticationError,
    AuthError,
    BadRequestError,
    ConfigError,
    EnvelopeError,
    PermissionDeniedError,
    StatisticsError,
    TransportError,
)
from statdash.commands.server_options import add_server_arguments, resolve_server
from statdash.layout.compile import CompiledLayout, compile_layout
from statdash.layout.loader import LayoutError, load_layout
from statdash.layout.problems import LayoutProblem, SourceLocation

# The server check's machinery (httpx, msgspec, the client: ~150 ms of a ~300 ms start) is
# imported where the check runs, so an offline check, what editors and CI run on every
# save, never pays for it.
if TYPE_CHECKING:
    from statdash.api.client import StatisticsClient
    from statdash.api.responses import ItemError

EXIT_OK = 0
EXIT_UNCHECKED = 1
EXIT_PROBLEMS = 2
# Objects named in one "rejected" line before "and N more".
SHOWN_OBJECTS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: the layout file and, optionally, a server to check against."""
    parser.add_argument("layout", help="the layout file (YAML)")
    add_server_arguments(parser, url_required=False)
    parser.epilog = (
        "Without --url the layout is checked offline. With --url the server resolves every"
        " (object, statistic) pair through one subscription, which is always deleted after."
        " Exit status: 0 sound, 2 problems found, 1 the server check could not run."
    )


def run(args: argparse.Namespace) -> int:
    """Check the layout; print a summary (stdout) or the problems (stderr)."""
    try:
        compiled = compile_layout(load_layout(args.layout))
    except LayoutError as exc:
        _print_problems(exc.problems)
        count = len(exc.problems)
        print(f"{args.layout}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{args.layout}: OK: {summary(compiled)}")
    if not getattr(args, "url", None):
        return EXIT_OK
    return _check_on_server(args, compiled)


def summary(compiled: CompiledLayout) -> str:
    """`2 pages, 7 widgets, 412 statistics on 55 objects`."""
    widgets = sum(len(page.widgets) for page in compiled.pages)
    return (
        f"{_count(len(compiled.pages), 'page')}, {_count(widgets, 'widget')},"
        f" {_count(len(compiled.items), 'statistic')} on {_count(compiled.object_count, 'object')}"
    )


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _print_problems(problems: tuple[LayoutProblem, ...] | list[LayoutProblem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _check_on_server(args: argparse.Namespace, compiled: CompiledLayout) -> int:
    # why here: the HTTP client stack costs an offline check ~150 ms (see the top).
    from statdash.api.client import RetryPolicy
    from statdash.api.connect import make_client

    try:
        settings = resolve_server(args)
        # No answer, a 503 or a 504 is tried twice more (a second or two); then it is the answer.
        client = make_client(settings, retry=RetryPolicy())
    except ConfigError as exc:
        print(f"statdash check: {exc}", file=sys.stderr)
        return EXIT_UNCHECKED
    where = settings.label
    try:
        problems = asyncio.run(check_on_server(compiled, client))
    except TransportError as exc:
        print(f"statdash check: cannot reach the server at {where}: {exc}", file=sys.stderr)
        return EXIT_UNCHECKED
    except (AuthenticationError, PermissionDeniedError, AuthError) as exc:
        print(f"statdash check: {where} refused the credentials: {exc}", file=sys.stderr)
        return EXIT_UNCHECKED
    except (BadRequestError, EnvelopeError) as exc:
        print(
            f"{args.layout}: the server at {where} rejected the whole subscription: {exc}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except StatisticsError as exc:
        print(f"statdash check: the server at {where} failed: {exc}", file=sys.stderr)
        return EXIT_UNCHECKED
    if problems:
        _print_problems(problems)
        print(
            f"{args.layout}: the server at {where} rejected some statistics"
            f" ({_count(len(problems), 'problem')})",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    print(f"{args.layout}: OK on {where}: every statistic resolved")
    return EXIT_OK


async def check_on_server(
    compiled: CompiledLayout, client: StatisticsClient
) -> list[LayoutProblem]:
    """Open one subscription with every item, and the rejected ones as located problems.

    `live.oneshot.read_once` deletes the subscription whatever happens (an error, Ctrl+C,
    a reply that never came: its id is our own operationId) and keeps a crash record of it
    while it is open, so `statdash cleanup` finds it even after a SIGKILL.
    """
    # why here: the HTTP client stack costs an offline check ~150 ms (see the top).
    from statdash.live.oneshot import read_once
    from statdash.live.records import SubscriptionRecords

    async with client:
        read = await read_once(
            client, compiled.items, records=SubscriptionRecords(), peek_missing=False
        )
    return rejections(compiled, (*read.refused.values(), *read.unplaced))


def rejections(compiled: CompiledLayout, errors: tuple[ItemError, ...]) -> list[LayoutProblem]:
    """Per-item server errors as problems at the lines that asked for them.

    Errors of one line with one message are grouped ("... for Agent ana.silva, ben.novak and
    1,998 more"), so one bad column on a 2,000-agent floor is one line, not 2,000.
    """
    groups: dict[tuple[SourceLocation, str, str, str, str], list[str]] = {}
    problems: list[LayoutProblem] = []
    for error in errors:
        message = error.message or f"error code {error.code}"
        origin = compiled.origins.get(error.statistic_id or "")
        if origin is None:
            # The server did not say which item failed: say what it did say.
            what = " ".join(p for p in (error.name, error.object_type, error.object_id) if p)
            problems.append(
                LayoutProblem(
                    SourceLocation(compiled.file),
                    "",
                    f"the server rejected a statistic{f' ({what})' if what else ''}: {message}",
                )
            )
            continue
        key = (origin.location, origin.path, origin.statistic, origin.object.type, message)
        groups.setdefault(key, []).append(origin.object.id)
    for (location, path, statistic, object_type, message), ids in groups.items():
        shown = ", ".join(ids[:SHOWN_OBJECTS])
        if len(ids) > SHOWN_OBJECTS:
            shown += f" and {len(ids) - SHOWN_OBJECTS:,} more"
        problems.append(
            LayoutProblem(
                location,
                path,
                f"the server rejected {statistic} for {object_type} {shown}: {message}",
            )
        )
    return sorted(problems, key=LayoutProblem.sort_key)
