"""The alerts screen: standing alerts to acknowledge, and the history of the shift with times."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from statdash.layout.durations import format_duration
from statdash.layout.formats import figure_text
from statdash.layout.problems import SourceLocation
from statdash.layout.views import CommandAction
from statdash.live.alerts.book import Alert, AlertKey, AlertState, RuleState
from statdash.text import clean, counted, safe
from statdash.ui.widgets.alert_banner import LEVEL_MARKS

AlertsSource = Callable[[], tuple[Sequence[Alert], Sequence[Alert], Sequence[RuleState]]]
"""() -> (standing alerts, cleared alerts latest first, every rule as it stands)."""
Acknowledge = Callable[[list[AlertKey] | None], None]
NOT_YET = "\u2013"


def clock_time(epoch: float | None) -> str:
    """`14:03:27` in local time, or a dash."""
    return NOT_YET if epoch is None else time.strftime("%H:%M:%S", time.localtime(epoch))


def _level(alert: Alert) -> Text:
    glyph, word = LEVEL_MARKS[alert.rule.level]
    return Text(f"{glyph} {word}", style="bold" if alert.state is AlertState.RAISED else "")


def _state(alert: Alert) -> Text:
    words = {
        AlertState.RAISED: ("RAISED", "reverse bold"),
        AlertState.ACKNOWLEDGED: ("acked", ""),
        AlertState.CLEARED: ("cleared", "dim"),
    }
    word, style = words[alert.state]
    text = Text(word, style=style)
    if alert.stale:
        text.append(" stale", "italic")
    return text


def _object(alert: Alert) -> Text:
    label, object_id = alert.object.label, alert.object.id
    text = safe(label, max_length=30)
    if label != object_id:
        text.append_text(safe(f" {object_id}", "dim", max_length=40))
    return text


def _value(alert: Alert) -> Text:
    """The figure in its statistic's format; a cleared alert's also says the episode's worst."""
    value = alert.value
    if value is None:
        return Text(NOT_YET)
    rule = alert.rule
    shown = figure_text(value, rule.format, rule.decimals)
    if alert.state is AlertState.CLEARED and alert.worst not in (None, value):
        shown += f" (worst {figure_text(alert.worst, rule.format, rule.decimals)})"
    text = safe(shown, max_length=40)
    text.justify = "right"
    return text


def _rule_now(state: RuleState) -> Text:
    """`2 raised, 1 acked`, `1 pending` (its `for:` running), or `quiet`: what the rule's
    objects are doing."""
    parts = [
        f"{count:,} {word}"
        for count, word in (
            (state.raised, "raised"),
            (state.acknowledged, "acked"),
            (state.holding, "pending"),
        )
        if count
    ]
    if state.watched == 0:
        return Text("watches nothing", style="italic")
    if state.off_hours and not parts:
        return Text("off-hours", style="dim italic")
    return Text(", ".join(parts), style="bold") if parts else Text("quiet", style="dim")


def _where(location: SourceLocation) -> str:
    """`demo.yaml:61`: the file's name and the line the rule is written on."""
    name = PurePath(location.file).name
    return name if location.line is None else f"{name}:{location.line}"


def _rule_actions(rule: RuleState) -> Text:
    names = [
        action
        if isinstance(action, str)
        else "command"
        if isinstance(action, CommandAction)
        else "webhook"
        for action in rule.rule.actions
    ]
    return safe(", ".join(names) or "none", max_length=40)


