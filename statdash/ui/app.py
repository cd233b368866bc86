"""StatdashApp: the live dashboard screen. Owns no I/O: the controller polls, messages bridge.

The app draws the compiled layout's pages, redraws panels when the store changes, ticks the
clock-driven parts once a second (time in state, "updated 3s ago", stale marking, clocks),
rotates the pages of a layout that asks for it (any key stops that, `R` resumes), answers
the keys in `statdash.ui.keys`, watches the layout file for edits, and turns every exit path
(keys, SIGTERM, SIGHUP, SIGINT, the terminal going away) into one orderly quit that closes the
subscription before the app ends.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from platformdirs import user_downloads_path, user_pictures_path
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.filter import LineFilter, Monochrome, NoColor
from textual.markup import escape as escape_markup
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout
from statdash.layout.problems import LayoutError, LayoutProblem
from statdash.layout.views import CompiledLayout
from statdash.lifecycle import install_signal_handlers, watch_terminal
from statdash.live.alerts.runner import AlertRunner
from statdash.live.controller import LiveController, plan_for
from statdash.live.recordings.file import clock_text
from statdash.live.recordings.replay import ReplayController, moment_of_day
from statdash.live.session import Phase, SessionStatus
from statdash.text import clean, counted, safe
from statdash.ui.bridge import Bridge
from statdash.ui.frames import CroppingCompositor
from statdash.ui.heap import collect_ahead, release_heap, resume_collections, settle_heap
from statdash.ui.keys import KEY_ACTIONS, PAGE_KEYS, REPLAY_KEY_ACTIONS
from statdash.ui.messages import (
    AlertSaid,
    AlertsChanged,
    BannerFlash,
    StatusChanged,
    StoreChanged,
    TerminalWrite,
)
from statdash.ui.pages import PageGrid
from statdash.ui.palette import STATDASH_THEME
from statdash.ui.panels import DrawContext, Panel, TablePanel
from statdash.ui.rotation import PageRotation
from statdash.ui.screens.alerts import AlertsScreen
from statdash.ui.screens.goto import GoToScreen
from statdash.ui.screens.help import HelpScreen
from statdash.ui.screens.problems import LayoutProblemsScreen, problem_count
from statdash.ui.widgets.alert_banner import AlertBanner
from statdash.ui.widgets.keybar import KeyBar
from statdash.ui.widgets.line import TextLine
from statdash.ui.widgets.status_bar import (
    StatusBar,
    StatusInfo,
    arrives_by_push,
    checked_text,
)

TICK_SECONDS = 1.0
RESUME_ROTATION_KEY = "R"
KIOSK_RETRY_SECONDS = 300.0
"""In kiosk mode nobody presses `r`: refused credentials are tried again this often."""
LAYOUT_CHECK_SECONDS = 1.0
HEAP_HOLD_SECONDS = 10.0
"""The longest `statdash run` holds garbage collection (statdash.ui.heap) waiting for data."""
DEFAULT_THEME = "statdash"
# NO_COLOR's two filters: one for themes in the terminal's ANSI colours, one for truecolor.
_NO_COLOUR_ANSI = NoColor()
_NO_COLOUR_TRUECOLOR = Monochrome()
INSECURE_MARK = " TLS NOT VERIFIED "
# The dashboard's styles, the panels' frames among them (an app showing single widgets loads
# it too, for them to look as on the dashboard).
STYLESHEET = Path(__file__).with_name("statdash.tcss")


def screenshot_directory() -> Path:
    """Where the palette's Screenshot goes: the platform's pictures directory, else its
    downloads directory, when one exists; else the working directory."""
    for folder in (user_pictures_path(), user_downloads_path()):
        if folder.is_dir():
            return folder
    return Path.cwd()


def _bindings() -> list[BindingType]:
    bindings: list[BindingType] = [
        Binding(
            k.keys,
            k.action,
            k.short or k.description,
            show=bool(k.short),
            # Quit keys win over any focused widget (an open filter line included).
            priority=k.keys in ("ctrl+c", "ctrl+q"),
        )
        for k in KEY_ACTIONS
        if k.action not in ("app.focus_next", "command_palette")
    ]
    bindings.extend(
        Binding(key, f"page({int(key) - 1})", f"Page {key}", show=False) for key in PAGE_KEYS
    )
    # Replay keys: offered only in a replay (`check_action`); the arrows win over a table's
    # own scrolling there, as stepping is what they are for.
    bindings.extend(
        Binding(k.keys, k.action, k.short or k.description, show=bool(k.short), priority=True)
        for k in REPLAY_KEY_ACTIONS
    )
    return bindings


class StatdashApp(App[int]):
    """The dashboard for one compiled layout, fed by one LiveController."""

    CSS_PATH = STYLESHEET
    BINDINGS: ClassVar[list[BindingType]] = _bindings()
    # Textual's own ctrl+c only hints at ctrl+q; here it quits like every other exit path.
    ENABLE_COMMAND_PALETTE = True
    # `m` keeps the title, the alert banner, the status line and the keys on screen.
    ALLOW_IN_MAXIMIZED_VIEW: ClassVar[str] = "#head, #status, Footer"

    def __init__(
        self,
        layout: CompiledLayout,
        controller: LiveController | ReplayController,
        bridge: Bridge,
        *,
        server: str,
        layout_path: Path | None = None,
        demo: bool = False,
        insecure: bool = False,
        theme: str | None = None,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        handle_signals: bool = True,
        watch_layout: bool = True,
        alerts: AlertRunner | None = None,
        kiosk: bool = False,
    ) -> None:
        super().__init__()
        self.alerts = alerts
        self._alerts_shown = 0
        self.layout = layout
        self.controller = controller
        self.replay = controller if isinstance(controller, ReplayController) else None
        """The replay's controls in `statdash replay`, None in a live dashboard."""
        self.bridge = bridge
        self.server = server
        self.layout_path = layout_path
        self.demo = demo
        self.insecure = insecure
        self._wall_clock = wall_clock
        self._clock = clock
        self._handle_signals = handle_signals
        self._watch_layout = watch_layout and layout_path is not None
        self._problems: dict[str, str] = {}
        # What the status line says about the layout file (None: nothing to say), and the
        # problems of the last edit that could not be applied (what `e` shows).
        self._layout_message: str | None = None
        self._layout_problems: tuple[LayoutProblem, ...] = ()
        self._layout_stamp = _stamp(layout_path)
        self._quitting = False
        self._reloading = False
        self._heap_settled = False
        self._page_index = 0
        # The page grids, in layout order, as `_mount_pages` mounted them: the tick and every
        # redraw go through them, and searching the screen for them each second cost more
        # than drawing the status line.
        self._pages: tuple[PageGrid, ...] = ()
        # The one status line, kept from `compose` for the same reason.
        self._status_bar: StatusBar | None = None
        # A wall display: no key bar, no command palette; the status line stays.
        self.kiosk = kiosk
        self.use_command_palette = not kiosk
        self._rotation = self._new_rotation(running=True)
        self._rotation_shown: tuple[int, bool, int] | None = None
        self._rotation_timer: Timer | None = None
        self._rotation_every = TICK_SECONDS
        """Seconds between the rotation's checks (`_arm_rotation`)."""
        self._collected_at = -1
        """`page_changes` when the heap was last collected ahead of a page turn."""
        self._tick_timer: Timer | None = None
        self._kiosk_retry_at: float | None = None
        self.page_changes = 0
        """How often the page on screen changed, by key or rotation (the soak counts them)."""
        self._remove_signal_handlers: Callable[[], None] | None = None
        self.register_theme(STATDASH_THEME)
        self.theme = theme or DEFAULT_THEME
        self.title = clean(layout.title, 80)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, with NO_COLOR's filter chosen for the theme now on screen.

        Textual picks it once, in `App.__init__`, for the default theme: `Monochrome`, which
        turns every ANSI colour (what `ansi-dark` draws in) into black, so text and
        background were both black. An ANSI theme needs `NoColor` (the terminal's own
        foreground and background); a truecolor theme needs `Monochrome` (greys).
        """
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        wanted = _NO_COLOUR_ANSI if self.native_ansi_color else _NO_COLOUR_TRUECOLOR
        return [wanted if isinstance(found, (NoColor, Monochrome)) else found for found in filters]

    # --- composition ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[object]:
        """Textual's default screen, whose frames send only the cells that changed (see
        `statdash.ui.frames`: a moved clock sends its own cells, not its row up to it)."""
        screen = super().get_default_screen()
        # Before the screen is mounted its compositor holds nothing: swapping it is safe.
        screen._compositor = CroppingCompositor()
        return screen

    def compose(self) -> ComposeResult:
        # The title and the banner share one docked box: a maximized panel (`m`) is laid out
        # with the screen's children that ALLOW_IN_MAXIMIZED_VIEW names, and only a docked
        # box stays above it there.
        with Vertical(id="head"):
            yield TextLine(self._title_text(), id="title")
            yield AlertBanner(id="alert-banner")
        yield ContentSwitcher(id="pages")
        self._status_bar = StatusBar(self._status_info(), id="status")
        yield self._status_bar
        if not self.kiosk:
            yield KeyBar()

    def _title_text(self) -> Text:
        """`DEMO  Title   [1 Floor]  2 Service`: the pages live in the title line, no tab strip."""
        text = Text(no_wrap=True, end="", overflow="ellipsis")
        if self.demo:
            text.append(" DEMO ", "reverse bold")
            text.append(" ")
        if self.replay is not None:
            text.append(" REPLAY ", "reverse bold")
            text.append(" ")
        if self.insecure:
            # Stays on screen for the whole run: nobody should forget TLS is not checked.
            text.append(INSECURE_MARK, "reverse bold")
            text.append(" ")
        text.append_text(safe(self.layout.title, "bold", max_length=60))
        pages = self.layout.pages
        if len(pages) > 1:
            text.append("   ")
            for index, page in enumerate(pages):
                label = f"{index + 1} {clean(page.title, 24)}"
                if index == self._page_index:
                    text.append(f"[{label}]", "reverse bold")
                else:
                    text.append(f" {label} ", "dim")
                text.append(" ")
        rotation = self._rotation
        if rotation is not None and rotation.running:
            following = rotation.next_page
            seconds = math.ceil(rotation.remaining(self._clock()))
            title = clean(pages[following].title, 24)
            text.append(f"  next: {following + 1} {title} in {seconds}s")
        elif rotation is not None:
            text.append("  rotation stopped: R resumes", "dim")
        return text

    # --- page rotation ----------------------------------------------------------------------

    def _new_rotation(self, *, running: bool) -> PageRotation | None:
        """The rotation of the current layout's pages from page 1, or None if it does not rotate."""
        if not self.layout.rotates:
            return None
        times = [page.show_for or 0.0 for page in self.layout.pages]
        rotation = PageRotation(times, self._clock())
        if not running:
            rotation.stop()
        return rotation

    @property
    def page_index(self) -> int:
        """The page on screen (0-based)."""
        return self._page_index

    def check_rotation(self) -> None:
        """Show the next page when its time has come; keep the countdown in the title moving.

        Runs on a timer; public so that tests and the screenshot script, which move the
        monotonic clock by hand, can make a page's time pass.
        """
        rotation = self._rotation
        if rotation is None:
            return
        now = self._clock()
        page = rotation.due(now)
        if page is not None:
            self._show_page(page)
        elif (
            rotation.running
            and rotation.remaining(now) <= self._rotation_every
            and self._collected_at != self.page_changes
        ):
            # The next check turns the page, and the turn's frame draws a whole page: the
            # collection that could come due in that frame runs now, a step of its own.
            self._collected_at = self.page_changes
            collect_ahead()
            for grid in self._pages[rotation.next_page : rotation.next_page + 1]:
                grid.prepare_ahead()  # its tiles' lines, a step each (statdash.ui.pages)
        shown = (rotation.page, rotation.running, math.ceil(rotation.remaining(self._clock())))
        if shown != self._rotation_shown:
            self._rotation_shown = shown
            self.query_one("#title", TextLine).show(self._title_text())

    async def on_event(self, event: events.Event) -> None:
        """Any key stops the rotation (`R` resumes it), then goes where it always goes."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            rotation = self._rotation
            if rotation is not None and rotation.running and event.key != RESUME_ROTATION_KEY:
                rotation.stop()
                self.check_rotation()
        await super().on_event(event)

    def action_resume_rotation(self) -> None:
        """Rotate the pages again, from the page on screen."""
        rotation = self._rotation
        if rotation is None:
            self.notify("This layout does not rotate its pages (no 'rotate:')", timeout=3)
            return
        rotation.resume(self._clock(), self._page_index)
        self.check_rotation()

    async def _mount_pages(self) -> None:
        """(Re)build one page grid per page of the current layout, showing the first."""
        switcher = self.query_one(ContentSwitcher)
        # Nothing draws on the old pages while they go, nor on the new ones before they are in.
        self._pages = ()
        await switcher.remove_children()
        self._page_index = 0
        grids = [PageGrid(page, id=f"p{index + 1}") for index, page in enumerate(self.layout.pages)]
        for grid in grids[1:]:
            # The switcher hides its children only when they are there at its own mount.
            grid.display = False
        await switcher.mount_all(grids)
        self._pages = tuple(grids)
        switcher.current = "p1"
        self.query_one("#title", TextLine).show(self._title_text())

    async def on_mount(self) -> None:
        """Start polling, the once-a-second tick, the exit watches and the layout watch."""
        if self._handle_signals:
            # Before the session starts: from its first request on, a signal must end the
            # run through the quit that deletes the subscription, not kill it outright.
            self._remove_signal_handlers = install_signal_handlers(
                asyncio.get_running_loop(), self.request_exit
            )
        # What the session said before (`statdash run` starts it before Textual is even
        # imported, statdash.ui.start) is delivered now, and the rest as it comes.
        self.bridge.attach(self)
        # The handshake and the subscribe go out now unless they already have, while the
        # pages mount (~0.2 s for floor.yaml): the network and the server's work overlap
        # the screen's own. What arrives meanwhile waits in the store; the app handles
        # messages (StoreChanged) only after this handler, and the redraw below draws
        # whatever is there by then.
        self.controller.start()
        await self._mount_pages()
        # Styles that differ without the key footer (where toasts stand) match on this class.
        self.set_class(self.kiosk, "-kiosk")
        self._tick_timer = self.set_interval(TICK_SECONDS, self._tick)
        self.set_timer(HEAP_HOLD_SECONDS, self._stop_holding_collections)
        self._arm_rotation()
        if self._watch_layout:
            self.set_interval(LAYOUT_CHECK_SECONDS, self._check_layout_file)
        if self._handle_signals and sys.__stdin__ is not None and not self.is_headless:
            self.run_worker(
                watch_terminal(sys.__stdin__.fileno(), self.request_exit),
                name="terminal-watch",
                exit_on_error=False,
            )
        self._focus_first_table()
        # Everything in the store, values that came while the pages mounted included (so
        # the StoreChanged waiting for them has nothing left to redraw).
        self.bridge.take_changes()
        self.redraw(None)
        self.watch(self.screen, "maximized", self._maximized_changed, init=False)

    def _maximized_changed(self, before: Widget | None, now: Widget | None) -> None:
        """A maximized table fills the screen; restored, its page sizes it again.

        The page caps a table at its rows' height (an inline style, which CSS cannot undo).
        `m`, escape and Textual's own minimize all pass here.
        """
        if now is not None:
            now.styles.max_height = None
        if before is not None and isinstance(before.parent, PageGrid):
            before.parent.relayout()

    def _arm_rotation(self) -> None:
        """Check the rotation often enough for its shortest page (a soak shortens them)."""
        if self._rotation_timer is not None:
            self._rotation_timer.stop()
            self._rotation_timer = None
        if self.layout.rotates:
            shortest = min(page.show_for or 0.0 for page in self.layout.pages)
            self._rotation_every = min(TICK_SECONDS, shortest / 4)
            self._rotation_timer = self.set_interval(self._rotation_every, self.check_rotation)

    def on_unmount(self) -> None:
        """Give the signals back, and the heap to the collector."""
        if self._remove_signal_handlers is not None:
            self._remove_signal_handlers()
        if self._heap_settled:
            release_heap()
        resume_collections()

    def _stop_holding_collections(self) -> None:
        """No data yet after HEAP_HOLD_SECONDS (a server not reached): collect automatically
        again while waiting, so retries do not pile up garbage; the first data still settles
        the heap."""
        if not self._heap_settled:
            resume_collections()

    def _focus_first_table(self) -> None:
        for panel in self._panels(active_only=True):
            if isinstance(panel, TablePanel):
                panel.table.focus()
                return

    # --- data -------------------------------------------------------------------------------

    def _draw_context(self) -> DrawContext:
        return DrawContext(
            store=self.controller.store,
            wall_now=self._wall_clock(),
            server_now=(
                self.controller.server_clock.now()
                if isinstance(self.controller, LiveController)
                else None
            ),
            theme=self.current_theme,
            state_style=self.layout.state_style,
            problems=self._problems,
            numbered=self.layout.state_styles,
            reasons=self.layout.reasons,
        )

    def _panels(self, *, active_only: bool = False) -> list[Panel]:
        pages = self._pages
        if active_only:
            active = self._active_page()
            pages = (active,) if active is not None else pages
        return [panel for page in pages for panel in page.panels()]

    def _active_page(self) -> PageGrid | None:
        if 0 <= self._page_index < len(self._pages):
            return self._pages[self._page_index]
        return None

    def redraw(self, changed: frozenset[str] | None) -> None:
        """Redraw the panels of every page, hidden ones too, so a page is current when shown.

        `changed` is the statisticIds that changed, None for everything. Public so that
        benchmarks can time the redraw stage of a poll; the app calls it itself.
        """
        context = self._draw_context()
        with self.batch_update():
            for panel in self._panels():
                panel.redraw(context, changed)

    @on(StoreChanged)
    def _store_changed(self) -> None:
        # New values and the once-a-second work (time in state, data age, the status line)
        # go out in one frame, and the next tick is pushed back a second: under push or
        # polling at 1 s the values bring the second's redraw with them, so the screen is
        # composed and sent once a second, not once for the values and once for the clock.
        with self.batch_update():
            self.redraw(self.bridge.take_changes())
            self._each_second()
        if self._tick_timer is not None:
            self._tick_timer.reset()
        if not self._heap_settled:
            # The screen is built and full of data: what lives now lives for the whole run.
            self._heap_settled = True
            self.call_after_refresh(settle_heap)

    @on(StatusChanged)
    def _status_changed(self, message: StatusChanged) -> None:
        problems = {
            problem.statistic_id: problem.message
            for problem in message.status.item_problems
            if problem.statistic_id is not None
        }
        if problems != self._problems:
            # Replaced, never edited in place: panels tell a change by the mapping's identity.
            self._problems = problems
            self.redraw(None)
        self._update_status()

    def _tick(self) -> None:
        """The once-a-second timer: the second's work, when no new values brought it."""
        self._each_second()

    def _each_second(self) -> None:
        """What the clock moves: alert delays, the kiosk retry, time in state, the data age
        and the status line (only the lines whose text changed are sent)."""
        if self.alerts is not None:
            # Delays that ran out and repeats come as AlertsChanged; an alert going stale is
            # no event, so the book's revision tells.
            self.alerts.tick()
            if self.alerts.book.revision != self._alerts_shown:
                self._show_alerts()
        if self.kiosk:
            self._kiosk_retry()
        context = self._draw_context()
        with self.batch_update():
            for panel in self._panels(active_only=True):
                panel.tick(context)
        self._update_stale()
        self._update_status()

    def _kiosk_retry(self) -> None:
        """Polling stopped for refused credentials: on a wall display, try again now and then
        (they may be fixed on the server), since nobody is there to press `r`."""
        if self.controller.status.phase is not Phase.FAILED:
            self._kiosk_retry_at = None
            return
        now = self._clock()
        if self._kiosk_retry_at is None:
            self._kiosk_retry_at = now + KIOSK_RETRY_SECONDS
        elif now >= self._kiosk_retry_at:
            self._kiosk_retry_at = now + KIOSK_RETRY_SECONDS
            self.controller.poll_now()

    def _update_stale(self) -> None:
        age = self.controller.store.age(self._clock())
        stale = age is not None and age > 2 * self.controller.plan.interval
        for panel in self._panels():
            panel.set_stale(stale)

    # --- alerts -----------------------------------------------------------------------------

    @on(AlertsChanged)
    def _alerts_changed(self) -> None:
        self._show_alerts()

    def _show_alerts(self) -> None:
        if self.alerts is None:
            return
        self._alerts_shown = self.alerts.book.revision
        self.query_one(AlertBanner).show_alerts(self.alerts.book.active())
        if isinstance(self.screen, AlertsScreen):
            self.screen.show_alerts()

    @on(TerminalWrite)
    def _write_to_terminal(self, message: TerminalWrite) -> None:
        """Raw output for the terminal (a bell, a notification sequence), through the driver.

        Through Textual's own driver, so it never lands in the middle of a frame being drawn.
        """
        driver = self._driver
        if driver is not None and not self.is_headless:
            driver.write(message.text)

    @on(BannerFlash)
    def _flash_banner(self, message: BannerFlash) -> None:
        """The `banner` action: make the alert line blink for a moment."""
        self._show_alerts()
        self.query_one(AlertBanner).flash(message.event)

    @on(AlertSaid)
    def _say_alert(self, message: AlertSaid) -> None:
        """An alert's `log` line, or a problem of the alerts (a command, the log), as a toast."""
        self.notify(
            message.line,
            severity="error" if message.problem else "warning",
            timeout=6,
            markup=False,
        )

    def action_acknowledge(self) -> None:
        """Acknowledge every raised alert (the banner's)."""
        events = self.alerts.acknowledge(None) if self.alerts is not None else []
        if events:
            self.notify(f"Acknowledged {counted(len(events), 'alert')}", timeout=2)
        else:
            self.notify("No alert to acknowledge", timeout=2)
        self._show_alerts()

    def action_alerts(self) -> None:
        """Show the standing alerts and the history of the shift."""
        alerts = self.alerts
        if alerts is None or isinstance(self.screen, AlertsScreen):
            return

        def acknowledge(keys: list[tuple[str, str, str]] | None) -> None:
            alerts.acknowledge(keys)
            self._show_alerts()

        self.push_screen(
            AlertsScreen(
                lambda: (alerts.book.active(), alerts.book.history(), alerts.book.rule_states()),
                acknowledge,
            )
        )

    # --- status line ------------------------------------------------------------------------

    def _status_info(self) -> StatusInfo:
        status: SessionStatus = self.controller.status
        now = self._clock()
        retry_in = None
        if status.phase is Phase.RETRYING and status.retry_at is not None:
            retry_in = max(0.0, status.retry_at - now)
        message = None
        if status.phase in (Phase.FAILED, Phase.RETRYING):
            message = status.last_error
        poll_ms = None if status.last_poll_duration is None else status.last_poll_duration * 1000
        checked = None
        if arrives_by_push(status.updates):
            # Under push there is no polling to speak of: say what the last check found.
            poll_ms = None
            if status.checked_at is not None:
                checked = checked_text(
                    self._wall_clock() - status.checked_at,
                    status.check_newer,
                    status.check_corrected,
                )
        page = None
        if len(self.layout.pages) > 1:
            page = f"{self._page_index + 1}/{len(self.layout.pages)}"
        phase = status.phase.value
        replay = None
        if self.replay is not None:
            replay = f"{clock_text(self.replay.moment())} x{self.replay.speed:g}"
            if status.phase is Phase.LIVE:
                phase = "replaying"
        return StatusInfo(
            server=self.server,
            phase=phase,
            retry_in=retry_in,
            age=self.controller.store.age(now),
            poll_ms=poll_ms,
            errors=status.error_count,
            message=message,
            demo=self.demo,
            page=page,
            layout=self._layout_message,
            updates=status.updates,
            corrected=status.corrected,
            checked=checked,
            replay=replay,
            stopped=status.stopped,
        )

    def _update_status(self) -> None:
        if self._status_bar is not None:
            self._status_bar.update_status(self._status_info())

    # --- actions ----------------------------------------------------------------------------

    def request_exit(self, reason: str = "") -> None:
        """Any exit path (keys, signals, a vanished terminal) ends up here."""
        self.call_later(self.action_quit)

    async def action_quit(self) -> None:
        """Close the subscription, then end the app."""
        if self._quitting:
            return
        self._quitting = True
        self._update_status()
        await self.controller.close()
        self.exit(0)

    def action_toggle_pause(self) -> None:
        """Pause or resume taking new values (in a replay: pause or play)."""
        paused = self.controller.toggle_pause()
        if self.replay is not None:
            self.notify("Replay paused" if paused else "Replay playing", timeout=2)
        else:
            self.notify("Updates paused" if paused else "Updates resumed", timeout=2)
        self._update_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay; no polling in one."""
        if action.startswith("replay_"):
            return self.replay is not None
        if action == "poll_now":
            return self.replay is None
        return True

    def action_replay_step(self, ticks: int) -> None:
        """Pause the replay and step `ticks` polls on (back when negative)."""
        if self.replay is not None:
            self.replay.step(ticks)
            self._after_replay_move()

    def action_replay_faster(self) -> None:
        """Play the replay faster."""
        if self.replay is not None:
            self.notify(f"Replay at x{self.replay.faster():g}", timeout=2)
            self._update_status()

    def action_replay_slower(self) -> None:
        """Play the replay slower."""
        if self.replay is not None:
            self.notify(f"Replay at x{self.replay.slower():g}", timeout=2)
            self._update_status()

    def action_replay_go_to(self) -> None:
        """Ask for a time of day and show the recording at that moment."""
        replay = self.replay
        if replay is None or isinstance(self.screen, GoToScreen):
            return
        start, end = replay.recording.start, replay.recording.end
        span = f"{clock_text(start)} to {clock_text(end)}"

        def go(text: str | None) -> None:
            if not text:
                return
            try:
                moment = moment_of_day(text, start, end)
            except ValueError as error:
                self.notify(str(error), severity="error", timeout=5, markup=False)
                return
            replay.go_to(moment)
            self._after_replay_move()

        self.push_screen(GoToScreen(span), go)

    def _after_replay_move(self) -> None:
        """A step or a jump moved the clock: move what depends on it and the status line."""
        self._tick()

    def action_poll_now(self) -> None:
        """Poll at once (a replay has nothing to poll, also when asked from the palette)."""
        if self.replay is not None:
            return
        if self.controller.paused:
            self.controller.resume()
        self.controller.poll_now()

    def _target_table(self) -> TablePanel | None:
        """The table the user means: the focused one, else the first on the page."""
        focused = self.focused
        while focused is not None:
            if isinstance(focused, TablePanel):
                return focused
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        for panel in self._panels(active_only=True):
            if isinstance(panel, TablePanel):
                return panel
        return None

    def action_filter(self) -> None:
        """Open the filter line of the table."""
        panel = self._target_table()
        if panel is None:
            self.notify("No table on this page to filter", timeout=2)
            return
        panel.open_filter()

    def action_sort(self) -> None:
        """Sort the table by its next column."""
        panel = self._target_table()
        if panel is not None:
            self.notify(f"Sorted by {clean(panel.sort_next())}", timeout=2, markup=False)

    def action_reverse_sort(self) -> None:
        """Reverse the table's sort order."""
        panel = self._target_table()
        if panel is not None:
            self.notify(f"Reversed: {clean(panel.reverse_sort())}", timeout=2, markup=False)

    def action_toggle_maximize(self) -> None:
        """Maximize the focused panel, or restore it."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        while focused is not None and not isinstance(focused, Panel):
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        target = focused or next(iter(self._panels(active_only=True)), None)
        if isinstance(target, Widget):
            screen.maximize(target, container=False)

    def action_escape(self) -> None:
        """Close an open filter, else restore a maximized panel."""
        panel = self._target_table()
        if panel is not None and panel.clear_filter():
            return
        if self.screen.maximized is not None:
            self.screen.minimize()

    def action_page(self, index: int) -> None:
        """Show page `index` (0-based) when it exists."""
        self._show_page(index)

    def _show_page(self, index: int) -> None:
        if not 0 <= index < len(self.layout.pages) or index == self._page_index:
            return
        self._page_index = index
        self.page_changes += 1
        switcher = self.query_one(ContentSwitcher)
        if index < len(self._pages):
            # A hidden page has no size of its own: fitted to the one it will have, its first
            # showing is laid out once, not at the grid's natural row heights and then again
            # when the grid hears its size (a second full frame of the page).
            self._pages[index].prepare(*switcher.content_size)
        switcher.current = f"p{index + 1}"
        self.query_one("#title", TextLine).show(self._title_text())
        self._focus_first_table()
        self._tick()

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_layout_problems(self) -> None:
        """Show every problem of the layout edit that could not be applied."""
        if not self._layout_problems:
            self.notify("The layout file has no problems", timeout=2)
            return
        if not isinstance(self.screen, LayoutProblemsScreen):
            file = self._layout_problems[0].file
            self.push_screen(LayoutProblemsScreen(file, _problem_lines(self._layout_problems)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """One palette entry per action: the dashboard's own, two of Textual's, each page.

        Textual's Quit, Keys and Maximize/Minimize are left out: the dashboard's own quit
        closes the subscription first, `?` is the key list and `m` maximizes.
        """
        seen: set[str] = set()
        for key_action in KEY_ACTIONS:
            if key_action.action in seen or not key_action.explain:
                continue
            seen.add(key_action.action)
            method = getattr(self, f"action_{key_action.action}")
            yield SystemCommand(key_action.description, key_action.explain, method)
        yield SystemCommand(
            "Theme",
            "Pick other colours: truecolor ones, or ANSI ones for 16-colour terminals",
            self.action_change_theme,
        )
        yield SystemCommand(
            "Screenshot",
            "Save an SVG picture of the screen as it is now (the path is shown)",
            # After the palette has closed, so the picture is of the dashboard.
            lambda: self.set_timer(0.1, self.screenshot_to),
        )
        for index, page in enumerate(self.layout.pages):
            # The palette parses titles as markup; a page title is layout text, so escape it.
            yield SystemCommand(
                f"Page {index + 1}: {escape_markup(clean(page.title, 40))}",
                f"Switch to page {index + 1} (key {index + 1})"
                if index < len(PAGE_KEYS)
                else f"Switch to page {index + 1}",
                lambda index=index: self.action_page(index),
            )

    def screenshot_to(self, directory: Path | None = None) -> Path | None:
        """Save an SVG of the screen into `directory` (default: `screenshot_directory()`) and
        say where, or why it could not be saved. Textual's own says only "Failed" when its
        Downloads directory does not exist."""
        folder = directory or screenshot_directory()
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(self._wall_clock()))
        path = folder / f"statdash_{stamp}.svg"
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(self.export_screenshot())
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.notify(
                f"Screenshot not saved: {clean(str(path), 200)}: {clean(reason, 100)}",
                title="Screenshot",
                severity="error",
                markup=False,
            )
            return None
        self.notify(
            f"Screenshot saved to {clean(str(path), 200)}", title="Screenshot", markup=False
        )
        return path

    # --- the layout file --------------------------------------------------------------------

    def _check_layout_file(self) -> None:
        # One reload at a time, never cancelled half-way (that would leave the pages half
        # rebuilt); a change seen meanwhile is picked up when the running reload ends.
        if self._reloading:
            return
        stamp = _stamp(self.layout_path)
        if stamp != self._layout_stamp and stamp is not None:
            self._layout_stamp = stamp
            self._reloading = True
            self._reload_layout()

    @work(exit_on_error=False, group="layout")
    async def _reload_layout(self) -> None:
        try:
            await self._apply_layout_file()
        finally:
            self._reloading = False
            # An editor may have written again while we read (truncate, then write).
            self._check_layout_file()

    async def _apply_layout_file(self) -> None:
        path = self.layout_path
        assert path is not None
        try:
            # Parsing a 2,000-agent layout takes tens of ms: keep it off the event loop.
            compiled = await asyncio.to_thread(lambda: compile_layout(load_layout(path)))
        except LayoutError as error:
            # The whole list waits behind `e`: a toast cuts long messages and vanishes.
            self._layout_problems = error.problems
            count = problem_count(len(error.problems))
            self._layout_message = f"layout: {count} (press e)"
            self.notify(
                f"Still showing the last layout that worked; press e to read the {count}.",
                title="Layout not applied",
                severity="error",
                timeout=8,
                markup=False,
            )
            if isinstance(self.screen, LayoutProblemsScreen):
                # Open on an older list: show the new one in its place.
                self.screen.show(self._layout_problems[0].file, _problem_lines(error.problems))
            self._update_status()
            return
        except OSError as error:
            self._layout_message = f"cannot read the layout: {clean(error.strerror or error, 60)}"
            self._update_status()
            return
        self._layout_message = None
        self._layout_problems = ()
        if isinstance(self.screen, LayoutProblemsScreen):
            self.screen.dismiss(None)
        await self.controller.apply(plan_for(compiled))
        # The listeners hear it: the alert runner takes the new rules, the recorder stores it.
        self.controller.layout_changed(compiled)
        await self._show_layout(compiled)
        self.notify("Layout reloaded", timeout=3)

    async def _show_layout(self, compiled: CompiledLayout) -> None:
        if self._heap_settled:
            # The old pages become garbage now; frozen, they would never be freed.
            release_heap()
            self._heap_settled = False
        self.layout = compiled
        self.title = clean(compiled.title, 80)
        # The pages start again from the first; a rotation the user stopped stays stopped.
        stopped = self._rotation is not None and not self._rotation.running
        self._rotation = self._new_rotation(running=not stopped)
        self._arm_rotation()
        self.query_one("#title", TextLine).show(self._title_text())
        await self._mount_pages()
        self._focus_first_table()
        self.redraw(None)
        self._update_status()


def _problem_lines(problems: Iterable[LayoutProblem]) -> list[str]:
    """Each problem as `file:line:column: key: message`, the loader's own words."""
    return [str(problem) for problem in problems]


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """(mtime_ns, size) of the layout file, or None when it cannot be read right now."""
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)
