"""Turns the bytes of a Statistics API answer into a typed result or a typed error; no I/O.

The rules live here once, for every operation:
- a 2xx body must be a JSON envelope with a `status`; anything else is a `ShapeError`;
- `status.code` 0 or 1 is success; any other code *with usable data* is a partial success
  (the result carries the per-item errors); any other code without usable data is an
  `EnvelopeError`;
- a non-2xx answer becomes the `HTTPStatusError` subclass for its status, carrying the
  envelope's code and message, or the message of a plain (non-envelope) error body.
Nothing but `StatisticsError` subclasses ever leaves this module, whatever the bytes.

Each wire shape has one schema, its pydantic model in `models.py`: what it accepts, and the
message for what it refuses, is the contract. Peek and subscribe answers, read every poll and
tens of thousands of statistics long, first try a fast path *derived from those models*
(`_RAW_DECODER`): msgspec structs with `StatisticValue`'s fields, wire names and types (and no
other key) inside `StatisticData`'s and `Envelope`'s fields, decoded in one pass in C into
structs the cyclic garbage collector does not track. The structs admit only what the model
takes unchanged, so their answer is the model's; whatever they refuse (an unknown key, a field
under its Python name, a type the model would coerce or reject, bytes that are not JSON) takes
the general path, pydantic-core's JSON parser and the models themselves, whose verdict and
message stand. The models, not the structs, are the schema because every other answer needs
them anyway (get-statistic-ex, single values, error entries, items with extra fields), and
their coercions and messages are what users see: deriving three structs from them is less code
than re-creating pydantic's rules in msgspec. The fast path is the one parsing lever that
clearly pays (figures: docs/performance.md; `one_pass_decoding=False` on the two parse
functions takes the general path instead: the reference the fast path is checked and
measured against). A model per statistic is
built only when one is asked for (`StatisticValues`): the live store reads the decoded
fields as columns, and building a model for each of 10,000 statistics every poll would cost
more than the parse. The fast path goes one step further with the values themselves (`value`
is JSON the model takes as it comes): it keeps them undecoded, so that the live store
decodes only the values that differ from the last answer's, most of a poll's being the same
(docs/performance.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast, overload

import msgspec
import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from statdash.api import models
from statdash.api.errors import (
    EnvelopeError,
    HTTPStatusError,
    ShapeError,
    clip,
    error_for_status,
)

Scrub = Callable[[str], str]

_log = logging.getLogger("statdash.api")

# What stands in for an integer too long to read (`loads_tolerant`): plain text, shown as is.
UNREADABLE_NUMBER = "malformed: a number too long to read"

_STATISTICS: TypeAdapter[list[models.StatisticValue]] = TypeAdapter(list[models.StatisticValue])
_PEEKED: TypeAdapter[list[models.PeekedStatisticValue]] = TypeAdapter(
    list[models.PeekedStatisticValue]
)
_ERRORS: TypeAdapter[list[models.ErrorResponse]] = TypeAdapter(list[models.ErrorResponse])


def _keep(text: str) -> str:
    return text


# --- The fast path, derived from the models ---------------------------------------------------


def _wire_name(name: str, model: type[BaseModel]) -> str:
    return model.model_fields[name].alias or name


def _exact_struct(model: type[BaseModel], **typed: tuple[Any, Any]) -> Any:
    """`model` as a msgspec struct: same fields, types and attribute names, keyed by wire name.

    Any other key (an unknown field, a field under its Python name) refuses the item: what
    the model would make of it is the model's business. A field named in `typed` is
    (type, default) instead (only a field the model takes as it comes, `Any`, is so named).
    """
    fields = model.model_fields
    return msgspec.defstruct(
        f"Decoded{model.__name__}",
        [
            (name, *typed[name])
            if name in typed
            else (name, info.annotation)
            if info.is_required()
            else (name, info.annotation, info.get_default(call_default_factory=True))
            for name, info in fields.items()
        ],
        rename={name: _wire_name(name, model) for name in fields},
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,
    )


def _loose_struct(model: type[BaseModel], typed: Mapping[str, Any]) -> Any:
    """`model`'s fields as a msgspec struct, attributes named as on the wire.

    Those in `typed` are decoded as it says, the others taken as they come (the model or
    this module judges them afterwards); other keys are ignored, as the model ignores them.
    """
    fields = model.model_fields
    return msgspec.defstruct(
        f"Decoded{model.__name__}",
        [
            (_wire_name(name, model), typed.get(name, Any))
            if info.is_required()
            else (_wire_name(name, model), typed.get(name, Any), None)
            for name, info in fields.items()
        ],
        kw_only=True,
        gc=False,
    )


def _optional_list(item: Any) -> Any:
    return list[item] | None


def _envelope_struct(statistic: Any) -> Any:
    data = _loose_struct(models.StatisticData, {"statistics": _optional_list(statistic)})
    return _loose_struct(models.Envelope, {"data": data | None})


# `value` is JSON the model takes as it comes (`Any`): decoded later, alone, it gives what
# decoding it with the answer gives. Kept undecoded (`msgspec.Raw`), a value costs a
# comparison of bytes until it differs from the last answer's (`live.store`), and only then
# is it decoded (`decode_value`); most of a poll's values are the same as the last one's.
# msgspec reads no `Raw | None`: a missing value is the JSON null, as the model has it.
NULL_VALUE = msgspec.Raw(b"null")
_RAW_ENVELOPE = _envelope_struct(
    _exact_struct(models.StatisticValue, value=(msgspec.Raw, NULL_VALUE))
)
_RAW_DECODER = msgspec.json.Decoder(_RAW_ENVELOPE)


class _KeyedValue(msgspec.Struct, gc=False):
    """A statistic's value alone, read again from the answer's bytes with its time made 0."""

    value: msgspec.Raw = NULL_VALUE


class _KeyedData(msgspec.Struct, gc=False):
    statistics: list[_KeyedValue] | None = None


class _KeyedEnvelope(msgspec.Struct, gc=False):
    data: _KeyedData | None = None


_KEYS_DECODER = msgspec.json.Decoder(_KeyedEnvelope)
_ANY_DECODER = msgspec.json.Decoder()
# Where a value no parser reads stands (unreachable: see `_decoded_in_one_pass`).
UNREADABLE_VALUE = "malformed: not JSON"


def decode_value(raw: msgspec.Raw) -> Any:
    """The value `raw` holds, decoded as the general path decodes an answer; never raises.

    msgspec reads it, or, what msgspec refuses (a number beyond its range), is read as
    `parse_json` reads a body: pydantic-core's parser, then `loads_tolerant`.
    """
    try:
        return _ANY_DECODER.decode(raw)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        pass
    text = bytes(raw)
    try:
        return pydantic_core.from_json(text)
    except (ValueError, RecursionError):
        pass
    try:
        decoded, unreadable = loads_tolerant(text)
    except (ValueError, RecursionError):
        # msgspec checked the answer's syntax and `_decoded_in_one_pass` its UTF-8, so
        # every value is JSON; should one not be, it is shown as malformed, not raised.
        return UNREADABLE_VALUE
    _log.warning("statistic value: %d number(s) too long to read, shown as malformed", unreadable)
    return decoded


def _value_keys(body: bytes, statistics: list[Any]) -> list[msgspec.Raw]:
    """Each value's bytes with the digits of the answer's timestamp, wherever a member named
    `...timestamp` starts with them, made `0`: what `live.store` compares.

    A server stamps every value with the time of the answer, so a value that did not change
    still comes in other bytes; its key does not. Two keys are equal only when the values
    differ at most in numbers under keys whose names end in `timestamp` (the digits changed
    stay inside one number of valid JSON, read again here), and no reader of a number or an
    agent state reads those but the value's own time, which no comparison of values counts.
    When the first value does not carry those digits, or the bytes changed are no JSON of
    the same answer, the keys are the values' own bytes.
    """
    values = [item.value for item in statistics]
    stamp = statistics[0].timestamp if statistics else None
    if type(stamp) is not int or stamp <= 0:
        return values
    digits = str(stamp).encode()
    # Only when the first value carries the answer's time (a server that stamps each value
    # with the time it changed sends an unchanged value in the same bytes anyway).
    first = bytes(values[0])
    keyed = body
    for key in (b'"timestamp":', b'"timestamp": '):
        if key + digits in first:
            keyed = keyed.replace(key + digits, key + b"0")
    if keyed is body:
        return values
    try:
        data = _KEYS_DECODER.decode(keyed).data
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return values
    if data is None or data.statistics is None or len(data.statistics) != len(values):
        return values
    return [item.value for item in data.statistics]


# --- Results --------------------------------------------------------------------------------


class _AnswerKeys:
    """The keys of an answer's values (`_value_keys`), worked out when first asked for: only
    the live store compares them."""

    __slots__ = ("_body", "_keys", "_statistics")

    def __init__(self, body: bytes, statistics: list[Any]) -> None:
        self._body = body
        self._statistics = statistics
        self._keys: list[msgspec.Raw] | None = None

    def of(self, positions: Sequence[int] | None) -> list[msgspec.Raw]:
        """The keys of the answer's statistics at `positions` (None: all of them)."""
        if self._keys is None:
            self._keys = _value_keys(self._body, self._statistics)
        keys = self._keys
        return list(keys) if positions is None else [keys[index] for index in positions]


