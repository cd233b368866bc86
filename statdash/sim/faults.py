"""Injected faults: which requests fail, stall or come back garbled, decided by a seeded RNG."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any

OPERATIONS = (
    "subscribe",
    "peek",
    "delete",
    "get_statistic_ex",
    "get_value",
    "token",
    "notifications",
)
ANY = "*"
MALFORMED_KINDS = (
    "invalid_json",
    "wrong_shape",
    "missing_fields",
    "bad_values",
    "huge",
    "plain_error",
)
# How a push (CometD) reply can be damaged: a body that is not JSON, a batch holding a
# message that is not an object, an updates message whose statistics list is garbled.
PUSH_MALFORMED_KINDS = ("invalid_json", "not_object", "bad_statistics")
# Channel faults that act on the next N replies (an int) or on every one (true).
COUNTED_CHANNEL_FAULTS = (
    "unknown_client",
    "duplicate_updates",
    "reorder_updates",
    "service_blip",
    "refuse_channel_subscribe",
)
REFUSE_STYLES = ("http503", "envelope")
UNKNOWN_SUBSCRIPTION_STYLES = ("http404", "envelope")
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Backend timeout",
}
FIELDS = (
    "error_rate",
    "error_status",
    "fail_next",
    "latency_ms",
    "malformed",
    "drop_subscriptions",
    "refuse_subscriptions",
    "unknown_subscription_style",
    "revoke_tokens",
    "drop_session",
    "unknown_client",
    "slow_connect_ms",
    "malformed_push",
    "duplicate_updates",
    "reorder_updates",
    "service_blip",
    "refuse_channel_subscribe",
    "seed",
)


class FaultSpecError(ValueError):
    """A POST /simulator/faults body that cannot be applied (nothing was changed)."""


@dataclass
class Malformed:
    """Garble responses of one operation: every one (`remaining` None) or the next N."""

    kind: str
    remaining: int | None

    def to_json(self) -> Any:
        if self.remaining is None:
            return self.kind
        return {"kind": self.kind, "count": self.remaining}


@dataclass(frozen=True)
class OneShots:
    """Actions a faults POST asks for once, right now.

    `drop_session` is None (no drop), True (every session) or one STATISTICS_SESSIONID.
    """

    drop_subscriptions: bool
    revoke_tokens: bool
    drop_session: bool | str | None = None


def _countdown(field: str, raw: Any) -> int | None:
    """A counted channel fault: None when off, -1 for every reply, else the replies left."""
    if raw is True:
        return -1
    if raw is False or raw is None:
        return None
    count = int(_number(field, raw, 0, 1_000_000))
    if count != raw:
        raise FaultSpecError(f"{field} must be true, false or a whole number of replies")
    return count or None


def _op_map(field: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FaultSpecError(f"{field} must be an object of operation -> value")
    for key in raw:
        if key != ANY and key not in OPERATIONS:
            raise FaultSpecError(
                f"{field}: unknown operation {key!r} (use {', '.join(OPERATIONS)} or '*')"
            )
    return dict(raw)


def _number(field: str, raw: Any, low: float, high: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise FaultSpecError(f"{field} must be a number")
    if not low <= raw <= high:
        raise FaultSpecError(f"{field} must be between {low:g} and {high:g}, got {raw}")
    return float(raw)


def _status(field: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 400 <= raw <= 599:
        raise FaultSpecError(f"{field} must be an HTTP error status (400-599)")
    return raw


class Faults:
    """The faults currently injected, and the decision for each incoming request.

    Its RNG is its own (seeded from the config or the POSTed `seed`) so that turning faults on
    never disturbs the contact center's random stream.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.clear()

    def clear(self) -> None:
        """Remove every fault and rewind the fault RNG to its seed."""
        self.error_rate: dict[str, float] = {}
        self.error_status: dict[str, int] = {}
        self.fail_next: dict[str, int] = {}
        self.latency_ms: dict[str, float] = {}
        self.malformed: dict[str, Malformed] = {}
        self.refuse_subscriptions: str | None = None
        self.unknown_subscription_style = "http404"
        # Channel (CometD) faults: counted ones as in `_countdown`.
        self.counted: dict[str, int] = {}
        self.slow_connect_ms = 0.0
        self.malformed_push: Malformed | None = None
        self.rng = random.Random(self._seed)

    def update(self, spec: Any) -> OneShots:
        """Apply a POST body; fields given replace their current value, others stay.

        The whole body is validated before anything changes, so a bad field leaves the
        faults as they were.
        """
        if not isinstance(spec, dict):
            raise FaultSpecError("body must be a JSON object")
        unknown = [k for k in spec if k not in FIELDS]
        if unknown:
            raise FaultSpecError(f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
        staged: dict[str, Any] = {}
        if "error_rate" in spec:
            staged["error_rate"] = {
                op: _number(f"error_rate.{op}", v, 0.0, 1.0)
                for op, v in _op_map("error_rate", spec["error_rate"]).items()
            }
        if "error_status" in spec:
            raw = spec["error_status"]
            if isinstance(raw, dict):
                staged["error_status"] = {
                    op: _status(f"error_status.{op}", v)
                    for op, v in _op_map("error_status", raw).items()
                }
            else:
                staged["error_status"] = {ANY: _status("error_status", raw)}
        if "fail_next" in spec:
            staged["fail_next"] = {
                op: int(_number(f"fail_next.{op}", v, 0, 1_000_000))
                for op, v in _op_map("fail_next", spec["fail_next"]).items()
            }
        if "latency_ms" in spec:
            raw = spec["latency_ms"]
            if isinstance(raw, dict):
                staged["latency_ms"] = {
                    op: _number(f"latency_ms.{op}", v, 0, 600_000)
                    for op, v in _op_map("latency_ms", raw).items()
                }
            else:
                staged["latency_ms"] = {ANY: _number("latency_ms", raw, 0, 600_000)}
        if "malformed" in spec:
            staged["malformed"] = {
                op: self._malformed(op, v)
                for op, v in _op_map("malformed", spec["malformed"]).items()
            }
        if "refuse_subscriptions" in spec:
            raw = spec["refuse_subscriptions"]
            if raw is True:
                raw = "http503"
            if raw is not False and raw is not None and raw not in REFUSE_STYLES:
                raise FaultSpecError(
                    "refuse_subscriptions must be true, false, 'http503' or 'envelope'"
                )
            staged["refuse_subscriptions"] = raw or None
        if "unknown_subscription_style" in spec:
            raw = spec["unknown_subscription_style"]
            if raw not in UNKNOWN_SUBSCRIPTION_STYLES:
                raise FaultSpecError("unknown_subscription_style must be 'http404' or 'envelope'")
            staged["unknown_subscription_style"] = raw
        for flag in ("drop_subscriptions", "revoke_tokens"):
            if flag in spec and not isinstance(spec[flag], bool):
                raise FaultSpecError(f"{flag} must be true or false")
        drop_session = spec.get("drop_session")
        if drop_session is not None and not isinstance(drop_session, bool | str):
            raise FaultSpecError("drop_session must be true (every session) or a session id")
        counted = dict(self.counted)
        for name in COUNTED_CHANNEL_FAULTS:
            if name in spec:
                left = _countdown(name, spec[name])
                if left is None:
                    counted.pop(name, None)
                else:
                    counted[name] = left
        staged["counted"] = counted
        if "slow_connect_ms" in spec:
            staged["slow_connect_ms"] = _number(
                "slow_connect_ms", spec["slow_connect_ms"], 0, 600_000
            )
        if "malformed_push" in spec:
            raw = spec["malformed_push"]
            staged["malformed_push"] = (
                None if raw in (None, False) else self._malformed("push", raw, PUSH_MALFORMED_KINDS)
            )
        if "seed" in spec:
            seed = spec["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise FaultSpecError("seed must be an integer")
            self._seed = seed
            self.rng = random.Random(seed)
        for key, value in staged.items():
            setattr(self, key, value)
        return OneShots(
            bool(spec.get("drop_subscriptions")),
            bool(spec.get("revoke_tokens")),
            drop_session if drop_session else None,
        )

    @staticmethod
    def _malformed(op: str, raw: Any, allowed: tuple[str, ...] = MALFORMED_KINDS) -> Malformed:
        kinds = ", ".join(allowed)
        if isinstance(raw, str):
            if raw not in allowed:
                raise FaultSpecError(f"malformed.{op}: unknown kind {raw!r} (kinds: {kinds})")
            return Malformed(raw, None)
        if isinstance(raw, dict) and set(raw) <= {"kind", "count"} and "kind" in raw:
            kind = raw["kind"]
            if kind not in allowed:
                raise FaultSpecError(f"malformed.{op}: unknown kind {kind!r} (kinds: {kinds})")
            count = int(_number(f"malformed.{op}.count", raw.get("count", 1), 1, 1_000_000))
            return Malformed(kind, count)
        raise FaultSpecError(f'malformed.{op} must be a kind or {{"kind": ..., "count": N}}')

    def to_json(self) -> dict[str, Any]:
        """The current faults, in the shape POST accepts."""
        return {
            "error_rate": dict(self.error_rate),
            "error_status": dict(self.error_status),
            "fail_next": {op: n for op, n in self.fail_next.items() if n > 0},
            "latency_ms": dict(self.latency_ms),
            "malformed": {op: m.to_json() for op, m in self.malformed.items()},
            "refuse_subscriptions": self.refuse_subscriptions or False,
            "unknown_subscription_style": self.unknown_subscription_style,
            **{
                name: (True if left < 0 else left) if (left := self.counted.get(name)) else False
                for name in COUNTED_CHANNEL_FAULTS
            },
            "slow_connect_ms": self.slow_connect_ms,
            "malformed_push": self.malformed_push.to_json() if self.malformed_push else False,
            "seed": self._seed,
        }

    # --------------------------------------------------------------------- decisions

    def latency(self, op: str) -> float:
        """Seconds to stall this request before answering."""
        ms = self.latency_ms.get(op, self.latency_ms.get(ANY, 0.0))
        return ms / 1000.0

    def status_for(self, op: str) -> int:
        """The HTTP status injected errors of this operation use (503 unless set)."""
        return self.error_status.get(op, self.error_status.get(ANY, 503))

    def injected_error(self, op: str) -> int | None:
        """The status to fail this request with, or None to let it through.

        `fail_next` counts are consumed first (deterministic), then `error_rate` rolls the
        fault RNG.
        """
        for key in (op, ANY):
            if self.fail_next.get(key, 0) > 0:
                self.fail_next[key] -= 1
                return self.status_for(op)
        rate = self.error_rate.get(op, self.error_rate.get(ANY, 0.0))
        if rate > 0 and self.rng.random() < rate:
            return self.status_for(op)
        return None

    def channel_fault(self, name: str) -> bool:
        """Whether a counted channel fault hits this reply (consuming one of a count)."""
        left = self.counted.get(name)
        if left is None:
            return False
        if left > 0:
            if left == 1:
                del self.counted[name]
            else:
                self.counted[name] = left - 1
        return True

    def push_malformed_kind(self, *, has_updates: bool) -> str | None:
        """How to damage this push reply; `bad_statistics` waits for one carrying updates."""
        spec = self.malformed_push
        if spec is None or (spec.kind == "bad_statistics" and not has_updates):
            return None
        if spec.remaining is not None:
            spec.remaining -= 1
            if spec.remaining <= 0:
                self.malformed_push = None
        return spec.kind

    def malformed_kind(self, op: str) -> str | None:
        """How to garble this request's response, consuming one of a counted fault."""
        for key in (op, ANY):
            spec = self.malformed.get(key)
            if spec is None:
                continue
            if spec.remaining is not None:
                spec.remaining -= 1
                if spec.remaining <= 0:
                    del self.malformed[key]
            return spec.kind
        return None


# ------------------------------------------------------------------------------ garbling

_BAD_VALUES: tuple[Any, ...] = (
    "12",
    None,
    12,
    [],
    {"intValue": "12", "stringValue": 12},
    {"stateValue": {"agentId": None, "status": 4, "time": "yesterday"}},
    True,
    {"value": {}},
)


def garble(kind: str, body: Any, *, huge_bytes: int) -> bytes:
    """The bytes of `body` (an envelope or an OAuth reply) damaged the way `kind` says.

    `plain_error` is not handled here: it is an error, not a damaged reply.
    """
    if kind == "invalid_json":
        raw = _dump(body)
        # A proper prefix of a JSON object is never valid JSON.
        return raw[: max(1, len(raw) // 2)]
    if kind == "huge":
        padded = dict(body) if isinstance(body, dict) else {"body": body}
        padded["padding"] = "x" * huge_bytes
        return _dump(padded)
    if not isinstance(body, dict):
        return _dump([body])
    if kind == "wrong_shape":
        return _dump(_wrong_shape(body))
    if kind == "missing_fields":
        return _dump(_missing_fields(body))
    return _dump(_bad_values(body))


def _statistics(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    if not isinstance(data, dict):
        return []
    found = data.get("statistics")
    if isinstance(found, list):
        return [s for s in found if isinstance(s, dict)]
    single = data.get("statistic")
    return [single] if isinstance(single, dict) else []


def _wrong_shape(body: dict[str, Any]) -> Any:
    if "status" not in body:  # an OAuth reply
        return [body]
    out = dict(body)
    status = body.get("status")
    out["status"] = status.get("message", "OK") if isinstance(status, dict) else "OK"
    out["data"] = [body.get("data")]
    out["errors"] = {"errors": body.get("errors")}
    return out


def _missing_fields(body: dict[str, Any]) -> Any:
    out = json.loads(_dump(body))
    if "status" not in out:  # an OAuth reply
        out.pop("access_token", None)
        out.pop("token_type", None)
        return out
    stats = _statistics(out)
    if not stats:
        out["status"].pop("code", None)
        return out
    for stat in stats:
        stat.pop("value", None)
        stat.pop("timestamp", None)
    out["data"].pop("subscriptionId", None)
    out["data"].pop("operationId", None)
    return out


def _bad_values(body: dict[str, Any]) -> Any:
    out = json.loads(_dump(body))
    if "status" not in out:  # an OAuth reply
        out["expires_in"] = "soon"
        out["token_type"] = 1
        out["access_token"] = {"token": out.get("access_token")}
        return out
    out["status"]["code"] = str(out["status"].get("code"))
    for i, stat in enumerate(_statistics(out)):
        stat["value"] = _BAD_VALUES[i % len(_BAD_VALUES)]
        stat["timestamp"] = "not-a-time" if i % 2 == 0 else -1.5
        if "name" in stat:
            stat["name"] = 42
    return out


def _dump(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def plain_error(path: str, now_ms: int, message: str) -> bytes:
    """The non-envelope error body some servers send (Spring Boot's default error page)."""
    return _dump(
        {
            "timestamp": now_ms,
            "status": 500,
            "error": "Internal Server Error",
            "message": message,
            "path": path,
        }
    )


def status_text(status: int) -> str:
    """A short reason phrase for an injected status."""
    return STATUS_TEXT.get(status, "Error")
