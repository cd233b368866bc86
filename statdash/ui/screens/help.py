"""The help screen: every key and what it does, from the one key table."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from statdash.ui.keys import KEY_ACTIONS, key_label


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; any of escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen Static {
        width: 100%;
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key_action in KEY_ACTIONS:
            table.add_row(Text(key_label(key_action.keys)), Text(key_action.description))
        table.add_row(Text("1-9"), Text("Switch to page 1-9"))
        table.add_row(Text("arrows, pgup/pgdn"), Text("Move in a table"))
        table.add_row(Text("click a header"), Text("Sort by that column (mouse optional)"))
        scroll = VerticalScroll(Static(table))
        scroll.border_title = "statdash keys"
        scroll.border_subtitle = "escape to close"
        yield scroll

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(result)
