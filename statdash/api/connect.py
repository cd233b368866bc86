"""Builds a StatisticsClient from resolved ServerSettings (the one place that maps credentials)."""

from __future__ import annotations

from statdash.api.auth import AuthSource, ClientCredentials, PasswordGrant, StaticToken
from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.api.errors import ConfigError
from statdash.api.settings import ServerSettings, require_credentials


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
    return StatisticsClient(
        settings.url,
        require_credentials(settings),
        auth=auth_source(settings),
        retry=retry,
        verify=settings.verify,
    )
