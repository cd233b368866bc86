"""Where a dashboard's values come from: the Statistics API directly, or a hub over NATS.

Every command that shows live values (`run`, `demo`, `watch`, `snapshot`, `serve`) opens its
source here, so a nats:// URL means the hub for all of them alike. A direct source is a
`StatisticsClient` and its CometD channel, and its subscriptions are written down for
`statdash cleanup`; a hub source is a `HubClient` and its NATS channel, and keeps no records
(the hub holds the upstream subscriptions and cleans up after itself). NATS is imported only
for a hub source, so a plain install without the hub extra runs everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from statdash.api.connect import make_client
from statdash.api.errors import ConfigError
from statdash.api.push import PushChannel
from statdash.api.settings import Endpoint, HubSettings
from statdash.live.push_feed import ChannelFactory
from statdash.live.session import ServedClient


class SourceClient(ServedClient, Protocol):
    """What a command needs of a source's client: a live session's, and a way to close it."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Source:
    """A source's client, its push channel, and whether its subscriptions go on record."""

    client: SourceClient
    open_channel: ChannelFactory
    keeps_records: bool
    through_hub: bool


def open_source(endpoint: Endpoint, *, name: str = "statdash") -> Source:
    """The source for `endpoint`; ConfigError when its settings cannot be used.

    `name` is how a hub's NATS server lists this connection (`statdash run`, ...).
    """
    if isinstance(endpoint, HubSettings):
        try:
            # why here: NATS is the hub extra's; a direct source never imports it.
            from statdash.hub.client import HubChannel, HubClient, HubLink
        except ImportError:
            raise ConfigError(
                'a nats:// URL needs the hub extra: pip install "statdash[hub]"'
            ) from None
        link = HubLink(endpoint, name=name)
        return Source(HubClient(link), lambda: HubChannel(link), False, True)
    client = make_client(endpoint)
    return Source(client, lambda: PushChannel(client), True, False)