def _decoded_values(values: list[msgspec.Raw]) -> list[Any]:
    """`decode_value` of each, in one decode when msgspec reads them all."""
    try:
        return cast("list[Any]", _ANY_DECODER.decode(b"[" + b",".join(values) + b"]"))
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return [decode_value(value) for value in values]


class StatisticValues(Sequence[models.StatisticValue]):
    """The statistics of a subscribe or peek answer; each model is built when first asked for.

    It holds the decoded statistics: the fast path's structs, which have the model's
    attribute names, or the models the general path validated. The fast path keeps each
    value undecoded (`msgspec.Raw`), and the answer for the keys `live.store` compares
    (`_value_keys`). `wire_columns()` reads those as they are, which is all the live store
    needs; `columns()` gives decoded values; indexing or iterating gives models equal to the
    ones validating the whole list would have built, and keeps them.
    """

    __slots__ = ("_decoded", "_keys", "_models", "_positions")

    __hash__: ClassVar[None]  # type: ignore[assignment]

    def __init__(
        self,
        decoded: Sequence[Any],
        *,
        built: list[models.StatisticValue | None] | None = None,
        keys: _AnswerKeys | None = None,
        positions: Sequence[int] | None = None,
    ) -> None:
        self._decoded = decoded
        self._models: list[models.StatisticValue | None] = (
            built if built is not None else [None] * len(decoded)
        )
        # Not None: each item's value is undecoded, and these are the answer's keys; the
        # items are the answer's at `positions` (None: all of them, in order).
        self._keys = keys
        self._positions = positions

    @classmethod
    def from_models(cls, built: Sequence[models.StatisticValue]) -> StatisticValues:
        """Wrap models that were already validated."""
        return cls(built, built=list(built))

    def columns(self) -> tuple[list[str], list[Any], list[int | float | None]]:
        """(statisticIds, raw values, raw timestamps), index-aligned."""
        decoded = self._decoded
        values = [item.value for item in decoded]
        return (
            [item.statistic_id for item in decoded],
            values if self._keys is None else _decoded_values(values),
            [item.timestamp for item in decoded],
        )

    def wire_columns(
        self,
    ) -> tuple[list[str], list[msgspec.Raw], list[msgspec.Raw], list[int | float | None]] | None:
        """(statisticIds, undecoded values, their keys, raw timestamps), index-aligned; None
        when the values were decoded with the answer (read `columns()` then)."""
        if self._keys is None:
            return None
        decoded = self._decoded
        return (
            [item.statistic_id for item in decoded],
            [item.value for item in decoded],
            self._keys.of(self._positions),
            [item.timestamp for item in decoded],
        )

    def with_values(self) -> StatisticValues:
        """These statistics less those whose value is missing (null or absent); often self."""
        decoded = self._decoded
        if self._keys is None:
            keep = [index for index, item in enumerate(decoded) if item.value is not None]
        else:
            keep = [index for index, item in enumerate(decoded) if item.value != NULL_VALUE]
        if len(keep) == len(decoded):
            return self
        positions = self._positions
        return StatisticValues(
            [decoded[index] for index in keep],
            built=[self._models[index] for index in keep],
            keys=self._keys,
            positions=keep if positions is None else [positions[index] for index in keep],
        )

    def __len__(self) -> int:
        return len(self._decoded)

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
            # A struct holds exactly what the model accepts unchanged, under the model's names.
            fields = msgspec.structs.asdict(self._decoded[index])
            if self._keys is not None:
                fields["value"] = decode_value(fields["value"])
            built = models.StatisticValue.model_validate(fields)
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
    """The JSON value of a body, or ShapeError when it is empty or not JSON.

    An integer too long for Python (see `loads_tolerant`) spoils only the value holding it.
    """
    if not body or body.isspace():
        raise ShapeError(f"{where}: empty response body")
    try:
        return pydantic_core.from_json(body)
    except (ValueError, RecursionError):
        pass
    try:
        decoded, unreadable = loads_tolerant(body)
    except (ValueError, RecursionError):
        # `from None`: the parser's message quotes the body, which may be huge or hostile.
        raise ShapeError(f"{where}: response body is not JSON") from None
    _log.warning("%s: %d number(s) too long to read, shown as malformed", where, unreadable)
    return decoded


