"""One dashboard panel on a screen of its own, and the context a redraw reads, for panel tests."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.theme import BUILTIN_THEMES
from textual.widget import Widget

from statdash.layout.formats import state_style
from statdash.live.store import Store
from statdash.ui.app import STYLESHEET
from statdash.ui.panels import DrawContext

NOW = 1_700_000_000.0


class PanelHost(App[None]):
    """One panel on a screen, styled as on the dashboard."""

    CSS_PATH = STYLESHEET

    def __init__(self, panel: Widget) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def draw_context(store: Store, wall_now: float = NOW) -> DrawContext:
    """What a redraw reads: `store`, the clock at `wall_now`, a dark theme, default styles."""
    return DrawContext(
        store=store,
        wall_now=wall_now,
        theme=BUILTIN_THEMES["textual-dark"],
        state_style=state_style,
        problems={},
    )


def record_refreshes(widget: Widget) -> list[tuple[Region, ...]]:
    """Wrap `widget.refresh` so the returned list grows by the regions of each call (none:
    the whole widget)."""
    calls: list[tuple[Region, ...]] = []
    original = widget.refresh

    def recording(*regions: Region, **kwargs: bool) -> Widget:
        calls.append(regions)
        return original(*regions, **kwargs)

    widget.refresh = recording  # type: ignore[method-assign]
    return calls
