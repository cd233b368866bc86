"""`statdash sim`'s arguments."""

from __future__ import annotations

import argparse

ENV_API_KEY = "STATDASH_SIM_API_KEY"

ENV_CLIENT_SECRET = "STATDASH_SIM_CLIENT_SECRET"


def add_floor_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulated floor's size, seed and speed: `sim` and `demo` take the same ones."""
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `statdash sim` options to `parser`."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, loopback only)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any)")
    add_floor_arguments(parser)
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
