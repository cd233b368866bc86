"""`statdash cleanup`: delete the subscriptions that earlier runs left open on their servers.

The list comes from `SubscriptionRecords` (written by `run` and `snapshot` while a
subscription is open). By default only records of processes that are gone are touched;
`--all` takes those of processes that still seem alive too (a reused pid, a hung run).
`--url` limits the work to one server; without it every recorded server is contacted, each
with the credentials resolved the usual way (flags, environment, config file). A server
that cannot be reached keeps its records for next time. Records older than a week, and those
of a server that answers like no Statistics API does, are forgotten instead; `--forget`
forgets the chosen records without contacting any server.

Exit status: 0 nothing is left to delete, 1 some subscriptions could not be deleted,
2 usage (bad settings for `--url`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.connect import make_client
from statdash.api.errors import ConfigError
from statdash.commands.common import EXIT_FAILED, EXIT_OK
from statdash.commands.server_options import resolve_server
from statdash.commands.voice import Refused, Voice
from statdash.live.subscriptions.leftovers import (
    Tally,
    delete_recorded,
    entry_label,
    forget_expired,
)
from statdash.live.subscriptions.records import OpenSubscription, SubscriptionRecords
from statdash.text import clean, counted

VOICE = Voice("cleanup")


def run(args: argparse.Namespace) -> int:
    """Delete every left-behind subscription that can be deleted; report each one."""
    records = SubscriptionRecords(args.records)
    everything = [e for e in records.entries() if e.pid != os.getpid()]
    chosen = everything if args.all else records.left_behind()
    only: str | None = None
    if args.url:
        try:
            only = _server_of(args)
        except ValueError as error:
            raise Refused(str(error)) from None
        chosen = [e for e in chosen if e.server == only]
        everything = [e for e in everything if e.server == only]
    running = len(everything) - len(chosen)
    if args.forget:
        _forget(records, chosen, running)
        return EXIT_OK
    expired, rest = forget_expired(records, chosen)
    tally = asyncio.run(_clean(args, records, rest)) if rest else Tally()
    for entry, reason in expired:
        print(f"forgot subscription {entry_label(entry)}, {reason}")
    for entry in tally.deleted:
        print(f"deleted subscription {entry_label(entry)}")
    for entry, reason in tally.forgotten:
        print(f"forgot subscription {entry_label(entry)}: {clean(reason, 300)}")
    for entry, reason in tally.kept:
        VOICE.say(f"kept subscription {entry_label(entry)} for next time: {clean(reason, 300)}")
    if not chosen:
        where = f" on {clean(only)}" if only else ""
        print(f"nothing to clean up{where}")
    _note_running(running, "deletes")
    return EXIT_FAILED if tally.kept else EXIT_OK


def _forget(records: SubscriptionRecords, chosen: Sequence[OpenSubscription], running: int) -> None:
    """`--forget`: drop the chosen records, a line each and a count; nothing is sent."""
    records.forget(chosen)
    for entry in chosen:
        print(f"forgot subscription {entry_label(entry)}")
    if chosen:
        print(f"forgot {counted(len(chosen), 'subscription record')} without contacting any server")
    else:
        print("nothing to forget")
    _note_running(running, "forgets")


def _note_running(running: int, verb: str) -> None:
    if running:
        VOICE.say(
            f"left {counted(running, 'subscription')} of statdash processes that are"
            f" still running alone (--all {verb} them too)"
        )


def _server_of(args: argparse.Namespace) -> str:
    """The `--url` server, checked like every command's and spelt as the client (and so the
    records) spell it."""
    try:
        settings = resolve_server(args, voice=VOICE, credentials=False)
        # Built only for its normalised `.server`: no key is needed and nothing is sent. The
        # CA bundle is loaded all the same, so an unusable one is refused here like anywhere.
        client = StatisticsClient(settings.url, "unused", verify=settings.verify)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    except Refused as refusal:
        raise ValueError(refusal.message) from None
    asyncio.run(client.aclose())
    return client.server


async def _clean(
    args: argparse.Namespace, records: SubscriptionRecords, chosen: Sequence[OpenSubscription]
) -> Tally:
    """Delete the chosen records server by server."""
    tally = Tally()
    by_server: dict[str, list[OpenSubscription]] = {}
    for entry in chosen:
        by_server.setdefault(entry.server, []).append(entry)
    for index, (server, entries) in enumerate(by_server.items()):
        per_server = argparse.Namespace(**{**vars(args), "url": server})
        try:
            # The config-file permission warning once, not once per server.
            settings = resolve_server(per_server, voice=VOICE, warn=index == 0)
            # Deletes are safe to repeat: no answer, a 503 or a 504 is tried twice more.
            client = make_client(settings, retry=RetryPolicy())
        except (ConfigError, Refused) as error:
            tally.kept.extend((entry, str(error)) for entry in entries)
            continue
        async with client:
            await delete_recorded(client, records, entries, tally)
    return tally
