"""Tests for statdash.live.records: open subscriptions written down and crossed out."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from statdash.live.records import SubscriptionRecords


def test_add_then_remove_leaves_nothing(tmp_path: Path) -> None:
    """A subscription recorded on open and removed after its delete leaves an empty record."""
    records = SubscriptionRecords(tmp_path / "state" / "open.json")
    records.add("http://127.0.0.1:1", "sub-1")
    assert [e.subscription_id for e in records.entries()] == ["sub-1"]
    records.remove("http://127.0.0.1:1", "sub-1")
    assert records.entries() == []


def test_record_file_is_private_and_holds_no_secret(tmp_path: Path) -> None:
    """The record file is readable by its owner only and holds only server, id, pid, time."""
    records = SubscriptionRecords(tmp_path / "open.json")
    records.add("https://stats.example", "sub-1")
    mode = stat.S_IMODE(os.stat(records.path).st_mode)
    assert mode == 0o600
    saved = json.loads(records.path.read_text())
    assert set(saved[0]) == {"server", "subscription_id", "pid", "opened_at"}


def test_left_behind_lists_only_dead_runs(tmp_path: Path) -> None:
    """Entries of this live process are not left behind; entries of a dead pid are."""
    path = tmp_path / "open.json"
    records = SubscriptionRecords(path)
    records.add("http://a", "mine")
    entries = json.loads(path.read_text())
    # A pid far above pid_max on Linux cannot be alive.
    entries.append({"server": "http://a", "subscription_id": "old", "pid": 2**30, "opened_at": 0})
    path.write_text(json.dumps(entries))
    assert [e.subscription_id for e in records.left_behind()] == ["old"]
    assert records.left_behind("http://other") == []


def test_corrupt_file_counts_as_empty(tmp_path: Path) -> None:
    """A damaged record file is ignored instead of stopping statdash."""
    path = tmp_path / "open.json"
    path.write_text("{not json")
    records = SubscriptionRecords(path)
    assert records.entries() == []
    records.add("http://a", "x")
    assert [e.subscription_id for e in records.entries()] == ["x"]
