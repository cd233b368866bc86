"""The messages the live session sends the screen through the bridge (statdash.ui.bridge)."""

from __future__ import annotations

from textual.message import Message

from statdash.live.alerts.book import AlertEvent
from statdash.live.session import SessionStatus


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
