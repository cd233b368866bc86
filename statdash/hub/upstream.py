"""One upstream subscription of the hub: the statistics it holds and the Session behind it.

The Statistics API cannot add statistics to an open subscription, so the hub opens one of
these for each set of statistics it was missing, and closes it when none of them has been
needed for a grace period. The `Session` does the work (retries, backoff, reopening a lost
subscription, delete on the way out); this holds what the hub needs to know about it: whether
its first answer came (a declare waits for it), what the server refused, and since when none
of its statistics is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from statdash.api.errors import StatisticsError
from statdash.api.models import StatisticValue, SubscriptionItem
from statdash.api.responses import StatisticValues
from statdash.live.session import ItemProblem, Phase, Session, SessionStatus


class Upstream:
    """One upstream subscription: its items (statisticId = key), its session, its first answer."""

    def __init__(self, number: int) -> None:
        self.number = number
        """Counts the hub's subscriptions from 1, for its log lines."""
        self.items: dict[str, SubscriptionItem] = {}
        """key -> the item as opened upstream (its statisticId is the key)."""
        self.session: Session | None = None
        self.task: asyncio.Task[None] | None = None
        self.settled = asyncio.Event()
        """Set at the first answer, or at the first failure before any answer."""
        self.answered = False
        self.failure: StatisticsError | None = None
        """Why the first open failed (while nothing was answered yet)."""
        self.refused: Mapping[str, ItemProblem] = {}
        """key -> why the server refused that statistic (from the latest subscribe)."""
        self.idle_since: float | None = None
        """Monotonic time since none of its keys is needed (None: some are)."""
        self.retry_refused_at: float | None = None
        """While the server refuses the credentials: when to try them again."""
        self._problems: tuple[ItemProblem, ...] = ()

    @property
    def started(self) -> bool:
        """True once its session runs (before that, declares are still gathering into it)."""
        return self.session is not None

    @property
    def failing(self) -> bool:
        """True while its session cannot reach the server (it retries on its own)."""
        session = self.session
        return session is not None and session.status.phase in (Phase.RETRYING, Phase.FAILED)

    def start(self, session: Session) -> None:
        """Run `session` (built on `self.items`) in a task of the running loop."""
        self.session = session
        self.task = asyncio.get_running_loop().create_task(session.run())

    def status_changed(self, status: SessionStatus) -> None:
        """The session's status: keep what it refused; a failure before any answer settles."""
        if status.item_problems is not self._problems:
            self._problems = status.item_problems
            self.refused = {
                problem.statistic_id: problem
                for problem in status.item_problems
                if problem.statistic_id is not None
            }
        if not self.answered and status.phase in (Phase.RETRYING, Phase.FAILED):
            session = self.session
            self.failure = session.last_failure if session is not None else None
            self.settled.set()

    def first_answer(self) -> bool:
        """Note an answer; True for the first one."""
        if self.answered:
            return False
        self.answered = True
        self.failure = None
        self.settled.set()
        return True


def columns(statistics: Sequence[StatisticValue]) -> tuple[list[str], list[object], list[object]]:
    """(statisticIds, raw values, raw timestamps) of a session's answer, index-aligned."""
    if isinstance(statistics, StatisticValues):
        # The client's columnar answer: read as it is, never a model per statistic.
        ids, values, stamps = statistics.columns()
        return ids, list(values), list(stamps)
    return (
        [value.statistic_id for value in statistics],
        [value.value for value in statistics],
        [value.timestamp for value in statistics],
    )
