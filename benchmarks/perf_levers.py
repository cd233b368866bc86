"""The levers `perf.py` measures one by one: the code as it is, and the code with one lever off.

Every lever is in the code; each step here switches exactly one of them off (a monkeypatch
that puts back what the code did before that lever, for the duration of the step), so the
difference from the code as it is shows what that one lever is worth today, with all the
others in place. The history of the earlier levers, measured cumulatively from the code
before the performance work, is kept in docs/performance-levers.md. None of this is imported
by statdash itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from statdash.api import client as client_module
from statdash.api import responses
from statdash.api.models import Verbose
from statdash.api.responses import PeekResult
from statdash.ui import app as app_module

Patch = Callable[[ExitStack], None]


def _patch(stack: ExitStack, owner: Any, name: str, value: Any) -> None:
    original = getattr(owner, name)
    setattr(owner, name, value)
    stack.callback(setattr, owner, name, original)


# --- One lever off each -----------------------------------------------------------------------


def no_one_pass_decoding(stack: ExitStack) -> None:
    """Every answer takes the general path: pydantic-core's JSON parser, then the models."""
    _patch(stack, responses, "_decoded_in_one_pass", lambda _body: None)


def no_settled_heap(stack: ExitStack) -> None:
    """No gc.freeze once the first data is on screen: full collections scan the whole heap."""
    _patch(stack, app_module, "settle_heap", lambda: None)


def verbose_info(stack: ExitStack) -> None:
    """Polling with verbose=INFO: names and object ids travel with every value."""
    original = client_module.StatisticsClient.peek_subscription

    async def peek_subscription(
        self: client_module.StatisticsClient,
        subscription_id: str,
        *,
        statistic_ids: Sequence[str] | None = None,
        verbose: Verbose = "OFF",
    ) -> PeekResult:
        return await original(self, subscription_id, statistic_ids=statistic_ids, verbose="INFO")

    _patch(stack, client_module.StatisticsClient, "peek_subscription", peek_subscription)


@dataclass(frozen=True, slots=True)
class Lever:
    """One step of the lever table: the lever switched off, where it lives, and the patch."""

    name: str
    where: str
    patches: tuple[Patch, ...]


def lever_steps() -> list[Lever]:
    """The code as it is, then the same with one lever switched off at a time."""
    return [
        Lever("the code as it is (every lever on)", "-", ()),
        Lever("- one-pass msgspec decoding", "api/responses.py", (no_one_pass_decoding,)),
        Lever("- heap settled after the first data", "ui/app.py, ui/heap.py",
              (no_settled_heap,)),
        Lever("- verbose=OFF (poll with INFO)", "live/session.py", (verbose_info,)),
    ]  # fmt: skip


@contextmanager
def applied(patches: Sequence[Patch]) -> Iterator[None]:
    """Apply patches for the duration of a `with` block."""
    with ExitStack() as stack:
        for patch in patches:
            patch(stack)
        yield
