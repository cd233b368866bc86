"""Deleting recorded subscriptions that earlier runs left open (used by `run` and `cleanup`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from statdash.api.describe import describe
from statdash.api.errors import NotFoundError, StatisticsError, TransportError
from statdash.live.records import OpenSubscription, SubscriptionRecords
from statdash.live.session import SessionClient

# Per delete; a server that takes longer than this is not answering.
DELETE_TIMEOUT = 5.0


@dataclass
class Tally:
    """What happened to each record: deleted, or kept with the reason."""

    deleted: list[OpenSubscription] = field(default_factory=list)
    kept: list[tuple[OpenSubscription, str]] = field(default_factory=list)


async def delete_recorded(
    client: SessionClient,
    records: SubscriptionRecords,
    entries: Sequence[OpenSubscription],
    tally: Tally | None = None,
    *,
    timeout: float = DELETE_TIMEOUT,
) -> Tally:
    """Delete each entry on one server; stop at the first sign the server is unreachable.

    A deleted (or already unknown) subscription's record is removed; the others are kept,
    with the reason, for next time.
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
            tally.kept.append((entry, describe(error)))
            continue
        records.remove(entry.server, entry.subscription_id)
        tally.deleted.append(entry)
    return tally
