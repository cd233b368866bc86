"""Tests for statdash.live.subscriptions.records: open subscriptions written down and crossed
out."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from statdash.live.subscriptions.records import MAX_AGE, SubscriptionRecords

ROOT = Path(__file__).resolve().parents[2]


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


def test_two_processes_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two processes recording 50 subscriptions each at the same time leave all 100 on record
    (a dashboard and a cron snapshot share the file)."""
    path = tmp_path / "open.json"
    go = tmp_path / "go"
    writer = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from statdash.live.subscriptions.records import SubscriptionRecords\n"
        "records = SubscriptionRecords(Path(sys.argv[1]))\n"
        "while not os.path.exists(sys.argv[2]):\n"
        "    time.sleep(0.001)\n"
        "for n in range(50):\n"
        "    records.add('http://a', f'{sys.argv[3]}-{n}')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", writer, str(path), str(go), name], env=env)
        for name in ("left", "right")
    ]
    time.sleep(0.5)  # both started and waiting, so their adds overlap
    go.touch()
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    ids = {entry.subscription_id for entry in SubscriptionRecords(path).entries()}
    assert ids == {f"{name}-{n}" for name in ("left", "right") for n in range(50)}


def test_threads_adding_and_removing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Threads adding and removing concurrently never undo each other's changes."""
    records = SubscriptionRecords(tmp_path / "open.json")
    for n in range(40):
        records.add("http://a", f"old-{n}")

    def churn(name: str) -> None:
        for n in range(40):
            records.add("http://a", f"{name}-{n}")
            if name == "remover":
                records.remove("http://a", f"old-{n}")

    threads = [threading.Thread(target=churn, args=(name,)) for name in ("adder", "remover")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = {entry.subscription_id for entry in records.entries()}
    assert ids == {f"{name}-{n}" for name in ("adder", "remover") for n in range(40)}


def test_the_lock_lives_beside_the_records(tmp_path: Path) -> None:
    """The lock file sits next to the record file, private like it."""
    records = SubscriptionRecords(tmp_path / "state" / "open.json")
    records.add("http://a", "x")
    lock = tmp_path / "state" / "open.json.lock"
    assert lock.exists()
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600


def test_forget_drops_exactly_the_given_entries(tmp_path: Path) -> None:
    """`forget` removes the entries it is given (server and id), in one write, and no other."""
    records = SubscriptionRecords(tmp_path / "open.json")
    records.add("http://a", "1")
    records.add("http://b", "2")
    records.add("http://a", "3")
    gone = [e for e in records.entries() if e.subscription_id != "2"]
    records.forget(gone)
    assert [e.subscription_id for e in records.entries()] == ["2"]


def test_expired_lists_old_records_of_dead_runs_only(tmp_path: Path) -> None:
    """Records older than seven days are expired, unless their process still runs."""
    path = tmp_path / "open.json"
    now = time.time()
    day = 86_400.0
    path.write_text(
        json.dumps(
            [
                {"server": "http://a", "subscription_id": "old", "pid": 2**30, "opened_at": 0},
                {
                    "server": "http://a",
                    "subscription_id": "week",
                    "pid": 2**30,
                    "opened_at": now - 7 * day - 60,
                },
                {
                    "server": "http://a",
                    "subscription_id": "fresh",
                    "pid": 2**30,
                    "opened_at": now - 6 * day,
                },
                {
                    "server": "http://a",
                    "subscription_id": "running",
                    "pid": os.getpid(),
                    "opened_at": now - 30 * day,
                },
            ]
        )
    )
    records = SubscriptionRecords(path)
    assert [e.subscription_id for e in records.expired(now=now)] == ["old", "week"]
    assert day * 7 == MAX_AGE
