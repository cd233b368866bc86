"""Shared pieces of the layout tests: hypothesis profiles and small layout builders."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ROOT / "layouts"
SHIPPED = ("demo", "supervisor", "floor", "wallboard")

# Applied to the layout property tests only (a global profile would change other suites):
# a quick run by default, e.g. STATDASH_LAYOUT_EXAMPLES=2000 for a long one.
LAYOUT_SETTINGS = settings(
    max_examples=int(os.environ.get("STATDASH_LAYOUT_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MINIMAL = """\
title: Minimal
pages:
  - widgets:
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: Current_In_Queue
"""
