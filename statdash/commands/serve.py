"""`statdash serve LAYOUT`: the dashboard in web browsers, one `statdash run` process per viewer.

Everything is checked before the server binds: the address, the server settings (credentials
included), and each viewer's command line, by `run`'s own parser and checks (the layout, the
theme, --updates...): what a viewer's `run` would refuse, serve refuses, in one line, exit 2.
Each viewer's dashboard is `statdash run` under
Textual's web driver; the server's credentials reach it through its environment (a child's
command line is visible to every user in `ps`), and the browser gets only the drawn screen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from statdash.api.connect import make_client
from statdash.api.errors import ConfigError
from statdash.api.settings import (
    ENV_PREFIX,
    HUB_ENV_PREFIX,
    Endpoint,
    HubSettings,
    ServerSettings,
    is_loopback,
)
from statdash.commands import run as run_command
from statdash.commands.alert_options import (
    check_alert_webhooks,
    open_alert_log,
)
from statdash.commands.alert_session import AlertSession
from statdash.commands.run import Prepared
from statdash.commands.server_options import resolve_endpoint
from statdash.commands.voice import Refused, Voice
from statdash.layout.views import CompiledLayout
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.subscriptions.leftovers import delete_recorded, entry_label
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.text import clean

if TYPE_CHECKING:
    from statdash.web.front import WebFront

# aiohttp and textual-serve (~150 ms) load only once everything is known to be good.

VOICE = Voice("serve")
# `run` options a viewer's dashboard is given when serve is (checked by run's own parser).
FORWARDED_SWITCHES = ("kiosk",)
FORWARDED_VALUES = ("theme", "updates")


def run(args: argparse.Namespace) -> int:
    """Check everything, then serve until Ctrl+C (or SIGTERM / SIGHUP)."""
    problem = address_problem(args.host, args.port, allow_remote=args.allow_remote)
    if problem is None and args.max_viewers < 1:
        problem = "--max-viewers must be at least 1"
    if problem is not None:
        raise Refused(problem)
    settings = resolve_endpoint(args, voice=VOICE)
    argv = viewer_argv(args, settings)
    environment = viewer_environment(settings, os.environ)
    layout = check_viewer(argv, environment).layout
    check_alert_webhooks(args, layout)
    alert_log = open_alert_log(args, layout, VOICE)
    try:
        return _serve_checked(args, settings, layout, argv, environment, alert_log)
    finally:
        if alert_log is not None:
            alert_log.close()


def _serve_checked(
    args: argparse.Namespace,
    settings: Endpoint,
    layout: CompiledLayout,
    argv: list[str],
    environment: dict[str, str],
    alert_log: AlertLog | None,
) -> int:
    # why here: the web stack loads once everything is known to be good (see the top).
    from statdash.web.front import ViewerCommand, WebFront, new_access_key

    access_key = new_access_key()
    front = WebFront(
        ViewerCommand(argv, environment),
        access_key=access_key,
        max_viewers=args.max_viewers,
        title=layout.title,
        say=VOICE.say,
        # A dashboard killed before it deleted its subscription: serve deletes it.
        leftovers=(
            (
                lambda pid, timeout: delete_leftovers(
                    pid, settings, SubscriptionRecords(), timeout=timeout
                )
            )
            if isinstance(settings, ServerSettings)
            # Through a hub a viewer holds a lease, not a subscription: the hub lets it lapse.
            else None
        ),
    )
    # The layout's alert rules run here, once for every viewer (and with none): each viewer's
    # dashboard only shows alerts (`run --alert-actions screen`).
    alerts = (
        AlertSession(
            layout,
            settings,
            # No screen here: the `log` action is a line on stderr; bells and banners are
            # for the viewers' screens, commands run here.
            actions=AlertActions(terminal=None, say=VOICE.say),
            log=alert_log,
            records=SubscriptionRecords(),
            updates=args.updates,
            voice=VOICE,
        )
        if layout.alerts
        else None
    )
    try:
        return asyncio.run(
            serve(
                front,
                args.host,
                args.port,
                on_listening=lambda port: announce(args, layout.title, port, access_key),
                alerts=alerts,
            )
        )
    except OSError as error:
        # aiohttp wraps the bind error in a sentence of its own; the errno says it plainly.
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise Refused(f"cannot listen on {args.host}:{args.port}: {reason}") from None


async def delete_leftovers(
    pid: int, settings: ServerSettings, records: SubscriptionRecords, *, timeout: float
) -> list[str]:
    """Delete what the ended viewer dashboard `pid` recorded as open and did not delete (it
    was killed); returns a line for each (deleted, or why not). Nothing recorded: no request.
    Each delete waits at most `timeout` seconds; signing in is bounded by the caller."""
    async with make_client(settings) as client:
        left = [entry for entry in records.left_behind(client.server) if entry.pid == pid]
        if not left:
            return []
        # Each failure (no answer, credentials refused) is kept in the tally, with the reason.
        tally = await delete_recorded(client, records, left, timeout=timeout)
    lines = [f"deleted its subscription {entry_label(entry)}" for entry in tally.deleted]
    lines += [f"forgot {entry_label(entry)}: {clean(why, 300)}" for entry, why in tally.forgotten]
    lines += [
        f"could not delete {entry_label(entry)} ({clean(why, 300)}); "
        "it stays recorded for `statdash cleanup`"
        for entry, why in tally.kept
    ]
    return lines


def address_problem(host: str, port: int, *, allow_remote: bool) -> str | None:
    """Why serve must not listen on `host:port`, or None when it may."""
    if not 0 <= port <= 65535:
        return f"--port {port} is not a port (0-65535)"
    if not is_loopback(host) and not allow_remote:
        return (
            f"refusing to listen on {host}, which other machines can reach: anyone with the "
            "URL sees the dashboard. Add --allow-remote, and put TLS in front (docs/serve.md)"
        )
    return None


def viewer_argv(args: argparse.Namespace, settings: Endpoint) -> list[str]:
    """The command line of one viewer's `statdash run`: nothing secret on it."""
    argv = [sys.executable, "-m", "statdash", "run", str(args.layout.resolve())]
    argv += ["--url", settings.url]
    for name in FORWARDED_SWITCHES:
        if getattr(args, name, False):
            argv.append(_flag(name))
    for name in FORWARDED_VALUES:
        value = getattr(args, name, None)
        if value is not None:
            argv += [_flag(name), str(value)]
    if isinstance(settings, ServerSettings) and settings.insecure:
        argv.append("--insecure")
    if getattr(args, "allow_http", False):
        argv.append("--allow-http")
    if getattr(args, "config", None) is not None:
        argv += ["--config", str(Path(args.config).resolve())]
    # Alerts show on each viewer's screen; their commands and log are serve's own, once.
    argv += ["--alert-actions", "screen"]
    return argv


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_viewer(argv: Sequence[str], environment: Mapping[str, str]) -> Prepared:
    """What a viewer started with `argv` in `environment` will check, checked now, by `run`'s
    own parser and checks; Refused with why it would not start.

    So a bad option is refused before anything listens, not in each browser as
    "Application failed to start".
    """
    words = list(argv[argv.index("run") + 1 :])
    try:
        viewer_args = run_command.parse_run_args(words)
    except run_command.RunUsageError as error:
        raise Refused(
            f"{error} (as every viewer's `statdash run` would say); nothing was started"
        ) from None
    # The config file's permission warning was said once already, for serve itself.
    prepared = run_command.prepare(viewer_args, VOICE, environment, warn=False)
    problem = client_problem(prepared.settings)
    if problem is not None:
        raise Refused(problem)
    return prepared


