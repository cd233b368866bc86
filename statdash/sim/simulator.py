"""The simulator's state: its clock, the contact center, subscriptions, auth, faults, pins.

One `Simulator` per app; the API routes (`server.py`) and the admin routes (`admin.py`) read
and change it, and nothing here knows HTTP.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from statdash.sim import catalog, faults
from statdash.sim.auth import Gatekeeper, Sessions
from statdash.sim.bayeux import Notifier, Watched
from statdash.sim.config import SimConfig
from statdash.sim.model import HOSTILE_STRINGS, ContactCenter
from statdash.sim.pins import Pins
from statdash.sim.wire import Json

# ------------------------------------------------------------------------------ the clock


class SimClock:
    """Simulated time: start + wall time x time_scale (+ manual advances), or manual only."""

    def __init__(
        self,
        config: SimConfig,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = (
            config.start_time if config.start_time is not None else wall() + config.clock_skew
        )
        self.manual = config.clock == "manual"
        self.scale = config.time_scale
        self._monotonic = monotonic
        self._origin = monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """The current simulated time, epoch seconds."""
        if self.manual:
            return self.start + self._offset
        return self.start + (self._monotonic() - self._origin) * self.scale + self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (works in both modes)."""
        self._offset += seconds


# --------------------------------------------------------------------------- app state


@dataclass
class Item:
    """One opened statistic: its ids as the client sent them and how to compute it."""

    statistic_id: str
    object_id: str
    object_type: str
    name: str | None
    compute: catalog.Compute
    notify: catalog.Notification = catalog.IMMEDIATE
    sources: tuple[int, ...] = ()


@dataclass
class Subscription:
    """An open subscription, keyed by the client's operationId."""

    id: str
    items: list[Item]
    by_id: dict[str, Item]
    fingerprint: str
    errors: list[Json]
    total: int
    session: str | None


class Simulator:
    """Everything one app holds: the model, its clock, subscriptions, auth, faults, counters."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = SimClock(config)
        self.model = ContactCenter(
            agents=config.agents,
            queues=config.queues,
            seed=config.seed,
            # A warm-up starts the floor earlier and runs it up to the clock's start.
            start=self.clock.start - config.warm_up,
            calls_per_hour=config.calls_per_hour,
            talk_mean=config.talk_mean,
            wrap_mean=config.wrap_mean,
            patience_mean=config.patience_mean,
            reasons=HOSTILE_STRINGS if config.hostile else None,
        )
        self.model.advance_to(self.clock.start)
        self.model.numeric_states = config.numeric_states
        self.subscriptions: dict[str, Subscription] = {}
        self.gate = Gatekeeper(config)
        self.sessions = Sessions()
        self.faults = faults.Faults(
            config.fault_seed if config.fault_seed is not None else config.seed
        )
        self.requests: Counter[str] = Counter()
        self.pins = Pins(self.model)
        self.notifier = Notifier(
            sync=self._sync_touched,
            now=lambda: self.model.now,
            hold=config.notification_hold,
            expiry=config.notification_expiry,
            faults=self.faults,
            requests=self.requests,
        )
        self._hostile_turn = 0

    def sync(self) -> None:
        """Bring the model up to the clock's now."""
        self.model.advance_to(self.clock.now())

    def say(self, message: str) -> str:
        """An error message as served: with a hostile tail when the simulator is hostile."""
        if not self.config.hostile:
            return message
        self._hostile_turn += 1
        return f"{message} {HOSTILE_STRINGS[self._hostile_turn % len(HOSTILE_STRINGS)]}"

    def _sync_touched(self) -> set[int]:
        self.sync()
        return catalog.touched_sources(self.model)

    def open_subscription(self, sub: Subscription) -> None:
        """Keep a new subscription, and let the push channel follow it."""
        self.subscriptions[sub.id] = sub
        session = sub.session or ""
        self.notifier.opened(
            sub.id,
            [
                Watched(sub.id, session, item.sources, item.notify, self._renderer(sub.id, item))
                for item in sub.items
            ],
        )

    def close_subscription(self, subscription_id: str) -> None:
        """Forget a subscription (a DELETE, or a fault that drops it)."""
        if self.subscriptions.pop(subscription_id, None) is not None:
            self.notifier.closed_subscription(subscription_id)

    def drop_session(self, session: str | None) -> None:
        """What a Stat Server restart does to a session (None: to every session).

        Its CometD clients are forgotten and its REST subscriptions deleted.
        """
        self.notifier.drop_session(session)
        for sub in list(self.subscriptions.values()):
            if session is None or sub.session == session:
                self.close_subscription(sub.id)

    def _renderer(self, subscription_id: str, item: Item) -> Callable[[], Json]:
        model = self.model

        def render() -> Json:
            [value] = served_values([item], model.now_ms, verbose=True)
            value["subscriptionId"] = subscription_id
            return value

        return render


def served_values(items: list[Item], timestamp: int, *, verbose: bool) -> list[Json]:
    """The values of `items` as a peek or subscribe serves them (`verbose`: with names)."""
    # The hot path of a big peek: one dict per statistic, nothing else.
    if verbose:
        out = []
        for item in items:
            value: Json = {"statisticId": item.statistic_id}
            if item.name is not None:
                value["name"] = item.name
            value["objectId"] = item.object_id
            value["objectType"] = item.object_type
            value["timestamp"] = timestamp
            value["value"] = item.compute()
            out.append(value)
        return out
    return [
        {"statisticId": item.statistic_id, "timestamp": timestamp, "value": item.compute()}
        for item in items
    ]
