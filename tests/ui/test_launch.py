"""The start of a dashboard run (statdash.ui.launch): what earlier runs left on record."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from statdash.api.client import StatisticsClient
from statdash.live.subscriptions.leftovers import delete_left_behind
from statdash.live.subscriptions.records import SubscriptionRecords

# Far above Linux's pid_max, so never a live process.
DEAD_PID = 2**30
DAY = 86_400.0


async def test_start_forgets_records_older_than_a_week(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Records of dead runs older than seven days, on any server, are dropped at start with a
    line each, without a request: a server gone for good cannot keep failing every start."""
    path = tmp_path / "open.json"
    old = time.time() - 9 * DAY - 60
    path.write_text(
        json.dumps(
            [
                {"server": server, "subscription_id": sid, "pid": DEAD_PID, "opened_at": old}
                for server, sid in (("http://127.0.0.1:1", "here"), ("http://gone:1", "there"))
            ]
        ),
        encoding="utf-8",
    )
    records = SubscriptionRecords(path)
    async with StatisticsClient("http://127.0.0.1:1", "k") as client:
        with caplog.at_level(logging.WARNING, logger="statdash"):
            deleted = await delete_left_behind(client, records, client.server)
    assert deleted == []
    assert records.entries() == []
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"forgot subscription {sid} on {server}, recorded 9 days ago: subscriptions this old"
        " have expired on the server"
        for server, sid in (("http://127.0.0.1:1", "here"), ("http://gone:1", "there"))
    ]