def loads_tolerant(body: bytes | str) -> tuple[Any, int]:
    """JSON whose integers too long for Python (4,301+ digits: its int/str conversion
    limit, which the fast parsers hit too) become `UNREADABLE_NUMBER`; the value, and how
    many there were. Raises ValueError when the body is not JSON at all.

    The value that held one is then of no known shape (`values.parse_value` makes it an
    `UnknownValue`, shown as it is), so only that statistic is marked and the rest stand.
    """
    unreadable = 0

    def integer(text: str) -> int | str:
        nonlocal unreadable
        try:
            return int(text)
        except ValueError:
            unreadable += 1
            return UNREADABLE_NUMBER

    return json.loads(body, parse_int=integer), unreadable


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


def _decoded_in_one_pass(body: bytes) -> Any:
    """The answer as the fast path decodes it; None when it refuses (the general path decides).

    Values are kept undecoded, so the body must be UTF-8 throughout: msgspec checks the
    syntax of what it keeps undecoded, not its UTF-8, and every value must decode later
    (`decode_value`) as the answer would have.
    """
    if not (body.isascii() or _is_utf8(body)):
        return None
    try:
        return _RAW_DECODER.decode(body)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        # RecursionError: absurd nesting.
        return None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


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
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and raw):
        return raw
    raise ShapeError(f"{where}: 'data.{key}' is not a non-empty string")


