"""Deleting recorded subscriptions that earlier runs left open (`run`, `watch`, `cleanup`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from statdash.api.describe import describe
from statdash.api.errors import NotFoundError, StatisticsError, TransportError
from statdash.api.evidence import not_a_statistics_api
from statdash.live.session import SessionClient
from statdash.live.subscriptions.records import OpenSubscription, SubscriptionRecords
from statdash.text import clean

log = logging.getLogger("statdash")

# Per delete; a server that takes longer than this is not answering.
DELETE_TIMEOUT = 5.0
DAY = 86_400.0


@dataclass
class Tally:
    """What happened to each record: deleted, forgotten or kept (these two with the reason)."""

    deleted: list[OpenSubscription] = field(default_factory=list)
    forgotten: list[tuple[OpenSubscription, str]] = field(default_factory=list)
    """Dropped from the records without a delete: no subscription can be there."""
    kept: list[tuple[OpenSubscription, str]] = field(default_factory=list)


def entry_label(entry: OpenSubscription) -> str:
    """`ID on SERVER` for a message, both cleaned: they were read from a file."""
    return f"{clean(entry.subscription_id, 80)} on {clean(entry.server, 120)}"


def forget_expired(
    records: SubscriptionRecords, entries: Sequence[OpenSubscription], *, now: float | None = None
) -> tuple[list[tuple[OpenSubscription, str]], list[OpenSubscription]]:
    """Forget the entries too old to be worth a delete (`SubscriptionRecords.expired`).

    Returns those forgotten, each with why in words, and the rest of `entries`.
    """
    moment = time.time() if now is None else now
    too_old = {(e.server, e.subscription_id) for e in records.expired(moment)}
    old = [e for e in entries if (e.server, e.subscription_id) in too_old]
    records.forget(old)
    reasons = [
        (
            entry,
            f"recorded {int(entry.age(moment) // DAY)} days ago: subscriptions this old have"
            " expired on the server",
        )
        for entry in old
    ]
    return reasons, [e for e in entries if (e.server, e.subscription_id) not in too_old]


async def delete_recorded(
    client: SessionClient,
    records: SubscriptionRecords,
    entries: Sequence[OpenSubscription],
    tally: Tally | None = None,
    *,
    timeout: float = DELETE_TIMEOUT,
) -> Tally:
    """Delete each entry on one server; stop at the first sign the server is unreachable.

    A deleted (or already unknown) subscription's record is removed, and so is one whose
    server answers like no Statistics API does (`live.evidence`); the others are kept, with
    the reason, for next time.
    """
    tally = tally if tally is not None else Tally()
    for position, entry in enumerate(entries):
        try:
            await asyncio.wait_for(client.delete_subscription(entry.subscription_id), timeout)
        except NotFoundError:
            pass  # the server no longer knows it: gone, which is all a delete is for
        except (TransportError, TimeoutError) as error:
            # The rest would only wait for the same timeout, one by one.
            tally.kept.extend((rest, describe(error)) for rest in entries[position:])
            return tally
        except StatisticsError as error:
            if not_a_statistics_api(error):
                records.remove(entry.server, entry.subscription_id)
                reason = f"the server is not a Statistics API ({describe(error)})"
                tally.forgotten.append((entry, reason))
            else:
                tally.kept.append((entry, describe(error)))
            continue
        records.remove(entry.server, entry.subscription_id)
        tally.deleted.append(entry)
    return tally


async def delete_left_behind(
    client: SessionClient, records: SubscriptionRecords, server: str
) -> list[str]:
    """Delete subscriptions that dead runs left open on `server`; returns the ids deleted.

    Records older than a week are forgotten first, for every server: no request is needed
    for them, and a server that is gone for good would otherwise fail every start.
    """
    expired, _ = forget_expired(records, records.left_behind())
    for entry, reason in expired:
        log.warning("forgot subscription %s, %s", entry_label(entry), reason)
    tally = await delete_recorded(
        client, records, records.left_behind(server), timeout=DELETE_TIMEOUT
    )
    for entry, reason in tally.forgotten:
        log.warning(
            "forgot subscription %s: %s",
            entry_label(entry),
            clean(reason, 300),
        )
    for _, reason in tally.kept:
        log.warning("kept a left-behind subscription record: %s", clean(reason, 300))
    return [entry.subscription_id for entry in tally.deleted]
