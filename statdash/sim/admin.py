"""The simulator's admin routes (/simulator/...): state, faults, the manual clock, and pins.

Not part of the Statistics API: tests, demos and benchmarks drive the simulator through
these. Answers use the API's envelope for errors (`wire.py`), so a client reads them alike.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from statdash.sim import catalog, faults
from statdash.sim.pins import PinError, PinKey, pin_sources
from statdash.sim.simulator import Simulator
from statdash.sim.wire import BadRequest, envelope, json_response, parse_json, read_body, read_json

MAX_ADVANCE_SECONDS = 31 * 24 * 3600.0


def admin_routes(sim: Simulator) -> list[BaseRoute]:
    """The /simulator/... routes of one simulator."""

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
        return json_response(200, body)

    async def get_faults(request: Request) -> Response:
        return json_response(200, sim.faults.to_json())

    async def set_faults(request: Request) -> Response:
        try:
            spec = await read_json(request, sim.config.max_body_bytes)
            shots = sim.faults.update(spec)
        except (BadRequest, faults.FaultSpecError) as exc:
            message = exc.message if isinstance(exc, BadRequest) else str(exc)
            return json_response(400, envelope(request.url.path, 400, message))
        if shots.drop_subscriptions:
            for subscription_id in list(sim.subscriptions):
                sim.close_subscription(subscription_id)
        if isinstance(shots.drop_session, str):
            sim.drop_session(shots.drop_session)
        elif shots.drop_session:
            sim.drop_session(None)
        if shots.revoke_tokens:
            sim.gate.revoke_all()
        return json_response(200, sim.faults.to_json())

    async def clear_faults(request: Request) -> Response:
        sim.faults.clear()
        return json_response(200, sim.faults.to_json())

    async def advance(request: Request) -> Response:
        path = request.url.path
        try:
            body = await read_json(request, sim.config.max_body_bytes)
        except BadRequest as exc:
            return json_response(400, envelope(path, 400, exc.message))
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE_SECONDS
        ):
            return json_response(
                400,
                envelope(
                    path, 400, f"'seconds' must be a number from 0 to {MAX_ADVANCE_SECONDS:.0f}"
                ),
            )
        sim.clock.advance(float(seconds))
        sim.sync()
        sim.notifier.poke()
        return json_response(200, {"sim_time": sim.model.now})

    async def pin(request: Request) -> Response:
        path = request.url.path
        try:
            body = await read_json(request, sim.config.max_body_bytes)
            key = _pin_key(body, with_value=True)
            sim.sync()
            pinned = sim.pins.pin(*key, body["value"])
        except BadRequest as exc:
            return json_response(exc.status, envelope(path, exc.status, exc.message))
        except PinError as exc:
            return json_response(exc.code, envelope(path, exc.code, exc.message))
        sim.notifier.touched(pin_sources(sim.model, pinned))
        return json_response(200, {"pins": sim.pins.to_json()})

    async def unpin(request: Request) -> Response:
        path = request.url.path
        try:
            raw = await read_body(request, sim.config.max_body_bytes)
            sim.sync()
            if raw.strip():
                key = _pin_key(parse_json(raw), with_value=False)
                sim.pins.unpin(key)
                released = [key]
            else:
                released = sim.pins.clear()
        except BadRequest as exc:
            return json_response(exc.status, envelope(path, exc.status, exc.message))
        except PinError as exc:
            return json_response(exc.code, envelope(path, exc.code, exc.message))
        for key in released:
            sim.notifier.touched(pin_sources(sim.model, key))
        return json_response(200, {"pins": sim.pins.to_json()})

    async def pins(request: Request) -> Response:
        return json_response(200, {"pins": sim.pins.to_json()})

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


def _pin_key(body: Any, *, with_value: bool) -> PinKey:
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
