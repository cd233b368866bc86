"""KeyBar: Textual's key footer, composed again only when the keys it shows changed.

Textual's `Footer` removes and mounts all its key widgets whenever the screen says its
bindings changed, which it says on every focus change: on the wallboard each page turn to or
from the team page (its table takes the focus) rebuilt the footer twice, ~15-60 ms of one
loop step each time, for the same keys (the table's own keys are not shown).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer


def shown_keys(screen: Screen[object]) -> tuple[object, ...]:
    """What a footer on `screen` would show now: each shown key with its label, state and
    tip, and the command palette's key (the footer shows it whether or not it is `show`n)."""
    app = screen.app
    active = screen.active_bindings
    shown: list[object] = [
        (key, binding.key, app.get_key_display(binding), binding.description, binding.action,
         binding.group, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in active.items()
        if binding.show
    ]  # fmt: skip
    palette = active.get(app.COMMAND_PALETTE_BINDING)
    if palette is not None:
        _, binding, enabled, tooltip = palette
        shown.append((binding.key, binding.description, enabled, tooltip or binding.tooltip))
    return tuple(shown)


class KeyBar(Footer):
    """The key footer; a change of focus that shows the same keys leaves it as it is."""

    _composed: tuple[object, ...] | None = None
    """The keys the footer's widgets show (None: not composed with bindings yet)."""

    def compose(self) -> Iterable[Widget]:
        """Textual's footer keys, remembering which keys they are."""
        self._composed = shown_keys(self.screen) if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Compose again only when the keys to show differ from those on screen."""
        if (
            self._composed is not None
            and screen is self.screen
            and shown_keys(screen) == self._composed
        ):
            return
        super().bindings_changed(screen)
