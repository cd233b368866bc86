"""The bridge from the live session to the screen: messages, posted, never direct widget calls.

The session's callbacks run on the event loop but outside any widget, so they only post
messages. `StoreChanged` is coalesced: however many ingests happen before the screen gets
to it, one message carries the union of what changed.
"""

from __future__ import annotations

from textual.app import App
from textual.message import Message

from statdash.live.alerts import AlertEvent
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested


class StoreChanged(Message):
    """Values changed; the handler takes the union of what changed from `Bridge.take_changes`."""


class StatusChanged(Message):
    """The session's connection status changed."""

    def __init__(self, status: SessionStatus) -> None:
        self.status = status
        super().__init__()


class AlertsChanged(Message):
    """Alerts were raised, repeated, acknowledged or cleared (the events, in order)."""

    def __init__(self, events: list[AlertEvent]) -> None:
        self.events = events
        super().__init__()


class Bridge:
    """Receives controller callbacks and posts (coalesced) messages to the app once attached."""

    def __init__(self) -> None:
        self._app: App[object] | None = None
        self._pending: set[str] = set()
        self._posted = False

    def attach(self, app: App[object]) -> None:
        """Deliver to `app` from now on."""
        self._app = app

    def store_changed(self, ingested: Ingested) -> None:
        """Controller callback: values were ingested."""
        if self._app is None or not ingested.changed:
            return
        self._pending |= ingested.changed
        if not self._posted:
            self._posted = True
            self._app.post_message(StoreChanged())

    def take_changes(self) -> frozenset[str]:
        """What changed since the last take (the handler of StoreChanged calls this)."""
        changed = frozenset(self._pending)
        self._pending.clear()
        self._posted = False
        return changed

    def status_changed(self, status: SessionStatus) -> None:
        """Controller callback: the connection status changed."""
        if self._app is not None:
            self._app.post_message(StatusChanged(status))

    def alerts_changed(self, events: list[AlertEvent]) -> None:
        """Alert runner callback: these alert events happened."""
        if self._app is not None and events:
            self._app.post_message(AlertsChanged(events))
