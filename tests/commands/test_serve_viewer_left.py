"""`statdash serve`: a viewer who leaves before the dashboard's first values is logged as
leaving, not as a server that was never reached (issue 22)."""

from __future__ import annotations

import inspect

from statdash.ui import start
from statdash.web.front import NO_ANSWER_YET, ViewerLog

NEVER_REACHED = (
    "statdash run: never reached http://127.0.0.1:8080: no answer before the dashboard closed;"
    " nothing was shown"
)


def test_a_dashboard_stopped_because_its_viewer_left_is_the_viewer_leaving() -> None:
    """The dashboard's "never reached ...: no answer" after its browser left is not logged;
    the viewer is said to have left before the first values."""
    said: list[str] = []
    log = ViewerLog(said.append, lambda: 41)
    log.leaving = True
    log.heard(NEVER_REACHED)
    log.left(0)
    assert said == [
        "viewer left before its dashboard's first values (dashboard pid 41 ended; 0 now)"
    ]


def test_a_real_failure_is_still_said() -> None:
    """A dashboard that never reached the server while its viewer watched says so, and one
    stopped with a failure it met (not merely no answer yet) says that too."""
    said: list[str] = []
    log = ViewerLog(said.append, lambda: 41)
    log.heard(NEVER_REACHED)
    log.leaving = True
    refused = "statdash run: never reached http://x: cannot reach the server: refused"
    log.heard(refused)
    log.left(1)
    assert said == [
        f"viewer 41: {NEVER_REACHED}",
        f"viewer 41: {refused}",
        "viewer left (dashboard pid 41 ended; 1 now)",
    ]


def test_the_words_are_the_dashboards() -> None:
    """The words serve listens for are the ones the dashboard writes."""
    assert f'"{NO_ANSWER_YET}"' in inspect.getsource(start)
