"""What the dashboard screen shows through faults: the whole app, headless, on the simulator.

The app is built by `build_app` (the factory `statdash run` uses) with the layout's refresh
shortened, so a fault and its recovery take a second or two. Assertions read the status
line as rendered and the panels' stale marking, the way a supervisor sees them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from statdash.api.client import RetryPolicy, StatisticsClient
from statdash.layout.compile import compile_layout
from statdash.layout.formats import MISSING
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout
from statdash.live.session import Phase
from statdash.live.store import Batch
from statdash.sim.config import SimConfig
from statdash.sim.faults import MALFORMED_KINDS
from statdash.sim.runner import RunningSimulator
from statdash.ui.app import StatdashApp
from statdash.ui.launch import build_app
from statdash.ui.panels import TablePanel
from statdash.ui.widgets.status_bar import StatusBar
from tests.reliability.support import API_KEY
from tests.support.sim import (
    SIM_START,
    faults_in_force,
    open_subscriptions,
    serve,
    shared_simulator,
)
from tests.support.wait import until_async

# The app ticks (status line countdown, stale marking) once a second: faults must outlast it.
REFRESH = 0.4
LAYOUT = """
title: Faults
refresh: 1s
pages:
  - title: Floor
    widgets:
      - kind: agents
        title: Agents
        agents: [ana.silva, ben.novak, carla.ortiz]
        columns: [{stat: InboundCalls, label: Calls}, {stat: AverageHandlingTime, label: AHT}]
      - kind: queues
        title: Queues
        objects: [{queue: 8001@SIP_Switch}, {queue_group: QueueGroup_01}]
        columns: [{stat: CurrentNumberWaitingCalls, label: Waiting}, {stat: ServiceLevel}]
      - {kind: kpi, title: Service level, object: {queue: 8001@SIP_Switch}, stat: ServiceLevel}
"""


def fast_layout() -> CompiledLayout:
    """The test layout, polled every REFRESH seconds (below what a layout file may ask)."""
    return replace(compile_layout(load_layout_text(LAYOUT, file="faults.yaml")), refresh=REFRESH)


# One simulator for this module's apps, on a manual clock; the root `client` fixture (no
# client retries, as in production; faults cleared around each test) is a client of it.
simulator = shared_simulator(
    SimConfig(agents=20, queues=3, seed=5, clock="manual", start_time=SIM_START), advance=1800
)


@pytest.fixture
def client_api_key() -> str:
    """The root `client` fixture sends this module's key."""
    return API_KEY


@pytest.fixture(autouse=True)
def nothing_left_open(simulator: RunningSimulator) -> Iterator[None]:
    """Each test leaves no subscription open on the shared simulator (one that an earlier,
    failed test left is that test's error, not this one's)."""
    before = set(open_subscriptions(simulator))
    yield
    assert set(open_subscriptions(simulator)) - before == set()


def make_app(client: StatisticsClient) -> StatdashApp:
    # These faults are those of the poll path (peeks): push is off so every value is polled.
    return build_app(
        fast_layout(), client, server_label="simulator", handle_signals=False, updates="poll"
    )


def polled_after(app: StatdashApp, polls: int) -> Callable[[], bool]:
    """A condition: a good poll has come since the app had `polls` of them."""
    return lambda: app.controller.status.polls >= polls + 1


def status_line(app: StatdashApp) -> str:
    """The status line as rendered."""
    return app.query_one(StatusBar).render().plain


def calls_cell(app: StatdashApp) -> str:
    panel = next(p for p in app.query(TablePanel) if p.view.kind == "agents")
    cell = panel.table.get_cell("Agent:ana.silva", "c1")
    assert cell is not None
    return cell.text.plain.strip()


def stale_panels(app: StatdashApp) -> list[bool]:
    """The stale mark of every table panel."""
    return [panel.has_class("-stale") for panel in app.query(TablePanel)]


