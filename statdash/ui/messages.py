"""The bridge from the live session to the screen: messages, posted, never direct widget calls.

The session's callbacks run on the event loop but outside any widget, so they only post
messages. `StoreChanged` is coalesced: however many ingests happen before the screen gets
to it, one message carries the union of what changed.
"""

from __future__ import annotations

from textual.app import App
from textual.message import Message

from statdash.live.alerts.book import AlertEvent
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


class TerminalWrite(Message):
    """Raw text for the terminal (an alert's bell or desktop notification sequence)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__()


class AlertSaid(Message):
    """An alert's `log` line, or a problem of the alerts (a command, the log), to show."""

    def __init__(self, line: str, problem: bool) -> None:
        self.line = line
        self.problem = problem
        super().__init__()


class BannerFlash(Message):
    """An alert's `banner` action: make the alert line blink."""

    def __init__(self, event: AlertEvent) -> None:
        self.event = event
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

    def write_to_terminal(self, text: str) -> None:
        """Alert action: raw text for the terminal (a bell, a notification)."""
        if self._app is not None:
            self._app.post_message(TerminalWrite(text))

    def say_alert(self, line: str, problem: bool = False) -> None:
        """Alert action: a line to show (the `log` action, or a problem of the alerts)."""
        if self._app is not None:
            self._app.post_message(AlertSaid(line, problem))

    def flash_banner(self, event: AlertEvent) -> None:
        """Alert action: the `banner` action."""
        if self._app is not None:
            self._app.post_message(BannerFlash(event))
