"""A recording process killed with SIGKILL leaves a file that replays and exports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statdash.cli import main
from statdash.live.recordings.file import Recording

ROOT = Path(__file__).resolve().parents[2]

# Records a tick every 50 ms with the default one-second flush, printing each tick's time.
RECORDING_PROCESS = """
import sys, time
from pathlib import Path
from statdash.api.values import NumberValue
from statdash.live.recordings.recorder import Recorder
from statdash.live.store import Batch, Store
from tests.live.recordings import small_layout

layout = small_layout()
ids = [item.statistic_id for item in layout.items]
store = Store()
recorder = Recorder(Path(sys.argv[1]), layout, server="sim")
count = 0
while True:
    wall = time.time()
    batch = Batch.replayed({ids[count % len(ids)]: NumberValue(float(count), str(count))}, ids)
    result = store.ingest(batch, now=wall, wall=wall)
    recorder.ingested(store, result, wall, sampled=True)
    print(wall, flush=True)
    count += 1
    time.sleep(0.05)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_9_while_recording_loses_only_the_last_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After kill -9 mid-recording, the file opens, holds all but the last ~second, and exports."""
    path = tmp_path / "killed.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDING_PROCESS, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed: list[float] = []
    deadline = time.monotonic() + 60
    while len(printed) < 60 and time.monotonic() < deadline:
        printed.append(float(process.stdout.readline()))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(printed) == 60
    assert path.with_name(path.name + "-wal").exists(), "killed before any checkpoint"
    with Recording(path) as recording:
        assert recording.tick_count >= 1
        # At most the last flush interval (1 s) and a little scheduling slack are lost.
        assert recording.end >= printed[-1] - 2.5
        last = recording.state_at(recording.tick_count - 1)
        assert len(last) == min(recording.tick_count, 7)
    assert main(["export", str(path), "--format", "jsonl"]) == 0
    assert capsys.readouterr().out.count("\n") >= recording.tick_count
