"""Alerts that leave the terminal: a rule's `{webhook: URL}` action posts the alert as JSON.

The body is the JSON a `{command: ...}` action reads on stdin (`actions.alert_json`), with a
top-level `text` first, the one-line summary (`ALARM raised: Backlog on Sales ... = 7`) that
Slack, Teams and most chat tools show. Every event is posted (raised, repeated, acknowledged,
cleared: the JSON's `event` says which), like a command.

Posting never blocks the screen or the data path: `post()` only queues. A bounded queue
(`QUEUE_LIMIT`) feeds at most `MAX_CONCURRENT` posts in flight; a post that finds the queue
full is dropped, said once for the burst and counted when the queue has room again. A post
that fails (no connection, a timeout, a 408, 429 or 5xx) is tried again after the house
backoff (`statdash.api.retry.Backoff`: 1s, then 2s; a `Retry-After` up to 8s wins), at most
`ATTEMPTS` times in all, then given up with one line. Other answers (a 4xx) are final.

The URL is a secret (chat tools put their token in its path): no message, log line or
`repr` holds it. A webhook is named by its host (`webhook to hooks.slack.com`), and httpx's
own request log lines, which carry the full URL, are dropped for webhook URLs. It may come
from the environment (`{webhook: {env: SLACK_WEBHOOK_URL}}`), read when the command starts
(`webhook_problems` refuses an unset variable, or plain http to a host that is not this
computer without `--allow-http`, the rule the API's URL follows) and again at each post.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from statdash.api.retry import Backoff
from statdash.api.settings import is_loopback
from statdash.layout.validation import webhook_url_problem
from statdash.layout.views import AlertView, WebhookAction
from statdash.live.alerts.book import AlertEvent
from statdash.live.waking import finish_or_cancel
from statdash.text import clean

log = logging.getLogger("statdash.alerts")

ATTEMPTS = 3
BACKOFF = Backoff(base=1.0, cap=8.0, jitter="none")
MAX_CONCURRENT = 4
QUEUE_LIMIT = 100
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

Say = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]


def webhook_label(action: WebhookAction, url: str | None) -> str:
    """How messages name a webhook: by its host, or by its variable before it is read."""
    if url is not None:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        with contextlib.suppress(ValueError):
            if parts.port:
                host = f"{host}:{parts.port}"
        return f"webhook to {host}"
    return f"webhook from ${action.env}"


def webhook_url(action: WebhookAction, environ: Mapping[str, str]) -> str | None:
    """The URL to post to: the layout's, or the variable's (None when it is unset or empty)."""
    if action.url is not None:
        return action.url
    assert action.env is not None
    return environ.get(action.env) or None


def url_problem(url: str, *, allow_http: bool) -> str | None:
    """Why `url` may not be posted to (never repeating it), or None."""
    wrong = webhook_url_problem(url)
    if wrong is not None:
        return wrong
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme == "http" and not is_loopback(host) and not allow_http:
        # The same rule as the server's URL: the alert (and the URL's token) in the clear
        # over the network only when the user says so.
        return f"refusing to post alerts over plain http to {host}: use https://, or --allow-http"
    return None


def webhook_problems(
    rules: Iterable[AlertView], environ: Mapping[str, str] | None = None, *, allow_http: bool
) -> list[str]:
    """One located line per webhook that cannot be posted to as things stand: an unset
    variable, a URL from the environment that is not one, plain http without --allow-http."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    seen: set[WebhookAction] = set()
    for rule in rules:
        for action in rule.actions:
            if not isinstance(action, WebhookAction) or action in seen:
                continue
            seen.add(action)
            url = webhook_url(action, env)
            if url is None:
                problems.append(
                    f"{action.location}: webhook: the environment variable {action.env} is not"
                    " set; export it with the webhook's URL"
                )
                continue
            wrong = url_problem(url, allow_http=allow_http)
            if wrong is not None:
                source = f" (from ${action.env})" if action.env else ""
                problems.append(f"{action.location}: webhook{source}: {wrong}")
    return problems


_POSTING: contextvars.ContextVar[bool] = contextvars.ContextVar("webhook_posting", default=False)
"""True inside a webhook post (each worker task has its own context)."""