def client_problem(settings: Endpoint) -> str | None:
    """Why no client can be made for `settings`, or None: what `run` (and serve's own alert
    session) would refuse only when it builds one, e.g. a CA bundle with no certificate."""
    if isinstance(settings, HubSettings):
        return None  # a hub's client is made without a word from NATS; it retries
    try:
        client = make_client(settings)
    except ConfigError as error:
        return str(error)
    asyncio.run(client.aclose())
    return None


def viewer_environment(settings: Endpoint, base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus every resolved server setting as `STATDASH_*`, secrets included.

    A flag given to `serve` (say `--api-key`) reaches each viewer this way, in its
    environment, which only the same user can read. Through a hub, the hub's settings as
    `STATDASH_HUB_*`.
    """
    environment = dict(base)
    if isinstance(settings, HubSettings):
        hub: dict[str, str | None] = {
            "url": settings.url,
            "token": _reveal(settings.token),
            "user": settings.user,
            "password": _reveal(settings.password),
            "creds": settings.creds,
            "ca_bundle": settings.ca_bundle,
            "namespace": settings.namespace,
        }
        for name, value in hub.items():
            if value:
                environment[HUB_ENV_PREFIX + name.upper()] = value
        return environment
    credentials = settings.credentials
    values: dict[str, str | None] = {
        "url": settings.url,
        "api_key": _reveal(credentials.api_key),
        "token": _reveal(credentials.token),
        "client_id": credentials.client_id,
        "client_secret": _reveal(credentials.client_secret),
        "username": credentials.username,
        "password": _reveal(credentials.password),
        "ca_bundle": settings.verify if isinstance(settings.verify, str) else None,
    }
    for name, value in values.items():
        if value:
            environment[ENV_PREFIX + name.upper()] = value
    return environment


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def viewer_url(host: str, port: int, access_key: str) -> str:
    """The one URL to open: this server's page with its access key."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={access_key}"


def plain_http_warning(host: str) -> str | None:
    """What to say when other machines reach serve over plain HTTP (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host} over plain HTTP: the page, the screen and the access "
        "key travel in the clear, readable by anyone on the network path; put TLS in front "
        '(docs/serve.md, "TLS through a reverse proxy")'
    )


def announce(args: argparse.Namespace, title: str, port: int, access_key: str) -> None:
    """Say what is served where (and that it is plain HTTP when others can reach it), then
    print the URL alone on stdout (scripts read it there)."""
    VOICE.say(
        f"serving {args.layout} ({title}) to at most {args.max_viewers} browsers on "
        f"{args.host}:{port}; the URL below carries the access key: share it like a password"
    )
    warning = plain_http_warning(args.host)
    if warning is not None:
        VOICE.say(warning)
    print(viewer_url(args.host, port, access_key), flush=True)


async def serve(
    front: WebFront,
    host: str,
    port: int,
    *,
    on_listening: Callable[[int], None],
    alerts: AlertSession | None = None,
) -> int:
    """Listen on `host:port` until SIGINT, SIGTERM or SIGHUP (unless ignored); then stop
    every viewer.

    `alerts` runs from the moment serve listens until it stops, whatever the number of
    viewers; its subscription is deleted on every way out (after the viewers' dashboards).
    """
    from aiohttp import web

    runner = web.AppRunner(front.application(), handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    wanted = [signal.SIGINT, signal.SIGTERM]
    # Under nohup SIGHUP is ignored on purpose: a closed terminal must not stop the server.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        wanted.append(signal.SIGHUP)
    for signum in wanted:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    watching: asyncio.Task[int] | None = None
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        if alerts is not None:
            watching = loop.create_task(alerts.run(stop))
            # Rules that stopped on their own (a bug) must not go unnoticed: serve stops too.
            watching.add_done_callback(lambda _: stop.set())
        bound = runner.addresses[0][1] if runner.addresses else port
        on_listening(int(bound))
        await stop.wait()
        VOICE.say("stopping: every viewer's dashboard quits and deletes its subscription")
    finally:
        stop.set()
        try:
            await runner.cleanup()
        finally:
            if watching is not None:
                # Its own `finally` deletes serve's subscription; shielded so that a second
                # Ctrl+C during the stop cannot cut the delete short.
                await asyncio.shield(watching)
    return 0
