"""One headless read through a subscription: open it, read its values, always delete it.

    async with client:
        read = await read_once(client, layout.items, records=SubscriptionRecords())

The subscription's id is our own operationId, so it can be deleted even when the reply to
opening it never came. The rules, in order of what can go wrong:

- The record (`SubscriptionRecords`) is written *before* the request is sent, so a run
  killed outright (SIGKILL, power loss) leaves a trace for `statdash cleanup`.
- Opening runs shielded from cancellation: on Ctrl+C or SIGTERM while the request is on its
  way, we wait (at most `SETTLE_TIMEOUT`) for its answer before deleting, because a delete
  that overtakes a slow open deletes nothing and the open then lands for good.
- The delete is sent on every way out (values read, server error, cancellation, any
  exception), twice at most.
- The record is crossed out only when that is safe: the delete was confirmed after the
  server had answered the open, or the open provably created nothing (`live.evidence`: the
  connection was refused, the request was rejected before sending, or the answer came from
  a server that is not a Statistics API). If the open's outcome is unknown (timed out, cut
  off, abandoned), the record stays even after a confirmed delete: the open may still land.

Used by `statdash snapshot`; `statdash check --url` does the same dance inline and could use
this too (`peek_missing=False`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from statdash.api.describe import describe
from statdash.api.errors import (
    EnvelopeError,
    HTTPStatusError,
    NotFoundError,
    ShapeError,
    StatisticsError,
)
from statdash.api.evidence import created_nothing

if TYPE_CHECKING:
    from statdash.api.models import StatisticValue, SubscriptionItem
    from statdash.api.responses import ItemError, SubscriptionResult
    from statdash.live.session import ServedClient
    from statdash.live.subscriptions.records import SubscriptionRecords

# How long an open that is already on its way may take to answer after a cancellation.
SETTLE_TIMEOUT = 5.0
# Per delete attempt; a delete is tiny, so a server that takes longer is not answering.
DELETE_TIMEOUT = 5.0
DELETE_ATTEMPTS = 2
DELETE_RETRY_PAUSE = 0.2

Warn = Callable[[str], None]
Outcome = Literal["answered", "created_nothing", "unknown"]


def _ignore(message: str) -> None:
    """The default `warn`: say nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OneShotRead:
    """What one read brought back, by statisticId, and whether its subscription is gone."""

    subscription_id: str
    values: Mapping[str, StatisticValue]
    """statisticId -> its value, for every statistic that came back with one."""
    refused: Mapping[str, ItemError]
    """statisticId -> the server's error, for the statistics it would not serve."""
    unplaced: tuple[ItemError, ...]
    """Errors the server sent without saying (recognisably) which statistic they were for."""
    taken_at: float
    """Epoch seconds (local clock) when the last values arrived."""
    deleted: bool
    """True when the server confirmed the delete."""


