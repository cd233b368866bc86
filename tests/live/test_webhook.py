"""Tests for statdash.live.alerts.webhook: alerts posted as JSON to a real loopback server,
retried, bounded, and the URL (a secret) never said, logged or printed."""

from __future__ import annotations

import json
import logging
import socket
import zlib
from pathlib import Path

import pytest

from statdash.api.retry import Backoff
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.problems import SourceLocation
from statdash.layout.views import AlertView, RowObject, WebhookAction
from statdash.live.alerts.actions import AlertActions, alert_json, alert_line
from statdash.live.alerts.book import Alert, AlertEvent, AlertState
from statdash.live.alerts.webhook import WebhookSender, webhook_problems
from statdash.live.recordings.recorder import _layout_blob
from tests.support.receiver import receiver

QUEUE = RowObject("8001@SIP_Switch", "Queue", "Sales")
SECRET = "s3cr3t-token"
HERE = SourceLocation("layout.yaml", 9, 17)


def hook(url: str | None = None, env: str | None = None) -> WebhookAction:
    return WebhookAction(url, env, 5.0, HERE)


def event(action: WebhookAction, kind: str = "raised") -> AlertEvent:
    rule = AlertView(
        name="Backlog",
        level="alarm",
        hold=0,
        clear_after=0,
        repeat=0,
        quiet=False,
        actions=(action,),
        targets=(),
        location=SourceLocation("layout.yaml", 4, 5),
    )
    alert = Alert(("Backlog", "Queue", QUEUE.id), rule, QUEUE, AlertState.RAISED, 7.0, 1.7e9)
    return AlertEvent(kind, alert, 1.7e9 + 5)  # type: ignore[arg-type]


class Sleeps:
    """An asyncio.sleep that waits for nothing and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def sender(said: list[str], sleeps: Sleeps | None = None, **limits: int) -> WebhookSender:
    return WebhookSender(
        say=said.append,
        sleep=sleeps or Sleeps(),
        backoff=Backoff(base=1.0, cap=8.0, jitter="none"),
        **limits,  # type: ignore[arg-type]
    )


async def test_a_webhook_gets_the_commands_json_and_a_text_line() -> None:
    """The body is the JSON a command reads on stdin plus `text`, the alert's one line."""
    said: list[str] = []
    async with receiver() as server:
        action = hook(server.url)
        actions = AlertActions(terminal=None, say=said.append, webhooks=sender(said))
        raised = event(action)
        actions.run(raised)
        await actions.aclose()
    assert said == []
    [(path, body)] = server.posts
    assert path.endswith(SECRET)
    assert body == {"text": alert_line(raised), **json.loads(alert_json(raised))}
    assert body["event"] == "raised" and body["text"].startswith("ALARM raised: Backlog")
    assert server.headers[0]["content-type"] == "application/json"


