"""Turns the bytes of a Statistics API answer into a typed result or a typed error; no I/O.

The rules live here once, for every operation:
- a 2xx body must be a JSON envelope with a `status`; anything else is a `ShapeError`;
- `status.code` 0 or 1 is success; any other code *with usable data* is a partial success
  (the result carries the per-item errors); any other code without usable data is an
  `EnvelopeError`;
- a non-2xx answer becomes the `HTTPStatusError` subclass for its status, carrying the
  envelope's code and message, or the message of a plain (non-envelope) error body.
Nothing but `StatisticsError` subclasses ever leaves this module, whatever the bytes.

Speed matters for peeks (50,000 statistics is ~12-16 MB, and a big floor is read every second).
A peek or subscribe answer whose statistics have exactly the verbose=OFF shape (`statisticId`,
`timestamp`, `value`; what statdash always asks for) is decoded in one pass by msgspec into
typed structs: the JSON parse and the shape check of every item happen in C, and the structs
are not tracked by the cyclic garbage collector. On 10,000 statistics the whole parse, columns
included, takes about half the time of `json.loads` alone (11-13 ms against 22 ms and more:
`benchmarks/peek_parse.py`). Anything else (a verbose=INFO answer, an unknown field, a wrong
type, a body msgspec refuses) takes the general path: pydantic-core's JSON parser, then an
item-by-item check for the plain shape. Either way the statistics are kept as three columns
(ids, values, timestamps): `StatisticValues` builds a pydantic model per statistic only when
one is asked for, because building 10,000 of them per poll cost more than parsing the JSON.
Anything unusual in the list (a missing id, a wrong type, a field spelled by its Python name)
is validated by the `TypeAdapter` instead, so what is accepted, and every error message, is the
model's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, overload

import msgspec
import pydantic_core
from pydantic import TypeAdapter, ValidationError

from statdash.api import models
from statdash.api.errors import (
    EnvelopeError,
    HTTPStatusError,
    ShapeError,
    clip,
    error_for_status,
)

Scrub = Callable[[str], str]

_STATISTICS: TypeAdapter[list[models.StatisticValue]] = TypeAdapter(list[models.StatisticValue])
_PEEKED: TypeAdapter[list[models.PeekedStatisticValue]] = TypeAdapter(
    list[models.PeekedStatisticValue]
)
_ERRORS: TypeAdapter[list[models.ErrorResponse]] = TypeAdapter(list[models.ErrorResponse])


class _PlainStatistic(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A statistic of exactly the verbose=OFF shape; any other key sends the body the long way."""

    statisticId: str  # camelCase: the field names are the wire's keys
    timestamp: int | float | None = None
    value: Any = None


class _PlainData(msgspec.Struct, gc=False):
    """`data` of a peek or subscribe answer; its other keys are ignored, as the model does."""

    statistics: list[_PlainStatistic] | None = None
    subscriptionId: Any = None
    operationId: Any = None


class _PlainEnvelope(msgspec.Struct, gc=False):
    """A peek or subscribe answer whose statistics all have the plain shape."""

    status: Any
    errors: Any = None
    data: _PlainData | None = None


_PLAIN_DECODER = msgspec.json.Decoder(_PlainEnvelope)


def _keep(text: str) -> str:
    return text


# --- Results --------------------------------------------------------------------------------


