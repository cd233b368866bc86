"""The go-to screen of a replay: type a time of day, enter jumps there, escape closes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class GoToScreen(ModalScreen[str | None]):
    """Asks for `HH:MM[:SS]`; dismissed with the text typed, or None when cancelled."""

    DEFAULT_CSS = """
    GoToScreen {
        align: center middle;
    }
    GoToScreen > Vertical {
        width: 44;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    GoToScreen Static {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Close")]

    def __init__(self, span: str) -> None:
        """`span` says what the recording covers, e.g. `09:00:00 to 17:00:00`."""
        super().__init__()
        self.span = span

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Go to a time, {self.span}", markup=False)
            yield Input(placeholder="HH:MM or HH:MM:SS", id="goto-time")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: go to the time typed."""
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Escape: stay where the replay is."""
        self.dismiss(None)
