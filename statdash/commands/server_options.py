"""Reading back the server flags (`statdash.commands.arguments.server` adds them).

What the flags mean, and how they combine with `STATDASH_*` and the config file, is
`statdash.api.settings`; this module is only the argparse side of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from statdash.api.errors import ConfigError
from statdash.api.settings import (
    HUB_SETTING_NAMES,
    SETTING_NAMES,
    Endpoint,
    HubSettings,
    ServerSettings,
    is_hub_url,
    require_credentials,
    resolve_hub_settings,
    resolve_settings,
    wants_hub,
)
from statdash.commands.voice import Refused, Voice


def resolve_server(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    *,
    voice: Voice,
    warn: bool = True,
    credentials: bool = True,
) -> ServerSettings:
    """The ServerSettings for parsed server flags (plus environment and config file).

    Refused when a setting is missing or unusable, and, with `credentials`, when there is no
    API key: so a command that talks to a server says what is missing before it prints
    anything else. `voice` says the config file's permission
    warning (with `warn`).
    """
    if is_hub_url(getattr(args, "url", None)):
        # This command talks to the Statistics API itself (check, peek, cleanup).
        raise Refused(
            f"{voice.command} needs the Statistics API's URL (https://...);"
            " a nats:// URL is a hub, which only run, demo, watch, snapshot and serve use"
        )
    try:
        settings = resolve_settings(
            {name: getattr(args, name, None) for name in SETTING_NAMES},
            environ,
            config_path=getattr(args, "config", None),
            allow_http=bool(getattr(args, "allow_http", False)),
            insecure=bool(getattr(args, "insecure", False)),
            warn=voice.say if warn else None,
        )
        if credentials:
            require_credentials(settings)
    except ConfigError as error:
        raise Refused(str(error)) from None
    return settings


def resolve_endpoint(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    *,
    voice: Voice,
    warn: bool = True,
) -> Endpoint:
    """The server settings, or the hub's when the URL is nats:// (or only a hub is set).

    For the commands that show live values (run, demo, watch, snapshot, serve): through a
    hub they need no API key, only the hub's NATS settings (`STATDASH_HUB_*`, [hub]).
    """
    config_path = getattr(args, "config", None)
    try:
        if not wants_hub({"url": getattr(args, "url", None)}, environ, config_path=config_path):
            return resolve_server(args, environ, voice=voice, warn=warn)
        return resolve_hub(args, environ, voice=voice, warn=warn, url=getattr(args, "url", None))
    except ConfigError as error:
        raise Refused(str(error)) from None


def resolve_hub(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    *,
    voice: Voice,
    warn: bool = True,
    url: str | None = None,
) -> HubSettings:
    """The hub's NATS settings: `url` (or `--nats`), then `STATDASH_HUB_*`, then [hub]."""
    flags = {name: getattr(args, f"hub_{name}", None) for name in HUB_SETTING_NAMES}
    flags["url"] = url or getattr(args, "nats", None)
    try:
        return resolve_hub_settings(
            flags,
            environ,
            config_path=getattr(args, "config", None),
            warn=voice.say if warn else None,
        )
    except ConfigError as error:
        raise Refused(str(error)) from None
