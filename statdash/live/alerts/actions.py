"""What an alert does: bell, banner, desktop notification (OSC 9 / OSC 777), a line, a command.

`AlertActions.run(event)` carries out the actions of the event's rule. It writes to the
terminal only through the `terminal` callable it is given (Textual's driver in the dashboard,
stdout in `statdash watch`), so nothing races the screen's own output. Every text that goes
into a terminal sequence is cleaned of control characters first (`statdash.text.clean`): a
rule name or an object id holding ESC or BEL could otherwise end the notification early and
smuggle its own sequence to the terminal.

A command is run with `asyncio.create_subprocess_exec`, never a shell, with the alert as one
JSON object on stdin (for every event: raised, repeated, acknowledged, cleared; the JSON's
`event` says which); it is killed (with its process group) when it outlives its timeout.
Commands are bounded: at most MAX_RUNNING_COMMANDS run at once and MAX_WAITING_COMMANDS wait
for a turn; more are dropped, and one line says how many and why. Of a command's error
output the first MAX_KEPT_OUTPUT bytes are kept and the rest is read and counted, so a
command writing without end costs neither memory nor a stalled pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from statdash.layout.formats import figure_text
from statdash.layout.views import CommandAction, WebhookAction
from statdash.live.alerts.book import AlertEvent
from statdash.live.alerts.log import log_record
from statdash.live.alerts.webhook import WebhookSender
from statdash.live.waking import finish_or_cancel
from statdash.text import clean

log = logging.getLogger("statdash.alerts")

NotificationFlavour = Literal["osc9", "osc777"]
BEL = "\a"
# Events that make noise; acknowledging or clearing is news, not an alarm.
NOISY = frozenset({"raised", "repeated"})
MAX_NOTIFICATION_TEXT = 120
MAX_COMMAND_OUTPUT = 300
# Of a command's stderr: what is kept (the head; more than the line ever shows), and the size
# of each read of the rest, which is only counted.
MAX_KEPT_OUTPUT = 4096
READ_CHUNK = 65536
# 500 objects repeating every second once started 2,644 processes: commands beyond these wait
# their turn, and beyond the waiting ones they are dropped (and said).
MAX_RUNNING_COMMANDS = 8
MAX_WAITING_COMMANDS = 32

Write = Callable[[str], None]
Say = Callable[[str], None]
Banner = Callable[[AlertEvent], None]


def notification_flavour(environ: Mapping[str, str] | None = None) -> NotificationFlavour:
    """Which desktop-notification sequence the terminal understands, by what it says it is.

    OSC 777 (`notify;title;body`) is what VTE terminals (GNOME Terminal, Tilix), urxvt and
    foot show; OSC 9 is iTerm2's, also read by Windows Terminal, kitty, WezTerm and others.
    """
    env = os.environ if environ is None else environ
    term = env.get("TERM", "")
    if env.get("VTE_VERSION") or term.startswith(("rxvt", "foot")):
        return "osc777"
    return "osc9"


def _sequence_text(text: str) -> str:
    # No control character survives clean(), so nothing can end the sequence early (BEL,
    # ESC \, C1 ST); ';' would split OSC 777's fields.
    return clean(text, MAX_NOTIFICATION_TEXT).replace(";", ",")


def notification_sequence(title: str, body: str, flavour: NotificationFlavour) -> str:
    """The OSC sequence that asks the terminal for a desktop notification."""
    if flavour == "osc777":
        return f"\x1b]777;notify;{_sequence_text(title)};{_sequence_text(body)}\x07"
    return f"\x1b]9;{_sequence_text(title)}: {_sequence_text(body)}\x07"


def alert_line(event: AlertEvent) -> str:
    """One line about an event: `ALARM raised: Backlog on Sales (Queue 8001@SIP_Switch) = 7`."""
    alert = event.alert
    where = clean(alert.object.label, 60)
    if alert.object.label != alert.object.id:
        where += f" ({clean(alert.object.type)} {clean(alert.object.id, 80)})"
    else:
        where = f"{clean(alert.object.type)} {where}"
    stale = ", stale" if alert.stale else ""
    rule = alert.rule
    shown = figure_text(alert.value, rule.format, rule.decimals)
    if event.kind == "cleared" and alert.worst is not None and alert.worst != alert.value:
        shown += f" (worst {figure_text(alert.worst, rule.format, rule.decimals)})"
    return f"{rule.level.upper()} {event.kind}: {clean(rule.name, 80)} on {where} = {shown}{stale}"


def alert_json(event: AlertEvent) -> bytes:
    """What a command reads on stdin: the log's record, the object's label, the rule's place."""
    record = log_record(event)
    record["object_label"] = clean(event.alert.object.label, 200)
    record["layout"] = str(event.alert.rule.location)
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


