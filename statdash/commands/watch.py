"""`statdash watch LAYOUT`: the layout's alert rules without a screen (a jump host, a service).

The same session as the dashboard's (`statdash.commands.alert_session`, which `serve` runs
too; `--updates` chooses how values arrive): one subscription, written down while open,
deleted on every way out. SIGTERM, SIGINT and SIGHUP end it like `q` ends the
dashboard, and so does the terminal going away when it was started from one. Each alert
event is a line on stdout (the `log` action) and a line in the alert log; bells and desktop
notifications go to stdout only when it is a terminal. Problems go to stderr. With
`--record` (or `--record-dir`) it records the session as the dashboard does: a shift
recorded with no screen, of any layout (then alert rules are optional).

Exit status: 0 stopped by a signal after the server answered; 1 the server was never reached
(or refused the credentials); 2 a bad layout, a layout without alerts (and no recording),
an unwritable alert log or recording, or bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from statdash.api.errors import ConfigError
from statdash.api.settings import Endpoint
from statdash.commands.alert_options import (
    check_alert_webhooks,
    open_alert_log,
)
from statdash.commands.alert_session import AlertSession
from statdash.commands.common import load_compiled
from statdash.commands.record_options import make_recorder, record_problem
from statdash.commands.server_options import resolve_endpoint
from statdash.commands.voice import Refused, Voice, now_stamp
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.lifecycle import install_signal_handlers, watch_terminal
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.recordings.recorder import DailyRecorder, Recorder
from statdash.live.subscriptions.records import SubscriptionRecords

VOICE = Voice("watch")
SESSION_VOICE = Voice("watch", stamped=True)
"""Once watching, every line (stdout's alert events too) starts with the time."""


def run(args: argparse.Namespace) -> int:
    """Check everything, then watch until a signal (or the terminal going away) stops it."""
    settings = resolve_endpoint(args, voice=VOICE)
    layout = load_compiled(args.layout)
    recording = args.record is not None or args.record_dir is not None
    if not layout.alerts and not recording:
        raise Refused(
            f"{args.layout} has no alerts to watch: write rules under 'alerts:' or put"
            " 'alert: true' on a statistic's thresholds (or record it with --record);"
            " nothing was started"
        )
    problem = record_problem(args)
    if problem is not None:
        raise Refused(problem)
    check_alert_webhooks(args, layout)
    log = open_alert_log(args, layout, VOICE)
    try:
        recorder = make_recorder(args, layout, settings.label)
    except Refused:
        if log is not None:
            log.close()
        raise
    try:
        return asyncio.run(
            _watch(layout, settings, log, SubscriptionRecords(args.records), args.updates, recorder)
        )
    except ConfigError as error:
        raise Refused(str(error)) from None
    finally:
        if log is not None:
            log.close()
        if recorder is not None:
            # Already closed by the session on its way out; closing again is harmless.
            recorder.close()


def _print(line: str) -> None:
    """An alert line on stdout after the time, at once (a journal or a pipe reads it live)."""
    with contextlib.suppress(BrokenPipeError):
        print(f"{now_stamp()} {line}", flush=True)


def _terminal(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def _watch(
    layout: CompiledLayout,
    settings: Endpoint,
    log: AlertLog | None,
    records: SubscriptionRecords,
    updates: UpdatesName | None,
    recorder: Recorder | DailyRecorder | None,
) -> int:
    stopping = asyncio.Event()

    def request_exit(reason: str) -> None:
        if not stopping.is_set():
            SESSION_VOICE.say(f"stopping ({reason})")
        stopping.set()

    session = AlertSession(
        layout,
        settings,
        actions=AlertActions(terminal=_terminal if sys.stdout.isatty() else None, say=_print),
        log=log,
        records=records,
        updates=updates,
        voice=SESSION_VOICE,
        on_refused=lambda: request_exit("the server refused to serve this run"),
        recorder=recorder,
    )
    loop = asyncio.get_running_loop()
    remove_handlers = install_signal_handlers(loop, request_exit)
    terminal_watch = None
    if sys.__stdin__ is not None:
        terminal_watch = loop.create_task(watch_terminal(sys.__stdin__.fileno(), request_exit))
    try:
        return await session.run(stopping)
    finally:
        remove_handlers()
        if terminal_watch is not None:
            terminal_watch.cancel()
