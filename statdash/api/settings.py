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
import re
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
# The hub's NATS connection (`statdash hub --nats`, and clients given a nats:// URL): flags,
# `STATDASH_HUB_*` in the environment, or the config file's [hub] table.
HUB_ENV_PREFIX = "STATDASH_HUB_"
HUB_SETTING_NAMES = ("url", "token", "user", "password", "creds", "ca_bundle", "namespace")
HUB_SCHEMES = ("nats", "tls")
DEFAULT_HUB_NAMESPACE = "main"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Whatever the user gave to authenticate; every field optional."""

    api_key: SecretStr | None = None
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None


def host_label(url: str) -> str:
    """The host (and port) of a checked URL: no scheme, path, user or password."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


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
        return host_label(self.url)


@dataclass(frozen=True, slots=True)
class HubSettings:
    """A resolved NATS connection to a hub: URL, credentials, TLS, the hub's namespace."""

    url: str
    token: SecretStr | None = None
    user: str | None = None
    password: SecretStr | None = None
    creds: str | None = None
    """The path of a NATS credentials file (JWT and seed)."""
    ca_bundle: str | None = None
    namespace: str = DEFAULT_HUB_NAMESPACE

    @property
    def label(self) -> str:
        """`hub host:port` for the status line: no scheme, user or password."""
        return f"hub {host_label(self.url)}"


Endpoint = ServerSettings | HubSettings
"""What the user pointed a command at: a Statistics API, or a hub."""


def is_hub_url(url: str | None) -> bool:
    """True for a NATS URL (nats:// or tls://): values then come through a hub."""
    if not url:
        return False
    try:
        return urlsplit(str(url).strip()).scheme.lower() in HUB_SCHEMES
    except ValueError:
        return False  # not a URL at all: the server's settings say what is wrong with it


def wants_hub(
    flags: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    *,
    config_path: Path | None = None,
) -> bool:
    """True when a client should get its values through a hub.

    So it does when the server URL it would use (flag, then environment, then [server] in
    the config file) is a NATS URL, or when no server URL is given at all and a hub is
    configured (`STATDASH_HUB_URL` or [hub] url).
    """
    env = os.environ if environ is None else environ
    path = config_path or default_config_path()
    url = flags.get("url") or env.get(ENV_PREFIX + "URL")
    if not url:
        url = _read_config_file(path, explicit=config_path is not None).get("url")
    if url:
        return is_hub_url(str(url))
    hub = env.get(HUB_ENV_PREFIX + "URL") or _read_config_file(
        path, explicit=config_path is not None, table="hub"
    ).get("url")
    return bool(hub)


def resolve_hub_settings(
    flags: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    *,
    config_path: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> HubSettings:
    """The hub's NATS settings from flags, `STATDASH_HUB_*` and [hub], or ConfigError.

    `flags` maps names of HUB_SETTING_NAMES to what the command line gave; a nats:// server
    URL given as `--url` (or STATDASH_URL, or [server] url) counts as the hub's URL. Secrets
    (token, password) are never part of a message; a URL carrying a user or password is
    refused, as for the API.
    """
    env = os.environ if environ is None else environ
    path = config_path or default_config_path()
    pick = _picker(flags, env, HUB_ENV_PREFIX, _table(path, config_path, "hub", warn))

    url = pick("url")
    if url is None:
        server_url = env.get(ENV_PREFIX + "URL") or _read_config_file(
            path, explicit=config_path is not None
        ).get("url")
        url = server_url if is_hub_url(server_url) else None
    if url is None:
        raise ConfigError(
            "no hub given: pass --nats nats://HOST:4222, set STATDASH_HUB_URL, "
            f"or put url in the [hub] table of {path}"
        )
    url = _check_hub_url(url)
    password = pick("password")
    user = pick("user")
    if user and not password:
        raise ConfigError(f"no hub password given for user {user!r} (STATDASH_HUB_PASSWORD)")
    creds = pick("creds")
    ca_bundle = pick("ca_bundle")
    for what, file in (("NATS credentials file", creds), ("CA bundle", ca_bundle)):
        if file is None:
            continue
        try:
            require_regular(file)
        except FileNotFoundError:
            raise ConfigError(f"{what} not found: {file}") from None
        except (NotRegularFile, OSError) as error:
            raise ConfigError(f"cannot load {what} {file!r}: {error}") from None
    namespace = pick("namespace") or DEFAULT_HUB_NAMESPACE
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", namespace):
        raise ConfigError("the hub namespace must be 1-64 letters, digits, '-' or '_'")
    token = pick("token")
    return HubSettings(
        url=url,
        token=SecretStr(token) if token else None,
        user=user,
        password=SecretStr(password) if password else None,
        creds=creds,
        ca_bundle=ca_bundle,
        namespace=namespace,
    )


def _check_hub_url(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = f"nats://{url}"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as error:
        raise ConfigError(f"not a NATS URL ({error}); type e.g. nats://127.0.0.1:4222") from None
    if parts.scheme.lower() not in HUB_SCHEMES or not parts.hostname:
        raise ConfigError(
            f"not a NATS URL: {parts.scheme or '?'}://{parts.hostname or '?'}; "
            "type e.g. nats://127.0.0.1:4222 (tls:// for TLS)"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "the NATS URL must not contain a user, password or token; "
            "use STATDASH_HUB_TOKEN, STATDASH_HUB_USER and STATDASH_HUB_PASSWORD"
        )
    return url.rstrip("/")


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
    pick = _picker(flags, env, ENV_PREFIX, _table(path, config_path, "server", warn))

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


def _table(
    path: Path, named: Path | None, table: str, warn: Callable[[str], None] | None
) -> dict[str, str]:
    """A table of the config file at `path` (`named`: the one the user named, which must
    exist); `warn` hears that the file holds secrets others can read."""
    settings = _read_config_file(path, explicit=named is not None, table=table)
    if warn is not None and _has_secrets(settings) and _readable_by_others(path):
        warn(f"warning: {path} holds secrets but other users can read it; run: chmod 600 {path}")
    return settings


def _picker(
    flags: Mapping[str, object], env: Mapping[str, str], prefix: str, table: Mapping[str, str]
) -> Callable[[str], str | None]:
    """A setting by name: the flag, else `prefix + NAME` in the environment, else the file's
    table; None when none gives it (missing, None or "" count as not given)."""

    def pick(name: str) -> str | None:
        flag = flags.get(name)
        if flag:
            return str(flag)
        return env.get(prefix + name.upper()) or table.get(name) or None

    return pick


def _read_config_file(path: Path, *, explicit: bool, table: str = "server") -> dict[str, str]:
    """The [server] (or [hub]) table of the config file; {} when there is no file."""
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
    server = document.get(table, {})
    if not isinstance(server, dict):
        raise ConfigError(f"{path}: [{table}] must be a table")
    names = HUB_SETTING_NAMES if table == "hub" else SETTING_NAMES
    unknown = sorted(set(server) - set(names))
    if unknown:
        keys = "unknown key" if len(unknown) == 1 else "unknown keys"
        raise ConfigError(f"{path}: {keys} in [{table}]: {', '.join(unknown)}")
    for key, value in server.items():
        if not isinstance(value, str):
            # Every setting is text: `url = ["x"]` or `api_key = 12` must not become "['x']".
            raise ConfigError(
                f'{path}: [{table}] {key} must be text in quotes (key = "..."),'
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
