"""`statdash check`: exit codes, output, and the server check's cleanup."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from statdash.api.errors import ConnectError
from statdash.api.responses import ItemError
from statdash.commands import check
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.views import CompiledLayout, TableView
from tests.support.wait import until_async

from ..layout.conftest import MINIMAL
from .conftest import LAYOUTS, run_command


def test_check_offline_prints_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """A sound layout exits 0 with pages, widgets, statistics and objects on one line, then
    one line per formula naming the statistics it needs."""
    path = LAYOUTS / "demo.yaml"
    assert run_command(check, [str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}: OK: 2 pages, 10 widgets, 360 statistics on 59 objects\n"
        f"{path}: formula occupancy needs busy (CurrentBusyAgents),"
        " logged_in (CurrentLoggedInAgents)\n"
    )
    assert captured.err == ""


def test_check_takes_several_files_and_skips_what_is_not_a_layout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`check layouts/*`: each layout checked, the data folder (and any other file that is
    not .yaml/.yml) skipped with a word, exit 0."""
    shell_glob = sorted(LAYOUTS.glob("*"))
    assert run_command(check, [str(path) for path in shell_glob]) == 0
    captured = capsys.readouterr()
    layouts = sorted(LAYOUTS.glob("*.yaml"))
    summaries = [line for line in captured.out.splitlines() if ": OK: " in line]
    assert [line.split(": OK: ")[0] for line in summaries] == [str(path) for path in layouts]
    assert captured.err.splitlines() == [
        f"statdash check: skipped {LAYOUTS / 'data'}: a folder, not a layout file"
    ]
    data = sorted((LAYOUTS / "data").glob("*"))
    assert run_command(check, [str(path) for path in [*data, *layouts]]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"statdash check: skipped {path}: not a layout file (only .yaml and .yml are checked)"
        for path in data
    ]


def test_one_bad_layout_among_several_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file is checked; one with problems makes the exit status 2."""
    bad = tmp_path / "bad.yml"
    bad.write_text("title: x\npages: []\n", encoding="utf-8")
    assert run_command(check, [str(bad), str(LAYOUTS / "wallboard.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out == (
        f"{LAYOUTS / 'wallboard.yaml'}: OK: 3 pages, 17 widgets, 93 statistics on 27 objects\n"
    )
    assert captured.err.splitlines()[-1] == f"{bad}: 1 problem"


def test_no_layout_among_the_files_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Only non-layout files: each skipped, then one line saying there was nothing to check."""
    notes = LAYOUTS / "data" / "floor-agents.txt"
    assert run_command(check, [str(notes)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "statdash check: no layout file to check (.yaml or .yml)"
    )


def test_a_fifo_as_the_layout_is_a_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`statdash check pipe.yaml` on a FIFO names it and exits 2 instead of blocking for ever
    on the open (no writer ever comes)."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert run_command(check, [str(fifo)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{fifo}: this is a FIFO (named pipe), not a file",
        f"{fifo}: 1 problem",
    ]


def test_a_layout_in_a_folder_that_cannot_be_entered_is_a_located_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout inside a chmod-000 folder is reported as unreadable, exit 2, no traceback; the
    next file is still checked.

    Tests run as root here, who can enter any folder, so the denial is made where the
    kernel would make it for a user: os.stat (and open) of anything inside the folder.
    """
    locked = tmp_path / "locked"
    locked.mkdir()
    layout = locked / "floor.yaml"
    layout.write_text(MINIMAL, encoding="utf-8")
    real_stat, real_open = os.stat, os.open

    def inside(path: Any) -> bool:
        return bool(os.path.dirname(os.fspath(path)) == str(locked))

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if inside(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    def open_(path: Any, *args: Any, **kwargs: Any) -> int:
        if inside(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "open", open_)
    assert run_command(check, [str(layout), str(LAYOUTS / "wallboard.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{layout}: cannot read the file (Permission denied)",
        f"{layout}: 1 problem",
    ]
    assert captured.out.startswith(f"{LAYOUTS / 'wallboard.yaml'}: OK: ")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_check_against_an_unreachable_server_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A server that refuses connections gives exit 1 and one clear line, no traceback."""
    url = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    argv = [
        str(LAYOUTS / "wallboard.yaml"),
        "--url",
        url,
        "--api-key",
        "k",
        "--config",
        str(config),
    ]
    assert run_command(check, argv) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        "statdash check: cannot reach the server at 127.0.0.1"
    )


