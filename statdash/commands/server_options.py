"""Reading back the server flags (`statdash.commands.arguments.server` adds them).

What the flags mean, and how they combine with `STATDASH_*` and the config file, is
`statdash.api.settings`; this module is only the argparse side of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from statdash.api.errors import ConfigError
from statdash.api.settings import (
    SETTING_NAMES,
    ServerSettings,
    require_credentials,
    resolve_settings,
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
