"""`statdash check LAYOUT... [--url URL]`: validate layouts offline, and optionally on a server.

Each file is checked in turn (and each declared formula is listed with the server
statistics it is computed from); files that are not layouts (not .yaml or .yml, such as the
object lists beside a layout when the shell expands `layouts/*`) are skipped with a word.
Exit status: 0 every layout is sound (and the server resolved every statistic); 2 a layout
has problems or the server rejected some of its statistics (each printed as
`file:line:column: key.path: message` on stderr), or no layout was given; 1 the server check
could not run (not reachable, credentials refused, settings missing). With several files the
worst status wins.

What the server rejects is grouped, so a 2,000-agent layout on a 50-agent server is a few
lines: the objects the server does not know, then one line per refused statistic, each with a
few objects and the count of the rest, then one summary line. `--all` lists every rejected
(object, statistic) on its own line instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from statdash.api.describe import describe, describe_item
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
from statdash.api.settings import ServerSettings
from statdash.commands.arguments.check import SHOWN_OBJECTS
from statdash.commands.server_options import resolve_server
from statdash.commands.voice import Refused, Voice
from statdash.layout.compile import compile_layout, formula_needs
from statdash.layout.loader import LayoutError, load_layout
from statdash.layout.problems import LayoutProblem, SourceLocation
from statdash.layout.views import CompiledLayout, StatOrigin
from statdash.text import counted

# The server check's machinery (httpx, msgspec, the client: ~150 ms of a ~300 ms start) is
# imported where the check runs, so an offline check, what editors and CI run on every
# save, never pays for it.
if TYPE_CHECKING:
    from statdash.api.client import StatisticsClient
    from statdash.api.responses import ItemError

VOICE = Voice("check")
EXIT_OK = 0
EXIT_UNCHECKED = 1
EXIT_PROBLEMS = 2
LAYOUT_SUFFIXES = (".yaml", ".yml")
# Stands for an object's id in a server message, so "Unknown object 'Agent:ana'" and
# "Unknown object 'Agent:ben'" are one message for grouping.
_THE_OBJECT = "\0"


def run(args: argparse.Namespace) -> int:
    """Check each layout; print a summary (stdout) or the problems (stderr)."""
    settings: ServerSettings | None = None
    if getattr(args, "url", None):
        # Before any output: a missing key must not follow an "OK".
        try:
            settings = resolve_server(args, voice=VOICE)
            _client(settings)  # an unusable CA bundle, too, is said before anything else
        except ConfigError as error:
            raise Refused(str(error), EXIT_UNCHECKED) from None
        except Refused as refusal:
            raise Refused(refusal.message, EXIT_UNCHECKED) from None
    layouts = [Path(name) for name in args.layouts]
    status = EXIT_OK
    checked = 0
    for path in layouts:
        if _is_folder(path):
            VOICE.say(f"skipped {path}: a folder, not a layout file")
            continue
        if path.suffix.lower() not in LAYOUT_SUFFIXES:
            VOICE.say(f"skipped {path}: not a layout file (only .yaml and .yml are checked)")
            continue
        checked += 1
        outcome = _check_file(path, args, settings)
        status = max(status, outcome)
        if outcome == EXIT_UNCHECKED:
            # The server is out of reach (or refuses us) for the other files just the same.
            settings = None
    if not checked:
        raise Refused("no layout file to check (.yaml or .yml)", EXIT_PROBLEMS)
    return status


def _is_folder(path: Path) -> bool:
    """True for a folder; False for anything else, and for a path that cannot be looked at
    (in a folder the user cannot enter), whose layout check then says why, located."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _check_file(path: Path, args: argparse.Namespace, settings: ServerSettings | None) -> int:
    try:
        layout = load_layout(path)
        compiled = compile_layout(layout)
    except LayoutError as exc:
        _print_problems(exc.problems)
        print(f"{path}: {counted(len(exc.problems), 'problem')}", file=sys.stderr)
        return EXIT_PROBLEMS
    if not getattr(args, "url", None):
        print(f"{path}: OK: {summary(compiled)}")
    else:
        # Not "OK" yet: the server has its say last, and its line is the verdict.
        print(f"{path}: offline checks passed: {summary(compiled)}")
    # What each formula is computed from, so a missing input is found before the shift.
    for name, needs in formula_needs(layout).items():
        print(f"{path}: formula {name} needs {', '.join(needs) or 'no statistics'}")
    if settings is None:
        if getattr(args, "url", None):
            # The server was out of reach for an earlier file: say this one's verdict too.
            return VOICE.fail(f"{path} not checked on the server", EXIT_UNCHECKED)
        return EXIT_OK
    return _check_on_server(path, compiled, settings, everything=args.all)


