"""The layout problems screen: every problem of an edit that could not be applied, scrollable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from statdash.text import clean, safe


def problem_count(count: int) -> str:
    """`1 problem`, `3 problems`."""
    return f"{count} problem" if count == 1 else f"{count} problems"


class LayoutProblemsScreen(ModalScreen[None]):
    """A modal list of `file:line:column: key: message` lines; escape (or e, or q) closes it."""

    DEFAULT_CSS = """
    LayoutProblemsScreen {
        align: center middle;
    }
    LayoutProblemsScreen > VerticalScroll {
        width: 90%;
        max-width: 140;
        height: auto;
        max-height: 90%;
        border: round $error;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    LayoutProblemsScreen Static {
        width: 100%;
        height: auto;
    }
    LayoutProblemsScreen .-heading {
        color: $text-muted;
        margin-bottom: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("e", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        """`problems` as the loader words them; shown as plain text, never parsed as markup."""
        super().__init__()
        self.file = file
        self.problems = tuple(problems)

    def compose(self) -> ComposeResult:
        heading = Text("The dashboard still shows the last layout that worked. Fix ", end="")
        heading.append_text(safe(self.file, "bold"))
        heading.append(" and save: it is read again at once.")
        lines = [Static(heading, classes="-heading")]
        # One Static per problem: a long message wraps under its own line, and a file with
        # hundreds of problems scrolls rather than being cut.
        lines.extend(Static(Text(clean(problem))) for problem in self.problems)
        scroll = VerticalScroll(*lines)
        scroll.border_title = f"Layout not applied: {problem_count(len(self.problems))}"
        scroll.border_subtitle = "escape to close"
        yield scroll

    def show(self, file: str, problems: Sequence[str]) -> None:
        """Show this list instead (a newer edit failed while the screen was open)."""
        self.file = file
        self.problems = tuple(problems)
        self.refresh(recompose=True)

    async def action_dismiss(self, result: None = None) -> None:
        """Close the list."""
        self.dismiss(result)
