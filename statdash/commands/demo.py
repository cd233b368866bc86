"""`statdash demo`: the dashboard on a built-in simulator, through the production code path."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from statdash.api.settings import Credentials, Endpoint, HubSettings, ServerSettings
from statdash.commands.alert_options import (
    check_alert_webhooks,
    open_alert_log,
)
from statdash.commands.common import load_compiled
from statdash.commands.record_options import make_recorder, record_problem
from statdash.commands.run import theme_problem
from statdash.commands.voice import Refused, Voice
from statdash.layout.shipped import shipped_layout
from statdash.layout.vocabulary import UpdatesName
from statdash.sim.config import SimConfig

# The simulator's server stack and Textual (~500 ms together) are imported in `run`, after
# the layout is known to be good, so `statdash demo --help` and its refusals are quick.

VOICE = Voice("demo")
DEMO_API_KEY = "statdash-demo"
"""The demo opens mid-shift: agents in varied states with calls behind them, not a floor
where everyone logged in a second ago (0 calls, productivity 0%, every row at alarm)."""


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
    from statdash.ui.start import run_dashboard

    try:
        config = simulator_config(args)
    except ValueError as error:
        return VOICE.fail(str(error))
    # The server thread must not log onto the dashboard's screen.
    with running_simulator(config, log_level="critical") as simulator:
        api = ServerSettings(
            url=simulator.base_url, credentials=Credentials(api_key=SecretStr(DEMO_API_KEY))
        )

        def dashboard(settings: Endpoint) -> Coroutine[Any, Any, int]:
            recorder = make_recorder(args, layout, settings.label)
            return run_dashboard(
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

        if not args.hub:
            return asyncio.run(dashboard(api))
        return _through_a_hub(
            api, dashboard, updates=args.updates or layout.updates, refresh=layout.refresh
        )


def _through_a_hub(
    api: ServerSettings,
    dashboard: Callable[[Endpoint], Coroutine[Any, Any, int]],
    *,
    updates: UpdatesName,
    refresh: float,
) -> int:
    """A local nats-server and a hub between the simulator and the dashboard; all stopped,
    the hub's subscriptions deleted, when the dashboard ends."""
    try:
        # why here: NATS is the hub extra's; a plain demo never imports it.
        from statdash.hub.inprocess import hub_beside
        from statdash.hub.natsd import NatsServerMissing, NatsStartFailed, running_nats
    except ImportError:
        raise Refused('--hub needs the hub extra: pip install "statdash[hub]"') from None
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_nats())
        except (NatsServerMissing, NatsStartFailed) as error:
            raise Refused(str(error)) from None
        hub = HubSettings(url=server.url)
        return asyncio.run(hub_beside(api, hub, dashboard(hub), updates=updates, refresh=refresh))
