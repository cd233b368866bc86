"""Pydantic models of every request and response body of the Statistics API v3.

Field names are Python snake_case; the wire uses camelCase, so every model serialises with
`model_dump(by_alias=True, exclude_none=True)` and accepts either spelling on input.
Response models tolerate unknown fields (servers add them); request models forbid them, so a
typo in code is caught before anything is sent. These are the one schema of every shape:
`responses.py` derives its one-pass decoder of peek and subscribe answers from `Envelope`,
`StatisticData` and `StatisticValue` rather than declaring the shapes again.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

Verbose = Literal["INFO", "OFF"]

# Envelope status codes with a meaning of their own; anything else is a failure.
STATUS_OK = 0
STATUS_ACCEPTED = 1

DataT = TypeVar("DataT")


class _WireModel(BaseModel):
    """Base of response models: camelCase on the wire, unknown fields kept, not rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="allow"
    )


class _RequestModel(BaseModel):
    """Base of request models: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="forbid"
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body as the server expects it."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# --- The envelope ---------------------------------------------------------------------------


class ResponseStatus(_WireModel):
    """`status` of an envelope or of one per-item error."""

    code: int
    message: str | None = None
    detail: dict[str, Any] | None = None


class ErrorResponse(_WireModel):
    """One entry of `errors[]`: a per-item failure."""

    status: ResponseStatus


class Envelope(_WireModel, Generic[DataT]):
    """Every response; only `status` is required. `data` may come with `errors`."""

    status: ResponseStatus
    data: DataT | None = None
    errors: list[ErrorResponse] = Field(default_factory=list)
    path: str | None = None

    @property
    def ok(self) -> bool:
        """True when the status code means success (0) or accepted (1)."""
        return self.status.code in (STATUS_OK, STATUS_ACCEPTED)


# --- Response data ----------------------------------------------------------------------------


class PeekedStatisticValue(_WireModel):
    """A statistic read without a subscription; `value` stays raw for `values.parse_value`."""

    name: str | None = None
    object_id: str | None = None
    object_type: str | None = None
    timestamp: int | float | None = None
    value: Any = None


class StatisticValue(PeekedStatisticValue):
    """A statistic of a subscription; with `verbose=OFF` only the id, timestamp and value come."""

    statistic_id: str


class StatisticData(_WireModel):
    """`data` of opening or peeking a subscription."""

    operation_id: str | None = None
    subscription_id: str | None = None
    statistics: list[StatisticValue] = Field(default_factory=list)


class PeekedStatistics(_WireModel):
    """`data` of get-statistic-ex."""

    statistics: list[PeekedStatisticValue] = Field(default_factory=list)


class PeekedStatistic(_WireModel):
    """`data` of getting one statistic value (singular `statistic`)."""

    statistic: PeekedStatisticValue


class PlainErrorBody(_WireModel):
    """The non-envelope error body some gateways answer with (Spring's default error page)."""

    timestamp: int | float | None = None
    status: int
    error: str | None = None
    message: str | None = None
    path: str | None = None


# --- Requests -------------------------------------------------------------------------------


class StatisticDefinition(_RequestModel):
    """An ad-hoc statistic definition (Stat Server's category, subject, masks, time ranges)."""

    category: str
    subject: str
    main_mask: str = "*"
    relative_mask: str | None = None
    notification_mode: str | None = None
    notification_frequency: int | None = None
    insensitivity: int | None = None
    interval_type: str | None = None
    interval_length: int | None = None
    dynamic_filter: str | None = None
    time_range_left: int | None = None
    time_range_right: int | None = None
    objects: str | None = None


class _StatisticRef(_RequestModel):
    """The object a statistic applies to."""

    object_id: str = Field(min_length=1)
    object_type: str = Field(min_length=1)


class PredefinedStatisticRef(_StatisticRef):
    """One statistic of get-statistic-ex: a predefined name on one object."""

    name: str = Field(min_length=1)


class SubscriptionItem(_StatisticRef):
    """One statistic of a subscription: exactly one of `name` (predefined) or `definition`."""

    statistic_id: str = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1)
    definition: StatisticDefinition | None = None

    @model_validator(mode="after")
    def _exactly_one_of_name_or_definition(self) -> SubscriptionItem:
        if (self.name is None) == (self.definition is None):
            raise ValueError("exactly one of 'name' or 'definition' is required")
        return self


class SubscriptionItems(_RequestModel):
    """`data` of opening a subscription."""

    statistics: list[SubscriptionItem] = Field(min_length=1)

    @field_validator("statistics")
    @classmethod
    def _unique_statistic_ids(cls, items: list[SubscriptionItem]) -> list[SubscriptionItem]:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.statistic_id in seen:
                raise ValueError(
                    f"duplicate statisticId {item.statistic_id!r} at statistics[{index}]"
                )
            seen.add(item.statistic_id)
        return items


class SubscriptionRequest(_RequestModel):
    """Body of POST /subscriptions; the operationId becomes the subscription id."""

    operation_id: str = Field(min_length=1)
    data: SubscriptionItems


class StatisticExItems(_RequestModel):
    """`data` of get-statistic-ex."""

    statistics: list[PredefinedStatisticRef] = Field(min_length=1)


class StatisticExRequest(_RequestModel):
    """Body of POST /operations/get-statistic-ex."""

    data: StatisticExItems
