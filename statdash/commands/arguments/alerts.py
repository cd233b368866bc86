"""`--alert-log PATH` (run, demo, watch, serve) and run's `--alert-actions` (the checks and
the log itself are `statdash.commands.alert_options`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_alert_arguments(parser: argparse.ArgumentParser) -> None:
    """The alert flags: where the alert log goes."""
    parser.add_argument(
        "--alert-log",
        type=Path,
        metavar="PATH",
        help="append one JSON line per alert raised, acknowledged and cleared"
        " (default: the layout's alert_settings: log, else none)",
    )


ALERT_ACTIONS = ("all", "screen")


def add_alert_actions_argument(parser: argparse.ArgumentParser) -> None:
    """`--alert-actions all|screen`: whether this dashboard runs the rules' commands and log."""
    parser.add_argument(
        "--alert-actions",
        choices=ALERT_ACTIONS,
        default="all",
        help="all (default): alerts show, their commands run and the alert log is written;"
        " screen: alerts only show on this screen (banner, toasts, bell), no commands and no"
        " alert log, e.g. beside a `statdash watch` that runs them (each `statdash serve`"
        " viewer runs this way: serve runs the rules' commands and log once, itself)",
    )
