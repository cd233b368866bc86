"""The bridge from the live session to the screen: messages, posted, never direct widget calls.

The session's callbacks run on the event loop but outside any widget, so they only post
messages (statdash.ui.messages). `StoreChanged` is coalesced: however many ingests happen
before the screen gets to it, one message carries the union of what changed.

This module loads no Textual: `statdash run` starts the session, and so its callbacks, before
Textual is imported (statdash.ui.start). What the session says before the app attaches is
kept and delivered, in order, when it does.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from statdash.live.alerts.book import AlertEvent
from statdash.live.session import SessionStatus
from statdash.live.store import Ingested

if TYPE_CHECKING:
    from textual.message import Message


class Receiver(Protocol):
    """What the bridge delivers to: the app."""

    def post_message(self, message: Message) -> bool:
        """Queue `message` for the app."""
        ...


class Bridge:
    """Receives controller callbacks and posts (coalesced) messages to the app once attached."""

    def __init__(self) -> None:
        self._app: Receiver | None = None
        self._messages: ModuleType | None = None
        self._pending: set[str] = set()
        self._posted = False
        # Said before the app attached, delivered when it does (the values themselves are
        # in the store; only their news waits in `_pending`).
        self._early: list[Callable[[], None]] = []

    def attach(self, app: Receiver) -> None:
        """Deliver to `app` from now on, beginning with what was said before."""
        # why here: the messages are Textual's, which is loaded once there is an app.
        from statdash.ui import messages

        self._messages, self._app = messages, app
        early, self._early = self._early, []
        for deliver in early:
            deliver()
        if self._pending and not self._posted:
            self._posted = True
            app.post_message(messages.StoreChanged())

    def _post(self, build: Callable[[ModuleType], Message]) -> None:
        """Post the message `build` makes, now or once the app attaches."""
        if self._app is None or self._messages is None:
            self._early.append(lambda: self._post(build))
            return
        self._app.post_message(build(self._messages))

    def store_changed(self, ingested: Ingested) -> None:
        """Controller callback: values were ingested."""
        if not ingested.changed:
            return
        self._pending |= ingested.changed
        if self._app is not None and self._messages is not None and not self._posted:
            self._posted = True
            self._app.post_message(self._messages.StoreChanged())

    def take_changes(self) -> frozenset[str]:
        """What changed since the last take (the handler of StoreChanged calls this)."""
        changed = frozenset(self._pending)
        self._pending.clear()
        self._posted = False
        return changed

    def status_changed(self, status: SessionStatus) -> None:
        """Controller callback: the connection status changed."""
        self._post(lambda m: m.StatusChanged(status))

    def alerts_changed(self, events: list[AlertEvent]) -> None:
        """Alert runner callback: these alert events happened."""
        if events:
            self._post(lambda m: m.AlertsChanged(events))

    def write_to_terminal(self, text: str) -> None:
        """Alert action: raw text for the terminal (a bell, a notification)."""
        self._post(lambda m: m.TerminalWrite(text))

    def say_alert(self, line: str, problem: bool = False) -> None:
        """Alert action: a line to show (the `log` action, or a problem of the alerts)."""
        self._post(lambda m: m.AlertSaid(line, problem))

    def flash_banner(self, event: AlertEvent) -> None:
        """Alert action: the `banner` action."""
        self._post(lambda m: m.BannerFlash(event))