class AlertsScreen(ModalScreen[None]):
    """Standing alerts (a acknowledges the selected one, A all of them) over the shift's history."""

    DEFAULT_CSS = """
    AlertsScreen {
        align: center middle;
    }
    AlertsScreen > Vertical {
        width: 100%;
        max-width: 160;
        height: 90%;
        border: round $error;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    AlertsScreen .-heading {
        height: 1;
        color: $text-muted;
    }
    AlertsScreen #standing {
        height: 1fr;
        min-height: 4;
    }
    AlertsScreen #history {
        height: 1fr;
        min-height: 4;
    }
    AlertsScreen #rules {
        height: auto;
        max-height: 10;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge_selected", "Acknowledge"),
        Binding("A", "acknowledge_all", "Acknowledge all"),
        Binding("escape", "dismiss", "Close"),
        Binding("exclamation_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, source: AlertsSource, acknowledge: Acknowledge) -> None:
        super().__init__()
        self._source = source
        self._acknowledge = acknowledge
        self._standing_keys: list[AlertKey] = []

    def compose(self) -> ComposeResult:
        standing: DataTable[Text] = DataTable(id="standing", cursor_type="row", zebra_stripes=True)
        standing.add_columns("Level", "State", "Alert", "Object", "Value", "Raised", "Acked")
        rules: DataTable[Text] = DataTable(id="rules", cursor_type="none")
        rules.add_columns("Level", "Rule", "When", "For", "Objects", "Now", "Actions", "Where")
        history: DataTable[Text] = DataTable(id="history", cursor_type="none")
        history.add_columns("Level", "Alert", "Object", "Value", "Raised", "Acked", "Cleared")
        box = Vertical(
            Static(id="standing-heading", classes="-heading"),
            standing,
            Static(id="rules-heading", classes="-heading"),
            rules,
            Static(id="history-heading", classes="-heading"),
            history,
        )
        box.border_title = "Alerts"
        box.border_subtitle = "a acknowledge \u00b7 A acknowledge all \u00b7 escape close"
        yield box

    def on_mount(self) -> None:
        """Fill both lists."""
        self.show_alerts()
        self.query_one("#standing", DataTable).focus()

    def show_alerts(self) -> None:
        """Redraw both lists from the source, keeping the cursor on the same alert."""
        standing, cleared, rule_states = self._source()
        table: DataTable[Text] = self.query_one("#standing", DataTable)
        selected = self._selected()
        table.clear()
        self._standing_keys = [alert.key for alert in standing]
        for alert in standing:
            table.add_row(
                _level(alert),
                _state(alert),
                safe(alert.rule.name, max_length=40),
                _object(alert),
                _value(alert),
                Text(clock_time(alert.raised_at)),
                Text(clock_time(alert.acknowledged_at)),
            )
        if selected in self._standing_keys:
            table.move_cursor(row=self._standing_keys.index(selected))
        waiting = sum(alert.state is AlertState.RAISED for alert in standing)
        heading = f"Standing: {counted(len(standing), 'alert')}"
        if waiting:
            heading += f", {waiting:,} not acknowledged"
        off = [state.rule.name for state in rule_states if state.off_hours]
        if off:
            names = ", ".join(clean(name, 40) for name in off[:3])
            more = f" (+{len(off) - 3:,} more)" if len(off) > 3 else ""
            heading += f"; off-hours now: {names}{more}"
        self.query_one("#standing-heading", Static).update(Text(heading))
        self._show_rules(rule_states)
        history: DataTable[Text] = self.query_one("#history", DataTable)
        history.clear()
        for alert in cleared:
            history.add_row(
                _level(alert),
                safe(alert.rule.name, max_length=40),
                _object(alert),
                _value(alert),
                Text(clock_time(alert.raised_at)),
                Text(clock_time(alert.acknowledged_at)),
                Text(clock_time(alert.cleared_at)),
            )
        self.query_one("#history-heading", Static).update(
            Text(f"Cleared during this run: {counted(len(cleared), 'alert')}, latest first")
        )

    def _show_rules(self, rule_states: Sequence[RuleState]) -> None:
        """Every configured rule, so the screen says what is watched even when nothing fired."""
        rules: DataTable[Text] = self.query_one("#rules", DataTable)
        rules.clear()
        for state in rule_states:
            rule = state.rule
            glyph, word = LEVEL_MARKS[rule.level]
            rules.add_row(
                Text(f"{glyph} {word}"),
                safe(rule.name, max_length=40),
                safe(rule.when, max_length=50),
                Text(format_duration(rule.hold) if rule.hold else "at once"),
                Text(f"{state.watched:,}", justify="right"),
                _rule_now(state),
                _rule_actions(state),
                safe(_where(rule.location), "dim", max_length=50),
            )
        firing = sum(1 for state in rule_states if state.raised or state.acknowledged)
        heading = f"Rules: {counted(len(rule_states), 'rule')}"
        heading += f", {firing:,} firing" if firing else ", none firing"
        self.query_one("#rules-heading", Static).update(Text(heading))

    def _selected(self) -> AlertKey | None:
        table: DataTable[Text] = self.query_one("#standing", DataTable)
        row = table.cursor_row
        if table.row_count == 0 or not 0 <= row < len(self._standing_keys):
            return None
        return self._standing_keys[row]

    def action_acknowledge_selected(self) -> None:
        """Acknowledge the alert under the cursor."""
        key = self._selected()
        if key is not None:
            self._acknowledge([key])
            self.show_alerts()

    def action_acknowledge_all(self) -> None:
        """Acknowledge every standing alert."""
        self._acknowledge(None)
        self.show_alerts()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the list."""
        self.dismiss(result)
