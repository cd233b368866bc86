"""The words of the layout language: formats, colours, object and widget kinds, bounds, defaults."""

from __future__ import annotations

from typing import Literal, get_args

from statdash.layout.formats import FormatName

FORMATS: tuple[str, ...] = get_args(FormatName)
NUMERIC_FORMATS = frozenset({"integer", "decimal", "percent", "duration"})
DECIMAL_FORMATS = frozenset({"decimal", "percent"})

# The palette `statdash.ui.palette` maps per theme (including the 16-colour ANSI one).
ColourName = Literal["green", "red", "yellow", "blue", "magenta", "cyan", "white", "grey"]
COLOURS: tuple[str, ...] = get_args(ColourName)

ObjectKindName = Literal["agent", "agent_group", "queue", "route_point", "queue_group"]
OBJECT_KINDS: tuple[str, ...] = get_args(ObjectKindName)
# Layout word -> the API's objectType.
OBJECT_TYPES: dict[str, str] = {
    "agent": "Agent",
    "agent_group": "GroupAgents",
    "queue": "Queue",
    "route_point": "RoutePoint",
    "queue_group": "GroupQueues",
}
QUEUE_TABLE_KINDS = ("queue", "route_point", "queue_group", "agent_group")

WidgetKindName = Literal["agents", "queues", "kpi", "top", "trend", "states", "clock", "text"]
WIDGET_KINDS: tuple[str, ...] = get_args(WidgetKindName)
# Tags are "kind=agents", not "agents": an error's key path holds the tag, and a bare
# "agents" there would be mistaken for the agents widget's own `agents` key.
WIDGET_KIND_TAG = "kind="

NotificationModeName = Literal["Immediate", "Periodical", "Reset", "NoNotification"]
TrendStyleName = Literal["sparkline", "chart"]
# How values arrive: push over CometD, falling back to polling (auto), push only, or polling.
UpdatesName = Literal["auto", "push", "poll"]
UPDATES_MODES: tuple[str, ...] = get_args(UpdatesName)

DEFAULT_STATE_STATISTIC = "CurrentAgentState"
DEFAULT_PRIORITY = 5
MAX_PAGE_COLUMNS = 4
# Formulas built on one another (a reads b, which reads c, ...). Real layouts chain two or
# three; compiling walks a chain with the call stack (~4 frames a formula), so 250 ran out.
MAX_FORMULA_DEPTH = 50
# Widgets in a whole layout (every page): a wallboard shows a dozen or two. Compiling is
# quadratic in them (20,000 took a minute), so a layout, or a recording's stored one, with
# more is refused before it is compiled.
MAX_WIDGETS = 500
REFRESH_BOUNDS = (1.0, 3600.0)
# Seconds between refreshes when a layout says none (and `statdash hub`'s --interval).
DEFAULT_REFRESH = 2.0
TREND_WINDOW_BOUNDS = (60.0, 86400.0)
DEFAULT_TREND_WINDOW = 900.0
DEFAULT_KPI_TREND_WINDOW = 600.0
# How long a rotating wallboard shows a page (`rotate:`, `show_for:`).
PAGE_TIME_BOUNDS = (3.0, 3600.0)
# A table longer than its widget shows its rows a page at a time (`page_rows: auto`).
DEFAULT_PAGE_ROWS_SECONDS = 10.0
# How a table orders its rows: as the layout lists them (or the user sorts), or alarms first.
TableOrderName = Literal["layout", "attention"]
TABLE_ORDERS: tuple[str, ...] = get_args(TableOrderName)
# A leaderboard (`kind: top`): the highest values first, or the lowest; how many it shows.
TopOrderName = Literal["desc", "asc"]
TOP_ORDERS: tuple[str, ...] = get_args(TopOrderName)
TOP_COUNT_BOUNDS = (1, 50)
DEFAULT_TOP_COUNT = 5
MESSAGE_MAX = 500
# Enough points for a sparkline to show a shape.
MIN_TREND_POINTS = 4

AlertLevelName = Literal["warn", "alarm"]
ALERT_LEVELS: tuple[str, ...] = get_args(AlertLevelName)
# What an alert can do when it is raised (besides running a command, a mapping of its own).
AlertActionName = Literal["bell", "banner", "notify", "log"]
ALERT_ACTIONS: tuple[str, ...] = get_args(AlertActionName)
DEFAULT_ALERT_ACTIONS: tuple[AlertActionName, ...] = ("banner", "bell", "log")
# Delays of alerts (`for`, `clear_after`, `repeat`) and how long a command may run.
ALERT_DELAY_BOUNDS = (0.0, 86400.0)
ALERT_COMMAND_TIMEOUT_BOUNDS = (0.1, 600.0)
DEFAULT_ALERT_COMMAND_TIMEOUT = 10.0
DEFAULT_WEBHOOK_TIMEOUT = 5.0
