"""The simulator's HTTP app: Statistics API v3 routes, envelopes, auth, faults and admin routes."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from statdash.sim import catalog, faults
from statdash.sim.auth import (
    API_KEY_MESSAGE,
    BEARER_MESSAGE,
    Gatekeeper,
    Sessions,
    set_cookie_header,
)
from statdash.sim.bayeux import Notifier, Watched
from statdash.sim.config import SimConfig
from statdash.sim.model import HOSTILE_STRINGS, ContactCenter

API = "/statistics/v3"
TOKEN_PATH = "/auth/v3/oauth/token"
VERBOSE_VALUES = ("INFO", "OFF")
MAX_ADVANCE_SECONDS = 31 * 24 * 3600.0

Json = dict[str, Any]


# ------------------------------------------------------------------------------ the clock


class SimClock:
    """Simulated time: start + wall time x time_scale (+ manual advances), or manual only."""

    def __init__(
        self,
        config: SimConfig,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = (
            config.start_time if config.start_time is not None else wall() + config.clock_skew
        )
        self.manual = config.clock == "manual"
        self.scale = config.time_scale
        self._monotonic = monotonic
        self._origin = monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """The current simulated time, epoch seconds."""
        if self.manual:
            return self.start + self._offset
        return self.start + (self._monotonic() - self._origin) * self.scale + self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (works in both modes)."""
        self._offset += seconds


# --------------------------------------------------------------------------- app state


@dataclass
class Item:
    """One opened statistic: its ids as the client sent them and how to compute it."""

    statistic_id: str
    object_id: str
    object_type: str
    name: str | None
    compute: catalog.Compute
    notify: catalog.Notification = catalog.IMMEDIATE
    sources: tuple[int, ...] = ()


@dataclass
class Subscription:
    """An open subscription, keyed by the client's operationId."""

    id: str
    items: list[Item]
    by_id: dict[str, Item]
    fingerprint: str
    errors: list[Json]
    total: int
    session: str | None


