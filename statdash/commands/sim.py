"""The `statdash sim` subcommand: arguments, friendly errors, and serving until Ctrl+C."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from typing import TextIO

from statdash.commands.arguments.sim import ENV_API_KEY, ENV_CLIENT_SECRET
from statdash.sim import runner
from statdash.sim.config import SimConfig
from statdash.sim.wire import API


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Build the SimConfig; ValueError with every problem when the arguments do not fit."""
    problems: list[str] = []
    users: dict[str, str] = {}
    for spec in args.user:
        name, colon, password = spec.partition(":")
        if not colon or "\\" not in name:
            problems.append("--user must look like 'TENANT\\name:password'")
        else:
            users[name] = password
    api_key = args.api_key if args.api_key is not None else os.environ.get(ENV_API_KEY)
    secret = (
        args.client_secret if args.client_secret is not None else os.environ.get(ENV_CLIENT_SECRET)
    )
    client_id = args.client_id
    if (client_id is None) != (secret is None):
        problems.append("--client-id and --client-secret go together")
    if users and client_id is None:
        problems.append("--user needs --client-id and --client-secret")
    if not math.isfinite(args.notification_hold) or args.notification_hold < 0:
        problems.append(f"--notification-hold must be seconds >= 0, got {args.notification_hold}")
    if not math.isfinite(args.notification_expiry) or args.notification_expiry <= 0:
        problems.append(
            f"--notification-expiry must be seconds > 0, got {args.notification_expiry}"
        )
    if not 0 < args.time_driven_frequency <= 86_400:
        problems.append(
            "--time-driven-frequency must be seconds, more than 0 and at most 86400, "
            f"got {args.time_driven_frequency}"
        )
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must be between 0 and 65535, got {args.port}")
    if problems:
        raise ValueError("; ".join(problems))
    return SimConfig(
        agents=args.agents,
        queues=args.queues,
        seed=args.seed,
        time_scale=args.time_scale,
        clock="manual" if args.manual_clock else "realtime",
        start_time=args.start_time,
        warm_up=args.warm_up,
        clock_skew=args.clock_skew,
        calls_per_hour=args.calls_per_hour,
        api_key=api_key or None,
        client_id=client_id,
        client_secret=secret,
        users=users,
        token_ttl=args.token_ttl,
        hostile=args.hostile,
        numeric_states=args.numeric_states,
        notification_hold=args.notification_hold,
        notification_expiry=args.notification_expiry,
        time_driven_frequency=args.time_driven_frequency,
    )


def describe(config: SimConfig, host: str, port: int) -> str:
    """The one line saying where the simulator listens and what it simulates."""
    where = f"http://{runner.url_host(host)}:{port}{API}"
    scope = "loopback only" if runner.is_loopback(host) else "REACHABLE FROM OTHER MACHINES"
    return (
        f"statdash simulator listening on {where} (agents {config.agents}, "
        f"queues {config.queues}, seed {config.seed}); {scope}"
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run `statdash sim`; returns the exit code (2 for bad arguments, 1 if it cannot listen)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"statdash sim: error: {exc}", file=err)
        return 2
    try:
        sock = runner.bind(args.host, args.port)
    except runner.PortUnavailableError as exc:
        hint = " (is another simulator running? try --port 0)" if "in use" in str(exc) else ""
        print(f"statdash sim: error: {exc.strerror or exc}{hint}", file=err)
        return 1
    except (OSError, ValueError) as exc:
        print(f"statdash sim: error: cannot listen on {args.host}:{args.port}: {exc}", file=err)
        return 1
    port = sock.getsockname()[1]
    print(describe(config, args.host, port), file=out, flush=True)
    if not runner.is_loopback(args.host):
        print(
            f"statdash sim: warning: {args.host} is not a loopback address; anyone who can "
            "reach this machine can use the simulator, and it has no real security",
            file=err,
            flush=True,
        )
    if config.auth_required:
        print(
            "statdash sim: bearer tokens required (POST /auth/v3/oauth/token)", file=out, flush=True
        )
    if config.clock == "manual":
        print(
            'statdash sim: manual clock; POST /simulator/advance {"seconds": N} moves time',
            file=out,
            flush=True,
        )
    # uvicorn re-raises Ctrl+C after its graceful shutdown; that is a normal exit here.
    with contextlib.suppress(KeyboardInterrupt):
        runner.serve(config, args.host, port, access_log=args.access_log, sock=sock)
    print("statdash simulator stopped", file=out, flush=True)
    return 0
