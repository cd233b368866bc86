"""The server flags every command that talks to a server accepts (reading them back is
`statdash.commands.server_options`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from statdash.api.config_path import default_config_path

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