def test_an_unreachable_server_is_tried_for_the_first_file_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With several files and no server, each is still checked offline; the server is tried
    once and said once, exit 1."""
    url = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\npages: []\n", encoding="utf-8")
    files = [str(LAYOUTS / "wallboard.yaml"), str(LAYOUTS / "supervisor.yaml")]
    argv = [str(bad), *files, "--url", url, "--api-key", "k", "--config", str(config)]
    assert run_command(check, argv) == 2  # the bad layout's status wins over the server's
    captured = capsys.readouterr()
    first = [line.split(": offline checks passed: ")[0] for line in captured.out.splitlines()]
    assert first == files
    unreachable = [line for line in captured.err.splitlines() if "cannot reach" in line]
    assert len(unreachable) == 1


def test_check_without_an_api_key_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --url but no API key anywhere, the check says how to give one and exits 1."""
    monkeypatch.delenv("STATDASH_API_KEY", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    argv = [str(LAYOUTS / "wallboard.yaml"), "--url", "http://127.0.0.1:9", "--config", str(config)]
    assert run_command(check, argv) == 1
    assert "no API key given" in capsys.readouterr().err


class FakeClient:
    """Stands in for StatisticsClient: records calls; open can fail, hang or reject items."""

    def __init__(
        self, *, errors: tuple[ItemError, ...] = (), fail: bool = False, hang: bool = False
    ):
        self.errors = errors
        self.fail = fail
        self.hang = hang
        self.opened: list[str] = []
        self.deleted: list[str] = []
        self.server = "http://stats.invalid"

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def open_subscription(self, items: Any, *, operation_id: str, verbose: str) -> Any:
        self.opened.append(operation_id)
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail:
            raise ConnectError("refused")
        return argparse.Namespace(subscription_id=operation_id, errors=self.errors, statistics=())

    async def delete_subscription(self, subscription_id: str) -> None:
        self.deleted.append(subscription_id)


def _compiled() -> CompiledLayout:
    text = (
        MINIMAL + "      - {kind: agents, agents: [ana.silva, ben.novak, carla.meyer, dev.x],"
        " columns: [Nope]}\n"
    )
    return compile_layout(load_layout_text(text, file="m.yaml"))


def test_subscription_is_deleted_after_a_clean_check() -> None:
    """The check's subscription is deleted by its own operationId after a full success."""
    client = FakeClient()
    rejected = asyncio.run(check.check_on_server(_compiled(), client))  # type: ignore[arg-type]
    assert rejected.problems == () and client.deleted == client.opened
    assert len(client.opened) == 1


def test_subscription_is_deleted_when_the_open_fails() -> None:
    """A failed open still deletes by operationId: the server may have opened it anyway."""
    client = FakeClient(fail=True)
    with pytest.raises(ConnectError):
        asyncio.run(check.check_on_server(_compiled(), client))  # type: ignore[arg-type]
    assert client.deleted == client.opened


def test_subscription_is_deleted_when_interrupted() -> None:
    """Cancelling mid-request (what Ctrl+C does to asyncio.run) still deletes the subscription."""
    client = FakeClient(hang=True)

    async def interrupt() -> None:
        task = asyncio.create_task(check.check_on_server(_compiled(), client))  # type: ignore[arg-type]
        await until_async(lambda: client.opened, what="the open to be sent", interval=0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupt())
    assert client.deleted == client.opened and len(client.deleted) == 1


def test_rejections_are_grouped_by_line_and_message() -> None:
    """Rejected items of one column become one line naming a few objects and the rest's count."""
    compiled = _compiled()
    table = compiled.pages[0].widgets[1]
    assert isinstance(table, TableView)
    column = table.columns[1]
    rejected = [
        ItemError(
            code=404, message="Unknown statistic 'Nope'", statistic_id=table.stat_id(r, column)
        )
        for r in table.rows
    ]
    errors = (*rejected, ItemError(code=400, message="odd", statistic_id=None, name="X"))
    lines = [str(p) for p in check.rejections(compiled, errors).problems]
    assert lines == [
        "m.yaml: the server rejected a statistic (X): odd (code 400)",
        "m.yaml:7:86: pages[0].widgets[1].columns[0]: the server rejected Nope for Agent"
        " ana.silva, ben.novak, carla.meyer and 1 more object: Unknown statistic 'Nope'"
        " (code 404)",
    ]


FORMULA_LAYOUT = """\
title: Formulas
statistics:
  busy: {name: CurrentBusyAgents}
  logged_in: {name: CurrentLoggedInAgents}
  ready: {category: CurrentNumber, subject: AgentStatus, mainMask: WaitForNextCall}
  occupancy: {formula: "100 * busy / logged_in"}
  spare: {formula: "occupancy + ready"}
  constant: {formula: "42"}
pages:
  - widgets:
      - {kind: kpi, object: {agent_group: Team_01}, stat: $spare}
      - {kind: kpi, object: {agent_group: Team_01}, stat: {formula: "busy * 2"}}
"""


def test_check_lists_the_statistics_each_formula_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each formula, declared or inline, is listed with the server statistics it needs, through
    other formulas too, and those inputs are subscribed though no widget shows them."""
    path = tmp_path / "formulas.yaml"
    path.write_text(FORMULA_LAYOUT, encoding="utf-8")
    assert run_command(check, [str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: OK: 1 page, 2 widgets, 3 statistics on 1 object",
        f"{path}: formula occupancy needs busy (CurrentBusyAgents),"
        " logged_in (CurrentLoggedInAgents)",
        f"{path}: formula spare needs busy (CurrentBusyAgents), logged_in"
        " (CurrentLoggedInAgents), ready (CurrentNumber/AgentStatus (WaitForNextCall))",
        f"{path}: formula constant needs no statistics",
        f"{path}: formula pages[0].widgets[1].stat needs busy (CurrentBusyAgents)",
    ]
