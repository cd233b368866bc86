"""`statdash snapshot` with formulas, against the real simulator: computed values and null n/a."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statdash.sim.runner import RunningSimulator

from .conftest import LAYOUTS, Result

Cli = Callable[..., Result]

FORMULA_LAYOUT = """\
title: Formulas
statistics:
  busy: {name: CurrentBusyAgents, label: Busy}
  logged_in: {name: CurrentLoggedInAgents, label: Logged in}
  occupancy: {formula: "100 * busy / logged_in", label: Occupancy, format: percent,
              thresholds: {warn: 90, alarm: 95}}
  nothing: {formula: "busy / 0", label: Nothing}
  total: {formula: "sum(logged_in)", label: Total}
pages:
  - widgets:
      - kind: queues
        title: Teams
        objects: [{agent_group: Team_01}, {agent_group: Team_02}]
        columns: [$busy, $logged_in, $occupancy, $nothing, $total]
"""


Record = dict[str, Any]


def snapshot_json(cli: Cli, layout: Path, sim: RunningSimulator, records: Path) -> list[Record]:
    result = cli(
        "snapshot",
        str(layout),
        "--url",
        sim.base_url,
        "--format",
        "json",
        "--records",
        str(records),
    )
    assert (result.code, result.err) == (0, "")
    statistics: list[Record] = json.loads(result.out)["statistics"]
    return statistics


def test_formulas_are_computed_from_the_values_read(
    floor: RunningSimulator, cli: Cli, tmp_path: Path, records_path: Path
) -> None:
    """Occupancy is 100 * busy / logged_in of the same read, a division by zero is null with
    value n/a and no level, and a sum runs over the table's rows."""
    layout = tmp_path / "formulas.yaml"
    layout.write_text(FORMULA_LAYOUT, encoding="utf-8")
    records = snapshot_json(cli, layout, floor, records_path)
    by_team: dict[str, dict[str, Record]] = {}
    for record in records:
        by_team.setdefault(record["object_id"], {})[record["statistic"]] = record
    assert set(by_team) == {"Team_01", "Team_02"}
    logged_in_total = sum(team["Logged in"]["number"] for team in by_team.values())
    for team in by_team.values():
        busy, logged_in = team["Busy"]["number"], team["Logged in"]["number"]
        assert logged_in > 0, "the simulator ten minutes in has agents logged in"
        occupancy = team["Occupancy"]
        assert occupancy["number"] == 100 * busy / logged_in
        assert occupancy["value"] == f"{100 * busy / logged_in:.0f}%"
        assert occupancy["statistic_id"].startswith("f_")
        assert occupancy["level"] in ("ok", "warning", "alarm")
        nothing = team["Nothing"]
        assert (nothing["value"], nothing["number"], nothing["level"], nothing["error"]) == (
            "n/a",
            None,
            None,
            None,
        )
        assert team["Total"]["number"] == logged_in_total
    assert floor.state()["open_subscriptions"] == 0


def test_demo_snapshot_has_the_occupancy_column(
    floor: RunningSimulator, cli: Cli, records_path: Path
) -> None:
    """The shipped demo's formula column is in its snapshot, one record per team."""
    records = snapshot_json(cli, LAYOUTS / "demo.yaml", floor, records_path)
    occupancy = [r for r in records if r["statistic"] == "Occupancy"]
    assert [r["object_id"] for r in occupancy] == ["Team_01", "Team_02", "Team_03"]
    assert all(r["value"].endswith("%") or r["value"] == "n/a" for r in occupancy)


REFUSED_INPUT_LAYOUT = """\
title: Refused input
statistics:
  bogus: {name: NoSuchStatistic}
  plus_one: {formula: "bogus + 1", label: Plus one}
pages:
  - widgets:
      - {kind: kpi, object: {agent_group: Team_01}, stat: $plus_one}
"""


def test_a_refused_input_makes_the_formula_na_and_the_exit_3(
    floor: RunningSimulator, cli: Cli, tmp_path: Path, records_path: Path
) -> None:
    """An input the server refuses, though no widget shows it, is counted as not read (exit 3)
    and leaves its formula n/a."""
    layout = tmp_path / "refused.yaml"
    layout.write_text(REFUSED_INPUT_LAYOUT, encoding="utf-8")
    result = cli(
        "snapshot", str(layout), "--url", floor.base_url, "--format", "json",
        "--records", str(records_path),
    )  # fmt: skip
    assert result.code == 3
    assert result.err == "statdash snapshot: 1 of 1 statistic could not be read\n"
    (record,) = json.loads(result.out)["statistics"]
    assert (record["statistic"], record["value"], record["number"]) == ("Plus one", "n/a", None)
    assert floor.state()["open_subscriptions"] == 0