class BadRequest(Exception):
    """A request the API refuses as a whole (HTTP 400, or `status`)."""

    def __init__(self, message: str, problems: list[str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or [message]
        self.status = status


@dataclass
class Reply:
    """A handler's answer before rendering: HTTP status and JSON body."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    # Serve only the first half of the rendered body (a push reply that is not JSON).
    truncate: bool = False


class Simulator:
    """Everything one app holds: the model, its clock, subscriptions, auth, faults, counters."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = SimClock(config)
        self.model = ContactCenter(
            agents=config.agents,
            queues=config.queues,
            seed=config.seed,
            # A warm-up starts the floor earlier and runs it up to the clock's start.
            start=self.clock.start - config.warm_up,
            calls_per_hour=config.calls_per_hour,
            talk_mean=config.talk_mean,
            wrap_mean=config.wrap_mean,
            patience_mean=config.patience_mean,
            reasons=HOSTILE_STRINGS if config.hostile else None,
        )
        self.model.advance_to(self.clock.start)
        self.model.numeric_states = config.numeric_states
        self.subscriptions: dict[str, Subscription] = {}
        self.gate = Gatekeeper(config)
        self.sessions = Sessions()
        self.faults = faults.Faults(
            config.fault_seed if config.fault_seed is not None else config.seed
        )
        self.requests: Counter[str] = Counter()
        self.pins = catalog.Pins(self.model)
        self.notifier = Notifier(
            sync=self._sync_touched,
            now=lambda: self.model.now,
            hold=config.notification_hold,
            expiry=config.notification_expiry,
            faults=self.faults,
            requests=self.requests,
        )
        self._hostile_turn = 0

    def sync(self) -> None:
        """Bring the model up to the clock's now."""
        self.model.advance_to(self.clock.now())

    def say(self, message: str) -> str:
        """An error message as served: with a hostile tail when the simulator is hostile."""
        if not self.config.hostile:
            return message
        self._hostile_turn += 1
        return f"{message} {HOSTILE_STRINGS[self._hostile_turn % len(HOSTILE_STRINGS)]}"

    def _sync_touched(self) -> set[int]:
        self.sync()
        return catalog.touched_sources(self.model)

    def open_subscription(self, sub: Subscription) -> None:
        """Keep a new subscription, and let the push channel follow it."""
        self.subscriptions[sub.id] = sub
        session = sub.session or ""
        self.notifier.opened(
            sub.id,
            [
                Watched(sub.id, session, item.sources, item.notify, self._renderer(sub.id, item))
                for item in sub.items
            ],
        )

    def close_subscription(self, subscription_id: str) -> None:
        """Forget a subscription (a DELETE, or a fault that drops it)."""
        if self.subscriptions.pop(subscription_id, None) is not None:
            self.notifier.closed_subscription(subscription_id)

    def drop_session(self, session: str | None) -> None:
        """What a Stat Server restart does to a session (None: to every session).

        Its CometD clients are forgotten and its REST subscriptions deleted.
        """
        self.notifier.drop_session(session)
        for sub in list(self.subscriptions.values()):
            if session is None or sub.session == session:
                self.close_subscription(sub.id)

    def _renderer(self, subscription_id: str, item: Item) -> Callable[[], Json]:
        model = self.model

        def render() -> Json:
            [value] = _values([item], model.now_ms, verbose=True)
            value["subscriptionId"] = subscription_id
            return value

        return render


# ------------------------------------------------------------------------------ envelopes


def envelope(
    path: str,
    code: int,
    message: str,
    *,
    data: Any = None,
    errors: list[Json] | None = None,
    detail: Json | None = None,
) -> Json:
    """The API envelope: status, data, errors and path, always all four."""
    return {
        "status": {"code": code, "message": message, "detail": detail or {}},
        "data": data if data is not None else {},
        "errors": errors or [],
        "path": path,
    }


def item_error(code: int, message: str, detail: Json) -> Json:
    """One entry of `errors[]`: what failed and which item it was."""
    return {"status": {"code": code, "message": message, "detail": detail}}


def _render(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _render(body), status_code=status, media_type="application/json", headers=headers
    )


def _values(items: list[Item], timestamp: int, *, verbose: bool) -> list[Json]:
    # The hot path of a big peek: one dict per statistic, nothing else.
    if verbose:
        out = []
        for item in items:
            value: Json = {"statisticId": item.statistic_id}
            if item.name is not None:
                value["name"] = item.name
            value["objectId"] = item.object_id
            value["objectType"] = item.object_type
            value["timestamp"] = timestamp
            value["value"] = item.compute()
            out.append(value)
        return out
    return [
        {"statisticId": item.statistic_id, "timestamp": timestamp, "value": item.compute()}
        for item in items
    ]


# ------------------------------------------------------------------------ request parsing


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"Request body is larger than {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"Request body is larger than {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _read_json(request: Request, limit: int) -> Any:
    return _parse_json(await _read_body(request, limit))


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise BadRequest("Request body is empty; expected a JSON object")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BadRequest("Request body is not UTF-8 JSON") from None
    except RecursionError:
        raise BadRequest("Request body is not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None


def _verbose(request: Request) -> bool:
    values = request.query_params.getlist("verbose")
    if not values:
        return True
    if len(values) > 1:
        raise BadRequest("verbose is given more than once")
    if values[0] not in VERBOSE_VALUES:
        raise BadRequest(f"verbose must be INFO or OFF, got {values[0]!r}")
    return values[0] == "INFO"


def _statistics_list(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("Request body has no 'data' object")
    if "statistics" not in data:
        raise BadRequest("data.statistics is required")
    statistics = data["statistics"]
    if not isinstance(statistics, list):
        raise BadRequest("data.statistics must be a list")
    if not statistics:
        raise BadRequest("data.statistics is empty")
    return statistics


def _objects(
    statistics: list[Any], problems: list[str]
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(index, "statistics[i]", item) of each item that is a JSON object; others are problems."""
    for i, item in enumerate(statistics):
        where = f"statistics[{i}]"
        if isinstance(item, dict):
            yield i, where, item
        else:
            problems.append(f"{where} must be an object")


def _text_field(item: dict[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    if key not in item or item[key] is None:
        problems.append(f"{where}: '{key}' is required")
        return None
    value = item[key]
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' must be a non-empty string")
        return None
    return value


@dataclass(frozen=True)
class Wanted:
    """One requested statistic, shape-checked but not resolved."""

    statistic_id: str
    object_id: str
    object_type: str
    name: str | None
    definition: Json | None

    def detail(self, *, with_statistic_id: bool = True) -> Json:
        out: Json = {}
        if with_statistic_id:
            out["statisticId"] = self.statistic_id
        out["objectId"] = self.object_id
        out["objectType"] = self.object_type
        if self.name is not None:
            out["name"] = self.name
        return out


def parse_subscription_request(body: Any) -> tuple[str, list[Wanted]]:
    """operationId and items of a POST /subscriptions body; BadRequest names every problem."""
    statistics = _statistics_list(body)
    operation_id = body.get("operationId")
    problems: list[str] = []
    if operation_id is None:
        problems.append("operationId is required (a client-chosen unique string)")
    elif not isinstance(operation_id, str) or not operation_id.strip():
        problems.append("operationId must be a non-empty string")
    wanted: list[Wanted] = []
    seen: dict[str, int] = {}
    for i, where, item in _objects(statistics, problems):
        before = len(problems)
        statistic_id = _text_field(item, "statisticId", where, problems)
        object_id = _text_field(item, "objectId", where, problems)
        object_type = _text_field(item, "objectType", where, problems)
        has_name = item.get("name") is not None
        has_definition = item.get("definition") is not None
        name: str | None = None
        definition: Json | None = None
        if has_name == has_definition:
            problems.append(f"{where}: exactly one of 'name' or 'definition' is required")
        elif has_name:
            name = _text_field(item, "name", where, problems)
        elif not isinstance(item["definition"], dict):
            problems.append(f"{where}: 'definition' must be an object")
        else:
            definition = item["definition"]
        if statistic_id is not None:
            if statistic_id in seen:
                problems.append(f"duplicate statisticId '{statistic_id}' at {where}")
            else:
                seen[statistic_id] = i
        if len(problems) == before:
            assert statistic_id is not None and object_id is not None
            assert object_type is not None
            wanted.append(Wanted(statistic_id, object_id, object_type, name, definition))
    if problems:
        raise BadRequest(problems[0], problems)
    assert isinstance(operation_id, str)
    return operation_id, wanted


def parse_peek_request(body: Any) -> list[Wanted]:
    """Items of a get-statistic-ex body (predefined names only)."""
    statistics = _statistics_list(body)
    problems: list[str] = []
    wanted: list[Wanted] = []
    for i, where, item in _objects(statistics, problems):
        before = len(problems)
        object_id = _text_field(item, "objectId", where, problems)
        object_type = _text_field(item, "objectType", where, problems)
        if item.get("definition") is not None:
            problems.append(
                f"{where}: get-statistic-ex takes predefined statistics ('name'), not 'definition'"
            )
        name = _text_field(item, "name", where, problems)
        if len(problems) == before:
            assert object_id is not None and object_type is not None and name is not None
            wanted.append(Wanted(str(i), object_id, object_type, name, None))
    if problems:
        raise BadRequest(problems[0], problems)
    return wanted


def _fingerprint(body: Any) -> str:
    statistics = body["data"]["statistics"]
    ordered = sorted(statistics, key=lambda s: str(s.get("statisticId")))
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"))


def _split_ids(values: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in seen:
                seen.add(part)
                out.append(part)
    return out


# ------------------------------------------------------------------------ the operations


def _resolve(sim: Simulator, want: Wanted) -> catalog.Compute:
    if want.name is not None:
        return catalog.predefined(sim.model, want.name, want.object_type, want.object_id, sim.pins)
    assert want.definition is not None
    return catalog.adhoc(sim.model, want.definition, want.object_type, want.object_id)


def _ok_or_partial(
    sim: Simulator, path: str, data: Json, errors: list[Json], total: int, verb: str
) -> Reply:
    """200 with status 0, or status 2 with `errors[]` when some of `total` statistics failed."""
    if not errors:
        return Reply(200, envelope(path, 0, "OK", data=data))
    message = sim.say(f"{len(errors)} of {total} statistics could not be {verb}")
    return Reply(200, envelope(path, 2, message, data=data, errors=errors))


def _resolve_all(
    sim: Simulator, wanted: list[Wanted], *, with_statistic_id: bool
) -> tuple[list[tuple[Wanted, catalog.Compute]], list[Json]]:
    """Each wanted statistic with its computation, and an `errors[]` entry for each unknown."""
    resolved: list[tuple[Wanted, catalog.Compute]] = []
    errors: list[Json] = []
    for want in wanted:
        try:
            resolved.append((want, _resolve(sim, want)))
        except catalog.CatalogError as exc:
            detail = want.detail(with_statistic_id=with_statistic_id)
            errors.append(item_error(exc.code, sim.say(exc.message), detail))
    return resolved, errors


def _named_value(want: Wanted, timestamp: int, compute: catalog.Compute) -> Json:
    """A predefined statistic's value as get-statistic-ex and statistic-values serve it."""
    return {
        "name": want.name,
        "objectId": want.object_id,
        "objectType": want.object_type,
        "timestamp": timestamp,
        "value": compute(),
    }


async def get_statistic_ex(sim: Simulator, request: Request) -> Reply:
    """POST /operations/get-statistic-ex: current values of predefined statistics."""
    path = request.url.path
    wanted = parse_peek_request(await _read_json(request, sim.config.max_body_bytes))
    sim.sync()
    stamp = sim.model.now_ms
    resolved, errors = _resolve_all(sim, wanted, with_statistic_id=False)
    data = {"statistics": [_named_value(want, stamp, compute) for want, compute in resolved]}
    return _ok_or_partial(sim, path, data, errors, len(wanted), "read")


async def get_value(sim: Simulator, request: Request) -> Reply:
    """GET /statistic-values/{statisticName}: one predefined statistic of one object."""
    path = request.url.path
    name = request.path_params["name"]
    params = {}
    for key in ("objectId", "objectType"):
        value = request.query_params.get(key, "")
        if not value.strip():
            raise BadRequest(f"query parameter '{key}' is required")
        params[key] = value
    sim.sync()
    want = Wanted("", params["objectId"], params["objectType"], name, None)
    try:
        compute = _resolve(sim, want)
    except catalog.CatalogError as exc:
        detail = want.detail(with_statistic_id=False)
        return Reply(exc.code, envelope(path, exc.code, sim.say(exc.message), detail=detail))
    statistic = _named_value(want, sim.model.now_ms, compute)
    return Reply(200, envelope(path, 0, "OK", data={"statistic": statistic}))


def _subscription_reply(sim: Simulator, path: str, sub: Subscription, verbose: bool) -> Reply:
    values = _values(sub.items, sim.model.now_ms, verbose=verbose)
    data = {"operationId": sub.id, "subscriptionId": sub.id, "statistics": values}
    sim.notifier.peeked(sub.id, values)
    return _ok_or_partial(sim, path, data, sub.errors, sub.total, "opened")


async def subscribe(sim: Simulator, request: Request) -> Reply:
    """POST /subscriptions: open (or, for a repeated operationId, return) a subscription."""
    path = request.url.path
    verbose = _verbose(request)
    body = await _read_json(request, sim.config.max_body_bytes)
    operation_id, wanted = parse_subscription_request(body)
    fingerprint = _fingerprint(body)
    sim.sync()
    existing = sim.subscriptions.get(operation_id)
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise BadRequest(
                f"operationId '{operation_id}' is already used by a subscription with "
                "different statistics"
            )
        return _subscription_reply(sim, path, existing, verbose)
    refuse = sim.faults.refuse_subscriptions
    if refuse is not None:
        message = sim.say("Stat Server is not accepting new subscriptions (injected fault)")
        return Reply(503 if refuse == "http503" else 200, envelope(path, 503, message))
    resolved, errors = _resolve_all(sim, wanted, with_statistic_id=True)
    items = [
        Item(
            want.statistic_id,
            want.object_id,
            want.object_type,
            want.name,
            compute,
            catalog.notification(want.definition, want.name, sim.config.time_driven_frequency),
            catalog.sources(sim.model, want.object_type, want.object_id),
        )
        for want, compute in resolved
    ]
    sub = Subscription(
        operation_id,
        items,
        {i.statistic_id: i for i in items},
        fingerprint,
        errors,
        len(wanted),
        request.scope.get("state", {}).get("session"),
    )
    if items:
        sim.open_subscription(sub)
    return _subscription_reply(sim, path, sub, verbose)


async def peek(sim: Simulator, request: Request) -> Reply:
    """GET /subscriptions/{id}/statistic-values: current values of a subscription."""
    path = request.url.path
    verbose = _verbose(request)
    subscription_id = request.path_params["id"]
    sim.sync()
    sub = sim.subscriptions.get(subscription_id)
    if sub is None:
        message = sim.say(f"Subscription '{subscription_id}' not found")
        status = 404 if sim.faults.unknown_subscription_style == "http404" else 200
        return Reply(
            status, envelope(path, 404, message, detail={"subscriptionId": subscription_id})
        )
    requested = _split_ids(request.query_params.getlist("statisticIds"))
    items = sub.items
    errors: list[Json] = []
    if requested:
        items = []
        for statistic_id in requested:
            found = sub.by_id.get(statistic_id)
            if found is None:
                errors.append(
                    item_error(
                        404,
                        sim.say(f"Unknown statisticId '{statistic_id}'"),
                        {"statisticId": statistic_id},
                    )
                )
            else:
                items.append(found)
    values = _values(items, sim.model.now_ms, verbose=verbose)
    data = {"operationId": sub.id, "subscriptionId": sub.id, "statistics": values}
    # The peek gives the client what the push faults kept from it: nothing left to correct.
    sim.notifier.peeked(sub.id, values)
    return _ok_or_partial(sim, path, data, errors, len(requested), "read")


async def delete(sim: Simulator, request: Request) -> Reply:
    """DELETE /subscriptions/{id}: close it; fire-and-forget, always a success."""
    sim.close_subscription(request.path_params["id"])
    return Reply(200, envelope(request.url.path, 0, "OK"))


async def notifications(sim: Simulator, request: Request) -> Reply:
    """POST /notifications[/...]: the CometD long-polling channel."""
    body = await _read_json(request, sim.config.max_body_bytes)
    messages = body if isinstance(body, list) else [body]
    session = request.scope.get("state", {}).get("session", "")
    answered = await sim.notifier.handle(messages, session)
    return Reply(200, answered.messages, truncate=answered.truncate)


Handler = Callable[[Simulator, Request], Awaitable[Reply]]


# --------------------------------------------------------------------------- the pipeline


def is_api_path(path: str) -> bool:
    """Whether a path is under /statistics/v3 (where the gateway's rules apply)."""
    return path == API or path.startswith(API + "/")


def _auth_failure(sim: Simulator, request: Request) -> Response | None:
    path = request.url.path
    if not sim.gate.api_key_ok(request.headers):
        return _json_response(403, envelope(path, 403, sim.say(API_KEY_MESSAGE)))
    if not sim.gate.bearer_ok(request.headers):
        return _json_response(
            401,
            envelope(path, 401, sim.say(BEARER_MESSAGE)),
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return None


def _api(sim: Simulator, op: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an operation: count, stall, authorise, inject faults, run, garble, render."""

    async def endpoint(request: Request) -> Response:
        sim.requests[op] += 1
        path = request.url.path
        delay = sim.faults.latency(op)
        if delay > 0:
            await asyncio.sleep(delay)
        denied = _auth_failure(sim, request)
        if denied is not None:
            return denied
        kind = sim.faults.malformed_kind(op)
        if kind == "plain_error":
            sim.sync()
            body = faults.plain_error(path, sim.model.now_ms, sim.say("Unexpected server error"))
            return Response(body, status_code=500, media_type="application/json")
        failed = sim.faults.injected_error(op)
        if failed is not None:
            message = sim.say(f"{faults.status_text(failed)} (injected fault)")
            return _json_response(failed, envelope(path, failed, message))
        try:
            reply = await handler(sim, request)
        except BadRequest as exc:
            detail = {"problems": exc.problems} if len(exc.problems) > 1 else {}
            reply = Reply(
                exc.status, envelope(path, exc.status, sim.say(exc.message), detail=detail)
            )
        if kind is not None:
            raw = faults.garble(kind, reply.body, huge_bytes=sim.config.huge_bytes)
            return Response(
                raw, status_code=reply.status, media_type="application/json", headers=reply.headers
            )
        if reply.truncate:
            raw = _render(reply.body)
            # A proper prefix of a JSON array is never valid JSON.
            return Response(
                raw[: max(1, len(raw) // 2)],
                status_code=reply.status,
                media_type="application/json",
                headers=reply.headers,
            )
        return _json_response(reply.status, reply.body, reply.headers)

    return endpoint


def _token_endpoint(sim: Simulator) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sim.requests["token"] += 1
        delay = sim.faults.latency("token")
        if delay > 0:
            await asyncio.sleep(delay)
        kind = sim.faults.malformed_kind("token")
        if kind == "plain_error":
            sim.sync()
            body = faults.plain_error(
                request.url.path, sim.model.now_ms, sim.say("Unexpected server error")
            )
            return Response(body, status_code=500, media_type="application/json")
        failed = sim.faults.injected_error("token")
        if failed is not None:
            error = "temporarily_unavailable" if failed in (503, 504) else "server_error"
            oauth = {
                "error": error,
                "error_description": sim.say(f"{faults.status_text(failed)} (injected fault)"),
            }
            return _json_response(failed, oauth)
        try:
            raw = await _read_body(request, sim.config.max_body_bytes)
        except BadRequest as exc:
            return _json_response(
                exc.status, {"error": "invalid_request", "error_description": sim.say(exc.message)}
            )
        reply = sim.gate.token(request.headers, raw)
        answer = dict(reply.body)
        if "error_description" in answer:
            answer["error_description"] = sim.say(answer["error_description"])
        if kind is not None:
            garbled = faults.garble(kind, answer, huge_bytes=sim.config.huge_bytes)
            return Response(
                garbled,
                status_code=reply.status,
                media_type="application/json",
                headers=reply.headers,
            )
        return _json_response(reply.status, answer, reply.headers)

    return endpoint


# ----------------------------------------------------------------------------- admin routes


def _admin(sim: Simulator) -> list[BaseRoute]:
    async def state(request: Request) -> Response:
        sim.sync()
        sim.notifier.expire()
        model = sim.model
        body = {
            "open_subscriptions": len(sim.subscriptions),
            "open_statistics": sum(len(s.items) for s in sim.subscriptions.values()),
            "subscriptions": {
                sid: [i.statistic_id for i in s.items] for sid, s in sim.subscriptions.items()
            },
            "objects": {
                catalog.AGENT: list(model.ids.agents),
                catalog.GROUP_AGENTS: list(model.ids.agent_groups),
                catalog.QUEUE: list(model.ids.queues),
                catalog.ROUTE_POINT: list(model.ids.route_points),
                catalog.GROUP_QUEUES: list(model.ids.queue_groups),
            },
            "group_members": {
                model.ids.agent_groups[g.index]: [model.agents[i].id for i in g.members]
                for g in model.groups
            },
            "group_queues": {
                model.ids.agent_groups[g.index]: [model.ids.queues[q] for q in g.queues]
                for g in model.groups
            },
            "queue_group_members": {
                model.ids.queue_groups[k]: [model.ids.queues[q] for q in qs]
                for k, qs in enumerate(model.queue_groups)
            },
            "sim_time": model.now,
            "clock": sim.config.clock,
            "sessions": sim.sessions.issued,
            "tokens_issued": sim.gate.issued,
            "requests": dict(sim.requests),
            "cometd_clients": len(sim.notifier.clients),
            "dropped_updates": sim.notifier.dropped_updates,
            "pins": sim.pins.to_json(),
            "status_counts": model.status_counts(),
        }
        return _json_response(200, body)

    async def get_faults(request: Request) -> Response:
        return _json_response(200, sim.faults.to_json())

    async def set_faults(request: Request) -> Response:
        try:
            spec = await _read_json(request, sim.config.max_body_bytes)
            shots = sim.faults.update(spec)
        except (BadRequest, faults.FaultSpecError) as exc:
            message = exc.message if isinstance(exc, BadRequest) else str(exc)
            return _json_response(400, envelope(request.url.path, 400, message))
        if shots.drop_subscriptions:
            for subscription_id in list(sim.subscriptions):
                sim.close_subscription(subscription_id)
        if isinstance(shots.drop_session, str):
            sim.drop_session(shots.drop_session)
        elif shots.drop_session:
            sim.drop_session(None)
        if shots.revoke_tokens:
            sim.gate.revoke_all()
        return _json_response(200, sim.faults.to_json())

    async def clear_faults(request: Request) -> Response:
        sim.faults.clear()
        return _json_response(200, sim.faults.to_json())

    async def advance(request: Request) -> Response:
        path = request.url.path
        try:
            body = await _read_json(request, sim.config.max_body_bytes)
        except BadRequest as exc:
            return _json_response(400, envelope(path, 400, exc.message))
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE_SECONDS
        ):
            return _json_response(
                400,
                envelope(
                    path, 400, f"'seconds' must be a number from 0 to {MAX_ADVANCE_SECONDS:.0f}"
                ),
            )
        sim.clock.advance(float(seconds))
        sim.sync()
        sim.notifier.poke()
        return _json_response(200, {"sim_time": sim.model.now})

    async def pin(request: Request) -> Response:
        path = request.url.path
        try:
            body = await _read_json(request, sim.config.max_body_bytes)
            key = _pin_key(body, with_value=True)
            sim.sync()
            pinned = sim.pins.pin(*key, body["value"])
        except BadRequest as exc:
            return _json_response(exc.status, envelope(path, exc.status, exc.message))
        except catalog.PinError as exc:
            return _json_response(exc.code, envelope(path, exc.code, exc.message))
        sim.notifier.touched(catalog.pin_sources(sim.model, pinned))
        return _json_response(200, {"pins": sim.pins.to_json()})

    async def unpin(request: Request) -> Response:
        path = request.url.path
        try:
            raw = await _read_body(request, sim.config.max_body_bytes)
            sim.sync()
            if raw.strip():
                key = _pin_key(_parse_json(raw), with_value=False)
                sim.pins.unpin(key)
                released = [key]
            else:
                released = sim.pins.clear()
        except BadRequest as exc:
            return _json_response(exc.status, envelope(path, exc.status, exc.message))
        except catalog.PinError as exc:
            return _json_response(exc.code, envelope(path, exc.code, exc.message))
        for key in released:
            sim.notifier.touched(catalog.pin_sources(sim.model, key))
        return _json_response(200, {"pins": sim.pins.to_json()})

    async def pins(request: Request) -> Response:
        return _json_response(200, {"pins": sim.pins.to_json()})

    return [
        Route("/simulator/state", state, methods=["GET"]),
        Route("/simulator/pin", pins, methods=["GET"]),
        Route("/simulator/pin", pin, methods=["POST"]),
        Route("/simulator/pin", unpin, methods=["DELETE"]),
        Route("/simulator/faults", get_faults, methods=["GET"]),
        Route("/simulator/faults", set_faults, methods=["POST"]),
        Route("/simulator/faults", clear_faults, methods=["DELETE"]),
        Route("/simulator/advance", advance, methods=["POST"]),
    ]


_PIN_KEYS = ("objectType", "objectId", "name")


def _pin_key(body: Any, *, with_value: bool) -> catalog.PinKey:
    """(objectType, objectId, name) of a pin body; BadRequest naming what is missing."""
    if not isinstance(body, dict):
        raise BadRequest('body must be a JSON object: {"objectType", "objectId", "name", "value"}')
    wanted = (*_PIN_KEYS, "value") if with_value else _PIN_KEYS
    unknown = [k for k in body if k not in (*_PIN_KEYS, "value")]
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r} (fields: {', '.join(wanted)})")
    missing = [k for k in wanted if k not in body]
    if missing:
        raise BadRequest(f"'{missing[0]}' is required (fields: {', '.join(wanted)})")
    for key in _PIN_KEYS:
        if not isinstance(body[key], str) or not body[key].strip():
            raise BadRequest(f"'{key}' must be a non-empty string")
    return body["objectType"], body["objectId"], body["name"]


# ------------------------------------------------------------------------ cookies, errors


class SessionCookies:
    """ASGI middleware: give every API response a STATISTICS_SESSIONID unless it has one."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        cookies = "; ".join(
            value.decode("latin-1") for key, value in scope["headers"] if key == b"cookie"
        )
        session, new = self.sessions.resolve(cookies)
        scope.setdefault("state", {})["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if new and message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"set-cookie", set_cookie_header(session))]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _error_handlers(sim: Simulator) -> dict[Any, Callable[[Request, Exception], Any]]:
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path
        if is_api_path(path):
            sim.requests["unknown"] += 1
            denied = _auth_failure(sim, request)
            if denied is not None:
                return denied
        if exc.status_code == 405:
            message = f"Method {request.method} is not allowed for {path}"
        elif exc.status_code == 404:
            message = f"No such resource: {request.method} {path}"
        else:
            message = str(exc.detail)
        headers = dict(exc.headers or {})
        return _json_response(
            exc.status_code, envelope(path, exc.status_code, sim.say(message)), headers
        )

    async def crash(request: Request, exc: Exception) -> Response:
        # A simulator bug must still answer in the API's own shape.
        return _json_response(500, envelope(request.url.path, 500, "Internal simulator error"))

    return {HTTPException: http_error, Exception: crash}


def create_app(config: SimConfig | None = None) -> Starlette:
    """The simulator as an ASGI app; `app.state.simulator` holds its live state."""
    sim = Simulator(config or SimConfig())
    routes: list[BaseRoute] = [
        Route(
            f"{API}/operations/get-statistic-ex",
            _api(sim, "get_statistic_ex", get_statistic_ex),
            methods=["POST"],
        ),
        Route(
            f"{API}/statistic-values/{{name}}", _api(sim, "get_value", get_value), methods=["GET"]
        ),
        Route(f"{API}/subscriptions", _api(sim, "subscribe", subscribe), methods=["POST"]),
        Route(
            f"{API}/subscriptions/{{id}}/statistic-values", _api(sim, "peek", peek), methods=["GET"]
        ),
        Route(f"{API}/subscriptions/{{id}}", _api(sim, "delete", delete), methods=["DELETE"]),
        Route(f"{API}/notifications", _api(sim, "notifications", notifications), methods=["POST"]),
        Route(
            f"{API}/notifications/{{kind:path}}",
            _api(sim, "notifications", notifications),
            methods=["POST"],
        ),
        Route(TOKEN_PATH, _token_endpoint(sim), methods=["POST"]),
        *_admin(sim),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SessionCookies, sessions=sim.sessions)],
        exception_handlers=_error_handlers(sim),
    )
    # A redirect to the slash-less path would be a body that is not an envelope; the real
    # service answers 404 there too.
    app.router.redirect_slashes = False
    app.state.simulator = sim
    return app
