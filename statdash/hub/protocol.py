"""The hub's wire on NATS: subjects, the messages on them, and the keys that name statistics.

Every subject is built here and nowhere else. No text of a server or a layout ever becomes
part of a subject: statistics and objects are named by keys, hashes of their definition, so
an object id with dots, spaces, `*` or `>` cannot reach a wildcard or another client's
subject. The namespace (one per hub) is checked to be a plain token.

Subjects, under `statdash.<namespace>.`:
- `declare` (request/reply): a client declares its statistics under a lease; the reply
  carries the key of each and their current values (the client's first frame).
- `peek` (request/reply): the current values of a lease's statistics (reconciliation).
- `release` (request/reply): the client is done; the hub forgets the lease.
- `renew` (publish): the leases a client still holds; a lease not renewed lapses.
- `status` (publish, by the hub, every second): which hub, how its upstream is doing.
- `values.<object key>` (publish, by the hub): changed values of one object's statistics.

Messages are msgpack (msgspec): compact, and decoded into typed structs, so a malformed or
hostile message is one `HubProtocolError`, never an exception from deep inside.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Final, TypeVar

import msgspec

from statdash.api.models import SubscriptionItem

PROTOCOL_VERSION: Final = 1
DEFAULT_NAMESPACE: Final = "main"
ROOT: Final = "statdash"
# A lease is renewed every third of its life, so two lost renewals do not lapse it.
DEFAULT_LEASE_SECONDS: Final = 30.0
# The hub says how it is every second; a client that hears nothing for this long has lost it.
STATUS_EVERY: Final = 1.0
# A layout's statistics are declared this many at a time, and a lease's values peeked this
# many at a time: every message stays far below NATS's default max_payload (1 MB) whatever
# the layout's size (floor.yaml's 10,380 statistics in one declare were ~1.3 MB).
DECLARE_PART: Final = 1000
PEEK_PAGE: Final = 2000
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class HubProtocolError(Exception):
    """A message on the hub's subjects could not be read (malformed, hostile, other version)."""


def check_namespace(namespace: str) -> str:
    """`namespace` when it is one plain subject token; else ValueError saying what is allowed."""
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(
            "a hub namespace is 1-64 letters, digits, '-' or '_' (it becomes a NATS subject token)"
        )
    return namespace


class Subjects:
    """The subjects of one hub namespace."""

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        base = f"{ROOT}.{check_namespace(namespace)}"
        self.namespace = namespace
        self.declare = f"{base}.declare"
        self.peek = f"{base}.peek"
        self.release = f"{base}.release"
        self.renew = f"{base}.renew"
        self.status = f"{base}.status"
        self._values = f"{base}.values."

    def values(self, object_key: str) -> str:
        """The subject of one object's changed values (`object_key` from `object_key()`)."""
        return self._values + object_key


def wire_item(item: SubscriptionItem) -> dict[str, Any]:
    """A subscription item as a declare carries it: its wire (camelCase) fields, no nulls."""
    return item.model_dump(by_alias=True, exclude_none=True, warnings=False)


def definition_key(item: dict[str, Any]) -> str:
    """The key of a statistic by its definition: the same for every client that asks for it.

    `item` is the wire form of a subscription item (`wire_item`); the client's own
    `statisticId` is not part of the definition. Name, object, object type, and the whole
    ad-hoc definition (notification settings included) are.
    """
    definition = {key: value for key, value in item.items() if key != "statisticId"}
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def object_key(object_type: str, object_id: str) -> str:
    """The key of an object (its subject token): hex, whatever characters the id holds."""
    named = f"{object_type}\x00{object_id}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(named).hexdigest()[:24]


# --- messages ---------------------------------------------------------------------------


class Values(msgspec.Struct, array_like=True, gc=False):
    """Values of statistics by key, index-aligned columns (raw wire values and timestamps)."""

    keys: list[str] = msgspec.field(default_factory=list)
    values: list[Any] = msgspec.field(default_factory=list)
    timestamps: list[Any] = msgspec.field(default_factory=list)


class Declare(msgspec.Struct, gc=False):
    """A client's statistics under its lease: the hub opens upstream what it lacks.

    A layout larger than DECLARE_PART statistics is declared in parts: part 0 sets what the
    lease holds (a re-declare replaces it), each later part adds to it.
    """

    lease: str
    items: list[dict[str, Any]]
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    part: int = 0
    version: int = PROTOCOL_VERSION


class ItemRefusal(msgspec.Struct, gc=False):
    """A statistic the upstream server refused (`index` into the declared items)."""

    index: int
    code: int | None
    message: str


class DeclareReply(msgspec.Struct, gc=False):
    """What a declare gets: the key and object key of each item, their values, refusals.

    `error` set means the declare failed as a whole (`code` says how, as an HTTP status
    would: 400 a bad declare, 503 the upstream cannot be reached now, 413 too large).
    """

    hub: str = ""
    keys: list[str] = msgspec.field(default_factory=list)
    objects: list[str] = msgspec.field(default_factory=list)
    values: Values = msgspec.field(default_factory=Values)
    refused: list[ItemRefusal] = msgspec.field(default_factory=list)
    error: str | None = None
    code: int | None = None


class LeaseRequest(msgspec.Struct, gc=False):
    """A peek or a release of one lease; a peek reads the lease's statistics from `offset`,
    at most PEEK_PAGE of them."""

    lease: str
    offset: int = 0
    version: int = PROTOCOL_VERSION


class PeekReply(msgspec.Struct, gc=False):
    """The current values of a page of a lease's statistics; `next` is where the next page
    starts (a client reads on while it is less than `total`, how many the lease holds);
    `code` 404 when the hub has no such lease."""

    hub: str = ""
    values: Values = msgspec.field(default_factory=Values)
    next: int = 0
    total: int = 0
    error: str | None = None
    code: int | None = None


class ReleaseReply(msgspec.Struct, gc=False):
    """A release done (also for a lease the hub did not know: nothing is left either way)."""

    hub: str = ""
    released: bool = True


class Renew(msgspec.Struct, gc=False):
    """The leases a client still holds."""

    leases: list[str]
    version: int = PROTOCOL_VERSION


class Status(msgspec.Struct, gc=False):
    """The hub's heartbeat: which hub (a new id after a restart) and how its upstream is.

    `upstream` is how values reach the hub, in the status line's words ("push", "poll",
    "push lost: polling", ...), or "lost" when the upstream server cannot be reached;
    `available` is False while the hub cannot vouch for its values (then a client's widgets
    go stale, as with a failed poll). `interval` is the hub's refresh interval in seconds.
    """

    hub: str
    upstream: str
    available: bool
    interval: float
    statistics: int = 0
    clients: int = 0
    version: int = PROTOCOL_VERSION


class Changes(msgspec.Struct, gc=False):
    """Changed values of one object's statistics (on `values.<object key>`)."""

    hub: str
    values: Values


_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}
M = TypeVar("M")


def encode(message: msgspec.Struct) -> bytes:
    """The bytes of `message` on the wire."""
    return _encoder.encode(message)


def decode(data: bytes, kind: type[M]) -> M:
    """`data` read as a `kind`; HubProtocolError when it is not one (never anything else)."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    try:
        message = decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise HubProtocolError(f"unreadable {kind.__name__} message: {error}") from None
    version = getattr(message, "version", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise HubProtocolError(
            f"{kind.__name__} of hub protocol {version}; this statdash speaks {PROTOCOL_VERSION}"
        )
    return message  # type: ignore[no-any-return]