class AlertActions:
    """Runs each event's actions; commands run as tasks, awaited by `aclose()`."""

    def __init__(
        self,
        *,
        terminal: Write | None,
        say: Say,
        banner: Banner | None = None,
        flavour: NotificationFlavour | None = None,
        max_lines: int | None = None,
        run_commands: bool = True,
        webhooks: WebhookSender | None = None,
        max_running: int = MAX_RUNNING_COMMANDS,
        max_waiting: int = MAX_WAITING_COMMANDS,
    ) -> None:
        """`terminal` writes raw text to the terminal (None: there is none); `say` prints a line
        to the user (problems of commands, the `log` action); `banner` shows the alert;
        `max_lines` caps the `log` lines of events that happened together (None: no cap);
        `run_commands=False` leaves the rules' commands to another process (a dashboard
        under `statdash serve`, whose serving process runs them once for every viewer);
        `webhooks` posts the `{webhook: ...}` actions (default: one of its own, on `say`);
        at most `max_running` commands run at once and `max_waiting` wait for a turn."""
        self._run_commands = run_commands
        self._max_lines = max_lines
        self._terminal = terminal
        self._say = say
        self._banner = banner
        self._flavour = flavour or notification_flavour()
        self._commands: set[asyncio.Task[None]] = set()
        self._webhooks = webhooks if webhooks is not None else WebhookSender(say=say)
        self._max_commands = max_running + max_waiting
        self._turns = asyncio.Semaphore(max_running)
        self._limits = f"{max_running} were running and {max_waiting} waiting"
        self._running = 0

    @property
    def running(self) -> int:
        """Commands running now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Commands waiting for a turn to run."""
        return len(self._commands) - self._running

    def run(self, event: AlertEvent) -> None:
        """Carry out the actions of one event's rule (none for a quiet rule)."""
        self.run_all([event])

    def run_all(self, events: Sequence[AlertEvent]) -> None:
        """Carry out the actions of events that happened together (one poll, one key press).

        Twenty queues going into alarm on one poll ring once, flash once and send one
        notification, not twenty; every event still gets its line and its commands. With
        `max_lines`, lines beyond it become one line saying how many more there were.
        """
        rang = flashed = False
        notify: list[AlertEvent] = []
        lines: list[str] = []
        dropped: Counter[str] = Counter()
        for event in events:
            rule = event.alert.rule
            if rule.quiet:
                continue
            noisy = event.kind in NOISY
            for action in rule.actions:
                if isinstance(action, CommandAction):
                    # Every event: the JSON's `event` says which, so a pager can also close.
                    if self._run_commands and not self._start(action, event):
                        dropped[clean(action.argv[0], 80)] += 1
                elif isinstance(action, WebhookAction):
                    # Like a command, every event; it leaves this computer, so the same rule.
                    if self._run_commands:
                        self._webhooks.post(action, event, alert_json(event), alert_line(event))
                elif action == "log":
                    # Acknowledging is the user's own doing: nothing to tell them.
                    if event.kind != "acknowledged":
                        lines.append(alert_line(event))
                elif not noisy:
                    continue
                elif action == "bell" and not rang:
                    rang = True
                    self._write(BEL)
                elif action == "notify":
                    notify.append(event)
                elif action == "banner" and self._banner is not None and not flashed:
                    flashed = True
                    self._banner(event)
        if notify:
            first = notify[0]
            body = alert_line(first)
            if len(notify) > 1:
                body += f" (+{len(notify) - 1:,} more)"
            title = f"statdash {first.alert.rule.level}"
            self._write(notification_sequence(title, body, self._flavour))
        if self._max_lines is not None and len(lines) > self._max_lines:
            shown = self._max_lines - 1
            lines = [*lines[:shown], f"... and {len(lines) - shown:,} more alert events"]
        for line in lines:
            self._say(line)
        if dropped:
            programs = ", ".join(f"{program} x{count:,}" for program, count in dropped.items())
            self._say(
                f"dropped {dropped.total():,} alert command runs ({programs}): {self._limits}"
                " already; the alert log has every event"
            )

    def _write(self, text: str) -> None:
        if self._terminal is None:
            return
        try:
            self._terminal(text)
        except OSError as error:
            # A terminal that went away is no reason to stop watching.
            log.warning("could not write to the terminal: %s", error)

    def _start(self, action: CommandAction, event: AlertEvent) -> bool:
        """Start the command, or queue it for a turn; False: dropped (no room left)."""
        if len(self._commands) >= self._max_commands:
            return False
        task = asyncio.get_running_loop().create_task(self._take_turn(action, event))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)
        return True

    async def _take_turn(self, action: CommandAction, event: AlertEvent) -> None:
        # The timeout counts from the command's start, not from its place in the queue.
        async with self._turns:
            self._running += 1
            try:
                await self._command(action, event)
            finally:
                self._running -= 1

    async def _command(self, action: CommandAction, event: AlertEvent) -> None:
        program = clean(action.argv[0], 80)
        try:
            process = await asyncio.create_subprocess_exec(
                *action.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                # Its own process group, so a timeout kills what it started too.
                start_new_session=True,
            )
        except OSError as error:
            self._say(f"alert command {program} could not start: {error.strerror or error}")
            return
        try:
            errors, more = await asyncio.wait_for(
                _exchange(process, alert_json(event)), action.timeout
            )
        except TimeoutError:
            _kill(process)
            await process.wait()
            self._say(f"alert command {program} took longer than {action.timeout:g}s; stopped it")
            return
        except asyncio.CancelledError:
            _kill(process)
            raise
        if process.returncode:
            detail = clean(errors.decode(errors="replace").strip(), MAX_COMMAND_OUTPUT)
            dropped = f" ({more:,} more bytes of its output not kept)" if more else ""
            self._say(
                f"alert command {program} failed (exit {process.returncode})"
                + (f": {detail}" if detail else "")
                + dropped
            )

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let running commands finish (each within its own timeout), then stop the rest;
        the same for webhook posts, at the same time (a quit waits `timeout` once, not twice)."""
        await asyncio.gather(
            self._webhooks.aclose(timeout), finish_or_cancel(set(self._commands), timeout)
        )


async def _exchange(process: asyncio.subprocess.Process, given: bytes) -> tuple[bytes, int]:
    """Write `given` to the command's stdin and read its stderr to the end, keeping the first
    MAX_KEPT_OUTPUT bytes; returns them and how many more there were. (`communicate()` keeps
    all of it: 250 MB of stderr was 250 MB in memory.)"""
    stdin, stderr = process.stdin, process.stderr
    assert stdin is not None and stderr is not None

    async def feed() -> None:
        # A command that exits without reading its stdin is no failure of ours.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(given)
            await stdin.drain()
        stdin.close()

    async def read() -> tuple[bytes, int]:
        kept = bytearray()
        more = 0
        while chunk := await stderr.read(READ_CHUNK):
            room = MAX_KEPT_OUTPUT - len(kept)
            kept += chunk[:room]
            more += max(len(chunk) - room, 0)
        return bytes(kept), more

    _, (kept, more) = await asyncio.gather(feed(), read())
    await process.wait()
    return kept, more


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
