"""The alert flags read back (their arguments are `statdash.commands.arguments.alerts`):
whether they go together, opening the log, and checking the rules' webhooks before anything
starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.commands.voice import Refused, Voice
from statdash.layout.views import CompiledLayout
from statdash.live.alerts.log import AlertLog, AlertLogError
from statdash.live.alerts.webhook import webhook_problems


def screen_only(args: argparse.Namespace) -> bool:
    """True when `--alert-actions screen` leaves commands and the log to another process."""
    return getattr(args, "alert_actions", "all") == "screen"


def alert_actions_problem(args: argparse.Namespace) -> str | None:
    """Why the alert flags cannot go together, or None."""
    if screen_only(args) and getattr(args, "alert_log", None) is not None:
        return "--alert-log cannot go with --alert-actions screen, which writes no alert log"
    return None


def check_alert_webhooks(args: argparse.Namespace, layout: CompiledLayout) -> None:
    """Refused (one located line) when a rule's webhook cannot be posted to: its variable is
    unset, or it is plain http to another computer without `--allow-http`."""
    problems = webhook_problems(layout.alerts, allow_http=bool(getattr(args, "allow_http", False)))
    if problems:
        more = f" (and {len(problems) - 1:,} more)" if len(problems) > 1 else ""
        raise Refused(f"{problems[0]}{more}; nothing was started")


def open_alert_log(
    args: argparse.Namespace, layout: CompiledLayout, voice: Voice
) -> AlertLog | None:
    """The alert log to write, opened, or None when none is asked for.

    Refused when it cannot be written, so the command exits 2 before anything starts: a log
    that cannot be written is better known at the start than after the first alarm.
    """
    given: Path | None = getattr(args, "alert_log", None)
    path = given if given is not None else (Path(layout.alert_log) if layout.alert_log else None)
    if path is None:
        return None
    log = AlertLog(path)
    try:
        log.open()
    except AlertLogError as error:
        raise Refused(f"{error}; nothing was started") from None
    return log
