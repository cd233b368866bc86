"""`statdash peek` against the real simulator: rows, raw JSON, per-object errors, usage errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest

from statdash.commands.peek import UsageError, parse_object
from statdash.sim.runner import RunningSimulator

from .conftest import API_KEY, Result

STATE_ROW = re.compile(
    r"^Agent:(?P<id>\S+) +(Ready|Not ready|After call|Inbound|Outbound|Internal|Consult"
    r"|On hold|Ringing|Dialing|Logged out)( \(.+\))? for \d+:\d\d:\d\d$"
)

Cli = Callable[..., Result]


def test_one_agent_state_is_word_reason_and_time_in_state(
    floor: RunningSimulator, cli: Cli
) -> None:
    """One agent's CurrentAgentState reads as a state word and its time in state, exit 0."""
    result = cli("peek", "CurrentAgentState", "Agent:ana.silva", "--url", floor.base_url)
    assert (result.code, result.err) == (0, "")
    title, header, row = result.out.splitlines()
    assert title == f"CurrentAgentState on 127.0.0.1:{floor.port}"
    assert header.split() == ["OBJECT", "VALUE"]
    match = STATE_ROW.match(row)
    assert match is not None, row
    assert match["id"] == "ana.silva"


def test_several_objects_one_row_each_in_the_order_given(floor: RunningSimulator, cli: Cli) -> None:
    """Each TYPE:ID gets its own row, in order, with TYPE matched in any case."""
    result = cli(
        "peek",
        "Total_Answered",
        "queue:8002@SIP_Switch",
        "QUEUE:8001@SIP_Switch",
        "GroupQueues:QueueGroup_01",
        "--url",
        floor.base_url,
    )
    assert (result.code, result.err) == (0, "")
    rows = [line.split() for line in result.out.splitlines()[2:]]
    assert [row[0] for row in rows] == [
        "Queue:8002@SIP_Switch",
        "Queue:8001@SIP_Switch",
        "GroupQueues:QueueGroup_01",
    ]
    counts = [int(row[1]) for row in rows]
    # The group holds every queue, so it has answered what all of them have, and more than 0.
    assert counts[2] >= counts[0] + counts[1] > 0


def test_json_carries_the_raw_values_the_server_sent(floor: RunningSimulator, cli: Cli) -> None:
    """`--format json` holds each object's `value` exactly as get-statistic-ex returned it."""
    objects = ["Agent:ana.silva", "Agent:ben.novak"]
    result = cli("peek", "CurrentAgentState", *objects, "--url", floor.base_url, "--format", "json")
    assert (result.code, result.err) == (0, "")
    document = json.loads(result.out)
    direct = httpx.post(
        floor.api_url + "/operations/get-statistic-ex",
        headers={"x-api-key": API_KEY},
        json={
            "data": {
                "statistics": [
                    {
                        "name": "CurrentAgentState",
                        "objectType": "Agent",
                        "objectId": o.split(":")[1],
                    }
                    for o in objects
                ]
            }
        },
    ).json()["data"]["statistics"]
    assert document["statistic"] == "CurrentAgentState"
    assert document["server"] == f"127.0.0.1:{floor.port}"
    assert [entry["value"] for entry in document["objects"]] == [d["value"] for d in direct]
    assert [entry["error"] for entry in document["objects"]] == [None, None]


def test_unknown_statistic_is_an_error_on_each_object_and_exit_1(
    floor: RunningSimulator, cli: Cli
) -> None:
    """A statistic the server does not know is reported on every object's row; exit 1."""
    result = cli(
        "peek", "NoSuchStatistic", "Agent:ana.silva", "Agent:ben.novak", "--url", floor.base_url
    )
    assert result.code == 1
    rows = result.out.splitlines()[2:]
    assert len(rows) == 2
    assert all("error: Unknown statistic 'NoSuchStatistic' (code 404)" in row for row in rows)
    assert result.err == "statdash peek: 2 of 2 objects could not be read\n"


