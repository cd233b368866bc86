"""`statdash export` names objects as the layout does (`object_label`, like `snapshot`) and
opens with the state in order: by object, then statistic (issue 22)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from statdash.api.values import NumberValue, StatValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from tests.commands.conftest import Result
from tests.live.recordings import record_stream

LAYOUT = compile_layout(
    load_layout_text(
        """
title: Two queues
pages:
  - widgets:
      - kind: queues
        objects:
          - {queue: 8002@SIP_Switch, label: Service}
          - {queue: 8001@SIP_Switch, label: Sales}
        columns:
          - {stat: CurrentNumberWaitingCalls, label: Waiting}
          - {stat: Total_Answered, label: Answered}
""",
        file="queues.yaml",
    )
)
START = 1_800_000_000.0


def test_export_labels_objects_and_sorts_the_opening_state(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Each line has the layout's label of its object; the opening state reads by object
    label (Sales before Service), then by statistic label (Answered before Waiting)."""
    ids = [item.statistic_id for item in LAYOUT.items]
    first: dict[str, StatValue] = {
        stat_id: NumberValue(float(index), str(index)) for index, stat_id in enumerate(ids)
    }
    path = tmp_path / "shift.sqlite"
    record_stream(
        path, LAYOUT, [(START, first, ids), (START + 10, {ids[0]: NumberValue(9.0, "9")}, ids)]
    )
    result = cli("export", str(path))
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    opening = [(row["object_label"], row["statistic"]) for row in rows[:4]]
    assert opening == [
        ("Sales", "Answered"),
        ("Sales", "Waiting"),
        ("Service", "Answered"),
        ("Service", "Waiting"),
    ]
    assert rows[0]["object_id"] == "8001@SIP_Switch"
    assert rows[4]["object_label"] == "Service" and rows[4]["value"] == "9"
