"""The simulator's wire helpers, shared by its API and admin routes: envelopes, JSON in and out.

One place for what every route answers with (the API envelope, a JSON response) and reads
(a size-limited body, strict JSON), and for `BadRequest`, the one way a route refuses a
request as a whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

API = "/statistics/v3"

Json = dict[str, Any]


def is_api_path(path: str) -> bool:
    """Whether a path is under /statistics/v3 (where the gateway's rules apply)."""
    return path == API or path.startswith(API + "/")


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


def render(body: Any) -> bytes:
    """A JSON body as served: compact, UTF-8, and never NaN or Infinity."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response of `body`."""
    return Response(
        render(body), status_code=status, media_type="application/json", headers=headers
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; BadRequest 413 past `limit` bytes (declared or streamed)."""
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


async def read_json(request: Request, limit: int) -> Any:
    """The request body as strict JSON (see `parse_json`)."""
    return parse_json(await read_body(request, limit))


def parse_json(raw: bytes) -> Any:
    """Strict JSON (no NaN or Infinity); BadRequest saying what is wrong."""
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
