"""Builds a StatisticsClient from resolved ServerSettings (the one place that maps credentials)."""

from __future__ import annotations

from statdash.api.auth import AuthSource, ClientCredentials, PasswordGrant, StaticToken
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.errors import ConfigError
from statdash.api.settings import ServerSettings


def auth_source(settings: ServerSettings) -> AuthSource | None:
    """Where bearer tokens come from: a password grant, client credentials, a token, or none."""
    credentials = settings.credentials
    if credentials.username:
        if not (credentials.client_id and credentials.client_secret and credentials.password):
            raise ConfigError("the password grant needs --client-id and --client-secret too")
        return PasswordGrant(
            credentials.client_id,
            credentials.client_secret,
            credentials.username,
            credentials.password,
        )
    if credentials.client_id:
        if credentials.client_secret is None:
            raise ConfigError(f"no client secret given for client {credentials.client_id!r}")
        return ClientCredentials(credentials.client_id, credentials.client_secret)
    if credentials.token is not None:
        return StaticToken(credentials.token)
    return None


def make_client(settings: ServerSettings, *, retry: RetryPolicy | None = None) -> StatisticsClient:
    """A client for `settings`; with `retry`, it repeats calls that failed transiently."""
    api_key = settings.credentials.api_key
    if api_key is None:
        # Every request needs x-api-key; without one the gateway refuses everything with 403.
        raise ConfigError(
            "no API key given: set STATDASH_API_KEY, put api_key in the config file, "
            "or pass --api-key"
        )
    return StatisticsClient(
        settings.url,
        api_key,
        auth=auth_source(settings),
        retry=retry,
        verify=settings.verify,
    )