async def read_once(
    client: ServedClient,
    items: Sequence[SubscriptionItem],
    *,
    records: SubscriptionRecords | None = None,
    peek_missing: bool = True,
    warn: Warn = _ignore,
    settle_timeout: float = SETTLE_TIMEOUT,
    delete_timeout: float = DELETE_TIMEOUT,
) -> OneShotRead:
    """Open a subscription of `items`, take its values, delete it (see the module docstring).

    Values come from the reply to the open; statistics that came back with neither a value
    nor an error are peeked once (unless `peek_missing` is False). A failure of the open or
    the peek raises its `StatisticsError` after the delete. `warn` hears, in one line each,
    what the caller should tell the user about the delete (never a secret).
    """
    server = client.server
    operation_id = str(uuid.uuid4())
    if records is not None:
        records.add(server, operation_id)
    opening = asyncio.ensure_future(
        client.open_subscription(items, operation_id=operation_id, verbose="OFF")
    )
    try:
        try:
            opened = await asyncio.shield(opening)
        except BaseException:
            await _settle(opening, settle_timeout)
            raise
        values = {value.statistic_id: value for value in opened.statistics}
        refused, unplaced = _place_errors(items, opened.errors)
        missing = [
            item.statistic_id
            for item in items
            if item.statistic_id not in values and item.statistic_id not in refused
        ]
        if missing and peek_missing:
            peeked = await client.peek_subscription(
                opened.subscription_id, statistic_ids=missing, verbose="OFF"
            )
            values.update((value.statistic_id, value) for value in peeked.statistics)
            more_refused, more_unplaced = _place_errors(items, peeked.errors)
            refused.update(more_refused)
            unplaced += more_unplaced
        result = OneShotRead(
            subscription_id=operation_id,
            values=MappingProxyType(values),
            refused=MappingProxyType(refused),
            unplaced=unplaced,
            taken_at=time.time(),
            deleted=False,
        )
    finally:
        outcome = _outcome(opening)
        # Sent even when the open provably created nothing: one refused connection costs
        # nothing, and "always delete" stays a rule without exceptions.
        reason = await _delete(client, operation_id, delete_timeout)
        deleted = reason is None
        if reason is not None:
            if outcome != "created_nothing":
                warn(
                    f"could not delete subscription {operation_id} on {server}: {reason}"
                    + ("; it is recorded for `statdash cleanup`" if records is not None else "")
                )
        elif outcome == "unknown":
            warn(
                f"the server did not answer opening subscription {operation_id}; it was"
                " deleted, but if the open lands late it stays open"
                + (" until `statdash cleanup`" if records is not None else "")
            )
        if records is not None and (
            outcome == "created_nothing" or (outcome == "answered" and deleted)
        ):
            records.remove(server, operation_id)
    return replace(result, deleted=deleted)


async def _settle(opening: asyncio.Future[SubscriptionResult], timeout: float) -> None:
    """Give an open that is still on its way up to `timeout` seconds to be answered."""
    if not opening.done():
        # A second Ctrl+C ends this wait early; the delete below still goes out.
        await asyncio.wait({opening}, timeout=timeout)
    if not opening.done():
        opening.cancel()


def _outcome(opening: asyncio.Future[SubscriptionResult]) -> Outcome:
    """Whether the server answered the open, provably created nothing, or we cannot tell."""
    if not opening.done() or opening.cancelled():
        return "unknown"
    # Reading the exception also marks it retrieved (no "never retrieved" log at exit).
    error = opening.exception()
    if error is None:
        return "answered"
    if isinstance(error, StatisticsError) and created_nothing(error):
        # Refused connection, rejected locally, no token, or no Statistics API there.
        return "created_nothing"
    if isinstance(error, HTTPStatusError | EnvelopeError | ShapeError):
        return "answered"
    return "unknown"


async def _delete(client: ServedClient, subscription_id: str, timeout: float) -> str | None:
    """Delete the subscription; None when confirmed, else why not (one line, no secrets).

    A 404 counts as confirmed: the server says the subscription does not exist, which is
    all a delete is for (the API documents delete as always succeeding; some gateways 404).
    """
    reason = "not attempted"
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            await asyncio.wait_for(client.delete_subscription(subscription_id), timeout)
            return None
        except NotFoundError:
            return None
        except (StatisticsError, TimeoutError) as error:
            reason = describe(error)
            if isinstance(error, HTTPStatusError) and error.http_status < 500:
                break  # refused (credentials, bad request): asking again cannot help
        if attempt < DELETE_ATTEMPTS:
            await asyncio.sleep(DELETE_RETRY_PAUSE)
    return reason


def _place_errors(
    items: Sequence[SubscriptionItem], errors: Sequence[ItemError]
) -> tuple[dict[str, ItemError], tuple[ItemError, ...]]:
    """Per-item errors by statisticId; matched on (type, id, name) when the id is missing."""
    known = {item.statistic_id for item in items}
    by_object: dict[tuple[str, str, str | None], list[str]] = {}
    for item in items:
        by_object.setdefault((item.object_type, item.object_id, item.name), []).append(
            item.statistic_id
        )
    refused: dict[str, ItemError] = {}
    unplaced: list[ItemError] = []
    for error in errors:
        if error.statistic_id in known:
            refused[error.statistic_id] = error
            continue
        candidates = by_object.get((error.object_type or "", error.object_id or "", error.name))
        if candidates is not None and len(candidates) == 1:
            refused[candidates[0]] = error
        else:
            unplaced.append(error)
    return refused, tuple(unplaced)
