"""AlertBanner: one line under the title while alerts stand; a glyph and a word, never colour alone.

    ‼ ALARM  Waiting ≥ 6 on Sales = 7  +2 more   a acknowledge · ! alerts

The newest unacknowledged alert leads (alarms before warnings); once every alert is
acknowledged the line turns quiet (`2 acknowledged alerts standing`) and stays until they
clear. A `flash()` inverts the line for a moment when an alert is raised or repeated. The
banner is hidden while nothing stands.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from statdash.layout.formats import Level, figure_text
from statdash.live.alerts.book import Alert, AlertEvent, AlertState
from statdash.text import clean, counted

FLASH_SECONDS = 0.4
FLASHES = 3
# The banner speaks for itself; these say where to go next.
HINT = "   a acknowledge \u00b7 ! alerts"
LEVEL_MARKS = {"alarm": (Level.ALARM.glyph, "ALARM"), "warn": (Level.WARN.glyph, "WARNING")}


def banner_text(alerts: Sequence[Alert]) -> Text:
    """The banner's line for the standing `alerts` (the book's order: alarms first)."""
    text = Text(no_wrap=True, end="", overflow="ellipsis")
    waiting = [alert for alert in alerts if alert.state is AlertState.RAISED]
    if not waiting:
        text.append(f" \u2713 {counted(len(alerts), 'acknowledged alert')} standing", "dim")
        text.append(HINT, "dim")
        return text
    lead = max(waiting, key=lambda a: (a.rule.level == "alarm", a.raised_at))
    glyph, word = LEVEL_MARKS[lead.rule.level]
    text.append(f" {glyph} {word} ", "reverse bold")
    text.append(" ")
    where = clean(lead.object.label, 40)
    stale = " (stale)" if lead.stale else ""
    value = f" = {figure_text(lead.value, lead.rule.format, lead.rule.decimals)}"
    value = value if lead.value is not None else ""
    text.append(f"{clean(lead.rule.name, 60)} on {where}{value}{stale}", "bold")
    others = len(alerts) - 1
    if others:
        text.append(f"  +{others:,} more")
    text.append(HINT, "dim")
    return text


class AlertBanner(Static):
    """The standing alerts in one line; `show_alerts()` after every change."""

    DEFAULT_CSS = """
    AlertBanner {
        height: 1;
        padding: 0 1;
        display: none;
        background: $error 25%;
        &.-quiet {
            background: $panel;
        }
        &.-flash {
            text-style: reverse;
        }
        &:ansi {
            background: ansi_default;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._flashes_left = 0
        self.last_line = ""
        """The banner's plain text (what a screen reader or a test reads)."""

    def show_alerts(self, alerts: Sequence[Alert]) -> None:
        """Show these standing alerts, or hide the banner when there are none."""
        self.display = bool(alerts)
        if not alerts:
            self.last_line = ""
            return
        text = banner_text(alerts)
        self.last_line = text.plain
        self.set_class(all(a.state is not AlertState.RAISED for a in alerts), "-quiet")
        self.update(text)

    def flash(self, event: AlertEvent | None = None) -> None:
        """Invert the line a few times (a raised or repeated alert; the `banner` action)."""
        if self._flashes_left:
            return
        self._flashes_left = FLASHES * 2
        self.set_interval(FLASH_SECONDS, self._blink, repeat=FLASHES * 2)

    def _blink(self) -> None:
        self._flashes_left -= 1
        self.toggle_class("-flash")
        if not self._flashes_left:
            self.remove_class("-flash")
