"""The server flags every command that talks to a server accepts, and reading them back.

What the flags mean, and how they combine with `STATDASH_*` and the config file, is
`statdash.api.settings`; this module is only the argparse side of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from statdash.api.errors import ConfigError
from statdash.api.settings import (
    SETTING_NAMES,
    ServerSettings,
    default_config_path,
    require_credentials,
    resolve_settings,
)
from statdash.commands.voice import Refused, Voice

SECRET_WARNING = "visible to other users in the process list; prefer the environment or config"


def add_server_arguments(parser: argparse.ArgumentParser, *, url_required: bool = True) -> None:
    """The flags every command that talks to a server accepts."""
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url",
        help="server base URL, e.g. https://gcxapi.example.com (env STATDASH_URL)"
        + ("" if url_required else "; optional"),
    )
    group.add_argument("--api-key", help=f"API key (env STATDASH_API_KEY); {SECRET_WARNING}")
    group.add_argument("--token", help=f"bearer token (env STATDASH_TOKEN); {SECRET_WARNING}")
    group.add_argument("--client-id", help="OAuth client id (env STATDASH_CLIENT_ID)")
    group.add_argument(
        "--client-secret",
        help=f"OAuth client secret (env STATDASH_CLIENT_SECRET); {SECRET_WARNING}",
    )
    group.add_argument(
        "--username",
        help="user for the OAuth password grant, as TENANT\\user (env STATDASH_USERNAME)",
    )
    group.add_argument(
        "--password",
        help=f"password for the password grant (env STATDASH_PASSWORD); {SECRET_WARNING}",
    )
    group.add_argument("--ca-bundle", help="a CA bundle file to verify the server's certificate")
    group.add_argument(
        "--insecure",
        action="store_true",
        help="do NOT verify the server's TLS certificate (a warning stays on screen)",
    )
    group.add_argument(
        "--allow-http",
        action="store_true",
        help="allow sending credentials over plain http:// to a host other than loopback",
    )
    group.add_argument(
        "--config", type=Path, help=f"config file (default: {default_config_path()})"
    )


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
