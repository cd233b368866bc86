"""`statdash demo`: the dashboard on a built-in simulator, through the production code path."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from pydantic import SecretStr

from statdash.api.settings import Credentials, ServerSettings
from statdash.commands.alert_options import (
    add_alert_arguments,
    check_alert_webhooks,
    open_alert_log,
)
from statdash.commands.common import add_updates_argument, load_compiled
from statdash.commands.record_options import add_record_arguments, make_recorder, record_problem
from statdash.commands.run import KIOSK_HELP, THEMES_HELP, theme_problem
from statdash.commands.voice import Refused, Voice
from statdash.layout.shipped import shipped_layout
from statdash.sim.config import SimConfig

# The simulator's server stack and Textual (~500 ms together) are imported in `run`, after
# the layout is known to be good, so `statdash demo --help` and its refusals are quick.

VOICE = Voice("demo")
DEMO_API_KEY = "statdash-demo"
DEMO_WARM_UP = 1800.0
"""The demo opens mid-shift: agents in varied states with calls behind them, not a floor
where everyone logged in a second ago (0 calls, productivity 0%, every row at alarm)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`demo` takes an optional layout, simulator sizes and a theme."""
    parser.add_argument(
        "layout", nargs="?", type=Path, help="a layout file (default: the shipped demo layout)"
    )
    parser.add_argument("--agents", type=int, default=50, help="simulated agents (default 50)")
    parser.add_argument("--queues", type=int, default=5, help="simulated queues (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="simulated seconds per real second (default 1)",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=DEMO_WARM_UP,
        metavar="SECONDS",
        help=f"simulated seconds the floor runs before the dashboard opens (default "
        f"{DEMO_WARM_UP:g}: half an hour into the shift)",
    )
    parser.add_argument("--theme", help=THEMES_HELP)
    add_alert_arguments(parser)
    add_updates_argument(parser)
    parser.add_argument("--kiosk", action="store_true", help=KIOSK_HELP)
    add_record_arguments(parser)


def simulator_config(args: argparse.Namespace) -> SimConfig:
    """The demo's simulator: the sizes, seed, time scale and warm-up asked for."""
    return SimConfig(
        agents=args.agents,
        queues=args.queues,
        seed=args.seed,
        time_scale=args.time_scale,
        warm_up=args.warm_up,
    )


def run(args: argparse.Namespace) -> int:
    """Start the simulator on a free loopback port and run the dashboard against it."""
    problem = theme_problem(args.theme) or record_problem(args)
    if problem is not None:
        raise Refused(problem)
    path: Path = args.layout or shipped_layout("demo.yaml")
    layout = load_compiled(path)
    if args.agents < 1 or args.queues < 1:
        raise Refused("--agents and --queues must be at least 1")
    check_alert_webhooks(args, layout)
    alert_log = open_alert_log(args, layout, VOICE)
    # why here: the server stack and Textual are slow to import (see the top).
    from statdash.sim.runner import running_simulator
    from statdash.ui.launch import run_dashboard

    try:
        config = simulator_config(args)
    except ValueError as error:
        return VOICE.fail(str(error))
    # The server thread must not log onto the dashboard's screen.
    with running_simulator(config, log_level="critical") as simulator:
        settings = ServerSettings(
            url=simulator.base_url, credentials=Credentials(api_key=SecretStr(DEMO_API_KEY))
        )
        recorder = make_recorder(args, layout, settings.label)
        return asyncio.run(
            run_dashboard(
                layout,
                settings,
                layout_path=path,
                demo=True,
                theme=args.theme,
                alert_log=alert_log,
                updates=args.updates,
                kiosk=args.kiosk,
                recorder=recorder,
                say=VOICE.say,
            )
        )