def _validated_statistics(raw: list[Any], where: str) -> StatisticValues:
    try:
        built = _STATISTICS.validate_python(raw)
    except ValidationError as exc:
        raise ShapeError(f"{where}: {_describe(exc, 'data.statistics')}") from None
    return StatisticValues.from_models(built)


def _statistics_answer(
    body: bytes, where: str, scrub: Scrub, id_keys: tuple[str, ...], one_pass_decoding: bool
) -> tuple[_Envelope, dict[str, str | None], StatisticValues]:
    """A subscribe or peek answer: its envelope, the `data` ids in `id_keys`, its statistics."""
    decoded = _decoded_in_one_pass(body) if one_pass_decoding else None
    if decoded is None:
        envelope = _envelope(body, where, scrub)
    else:
        # From here on both paths are one: `data` as a dict, its statistics decoded already.
        data = None if decoded.data is None else msgspec.structs.asdict(decoded.data)
        envelope = _checked_envelope(decoded.status, decoded.errors, data, where, scrub)
    data = _data(envelope, "statistics", list, where, scrub)
    ids = {key: _optional_id(data, key, where) for key in id_keys}
    raw = _statistics_list(data, where)
    if decoded is None:
        statistics = _validated_statistics(raw, where)
    else:
        statistics = StatisticValues(raw, keys=_AnswerKeys(body, raw))
    return envelope, ids, statistics


def parse_subscription(
    body: bytes,
    *,
    operation_id: str,
    where: str = "response",
    scrub: Scrub = _keep,
    one_pass_decoding: bool = True,
) -> SubscriptionResult:
    """The result of opening a subscription; `operation_id` is the one that was sent.

    `one_pass_decoding=False` sends the body down the general path (as `parse_peek`).
    """
    envelope, ids, statistics = _statistics_answer(
        body, where, scrub, ("operationId", "subscriptionId"), one_pass_decoding
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


def parse_peek(
    body: bytes, *, where: str = "response", scrub: Scrub = _keep, one_pass_decoding: bool = True
) -> PeekResult:
    """The result of peeking a subscription (its statistics' current values).

    `one_pass_decoding=False` skips the fast path, so the body takes the general path every
    other answer takes, with the same verdict (tests check the fast path against it; the
    parse benchmark, `benchmarks/perf.py parse`, times the two).
    """
    envelope, ids, statistics = _statistics_answer(
        body, where, scrub, ("subscriptionId",), one_pass_decoding
    )
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
