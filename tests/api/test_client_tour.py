"""The usage example in docs/examples runs against the simulator and cleans up after itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from statdash.sim.runner import RunningSimulator

TOUR = Path(__file__).resolve().parents[2] / "docs" / "examples" / "client_tour.py"


def load_tour() -> ModuleType:
    """Import the example script as a module (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("client_tour", TOUR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tour_runs_every_operation_and_deletes(
    simulator: RunningSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tour opens, peeks, reads one and several statistics, deletes, and leaves none open."""
    assert load_tour().main([simulator.base_url]) == 0
    out = capsys.readouterr().out
    assert "opened subscription" in out and "4 statistics, 1 refused" in out
    assert "refused ghost: 404" in out
    assert "single: CurrentAgentState of ana.silva" in out
    assert "ServiceLevel of 8001@SIP_Switch" in out and "deleted subscription" in out
    assert simulator.state()["open_subscriptions"] == 0


def test_tour_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    """Against a closed port the tour prints a ConnectError and exits 1 (no traceback)."""
    assert load_tour().main(["http://127.0.0.1:9"]) == 1
    assert "ConnectError" in capsys.readouterr().err


def test_tour_without_arguments_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """Run without a server URL, the tour prints its usage and exits 2."""
    assert load_tour().main([]) == 2
    assert "Usage:" in capsys.readouterr().err