async def test_a_failing_server_is_tried_three_times_then_given_up_in_one_line(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """500, 503, 502: three attempts 1s and 2s apart, then one line naming the host only;
    the URL is in no message, log record or output, httpx's own request lines included."""
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    sleeps = Sleeps()
    async with receiver([500, 503, 502]) as server:
        posting = sender(said, sleeps)
        posting.post(hook(server.url), event(hook(server.url)), b'{"event": "raised"}', "ALARM")
        await posting.aclose()
    host = server.url.split("/")[2]
    assert len(server.posts) == 3
    assert sleeps.asked == [1.0, 2.0]
    assert said == [
        f"alert webhook to {host} failed after 3 attempts (HTTP 502); gave up on the raised"
        f" event of 'Backlog' on 8001@SIP_Switch"
    ]
    out = capsys.readouterr()
    everything = " ".join([*said, caplog.text, out.out, out.err])
    assert SECRET not in everything and "/services/" not in everything


async def test_a_refusal_is_final_and_a_dead_server_is_retried() -> None:
    """A 404 is not tried again; a port nobody listens on is tried three times."""
    said: list[str] = []
    async with receiver([404]) as server:
        posting = sender(said)
        posting.post(hook(server.url), event(hook(server.url)), b"{}", "ALARM")
        await posting.aclose()
    assert len(server.posts) == 1
    assert said[-1].endswith(
        "failed after 1 attempt (HTTP 404); gave up on the raised event"
        " of 'Backlog' on 8001@SIP_Switch"
    )
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{free.getsockname()[1]}/{SECRET}"
    sleeps = Sleeps()
    posting = sender(said, sleeps)
    posting.post(hook(dead), event(hook(dead)), b"{}", "ALARM")
    await posting.aclose()
    assert "failed after 3 attempts (could not post (ConnectError))" in said[-1]
    assert sleeps.asked == [1.0, 2.0]
    assert all(SECRET not in line for line in said)


async def test_posts_beyond_the_queue_are_dropped_said_once_and_counted() -> None:
    """With room for two, five posts at once send two; the drop is said once for the burst
    and counted when the queue takes a post again."""
    said: list[str] = []
    async with receiver() as server:
        posting = sender(said, max_concurrent=1, queue_limit=2)
        for _ in range(5):
            posting.post(hook(server.url), event(hook(server.url)), b"{}", "ALARM")
        assert said == [
            "alert webhooks: 2 posts are waiting; dropped the raised event of 'Backlog' on"
            " 8001@SIP_Switch (and will drop more until they drain)"
        ]
        await posting.aclose()
        assert len(server.posts) == 2
        posting.post(hook(server.url), event(hook(server.url)), b"{}", "ALARM")
        await posting.aclose()
    assert said[1] == "alert webhooks: dropped 3 posts while too many waited"
    assert len(server.posts) == 3


def test_start_refuses_an_unset_variable_and_plain_http_to_another_host() -> None:
    """One located line each: the variable unset, or http:// to a remote host without
    --allow-http (loopback is fine); the URL itself is never in the line."""
    rules = [event(hook(env="SLACK_WEBHOOK_URL")).alert.rule]
    assert webhook_problems(rules, {}, allow_http=False) == [
        "layout.yaml:9:17: webhook: the environment variable SLACK_WEBHOOK_URL is not set;"
        " export it with the webhook's URL"
    ]
    remote = {"SLACK_WEBHOOK_URL": f"http://chat.example.com/{SECRET}"}
    [line] = webhook_problems(rules, remote, allow_http=False)
    assert line == (
        "layout.yaml:9:17: webhook (from $SLACK_WEBHOOK_URL): refusing to post alerts over"
        " plain http to chat.example.com: use https://, or --allow-http"
    )
    assert webhook_problems(rules, remote, allow_http=True) == []
    assert (
        webhook_problems(rules, {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/x"}, allow_http=False)
        == []
    )
    [bad] = webhook_problems(rules, {"SLACK_WEBHOOK_URL": f"ftp://x/{SECRET}"}, allow_http=False)
    assert SECRET not in bad and "must start with https://" in bad
    assert SECRET not in repr(hook(f"https://hooks.slack.com/{SECRET}"))


LAYOUT = f"""\
title: Hooks
statistics:
  waiting: {{name: CurrentNumberWaitingCalls}}
alerts:
  - name: Backlog
    when: "waiting > 5"
    actions: [{{webhook: "https://hooks.slack.com/services/{SECRET}"}}]
pages:
  - widgets:
      - {{kind: kpi, object: {{queue: 8001@SIP_Switch}}, stat: $waiting}}
"""


def test_a_recording_keeps_no_webhook_url_and_still_loads(tmp_path: Path) -> None:
    """The layout text a recording stores has a placeholder where the URL was, and loads."""
    layout = compile_layout(load_layout_text(LAYOUT, file="hooks.yaml"))
    stored = json.loads(zlib.decompress(_layout_blob(layout, tmp_path / "r.sqlite")))
    assert SECRET not in stored["text"]
    again = compile_layout(load_layout_text(stored["text"], file="hooks.yaml"))
    action = again.alerts[0].actions[0]
    assert isinstance(action, WebhookAction) and action.url == "https://webhook.invalid/redacted"


def test_a_bad_url_in_the_layout_is_located_without_repeating_it() -> None:
    """A webhook URL that is not http(s) is a located problem that does not show it."""
    from statdash.layout.problems import LayoutError

    with pytest.raises(LayoutError) as caught:
        load_layout_text(LAYOUT.replace("https://hooks", "hxxps://hooks"), file="hooks.yaml")
    [problem] = [str(p) for p in caught.value.problems]
    assert problem == (
        "hooks.yaml:7:25: alerts[0].actions[0].webhook: the webhook URL must start with"
        " https:// (or http://) and name a host"
    )
