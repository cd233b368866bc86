"""The simulator's HTTP app: the Statistics API v3 routes (auth, faults) on a `Simulator`.

The app's state is `simulator.py`, its admin routes `admin.py`, the envelopes and JSON
bodies every route shares `wire.py`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from statdash.sim import catalog, faults
from statdash.sim.admin import admin_routes
from statdash.sim.auth import API_KEY_MESSAGE, BEARER_MESSAGE, Sessions, set_cookie_header
from statdash.sim.config import SimConfig
from statdash.sim.simulator import Item, Simulator, Subscription, served_values
from statdash.sim.wire import (
    API,
    BadRequest,
    Json,
    Reply,
    envelope,
    is_api_path,
    item_error,
    json_response,
    read_body,
    read_json,
    render,
)

TOKEN_PATH = "/auth/v3/oauth/token"
VERBOSE_VALUES = ("INFO", "OFF")

# ------------------------------------------------------------------------ request parsing


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
        key = (want.object_type, want.object_id, want.name)
        computed = catalog.predefined(sim.model, want.name, want.object_type, want.object_id)
        return sim.pins.bind(key, computed)
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
    wanted = parse_peek_request(await read_json(request, sim.config.max_body_bytes))
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
    values = served_values(sub.items, sim.model.now_ms, verbose=verbose)
    data = {"operationId": sub.id, "subscriptionId": sub.id, "statistics": values}
    sim.notifier.peeked(sub.id, values)
    return _ok_or_partial(sim, path, data, sub.errors, sub.total, "opened")


async def subscribe(sim: Simulator, request: Request) -> Reply:
    """POST /subscriptions: open (or, for a repeated operationId, return) a subscription."""
    path = request.url.path
    verbose = _verbose(request)
    body = await read_json(request, sim.config.max_body_bytes)
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
    values = served_values(items, sim.model.now_ms, verbose=verbose)
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
    body = await read_json(request, sim.config.max_body_bytes)
    messages = body if isinstance(body, list) else [body]
    session = request.scope.get("state", {}).get("session", "")
    answered = await sim.notifier.handle(messages, session)
    return Reply(200, answered.messages, truncate=answered.truncate)


Handler = Callable[[Simulator, Request], Awaitable[Reply]]

# --------------------------------------------------------------------------- the pipeline


def _auth_failure(sim: Simulator, request: Request) -> Response | None:
    path = request.url.path
    if not sim.gate.api_key_ok(request.headers):
        return json_response(403, envelope(path, 403, sim.say(API_KEY_MESSAGE)))
    if not sim.gate.bearer_ok(request.headers):
        return json_response(
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
            return json_response(failed, envelope(path, failed, message))
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
            raw = render(reply.body)
            # A proper prefix of a JSON array is never valid JSON.
            return Response(
                raw[: max(1, len(raw) // 2)],
                status_code=reply.status,
                media_type="application/json",
                headers=reply.headers,
            )
        return json_response(reply.status, reply.body, reply.headers)

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
            return json_response(failed, oauth)
        try:
            raw = await read_body(request, sim.config.max_body_bytes)
        except BadRequest as exc:
            return json_response(
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
        return json_response(reply.status, answer, reply.headers)

    return endpoint


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
        return json_response(
            exc.status_code, envelope(path, exc.status_code, sim.say(message)), headers
        )

    async def crash(request: Request, exc: Exception) -> Response:
        # A simulator bug must still answer in the API's own shape.
        return json_response(500, envelope(request.url.path, 500, "Internal simulator error"))

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
        *admin_routes(sim),
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