class _HideWebhookRequests(logging.Filter):
    """Drops httpx's log records made while a webhook is posted (`HTTP Request: POST
    https://...` names the whole URL). Matched by the task, not by the text: httpx may write
    the URL normalised (host lower-cased, path re-encoded), which a text match would miss."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _POSTING.get()


_HIDDEN = _HideWebhookRequests()


@dataclass(frozen=True, slots=True)
class _Post:
    action: WebhookAction
    body: bytes
    what: str
    """`raised event of 'Backlog' on 8001@SIP_Switch`: what a message says was lost."""


class WebhookSender:
    """Queues posts and sends them from a few tasks, on the running event loop."""

    def __init__(
        self,
        *,
        say: Say,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff = BACKOFF,
        attempts: int = ATTEMPTS,
        max_concurrent: int = MAX_CONCURRENT,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        """`say` tells the user a post was given up or dropped; `sleep` and `backoff` are
        injectable so tests need not wait."""
        self._say = say
        self._environ = os.environ if environ is None else environ
        self._sleep = sleep
        self._backoff = backoff
        self._attempts = attempts
        self._max_concurrent = max_concurrent
        self._queue: asyncio.Queue[_Post] = asyncio.Queue(queue_limit)
        self._workers: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._dropped = 0

    def post(self, action: WebhookAction, event: AlertEvent, record: bytes, text: str) -> None:
        """Queue the post of `event`: `record` is the command's JSON, `text` the one-line
        summary."""
        alert = event.alert
        rule, where = clean(alert.rule.name, 80), clean(alert.object.id, 80)
        what = f"{event.kind} event of {rule!r} on {where}"
        payload = json.loads(record)
        if payload.get("why"):
            text += f" ({payload['why']})"
        body = json.dumps({"text": text, **payload}, ensure_ascii=False).encode()
        try:
            self._queue.put_nowait(_Post(action, body, what))
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1:
                self._say(
                    f"alert webhooks: {self._queue.maxsize:,} posts are waiting; dropped the"
                    f" {what} (and will drop more until they drain)"
                )
            return
        if self._dropped:
            self._say(f"alert webhooks: dropped {self._dropped:,} posts while too many waited")
            self._dropped = 0
        # A worker that found the queue empty is done, though not yet discarded.
        if sum(not task.done() for task in self._workers) < self._max_concurrent:
            task = asyncio.get_running_loop().create_task(self._work())
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        # Each worker ends when the queue is empty, so an idle dashboard holds no tasks.
        while not self._queue.empty():
            item = self._queue.get_nowait()
            try:
                await self._deliver(item)
            finally:
                self._queue.task_done()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            logging.getLogger("httpx").addFilter(_HIDDEN)
            # No redirects: a 3xx could send the alert on to a host nobody chose.
            self._client = httpx.AsyncClient(follow_redirects=False)
        return self._client

    async def _deliver(self, item: _Post) -> None:
        action = item.action
        url = webhook_url(action, self._environ)
        label = webhook_label(action, url)
        if url is None:
            self._say(f"alert {label}: the variable is not set; the {item.what} was not posted")
            return
        _POSTING.set(True)
        why = ""
        for attempt in range(1, self._attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._http().post(
                    url,
                    content=item.body,
                    headers={"content-type": "application/json"},
                    timeout=action.timeout,
                )
            except httpx.TimeoutException:
                why = f"no answer within {action.timeout:g}s"
            except httpx.HTTPError as error:
                # The exception's text can hold the URL: only its kind is said.
                why = f"could not post ({type(error).__name__})"
            else:
                if response.is_success:
                    return
                why = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
                retry_after = _retry_after(response.headers.get("retry-after"))
            if attempt < self._attempts:
                await self._sleep(self._backoff.delay(attempt, retry_after))
        self._say(
            f"alert {label} failed after {attempt} attempt{'s' if attempt > 1 else ''}"
            f" ({why}); gave up on the {item.what}"
        )

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let queued posts go out within `timeout`, then stop the rest and close the client."""
        pending = set(self._workers)
        if pending:
            await finish_or_cancel(pending, timeout)
            left = self._queue.qsize()
            if left:
                self._say(f"alert webhooks: stopped with {left:,} posts not sent")
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _retry_after(value: str | None) -> float | None:
    """A `Retry-After` in seconds (the HTTP-date form is not worth honouring here)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None
