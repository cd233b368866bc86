"""A record of the subscriptions this user has open, so a crashed run's can be cleaned up.

SIGKILL and power loss cannot be caught, so each subscription is written down (server URL and
id, nothing secret) when it may open and crossed out once it is gone: its delete succeeded,
or the open provably created nothing. Whatever is still listed when statdash next starts was
left behind by a run that died, and is deleted then (or by `statdash cleanup`); a record
older than `MAX_AGE` is only forgotten. The file lives in the user's state directory, is
readable by its owner only, and is changed under an exclusive lock on a file beside it
(read, modify, replace atomically), so a dashboard and a cron `snapshot` writing at the same
moment never lose each other's records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_state_dir

if sys.platform != "win32":
    import fcntl

log = logging.getLogger("statdash.live")

FILE_NAME = "open-subscriptions.json"
LOCK_SUFFIX = ".lock"
# A subscription nobody polled for a week is long gone on any server: its record only makes
# every cleanup fail against a server that may never come back.
MAX_AGE = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class OpenSubscription:
    """One subscription that was opened and not (yet) confirmed deleted."""

    server: str
    subscription_id: str
    pid: int
    opened_at: float

    def age(self, now: float) -> float:
        """Seconds since the subscription was recorded."""
        return now - self.opened_at


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
        """Record a subscription that may open (or just opened)."""

        def added(entries: list[OpenSubscription]) -> list[OpenSubscription]:
            kept = [e for e in entries if e.subscription_id != subscription_id]
            return [*kept, OpenSubscription(server, subscription_id, os.getpid(), time.time())]

        self._update(added)

    def remove(self, server: str, subscription_id: str) -> None:
        """Cross out a subscription that is gone (deleted, or never created)."""
        self._drop({(server, subscription_id)})

    def forget(self, gone: Iterable[OpenSubscription]) -> None:
        """Cross out several entries at once (matched by server and id)."""
        self._drop({(e.server, e.subscription_id) for e in gone})

    def left_behind(self, server: str | None = None) -> list[OpenSubscription]:
        """Records of runs that are no longer alive (optionally only for one server)."""
        return [
            entry
            for entry in self.entries()
            if (server is None or entry.server == server) and not _process_alive(entry.pid)
        ]

    def expired(self, now: float | None = None) -> list[OpenSubscription]:
        """Records of dead runs older than `MAX_AGE`: worth forgetting, not deleting.

        A running process's record is never expired: a dashboard polling for a week keeps its
        subscription alive on the server.
        """
        moment = time.time() if now is None else now
        return [e for e in self.left_behind() if e.age(moment) > MAX_AGE]

    def _drop(self, keys: set[tuple[str, str]]) -> None:
        if keys:
            self._update(
                lambda entries: [e for e in entries if (e.server, e.subscription_id) not in keys]
            )

    def _update(self, change: Callable[[list[OpenSubscription]], list[OpenSubscription]]) -> None:
        """Read, change and write the entries under the lock; a failure is only logged."""
        try:
            with self._locked():
                entries = self.entries()
                changed = change(entries)
                if changed != entries:
                    self._write(changed)
        except OSError as error:
            # Records are a safety net; failing to write one must not stop the dashboard.
            log.warning("cannot write subscription records %s: %s", self.path, error)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock of the lock file beside the records, blocking until free.

        A separate lock file, because the records themselves are replaced by a rename (a lock
        on the old file would not hold the new one). flock is per open file, so threads of
        one process exclude each other too.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(
            self.path.with_name(self.path.name + LOCK_SUFFIX), os.O_RDWR | os.O_CREAT, 0o600
        )
        try:
            if sys.platform != "win32":
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    def _write(self, entries: list[OpenSubscription]) -> None:
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