def test_one_unknown_object_fails_alone(floor: RunningSimulator, cli: Cli) -> None:
    """An unknown object gets an error row; the others keep their values; exit 1."""
    result = cli(
        "peek",
        "CurrentNumberWaitingCalls",
        "Queue:8001@SIP_Switch",
        "Queue:9999@SIP_Switch",
        "--url",
        floor.base_url,
    )
    assert result.code == 1
    known, unknown = result.out.splitlines()[2:]
    assert re.fullmatch(r"Queue:8001@SIP_Switch +\d+", known)
    assert unknown.startswith("Queue:9999@SIP_Switch  error: Unknown object")
    assert "1 of 2 objects could not be read" in result.err


def test_bad_type_suggests_the_right_one_and_sends_nothing(
    floor: RunningSimulator, cli: Cli
) -> None:
    """A misspelt TYPE is a usage error (exit 2) with a did-you-mean, before any request."""
    result = cli(
        "peek", "CurrentAgentState", "Agent:ana.silva", "Agnet:ben.novak", "--url", floor.base_url
    )
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "statdash peek: unknown object type 'Agnet'; did you mean 'Agent:ben.novak'?\n"
    )
    assert "get_statistic_ex" not in floor.state()["requests"]


def test_type_far_from_any_lists_the_valid_ones(cli: Cli) -> None:
    """A TYPE like nothing known lists the object types instead of guessing."""
    result = cli("peek", "X", "Spaceship:1", "--url", "http://127.0.0.1:9")
    assert result.code == 2
    assert "unknown object type 'Spaceship'; object types: Agent, GroupAgents," in result.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Queue:8001@SIP_Switch", ("Queue", "8001@SIP_Switch")),
        ("regulardn:sip:8001:1", ("RegularDN", "sip:8001:1")),
        ("agent_group:Team_01", ("GroupAgents", "Team_01")),
        (" Agent :a b", ("Agent", "a b")),
    ],
)
def test_type_id_splits_at_the_first_colon_only(text: str, expected: tuple[str, str]) -> None:
    """TYPE:ID splits at the first colon, so ids keep their own colons and `@`."""
    assert parse_object(text) == expected


@pytest.mark.parametrize("text", ["Agent", "Agent:", ":ana.silva", " :x"])
def test_type_id_needs_both_parts(text: str) -> None:
    """A missing TYPE, colon or ID is a usage error that shows the expected form."""
    with pytest.raises(UsageError, match="is not TYPE:ID"):
        parse_object(text)


def test_unreachable_server_is_one_line_and_exit_1(cli: Cli, dead_url: str) -> None:
    """Nothing listening: one line on stderr saying so, nothing on stdout, exit 1."""
    result = cli("peek", "CurrentAgentState", "Agent:ana.silva", "--url", dead_url)
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("statdash peek: cannot reach the server at 127.0.0.1:")
    assert result.err.count("\n") == 1


def test_table_measures_wide_characters_in_cells() -> None:
    """Columns align on terminal cells, so a row of wide characters lines up with the rest."""
    from rich.cells import cell_len

    from statdash.commands.output import plain_table

    lines = plain_table(["NAME", "VALUE"], [["日本語", "1"], ["abc", "2"]])
    assert [cell_len(line[: line.index(v)]) for line, v in zip(lines[1:], "12", strict=True)] == [
        8,
        8,
    ]


def test_table_fits_a_narrow_terminal_by_cutting_the_widest_column() -> None:
    """Too wide for the terminal: the widest squeezable column is cut with an ellipsis."""
    from rich.cells import cell_len

    from statdash.commands.output import plain_table

    lines = plain_table(["A", "B", "C"], [["x" * 40, "short", "y" * 30]], width=50, squeeze=[0])
    assert [cell_len(line) for line in lines] == [len(lines[0]), 50]
    assert lines[1].startswith("x" * 10) and "…  short  " + "y" * 30 in lines[1]
