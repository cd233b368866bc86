"""The key bar: composed again when the keys it shows change, not on every focus change."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from statdash.ui.widgets.keybar import KeyBar
from tests.support.wait import until_async


class Quiet(Widget, can_focus=True):
    """A focusable widget whose keys the footer does not show (as the agents table)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("down", "noop", "Down", show=False)]


class Sorting(Widget, can_focus=True):
    """A focusable widget with a key the footer shows."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "noop", "Sort")]


class KeysApp(App[None]):
    AUTO_FOCUS = None  # nothing focused at first: the first focus is a change
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "noop", "Exit")]

    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.footer = footer

    def compose(self) -> ComposeResult:
        yield Quiet()
        yield Sorting()
        yield self.footer

    def action_noop(self) -> None:
        """Nothing: the keys are only shown."""


async def _settled(app: KeysApp) -> None:
    """Every footer rebuild a focus change asked for is done (they run after a refresh, in
    the order asked)."""
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await until_async(done.is_set)


def _labels(footer: Footer) -> list[str]:
    return [key.description for key in footer.query(FooterKey)]


async def test_a_focus_change_that_shows_the_same_keys_keeps_the_key_bar() -> None:
    """Focusing a widget whose keys are hidden leaves the footer's keys as they were (not
    removed and mounted again); focusing one with a shown key rebuilds it with that key."""
    app = KeysApp(KeyBar())
    async with app.run_test(size=(80, 10)) as pilot:
        await until_async(lambda: "Exit" in _labels(app.footer), pilot=pilot)
        await _settled(app)
        before = list(app.footer.query(FooterKey))
        app.set_focus(app.query_one(Quiet))
        await _settled(app)
        assert list(app.footer.query(FooterKey)) == before
        app.set_focus(app.query_one(Sorting))
        await until_async(lambda: "Sort" in _labels(app.footer), pilot=pilot)
        app.set_focus(app.query_one(Quiet))
        await until_async(
            lambda: "Sort" not in _labels(app.footer) and "Exit" in _labels(app.footer),
            pilot=pilot,
        )
