"""FramedWidget: the base of the bordered, titled widgets, which dim and say "stale" when old.

Their look (border, title colours, the dashed border of stale data) is in `statdash.tcss`,
once for all of them, beside the table panel's.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from statdash.text import safe

TITLE_MAX = 40


class FramedWidget(Widget):
    """A widget in a border titled with an untrusted label, marked when its data is stale."""

    stale: reactive[bool] = reactive(False)
    """True when the data shown is old: the widget dims and says "stale", keeping the data."""

    def __init__(
        self,
        label: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A widget titled `label` (untrusted text is fine: it is shown through `safe`)."""
        super().__init__(name=name, id=id, classes=classes)
        if label:
            self.border_title = safe(label, max_length=TITLE_MAX)

    def watch_stale(self, stale: bool) -> None:
        """Mark the border and subtitle so staleness is visible without colour."""
        self.set_class(stale, "-stale")
        self.border_subtitle = Text("stale", Style(bold=True)) if stale else None
