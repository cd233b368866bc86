"""A record of the subscriptions this user has open, so a crashed run's can be cleaned up.

SIGKILL and power loss cannot be caught, so each subscription is written down (server URL and
id, nothing secret) when it opens and crossed out once its delete succeeds. Whatever is
still listed when statdash next starts was left behind by a run that died, and is deleted
then (or by `statdash cleanup`). The file lives in the user's state directory, is written
atomically and readable by its owner only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_state_dir

log = logging.getLogger("statdash.live")

FILE_NAME = "open-subscriptions.json"


@dataclass(frozen=True, slots=True)
class OpenSubscription:
    """One subscription that was opened and not (yet) confirmed deleted."""

    server: str
    subscription_id: str
    pid: int
    opened_at: float


def default_records_path() -> Path:
    """The record file in the platform's per-user state directory."""
    return Path(user_state_dir("statdash")) / FILE_NAME


class SubscriptionRecords:
    """Add, remove and list open-subscription records in one small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_records_path()

    def entries(self) -> list[OpenSubscription]:
        """Every recorded subscription; an unreadable file counts as empty (and is reported)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            log.warning("ignoring unreadable subscription records %s: %s", self.path, error)
            return []
        entries: list[OpenSubscription] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                entries.append(
                    OpenSubscription(
                        server=str(item["server"]),
                        subscription_id=str(item["subscription_id"]),
                        pid=int(item.get("pid", 0)),
                        opened_at=float(item.get("opened_at", 0.0)),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        return entries

    def add(self, server: str, subscription_id: str) -> None:
        """Record a subscription that just opened."""
        entries = [e for e in self.entries() if e.subscription_id != subscription_id]
        entries.append(OpenSubscription(server, subscription_id, os.getpid(), time.time()))
        self._write(entries)

    def remove(self, server: str, subscription_id: str) -> None:
        """Cross out a subscription whose delete succeeded."""
        entries = self.entries()
        kept = [
            e for e in entries if not (e.server == server and e.subscription_id == subscription_id)
        ]
        if len(kept) != len(entries):
            self._write(kept)

    def left_behind(self, server: str | None = None) -> list[OpenSubscription]:
        """Records of runs that are no longer alive (optionally only for one server)."""
        return [
            entry
            for entry in self.entries()
            if (server is None or entry.server == server) and not _process_alive(entry.pid)
        ]

    def _write(self, entries: list[OpenSubscription]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            body = json.dumps(
                [
                    {
                        "server": e.server,
                        "subscription_id": e.subscription_id,
                        "pid": e.pid,
                        "opened_at": e.opened_at,
                    }
                    for e in entries
                ],
                indent=1,
            )
            # Write beside the file and rename, so a crash mid-write never leaves half a file.
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".records-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(body)
                os.chmod(temporary, 0o600)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as error:
            # Records are a safety net; failing to write one must not stop the dashboard.
            log.warning("cannot write subscription records %s: %s", self.path, error)


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