class StatisticValues(Sequence[models.StatisticValue]):
    """The statistics of a subscribe or peek answer; each model is built when first asked for.

    `columns()` gives (statisticIds, values, timestamps) straight from the checked JSON, which
    is all the live store needs; indexing or iterating builds `StatisticValue` models equal to
    the ones validating the whole list would have built, and keeps them. Items of exactly the
    verbose=OFF shape are not kept (the columns hold all of them), so their JSON objects are
    freed as soon as parsing ends instead of living on through the poll.
    """

    __slots__ = ("_items", "_models", "_stamps", "_statistic_ids", "_values")

    __hash__: ClassVar[None]  # type: ignore[assignment]

    def __init__(
        self,
        statistic_ids: list[str],
        values: list[Any],
        stamps: list[int | float | None],
        *,
        items: list[dict[str, Any]] | None = None,
        built: list[models.StatisticValue | None] | None = None,
    ) -> None:
        self._statistic_ids = statistic_ids
        self._values = values
        self._stamps = stamps
        self._items = items
        """The JSON objects, when some hold more than statisticId, timestamp and value."""
        self._models: list[models.StatisticValue | None] = (
            built if built is not None else [None] * len(statistic_ids)
        )

    @classmethod
    def from_models(cls, built: Sequence[models.StatisticValue]) -> StatisticValues:
        """Wrap models that were already validated."""
        kept: list[models.StatisticValue | None] = list(built)
        return cls(
            [value.statistic_id for value in built],
            [value.value for value in built],
            [value.timestamp for value in built],
            built=kept,
        )

    def columns(self) -> tuple[list[str], list[Any], list[int | float | None]]:
        """(statisticIds, raw values, raw timestamps), index-aligned; treat them as read-only."""
        return self._statistic_ids, self._values, self._stamps

    def with_values(self) -> StatisticValues:
        """These statistics less those whose value is missing (null or absent); often self."""
        values = self._values
        if None not in values:
            return self
        keep = [index for index, value in enumerate(values) if value is not None]
        items = self._items
        return StatisticValues(
            [self._statistic_ids[index] for index in keep],
            [values[index] for index in keep],
            [self._stamps[index] for index in keep],
            items=None if items is None else [items[index] for index in keep],
            built=[self._models[index] for index in keep],
        )

    def __len__(self) -> int:
        return len(self._statistic_ids)

    @overload
    def __getitem__(self, index: int) -> models.StatisticValue: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[models.StatisticValue, ...]: ...

    def __getitem__(
        self, index: int | slice
    ) -> models.StatisticValue | tuple[models.StatisticValue, ...]:
        if isinstance(index, slice):
            return tuple(self._model(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("statistic index out of range")
        return self._model(index)

    def __iter__(self) -> Iterator[models.StatisticValue]:
        return (self._model(index) for index in range(len(self)))

    def __eq__(self, other: object) -> bool:
        # Compares like the tuple of models it stands for (results used to hold a tuple).
        if isinstance(other, StatisticValues | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"StatisticValues({len(self)} statistics)"

    def _model(self, index: int) -> models.StatisticValue:
        built = self._models[index]
        if built is None:
            # The item passed the plain-shape check, which the model accepts too; without
            # kept items it had exactly these three keys.
            item = (
                self._items[index]
                if self._items is not None
                else {
                    "statisticId": self._statistic_ids[index],
                    "timestamp": self._stamps[index],
                    "value": self._values[index],
                }
            )
            built = models.StatisticValue.model_validate(item)
            self._models[index] = built
        return built


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemError:
    """One statistic the server could not serve (an entry of `errors[]`).

    The ids come from the error's `detail` when the server sent them; get-statistic-ex
    carries no `statistic_id`.
    """

    code: int
    message: str = ""
    statistic_id: str | None = None
    object_id: str | None = None
    object_type: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:
    """What every multi-statistic result shares: per-item errors and the envelope status."""

    errors: tuple[ItemError, ...] = ()
    status_code: int = models.STATUS_OK
    status_message: str | None = None

    @property
    def partial(self) -> bool:
        """True when some statistics failed (the envelope said so, or errors came)."""
        return bool(self.errors) or self.status_code not in (
            models.STATUS_OK,
            models.STATUS_ACCEPTED,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionResult(_Outcome):
    """An opened subscription: its id, the statistics it opened, and those it could not."""

    subscription_id: str
    operation_id: str
    statistics: Sequence[models.StatisticValue] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PeekResult(_Outcome):
    """The current values of a subscription's statistics, and those that failed."""

    statistics: Sequence[models.StatisticValue] = ()
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PeekedResult(_Outcome):
    """The current values of predefined statistics (get-statistic-ex), and those that failed."""

    statistics: tuple[models.PeekedStatisticValue, ...] = ()


# --- Parsing --------------------------------------------------------------------------------


def parse_json(body: bytes, *, where: str = "response") -> Any:
    """The JSON value of a body, or ShapeError when it is empty or not JSON."""
    if not body or body.isspace():
        raise ShapeError(f"{where}: empty response body")
    try:
        return pydantic_core.from_json(body)
    except (ValueError, RecursionError):
        # `from None`: the parser's message quotes the body, which may be huge or hostile.
        raise ShapeError(f"{where}: response body is not JSON") from None


@dataclass(frozen=True, slots=True)
class _Envelope:
    status: models.ResponseStatus
    errors: tuple[ItemError, ...]
    data: Any

    @property
    def ok(self) -> bool:
        return self.status.code in (models.STATUS_OK, models.STATUS_ACCEPTED)


def _describe(exc: ValidationError, prefix: str) -> str:
    """The first validation problem as `prefix.loc: msg`, without the offending input."""
    problems = exc.errors(include_url=False, include_context=False, include_input=False)
    if not problems:
        return f"{prefix}: unexpected shape"
    first = problems[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{prefix}{loc}: {first['msg']}{more}"


def _text(raw: object) -> str | None:
    return raw if isinstance(raw, str) else None


def _item_error(entry: models.ErrorResponse, scrub: Scrub) -> ItemError:
    detail = entry.status.detail or {}
    return ItemError(
        code=entry.status.code,
        message=clip(scrub(entry.status.message or "")),
        statistic_id=_text(detail.get("statisticId")),
        object_id=_text(detail.get("objectId")),
        object_type=_text(detail.get("objectType")),
        name=_text(detail.get("name")),
    )


def _envelope(body: bytes, where: str, scrub: Scrub) -> _Envelope:
    obj = parse_json(body, where=where)
    if not isinstance(obj, dict) or "status" not in obj:
        raise ShapeError(f"{where}: the body is not a Statistics API envelope (no 'status')")
    return _checked_envelope(obj["status"], obj.get("errors"), obj.get("data"), where, scrub)


def _checked_envelope(
    raw_status: object, raw_errors: object, data: object, where: str, scrub: Scrub
) -> _Envelope:
    try:
        status = models.ResponseStatus.model_validate(raw_status)
    except ValidationError as exc:
        raise ShapeError(f"{where}: unexpected envelope: {_describe(exc, 'status')}") from None
    try:
        errors = _ERRORS.validate_python(raw_errors) if raw_errors is not None else []
    except ValidationError as exc:
        raise ShapeError(f"{where}: unexpected envelope: {_describe(exc, 'errors')}") from None
    items = tuple(_item_error(entry, scrub) for entry in errors)
    return _Envelope(status=status, errors=items, data=data)


def _failure(envelope: _Envelope, where: str, scrub: Scrub) -> EnvelopeError:
    message = envelope.status.message
    if not message and envelope.errors:
        message = envelope.errors[0].message
    return EnvelopeError(envelope.status.code, scrub(message or ""), path=where)


def _data(envelope: _Envelope, key: str, kind: type, where: str, scrub: Scrub) -> dict[str, Any]:
    """`data` when it can be used; raises EnvelopeError or ShapeError when it cannot.

    Under a failure code, data is usable only when it holds `key` of the right kind: error
    bodies routinely carry `"data": {}`, which is a failure, not an empty partial success.
    """
    data = envelope.data
    if not envelope.ok:
        if isinstance(data, dict) and isinstance(data.get(key), kind):
            return data
        raise _failure(envelope, where, scrub)
    if not isinstance(data, dict):
        raise ShapeError(f"{where}: response has no 'data' object")
    return data


def _statistics_list(data: dict[str, Any], where: str) -> list[Any]:
    raw = data.get("statistics")
    if raw is None:
        # A subscription whose every statistic failed may come without the list at all.
        return []
    if not isinstance(raw, list):
        raise ShapeError(f"{where}: 'data.statistics' is not a list")
    return raw


def _optional_id(data: dict[str, Any], key: str, where: str) -> str | None:
    return _checked_id(data.get(key), key, where)


def _checked_id(raw: object, key: str, where: str) -> str | None:
    if raw is None or (isinstance(raw, str) and raw):
        return raw
    raise ShapeError(f"{where}: 'data.{key}' is not a non-empty string")


def _decoded_plain(body: bytes) -> _PlainEnvelope | None:
    """The answer decoded in one pass when it has the plain shape; None: take the long way.

    A refusal here is not an error yet: the general path decides, with its own messages.
    """
    try:
        return _PLAIN_DECODER.decode(body)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        # ValueError covers bytes that are not UTF-8; RecursionError absurd nesting.
        return None


def _plain_data(plain: _PlainEnvelope, where: str, scrub: Scrub) -> tuple[_Envelope, _PlainData]:
    """The checked envelope and its `data`, by the rules `_data` applies to parsed JSON."""
    envelope = _checked_envelope(plain.status, plain.errors, plain.data, where, scrub)
    data = plain.data
    if not envelope.ok:
        if data is not None and data.statistics is not None:
            return envelope, data
        raise _failure(envelope, where, scrub)
    if data is None:
        raise ShapeError(f"{where}: response has no 'data' object")
    return envelope, data


def _plain_statistics(data: _PlainData) -> StatisticValues:
    items = data.statistics or []
    return StatisticValues(
        [item.statisticId for item in items],
        [item.value for item in items],
        [item.timestamp for item in items],
    )


# Keys the model also accepts under their Python names; an item using one is left to the model
# (which spelling wins when both come is the model's business, not this module's).
_PYTHON_NAMES = frozenset({"statistic_id", "object_id", "object_type"})
_TEXT_KEYS = ("name", "objectId", "objectType")


def _plain_columns(raw: list[Any]) -> StatisticValues | None:
    """The list as columns when every item has the plain shape; None when any does not.

    Plain means exactly what `StatisticValue` validation would pass through unchanged: an
    object with a string `statisticId`, an int or float (not bool) or absent `timestamp`,
    and string or absent `name`, `objectId` and `objectType`; `value` is taken as it is.
    """
    statistic_ids: list[str] = []
    values: list[Any] = []
    stamps: list[int | float | None] = []
    add_id, add_value, add_stamp = statistic_ids.append, values.append, stamps.append
    keep_items = False
    for item in raw:
        if type(item) is not dict:
            return None
        statistic_id = item.get("statisticId")
        if type(statistic_id) is not str:
            return None
        stamp = item.get("timestamp")
        if stamp is not None and type(stamp) is not int and type(stamp) is not float:
            return None
        # verbose=OFF items are exactly these three keys; anything else gets the full check.
        if not (len(item) == 3 and "value" in item and "timestamp" in item):
            keep_items = True
            if not _PYTHON_NAMES.isdisjoint(item):
                return None
            for key in _TEXT_KEYS:
                text = item.get(key)
                if text is not None and type(text) is not str:
                    return None
        add_id(statistic_id)
        add_value(item.get("value"))
        add_stamp(stamp)
    return StatisticValues(statistic_ids, values, stamps, items=raw if keep_items else None)


def _validated_statistics(raw: list[Any], where: str) -> StatisticValues:
    plain = _plain_columns(raw)
    if plain is not None:
        return plain
    try:
        built = _STATISTICS.validate_python(raw)
    except ValidationError as exc:
        raise ShapeError(f"{where}: {_describe(exc, 'data.statistics')}") from None
    return StatisticValues.from_models(built)


def _statistics_answer(
    body: bytes, where: str, scrub: Scrub, id_keys: tuple[str, ...]
) -> tuple[_Envelope, dict[str, str | None], StatisticValues]:
    """A subscribe or peek answer: its envelope, the `data` ids in `id_keys`, its statistics."""
    plain = _decoded_plain(body)
    if plain is not None:
        envelope, plain_data = _plain_data(plain, where, scrub)
        ids = {key: _checked_id(getattr(plain_data, key), key, where) for key in id_keys}
        return envelope, ids, _plain_statistics(plain_data)
    envelope = _envelope(body, where, scrub)
    data = _data(envelope, "statistics", list, where, scrub)
    ids = {key: _optional_id(data, key, where) for key in id_keys}
    return envelope, ids, _validated_statistics(_statistics_list(data, where), where)


def parse_subscription(
    body: bytes, *, operation_id: str, where: str = "response", scrub: Scrub = _keep
) -> SubscriptionResult:
    """The result of opening a subscription; `operation_id` is the one that was sent."""
    envelope, ids, statistics = _statistics_answer(
        body, where, scrub, ("operationId", "subscriptionId")
    )
    echoed = ids["operationId"]
    return SubscriptionResult(
        subscription_id=ids["subscriptionId"] or echoed or operation_id,
        operation_id=echoed or operation_id,
        statistics=statistics,
        errors=envelope.errors,
        status_code=envelope.status.code,
        status_message=envelope.status.message,
    )


def parse_peek(body: bytes, *, where: str = "response", scrub: Scrub = _keep) -> PeekResult:
    """The result of peeking a subscription (its statistics' current values)."""
    envelope, ids, statistics = _statistics_answer(body, where, scrub, ("subscriptionId",))
    return PeekResult(
        statistics=statistics,
        subscription_id=ids["subscriptionId"],
        errors=envelope.errors,
        status_code=envelope.status.code,
        status_message=envelope.status.message,
    )


def parse_peeked(body: bytes, *, where: str = "response", scrub: Scrub = _keep) -> PeekedResult:
    """The result of get-statistic-ex (predefined statistics without a subscription)."""
    envelope = _envelope(body, where, scrub)
    data = _data(envelope, "statistics", list, where, scrub)
    raw = _statistics_list(data, where)
    try:
        statistics = tuple(_PEEKED.validate_python(raw))
    except ValidationError as exc:
        raise ShapeError(f"{where}: {_describe(exc, 'data.statistics')}") from None
    return PeekedResult(
        statistics=statistics,
        errors=envelope.errors,
        status_code=envelope.status.code,
        status_message=envelope.status.message,
    )


def parse_single(
    body: bytes, *, where: str = "response", scrub: Scrub = _keep
) -> models.PeekedStatisticValue:
    """The one value of GET /statistic-values/{name} (`data.statistic`, singular)."""
    envelope = _envelope(body, where, scrub)
    data = _data(envelope, "statistic", dict, where, scrub)
    raw = data.get("statistic")
    if not isinstance(raw, dict):
        raise ShapeError(f"{where}: response has no 'data.statistic' object")
    try:
        return models.PeekedStatisticValue.model_validate(raw)
    except ValidationError as exc:
        raise ShapeError(f"{where}: {_describe(exc, 'data.statistic')}") from None


def parse_ack(body: bytes, *, where: str = "response", scrub: Scrub = _keep) -> None:
    """Check the answer of an operation that returns nothing (DELETE).

    An empty 2xx body is accepted: the operation is fire-and-forget and a 204 says it all.
    """
    if not body or body.isspace():
        return
    envelope = _envelope(body, where, scrub)
    if not envelope.ok:
        raise _failure(envelope, where, scrub)


def error_from_response(
    http_status: int, body: bytes, *, where: str, reason: str = "", scrub: Scrub = _keep
) -> HTTPStatusError:
    """The HTTPStatusError for a non-2xx answer, with the best message the body offers."""
    obj: Any = None
    if body and not body.isspace():
        try:
            obj = parse_json(body, where=where)
        except ShapeError:
            obj = None  # HTML from a proxy, truncated JSON...: the status alone must do.
    if isinstance(obj, dict):
        raw_status = obj.get("status")
        if isinstance(raw_status, dict):
            try:
                status = models.ResponseStatus.model_validate(raw_status)
            except ValidationError:
                status = None
            if status is not None:
                message = status.message or _first_error_message(obj.get("errors")) or reason
                return error_for_status(http_status, scrub(message), code=status.code, path=where)
        elif isinstance(raw_status, int):
            try:
                plain = models.PlainErrorBody.model_validate(obj)
            except ValidationError:
                plain = None
            if plain is not None:
                message = plain.message or plain.error or reason
                return error_for_status(http_status, scrub(message), path=where)
    return error_for_status(http_status, scrub(reason or "no error details"), path=where)


def _first_error_message(raw_errors: object) -> str | None:
    try:
        errors = _ERRORS.validate_python(raw_errors) if raw_errors is not None else []
    except ValidationError:
        return None
    for entry in errors:
        if entry.status.message:
            return entry.status.message
    return None