async def test_outage_shows_retrying_countdown_stale_values_then_live(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """While peeks fail the status line says 'retrying in Ns', panels keep their values marked
    stale; when the server answers again the screen is live and unmarked."""
    app = make_app(client)
    async with app.run_test(size=(120, 36)) as pilot:
        # Values reach the table through a message handled after the poll that brought them.
        await until_async(
            lambda: app.controller.status.polls >= 2 and calls_cell(app) not in ("", MISSING),
            pilot=pilot,
        )
        shown = calls_cell(app)
        assert shown not in ("", MISSING)
        simulator.set_faults(error_rate={"peek": 1.0}, error_status=503)
        # Stale marking comes with the once-a-second tick, the error count with each failed
        # poll: on a busy machine either may come first, so wait for the whole picture.
        await until_async(
            lambda: (
                all(stale_panels(app))
                and "retrying in" in status_line(app)
                and " errors" in status_line(app)
            ),
            pilot=pilot,
        )
        line = status_line(app)
        assert "↻ retrying in " in line and "HTTP 503" in line and "errors" in line
        assert calls_cell(app) == shown
        simulator.clear_faults()
        await until_async(lambda: app.controller.status.phase is Phase.LIVE, pilot=pilot)
        await until_async(
            lambda: not any(stale_panels(app)) and "● live" in status_line(app), pilot=pilot
        )
        assert calls_cell(app) == shown  # the manual clock did not move: same figure
        await pilot.press("q")
    assert app.return_code == 0


async def test_every_malformed_reply_is_counted_and_the_app_keeps_running(
    client: StatisticsClient, simulator: RunningSimulator
) -> None:
    """Each kind of garbled peek reply is counted on the status line; the app never crashes
    and is live again afterwards."""
    app = make_app(client)
    async with app.run_test(size=(120, 36)) as pilot:
        await until_async(lambda: app.controller.status.polls >= 1, pilot=pilot)
        expected = 0
        for kind in MALFORMED_KINDS:
            simulator.set_faults(malformed={"peek": {"kind": kind, "count": 1}})
            # A peek already in flight may be answered before the fault is read: wait for the
            # garbled reply itself, then for a good poll after it (polls counts only those).
            await until_async(
                lambda: "peek" not in faults_in_force(simulator)["malformed"], pilot=pilot
            )
            polls = app.controller.status.polls
            await until_async(polled_after(app, polls), pilot=pilot)
            expected += 0 if kind == "huge" else 1
            assert app.controller.status.error_count == expected, kind
            assert app.is_running
        await until_async(lambda: f"{expected} errors" in status_line(app), pilot=pilot)
        assert "● live" in status_line(app)
        await pilot.press("q")
    assert app.return_code == 0


async def test_values_of_unexpected_types_are_drawn_without_crashing(
    client: StatisticsClient,
) -> None:
    """Values of every odd shape and type, fed through the store to every panel, are drawn
    as something (never a crash), and the next good poll shows real figures again."""
    odd_values: list[object] = [
        "12",
        None,
        12,
        [],
        {"intValue": "12", "stringValue": 12},
        {"stateValue": {"agentId": None, "status": 4, "time": "yesterday"}},
        True,
        {"value": {}},
        {"intValue": 10**400},
        {"intValue": -1, "stringValue": "NaN"},
        {"stringValue": "Infinity"},
        {"intValue": 1e308, "stringValue": "1e308"},
        {
            "stateValue": {
                "status": "\x1b]52;c;aGk=\x07",
                "reason": "[@click=app.quit]x",
                "time": -(10**12),
            }
        },
        {"stateValue": {"status": "CallInbound", "time": 1e30}},
        [[[[[]]]]],
        "x" * 5000,
    ]
    app = make_app(client)
    async with app.run_test(size=(120, 36)) as pilot:
        await until_async(lambda: app.controller.status.polls >= 1, pilot=pilot)
        app.controller.pause()
        ids = [item.statistic_id for item in app.controller.plan.items]
        for round_number, raw in enumerate(odd_values):
            # The path a poll's values take: store ingest, then the bridge's message.
            ingested = app.controller.store.ingest(
                Batch.of((sid, raw, round_number) for sid in ids),
                now=time.monotonic(),
                wall=time.time(),
            )
            app.bridge.store_changed(ingested)
            await pilot.pause()
            assert app.is_running, raw
        app.controller.resume()
        await until_async(lambda: calls_cell(app).isdigit(), pilot=pilot)
        await pilot.press("q")
    assert app.return_code == 0


async def test_refused_credentials_show_failed_with_a_clear_message(
    simulator: RunningSimulator,
) -> None:
    """With an API key the server refuses, the status line says 'failed' and why, and the
    app keeps running without polling."""
    config = SimConfig(agents=5, queues=1, seed=1, clock="manual", api_key="the-right-key")
    with serve(config) as strict:
        async with StatisticsClient(
            strict.base_url, "a-wrong-key", retry=RetryPolicy(attempts=1)
        ) as wrong:
            app = build_app(fast_layout(), wrong, server_label="simulator", handle_signals=False)
            async with app.run_test(size=(160, 36)) as pilot:
                await until_async(lambda: app.controller.status.phase is Phase.FAILED, pilot=pilot)
                await until_async(lambda: "failed" in status_line(app), pilot=pilot)
                line = status_line(app)
                assert "✗ failed" in line and "refused the credentials (HTTP 403" in line
                assert "a-wrong-key" not in line and "the-right-key" not in line
                requests = strict.state()["requests"]
                await pilot.pause(4 * REFRESH)
                assert strict.state()["requests"] == requests
                assert app.is_running
                await pilot.press("q")