def summary(compiled: CompiledLayout) -> str:
    """`2 pages, 7 widgets, 412 statistics on 55 objects`."""
    widgets = sum(len(page.widgets) for page in compiled.pages)
    return (
        f"{counted(len(compiled.pages), 'page')}, {counted(widgets, 'widget')},"
        f" {counted(len(compiled.items), 'statistic')} on"
        f" {counted(compiled.object_count, 'object')}"
    )


def _print_problems(problems: Sequence[LayoutProblem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _client(settings: ServerSettings) -> StatisticsClient:
    # why here: the HTTP client stack costs an offline check ~150 ms (see the top).
    from statdash.api.client import RetryPolicy
    from statdash.api.connect import make_client

    # No answer, a 503 or a 504 is tried twice more (a second or two); then it is the answer.
    return make_client(settings, retry=RetryPolicy())


def _check_on_server(
    path: Path, compiled: CompiledLayout, settings: ServerSettings, *, everything: bool
) -> int:
    where = settings.label
    try:
        errors = asyncio.run(check_on_server(compiled, _client(settings), everything=everything))
    except (TransportError, AuthenticationError, PermissionDeniedError, AuthError) as exc:
        return _unchecked(path, describe(exc, where))
    except (BadRequestError, EnvelopeError) as exc:
        print(
            f"{path}: the whole subscription was refused: {describe(exc, where)}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except StatisticsError as exc:
        return _unchecked(path, describe(exc, where))
    if not errors.problems:
        print(f"{path}: OK on {where}: every statistic resolved")
        return EXIT_OK
    _print_problems(errors.problems)
    for line in errors.advice(compiled):
        print(f"{path}: {line}", file=sys.stderr)
    rejected = f"rejected {errors.rejected:,} of {counted(len(compiled.items), 'statistic')}"
    more = "; --all lists each one" if errors.grouped else ""
    print(f"{path}: the server at {where} {rejected}{more}", file=sys.stderr)
    return EXIT_PROBLEMS


def _unchecked(path: Path, why: str) -> int:
    """The server could not be asked: the last line says so, and that nothing was checked."""
    return VOICE.fail(f"{why}; {path} not checked on the server", EXIT_UNCHECKED)


async def check_on_server(
    compiled: CompiledLayout, client: StatisticsClient, *, everything: bool = False
) -> Rejections:
    """Open one subscription with every item; what the server rejected, as located problems.

    `live.oneshot.read_once` deletes the subscription whatever happens (an error, Ctrl+C,
    a reply that never came: its id is our own operationId) and keeps a crash record of it
    while it is open, so `statdash cleanup` finds it even after a SIGKILL.
    """
    # why here: the HTTP client stack costs an offline check ~150 ms (see the top).
    from statdash.live.subscriptions.oneshot import read_once
    from statdash.live.subscriptions.records import SubscriptionRecords

    async with client:
        read = await read_once(
            client, compiled.items, records=SubscriptionRecords(), peek_missing=False
        )
    return rejections(compiled, (*read.refused.values(), *read.unplaced), everything=everything)


DEFAULT_SIM_AGENTS = 50
"""The agents of `statdash sim` and `statdash demo` when no size is given."""
FAR_FLOOR_FACTOR = 4
"""A simulator this many times the layout's agents is not the advice it needs alone."""


@dataclass(frozen=True, slots=True)
class Rejections:
    """What the server rejected: the problems to print, and what they stand for."""

    problems: tuple[LayoutProblem, ...]
    rejected: int
    """How many (object, statistic) pairs the server rejected."""
    unknown: tuple[tuple[str, str], ...]
    """The (objectType, id) of every object the server said it does not know."""
    grouped: bool
    """True when some problem stands for several rejections (`--all` would list more)."""

    def advice(self, compiled: CompiledLayout) -> list[str]:
        """What to do about objects the server does not know (empty when there are none).

        For ids the simulator has, the simulator that has them all: the sizes are derived
        from the layout's own object ids, so the advice is true by construction.
        """
        if not self.unknown:
            return []
        # why here: the simulator's id scheme is only needed when objects are unknown.
        from statdash.sim.ids import smallest_floor

        count = len(self.unknown)
        line = f"{counted(count, 'object')} of this layout {'is' if count == 1 else 'are'}"
        line += " not on the server"
        objects = {(o.object.type, o.object.id) for o in compiled.origins.values()}
        strangers = [o for o in self.unknown if smallest_floor([o]) is None]
        if strangers:
            # No simulator makes these: advising a size would send the user the wrong way.
            named = ", ".join(f"{kind} {ident}" for kind, ident in strangers[:3])
            more = f" and {len(strangers) - 3} more" if len(strangers) > 3 else ""
            line += (
                f"; {named}{more} {'is not an id' if len(strangers) == 1 else 'are not ids'}"
                " the simulator makes (docs/simulator.md lists its ids)"
            )
            return [line]
        size = smallest_floor(objects)
        if size is None:
            return [line]
        line += (
            f"; for the simulator, start it with: statdash sim --agents {size[0]}"
            f" --queues {size[1]}"
        )
        agents = sum(1 for kind, _ in objects if kind == "Agent")
        if size[0] > max(DEFAULT_SIM_AGENTS, FAR_FLOOR_FACTOR * agents):
            # A few agents that only a big floor has (carla.meyer is its agent 1,963): the
            # ids, not the size, are what the user most likely wants to change.
            far = sorted(
                (need[0], ident)
                for kind, ident in self.unknown
                if kind == "Agent"
                and (need := smallest_floor([(kind, ident)])) is not None
                and need[0] > DEFAULT_SIM_AGENTS
            )
            named = ", ".join(f"{ident} (its agent {number:,})" for number, ident in far[:3])
            line += (
                f", or use agents of the default simulator's first {DEFAULT_SIM_AGENTS}"
                f" (layouts/demo.yaml lists them) instead of {named}"
            )
        return [line]


def rejections(
    compiled: CompiledLayout, errors: Sequence[ItemError], *, everything: bool = False
) -> Rejections:
    """Per-item server errors as problems at the lines that asked for them.

    Grouped (unless `everything`): first the objects the server does not know (an object
    none of whose statistics got a value, rejected in words that name it, or, if the server
    names nothing, in the same words for each of its statistics), one line per type and
    message; then the other rejections, one line per layout line, statistic, type and
    message. Each line names SHOWN_OBJECTS objects and counts the rest, so one bad column on
    a 2,000-agent floor is one line, not 2,000.
    """
    placed: list[tuple[StatOrigin, ItemError]] = []
    loose: list[ItemError] = []
    for error in errors:
        origin = compiled.origins.get(error.statistic_id or "")
        if origin is None:
            loose.append(error)
        else:
            placed.append((origin, error))
    unknown = _unknown_objects(compiled, placed)
    problems = [_unplaced(compiled, group) for group in _groups(loose, everything)]
    if everything:
        problems += [_one(origin, error) for origin, error in placed]
    else:
        object_groups: dict[tuple[str, str], list[tuple[StatOrigin, ItemError]]] = {}
        statistic_groups: dict[
            tuple[SourceLocation, str, str, str, str], list[tuple[StatOrigin, ItemError]]
        ] = {}
        for origin, error in placed:
            message = _normalised(error, origin.object.id)
            if (origin.object.type, origin.object.id) in unknown and _names_the_object(
                message, unknown[(origin.object.type, origin.object.id)]
            ):
                object_groups.setdefault((origin.object.type, message), []).append((origin, error))
            else:
                key = (origin.location, origin.path, origin.statistic, origin.object.type, message)
                statistic_groups.setdefault(key, []).append((origin, error))
        problems += [_not_known(group) for group in object_groups.values()]
        problems += [_rejected(group) for group in statistic_groups.values()]
    shown = sorted(problems, key=LayoutProblem.sort_key)
    return Rejections(
        problems=tuple(shown),
        rejected=len(errors),
        unknown=tuple(unknown),
        grouped=len(shown) < len(errors),
    )


def _unknown_objects(
    compiled: CompiledLayout, placed: Sequence[tuple[StatOrigin, ItemError]]
) -> dict[tuple[str, str], set[str]]:
    """Objects none of whose statistics got a value -> the messages they were rejected with.

    Only those whose rejections name the object, or that were rejected in one and the same
    words for at least two statistics, count as unknown (see `_names_the_object`).
    """
    asked: dict[tuple[str, str], int] = {}
    for origin in compiled.origins.values():
        key = (origin.object.type, origin.object.id)
        asked[key] = asked.get(key, 0) + 1
    messages: dict[tuple[str, str], list[str]] = {}
    for origin, error in placed:
        key = (origin.object.type, origin.object.id)
        messages.setdefault(key, []).append(_normalised(error, origin.object.id))
    unknown: dict[tuple[str, str], set[str]] = {}
    for key, said in messages.items():
        if len(said) != asked[key]:
            continue  # some statistic of it has a value: the server knows it
        if any(_THE_OBJECT in message for message in said) or (
            len(said) >= 2 and len(set(said)) == 1
        ):
            unknown[key] = set(said)
    return unknown


def _names_the_object(message: str, messages: set[str]) -> bool:
    """Whether this rejection of an unknown object is about the object, not the statistic.

    A server that names the object ("Unknown object 'Agent:x'") says so itself; one that
    names nothing said the same words for every statistic of the object.
    """
    if any(_THE_OBJECT in said for said in messages):
        return _THE_OBJECT in message
    return True


def _normalised(error: ItemError, object_id: str) -> str:
    """The error in words, with the object's id replaced, so objects' messages group."""
    text = describe_item(error)
    return text.replace(object_id, _THE_OBJECT) if object_id else text


def _objects(ids: Sequence[str]) -> str:
    """`a, b, c and 1,995 more objects`."""
    shown = ", ".join(ids[:SHOWN_OBJECTS])
    if len(ids) > SHOWN_OBJECTS:
        shown += f" and {counted(len(ids) - SHOWN_OBJECTS, 'more object')}"
    return shown


def _not_known(group: Sequence[tuple[StatOrigin, ItemError]]) -> LayoutProblem:
    """One line for the objects of one type the server does not know, in layout order."""
    ids = list(dict.fromkeys(origin.object.id for origin, _ in group))
    first_origin, first_error = group[0]
    where = min(
        (origin for origin, _ in group),
        key=lambda o: LayoutProblem(o.location, o.path, "").sort_key(),
    )
    return LayoutProblem(
        where.location,
        where.path,
        f"the server does not know {first_origin.object.type} {_objects(ids)}:"
        f" {describe_item(first_error)}",
    )


def _rejected(group: Sequence[tuple[StatOrigin, ItemError]]) -> LayoutProblem:
    """One line for one statistic of one layout line, rejected for some of its objects."""
    first, error = group[0]
    ids = [origin.object.id for origin, _ in group]
    return LayoutProblem(
        first.location,
        first.path,
        f"the server rejected {first.statistic} for {first.object.type} {_objects(ids)}:"
        f" {describe_item(error)}",
    )


def _one(origin: StatOrigin, error: ItemError) -> LayoutProblem:
    return LayoutProblem(
        origin.location,
        origin.path,
        f"the server rejected {origin.statistic} for {origin.object.type} {origin.object.id}:"
        f" {describe_item(error)}",
    )


def _groups(loose: Sequence[ItemError], everything: bool) -> list[list[ItemError]]:
    """Errors the server sent without a statistic of ours, grouped by what they say."""
    if everything:
        return [[error] for error in loose]
    groups: dict[tuple[str | None, str | None, str], list[ItemError]] = {}
    for error in loose:
        key = (error.name, error.object_type, _normalised(error, error.object_id or ""))
        groups.setdefault(key, []).append(error)
    return list(groups.values())


def _unplaced(compiled: CompiledLayout, group: Sequence[ItemError]) -> LayoutProblem:
    """The server did not say which item failed: say what it did say."""
    first = group[0]
    ids = [error.object_id for error in group if error.object_id]
    what = " ".join(p for p in (first.name, first.object_type) if p)
    if ids:
        what += f" {_objects(ids)}"
    elif len(group) > 1:
        what += f", {len(group):,} times"
    about = f" ({what.strip()})" if what.strip() else ""
    return LayoutProblem(
        SourceLocation(compiled.file),
        "",
        f"the server rejected a statistic{about}: {describe_item(first)}",
    )
