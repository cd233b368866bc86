"""The `statdash sim` subcommand: arguments, friendly errors, and serving until Ctrl+C."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from typing import TextIO

from statdash.sim import runner
from statdash.sim.config import SimConfig
from statdash.sim.wire import API

ENV_API_KEY = "STATDASH_SIM_API_KEY"
ENV_CLIENT_SECRET = "STATDASH_SIM_CLIENT_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `statdash sim` options to `parser`."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, loopback only)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any)")
    parser.add_argument("--agents", type=int, default=50, help="number of agents (default 50)")
    parser.add_argument("--queues", type=int, default=5, help="number of queues (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="simulated seconds per real second (default 1)",
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="freeze time; move it with POST /simulator/advance",
    )
    parser.add_argument(
        "--clock-skew",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the server's clock runs this far ahead of the real one (negative: behind)",
    )
    parser.add_argument(
        "--start-time",
        type=float,
        default=None,
        metavar="EPOCH",
        help="simulated start, epoch seconds (default: now)",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="simulated seconds the floor runs before serving (default 0: a shift just begun)",
    )
    parser.add_argument(
        "--calls-per-hour",
        type=float,
        default=None,
        metavar="N",
        help="calls offered to each queue per hour (default: tuned to staffing)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help=f"accept only this x-api-key (or set {ENV_API_KEY}; default: any non-empty key)",
    )
    parser.add_argument(
        "--client-id",
        default=None,
        metavar="ID",
        help="require bearer tokens issued to this OAuth client",
    )
    parser.add_argument(
        "--client-secret",
        default=None,
        metavar="SECRET",
        help=f"secret of --client-id (or set {ENV_CLIENT_SECRET})",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="'TENANT\\name:password'",
        help="a user for the password grant (repeatable)",
    )
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="access token lifetime (default 3600)",
    )
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="serve hostile reason codes and error messages (security tests)",
    )
    parser.add_argument(
        "--numeric-states",
        action="store_true",
        help="serve agent status as Stat Server numbers and Not-ready reasons as codes",
    )
    parser.add_argument(
        "--notification-hold",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="hold an idle CometD connect this long (default 20, like real servers)",
    )
    parser.add_argument(
        "--notification-expiry",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="forget a CometD client silent this long between connects (default 60)",
    )
    parser.add_argument(
        "--time-driven-frequency",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="push durations and other time-driven statistics this often (default 5)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")


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
