"""Where the client finds its server and credentials: flags, then environment, then config file.

Precedence is per setting: a flag beats `STATDASH_*` in the environment, which beats the
config file (`config.toml` in the platform's config directory, e.g.
`~/.config/statdash/config.toml`). The flags themselves are parsed in
`statdash.commands.server_options`; here they arrive as a plain mapping. Secrets are held in
pydantic's `SecretStr`, whose repr is masked, and are never part of any message this module
produces.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from pydantic import SecretStr

from statdash.api.config_path import default_config_path
from statdash.api.errors import ConfigError
from statdash.regular import NotRegularFile, open_regular, require_regular

ENV_PREFIX = "STATDASH_"
# The settings a flag, `STATDASH_<NAME>` or the config file's [server] table can give.
SETTING_NAMES = (
    "url",
    "api_key",
    "token",
    "client_id",
    "client_secret",
    "username",
    "password",
    "ca_bundle",
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Whatever the user gave to authenticate; every field optional."""

    api_key: SecretStr | None = None
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """A resolved server: URL, credentials, TLS choices."""

    url: str
    credentials: Credentials
    verify: bool | str = True
    """True, False (only with --insecure), or the path of a CA bundle."""
    insecure: bool = False

    @property
    def label(self) -> str:
        """The host (and port) for the status line: no scheme, path, user or password."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host


def resolve_settings(
    flags: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    *,
    config_path: Path | None = None,
    allow_http: bool = False,
    insecure: bool = False,
    warn: Callable[[str], None] | None = None,
) -> ServerSettings:
    """Merge flags, environment and config file into ServerSettings, or raise ConfigError.

    `flags` maps names of SETTING_NAMES to what the command line gave (missing, None or ""
    means not given). `config_path` is a file the user named, which must then exist;
    without it the default file is read when it is there. `warn`, when given, hears the
    warning about a config file holding secrets that other users can read (this module puts
    nothing on a terminal itself: the command says it, in its own voice).
    """
    env = os.environ if environ is None else environ
    path = config_path or default_config_path()
    file_settings = _read_config_file(path, explicit=config_path is not None)
    if warn is not None and _has_secrets(file_settings) and _readable_by_others(path):
        warn(f"warning: {path} holds secrets but other users can read it; run: chmod 600 {path}")

    def pick(name: str) -> str | None:
        flag = flags.get(name)
        if flag:
            return str(flag)
        from_env = env.get(ENV_PREFIX + name.upper())
        if from_env:
            return from_env
        return file_settings.get(name) or None

    def secret(name: str) -> SecretStr | None:
        value = pick(name)
        return SecretStr(value) if value else None

    url = pick("url")
    if url is None:
        raise ConfigError(
            "no server given: pass --url URL, set STATDASH_URL, or put url in "
            f"{path} (try `statdash demo` to run without a server)"
        )
    url = _check_url(url, allow_http=allow_http)
    credentials = Credentials(
        api_key=secret("api_key"),
        token=secret("token"),
        client_id=pick("client_id"),
        client_secret=secret("client_secret"),
        username=pick("username"),
        password=secret("password"),
    )
    if credentials.client_secret and not credentials.client_id:
        raise ConfigError("a client secret was given without a client id (--client-id)")
    if credentials.username and not credentials.password:
        raise ConfigError(f"no password given for user {credentials.username!r} (--password)")
    ca_bundle = pick("ca_bundle")
    verify: bool | str = True
    if insecure:
        verify = False
    elif ca_bundle:
        try:
            require_regular(ca_bundle)
        except FileNotFoundError:
            raise ConfigError(f"CA bundle not found: {ca_bundle}") from None
        except NotRegularFile as error:
            raise ConfigError(f"cannot load CA bundle {ca_bundle!r}: {error}") from None
        except OSError as error:
            raise ConfigError(
                f"cannot load CA bundle {ca_bundle!r}: {error.strerror or error}"
            ) from None
        verify = ca_bundle
    return ServerSettings(url=url, credentials=credentials, verify=verify, insecure=insecure)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_credentials(settings: ServerSettings) -> SecretStr:
    """The API key every request needs; ConfigError when `settings` have none.

    Called as settings are resolved for a command that talks to a server, so a missing key
    is the first thing the user reads, before any other output.
    """
    api_key = settings.credentials.api_key
    if api_key is None:
        # Without one the gateway refuses everything with 403.
        raise ConfigError(
            "no API key given: set STATDASH_API_KEY, put api_key in the config file, "
            "or pass --api-key"
        )
    return api_key


def _with_scheme(url: str) -> str:
    """`url` with its scheme; a bare loopback `host:port` (the simulator) means http://.

    A bare remote host is refused with what to type: guessing https:// could be wrong, and
    guessing http:// would send credentials in the clear.
    """
    if "://" in url:
        return url
    parts = urlsplit(f"http://{url}")
    if parts.hostname and is_loopback(parts.hostname):
        return f"http://{url}"
    if not parts.hostname:
        raise ConfigError(
            f"not a server URL: {_shown(parts)}; type e.g. https://gcxapi.example.com"
        )
    raise ConfigError(
        f"the server URL {_shown(parts)} has no scheme: type https://{_shown(parts)}"
        " (or http:// for a server without TLS)"
    )


def _shown(parts: SplitResult) -> str:
    """Host and port of a URL for a message: never a user or password it may carry."""
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _check_url(url: str, *, allow_http: bool) -> str:
    try:
        return _checked_url(url, allow_http=allow_http)
    except ValueError as error:
        # urlsplit's own complaint (an unclosed `[`, a port out of range); it names the
        # part it choked on, never a user or password.
        raise ConfigError(
            f"not a server URL ({error}); type e.g. https://gcxapi.example.com"
        ) from None


def _checked_url(url: str, *, allow_http: bool) -> str:
    url = _with_scheme(url.strip())
    parts = urlsplit(url)
    _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError here
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not a server URL: {parts.scheme or '?'}://{parts.hostname or '?'}")
    if parts.username or parts.password:
        # Credentials in a URL end up in logs and the status line; refuse them outright.
        raise ConfigError("the URL must not contain a user or password; use --api-key etc.")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_http:
        raise ConfigError(
            f"refusing to send credentials over plain http to {parts.hostname}: "
            "use https://, or --allow-http if you really mean it"
        )
    return url.rstrip("/")


def _read_config_file(path: Path, *, explicit: bool) -> dict[str, str]:
    try:
        descriptor = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config file not found: {path}") from None
        return {}
    except NotRegularFile as error:
        # A FIFO would block the start for ever; a directory or device is no config.
        raise ConfigError(f"{path}: cannot read config file: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror or error}") from None
    try:
        with open(descriptor, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config file: {error}") from None
    server = document.get("server", {})
    if not isinstance(server, dict):
        raise ConfigError(f"{path}: [server] must be a table")
    unknown = sorted(set(server) - set(SETTING_NAMES))
    if unknown:
        keys = "unknown key" if len(unknown) == 1 else "unknown keys"
        raise ConfigError(f"{path}: {keys} in [server]: {', '.join(unknown)}")
    for key, value in server.items():
        if not isinstance(value, str):
            # Every setting is text: `url = ["x"]` or `api_key = 12` must not become "['x']".
            raise ConfigError(
                f'{path}: [server] {key} must be text in quotes (key = "..."),'
                f" not {_toml_kind(value)}"
            )
    return dict(server)


def _toml_kind(value: object) -> str:
    """What a TOML value is, for a message: never the value itself (it may be a secret)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a date or time"


def _has_secrets(settings: Mapping[str, object]) -> bool:
    return any(settings.get(key) for key in ("api_key", "token", "client_secret", "password"))


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))
