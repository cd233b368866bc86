"""Every statistic of every object agrees with every other one, at any moment of a shift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from statdash.sim import catalog
from statdash.sim.catalog import (
    AGENT,
    GROUP_AGENTS,
    GROUP_QUEUES,
    PREDEFINED,
    QUEUE,
    ROUTE_POINT,
    adhoc,
    predefined,
)
from statdash.sim.model import (
    ACW,
    CONSULT,
    DIALING,
    HOLD,
    INBOUND,
    INTERNAL,
    LOGGED_OUT,
    NOT_READY,
    OUTBOUND,
    READY,
    RINGING,
    STATUSES,
    ContactCenter,
)

START = 1_700_000_000.0
HOUR = 3600.0
SHIFT = 8 * HOUR
LOGGED_IN = tuple(s for s in STATUSES if s != LOGGED_OUT)
TALK = (INBOUND, OUTBOUND, INTERNAL, CONSULT)
BUSY = tuple(s for s in LOGGED_IN if s not in (READY, NOT_READY))
# Statuses that belong to a call an agent handles (AverageHandlingTime's calls), and the one
# (dialing) that belongs to it only when the outbound call connects.
HANDLING = (INBOUND, HOLD, CONSULT, OUTBOUND, ACW)
# The moments right after the start, when leftovers from before it would show.
SHIFT_START = (0.0, 0.4, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

Reading = dict[str, Any]


def _figure(value: dict[str, Any]) -> float:
    """A number value as the exact figure it carries (stringValue keeps two decimals)."""
    return float(value["stringValue"])


def _status_definition(category: str, mask: str) -> dict[str, Any]:
    return {"category": category, "subject": "AgentStatus", "mainMask": mask}


def _call_definition(category: str, mask: str) -> dict[str, Any]:
    return {"category": category, "subject": "DNAction", "mainMask": mask}


@dataclass
class Floor:
    """Every statistic of every object of one center, bound once, read at any moment."""

    cc: ContactCenter
    computes: dict[tuple[str, str], dict[str, catalog.Compute]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = self.cc.ids
        objects = {
            AGENT: ids.agents,
            GROUP_AGENTS: ids.agent_groups,
            QUEUE: ids.queues,
            ROUTE_POINT: ids.route_points,
            GROUP_QUEUES: ids.queue_groups,
        }
        for object_type, object_ids in objects.items():
            for object_id in object_ids:
                self.computes[object_type, object_id] = self._bind(object_type, object_id)

    def _bind(self, object_type: str, object_id: str) -> dict[str, catalog.Compute]:
        cc = self.cc
        bound = {
            name: predefined(cc, name, object_type, object_id)
            for name, entry in PREDEFINED.items()
            if object_type in entry.object_types
        }
        definitions: dict[str, dict[str, Any]] = {}
        if object_type in (AGENT, GROUP_AGENTS):
            for status in (*STATUSES, "*"):
                definitions[f"TotalTime:{status}"] = _status_definition("TotalTime", status)
                definitions[f"Entries:{status}"] = _status_definition("TotalNumber", status)
                definitions[f"CurrentNumber:{status}"] = _status_definition("CurrentNumber", status)
            definitions["Calls:*"] = _call_definition("TotalNumber", "*")
        if object_type == AGENT:
            for status in (*STATUSES, "*"):
                definitions[f"CurrentTime:{status}"] = _status_definition("CurrentTime", status)
        if object_type in catalog.QUEUE_LIKE:
            for action in ("CallWait", "CallRinging", "*"):
                definitions[f"Now:{action}"] = _call_definition("CurrentNumber", action)
            for action in ("CallWait", "CallAnswered", "CallAbandoned", "*"):
                definitions[f"Total:{action}"] = _call_definition("TotalNumber", action)
            definitions["AbandonWait"] = _call_definition("AverageTime", "CallAbandoned")
            definitions["Within:3600"] = {
                **_call_definition("TotalNumberInTimeRange", "CallAnswered,CallAbandoned"),
                "timeRangeRight": 3600,
            }
        for key, definition in definitions.items():
            bound[key] = adhoc(cc, definition, object_type, object_id)
        return bound

    def read(self) -> dict[tuple[str, str], Reading]:
        """The value of every statistic now: figures as floats, agent states as they are."""
        out: dict[tuple[str, str], Reading] = {}
        for key, computes in self.computes.items():
            reading: Reading = {}
            for name, compute in computes.items():
                value = compute()
                reading[name] = value["stateValue"] if "stateValue" in value else _figure(value)
            out[key] = reading
        return out


@dataclass
class Problems:
    """Broken invariants, each named, with the object and the figures that break it."""

    found: list[str] = field(default_factory=list)

    def check(self, ok: bool, invariant: str, where: str, **figures: Any) -> None:
        """Record `invariant` as broken at `where`, with `figures`, unless `ok`."""
        if not ok:
            shown = ", ".join(f"{k}={v!r}" for k, v in figures.items())
            self.found.append(f"{invariant} [{where}] {shown}")

    def names(self) -> set[str]:
        """The invariants broken at least once."""
        return {p.split(" [", 1)[0] for p in self.found}


def check_agent(p: Problems, agent: str, r: Reading, now: float) -> None:
    """One agent's figures against each other."""
    state = r["CurrentAgentState"]
    status = state["status"]
    calls = r["InboundCalls"] + r["OutboundCalls"] + r["InternalCalls"]
    time_in = {s: r[f"TotalTime:{s}"] for s in STATUSES}
    entries = {s: r[f"Entries:{s}"] for s in STATUSES}
    where = f"{agent} {status}"

    # Time spent on calls implies calls to spend it on.
    handled_calls = r["InboundCalls"] + entries[OUTBOUND]
    owed = [
        (r["TalkDuration"], calls, "talk time without a call"),
        (r["WrapDuration"], handled_calls, "wrap-up without a call"),
    ]
    for s, counter in (
        (INBOUND, "InboundCalls"),
        (HOLD, "InboundCalls"),
        (CONSULT, "ConsultCalls"),
        (OUTBOUND, "OutboundCalls"),
        (DIALING, "OutboundCalls"),
        (INTERNAL, "InternalCalls"),
    ):
        owed.append((time_in[s], r[counter], f"time in {s} without {counter}"))
    for seconds, count, invariant in owed:
        p.check(seconds == 0 or count > 0, invariant, where, seconds=seconds, count=count)
    talk = sum(time_in[s] for s in TALK)
    p.check(
        talk <= r["TalkDuration"] <= talk + len(TALK),
        "TalkDuration != time in the talk statuses",
        where,
        talk=r["TalkDuration"],
        statuses=talk,
    )
    for s in STATUSES:
        p.check(
            time_in[s] == 0 or entries[s] > 0,
            "time in a status never entered",
            f"{where} {s}",
            seconds=time_in[s],
            entries=entries[s],
        )
    if status != LOGGED_OUT:
        p.check(entries[status] > 0, "current status never entered", where, entries=entries)

    # Each dial, internal call and consult enters its status exactly once.
    for s, counter in (
        (DIALING, "OutboundCalls"),
        (INTERNAL, "InternalCalls"),
        (CONSULT, "ConsultCalls"),
    ):
        p.check(
            entries[s] == r[counter],
            f"{counter} != times {s} was entered",
            where,
            entries=entries[s],
            count=r[counter],
        )
    offered = r["InboundCalls"] + r["MissedCalls"] + r["RefusedCalls"]
    finished_consults = r["ConsultCalls"] - (1 if status == CONSULT else 0)
    for fewer, more, invariant in (
        (entries[OUTBOUND], r["OutboundCalls"], "more connected outbound calls than dials"),
        (r["InboundCalls"], entries[INBOUND], "inbound calls never talked"),
        (offered, entries[RINGING], "answered + missed + refused > calls that rang"),
        (r["MissedCalls"], entries[NOT_READY], "a missed call without the not-ready after it"),
        (r["InteractionTransferred"], finished_consults, "a transfer before its consult ended"),
    ):
        p.check(fewer <= more, invariant, where, fewer=fewer, more=more)
    p.check(
        r["Calls:*"]
        == r["InboundCalls"] + r["OutboundCalls"] + r["InternalCalls"] + r["ConsultCalls"],
        "TotalNumber '*' != the call counters",
        where,
        total=r["Calls:*"],
    )

    # AverageHandlingTime: defined whenever a call was handled; made of the handling statuses.
    aht = r["AverageHandlingTime"]
    first_instant = r["TimeInCurrentState"] == 0 and status in HANDLING
    p.check(
        (aht > 0 or first_instant) if handled_calls > 0 else aht == 0,
        "AHT undefined with calls handled (or defined without)",
        where,
        aht=aht,
        inbound=r["InboundCalls"],
        outbound_connected=entries[OUTBOUND],
    )
    if handled_calls > 0:
        handle = aht * handled_calls
        low = sum(time_in[s] for s in HANDLING)
        high = low + time_in[DIALING]
        slack = 0.005 * handled_calls + len(HANDLING) + 1
        p.check(
            low - slack <= handle <= high + slack,
            "AHT x calls is not the time spent handling them",
            where,
            handle=handle,
            low=low,
            high=high,
        )

    # Every second since the start is spent in exactly one status, logged out included.
    elapsed = now - START
    accounted = sum(time_in.values())
    p.check(
        elapsed - len(STATUSES) <= accounted <= elapsed,
        "time in the statuses != time since the start",
        where,
        accounted=accounted,
        elapsed=elapsed,
    )
    # Login time is exactly the time in the logged-in statuses.
    login = r["LoginDuration"]
    in_statuses = sum(time_in[s] for s in LOGGED_IN)
    p.check(
        abs(r["TotalTime:*"] - login) <= 1 and abs(in_statuses - login) <= len(LOGGED_IN),
        "login time != time in the logged-in statuses",
        where,
        login=login,
        total_time=r["TotalTime:*"],
        statuses=in_statuses,
    )
    busy = sum(time_in[s] for s in BUSY)
    expected = 100 * busy / login if login >= 60 else None
    if expected is not None:
        p.check(
            abs(r["Productivity"] - expected) <= 100 * len(BUSY) / login + 0.01,
            "productivity != busy share of login time",
            where,
            productivity=r["Productivity"],
            expected=expected,
        )

    # The current state, as told by every statistic about it. Both it and the state's `time`
    # are truncated to whole seconds, so they may differ by up to two.
    since = now - state["time"]
    current = r["TimeInCurrentState"]
    if status == LOGGED_OUT:
        p.check(
            current == 0 and r["CurrentTime:*"] == 0,
            "a logged-out agent has a current-state time",
            where,
            time_in_current_state=current,
            current_time=r["CurrentTime:*"],
        )
    else:
        p.check(
            abs(current - since) < 2,
            "TimeInCurrentState != now - state time",
            where,
            current=current,
            since=since,
        )
        p.check(
            current <= login + 1 and current <= time_in[status] + 1,
            "in the current status longer than logged in / than its total",
            where,
            current=current,
            login=login,
            total=time_in[status],
        )
        p.check(
            r["CurrentTime:*"] == current and r[f"CurrentTime:{status}"] == current,
            "CurrentTime != TimeInCurrentState",
            where,
            current=current,
            star=r["CurrentTime:*"],
        )
    for s in STATUSES:
        p.check(
            r[f"CurrentNumber:{s}"] == (1 if s == status else 0),
            "CurrentNumber disagrees with the state",
            f"{where} {s}",
            value=r[f"CurrentNumber:{s}"],
        )
        if s != status:
            p.check(
                r[f"CurrentTime:{s}"] == 0,
                "CurrentTime of a status the agent is not in",
                f"{where} {s}",
                value=r[f"CurrentTime:{s}"],
            )
    p.check(
        r["CurrentNumber:*"] == (0 if status == LOGGED_OUT else 1),
        "CurrentNumber '*' is not 'logged in'",
        where,
        value=r["CurrentNumber:*"],
    )


# Agent figures a team reports as the sum over its members, with the truncation each adds.
ADDITIVE = (
    "ReadyDuration",
    "NotReadyDuration",
    "TalkDuration",
    "HoldDuration",
    "WrapDuration",
    "LoginDuration",
    "InboundCalls",
    "OutboundCalls",
    "InternalCalls",
    "ConsultCalls",
    "MissedCalls",
    "RefusedCalls",
    "InteractionTransferred",
    "Calls:*",
    *(f"TotalTime:{s}" for s in (*STATUSES, "*")),
    *(f"Entries:{s}" for s in (*STATUSES, "*")),
)


def check_team(p: Problems, team: str, r: Reading, members: list[Reading]) -> None:
    """A team's figures are its members' sums, pooled ratios and head counts."""
    size = len(members)
    for name in ADDITIVE:
        total = sum(m[name] for m in members)
        p.check(
            total <= r[name] <= total + size,
            "team figure is not the sum of its members",
            f"{team} {name}",
            team=r[name],
            members=total,
        )
    statuses = [m["CurrentAgentState"]["status"] for m in members]
    for name, wanted in (
        ("CurrentReadyAgents", (READY,)),
        ("CurrentNotReadyAgents", (NOT_READY,)),
        ("CurrentBusyAgents", BUSY),
        ("CurrentLoggedInAgents", LOGGED_IN),
    ):
        p.check(
            r[name] == sum(1 for s in statuses if s in wanted),
            "team head count disagrees with its members' states",
            f"{team} {name}",
            team=r[name],
        )
    p.check(
        r["CurrentLoggedInAgents"]
        == r["CurrentReadyAgents"] + r["CurrentNotReadyAgents"] + r["CurrentBusyAgents"],
        "logged in != ready + not ready + busy",
        team,
    )
    handled = sum(m["InboundCalls"] + m["Entries:" + OUTBOUND] for m in members)
    handle = sum(
        m["AverageHandlingTime"] * (m["InboundCalls"] + m["Entries:" + OUTBOUND]) for m in members
    )
    expected = handle / handled if handled else 0.0
    p.check(
        abs(r["AverageHandlingTime"] - expected) <= 0.01,
        "team AHT is not its members' pooled AHT",
        team,
        team_aht=r["AverageHandlingTime"],
        pooled=expected,
    )


def check_queue(p: Problems, where: str, r: Reading) -> None:
    """A queue-like object's flow: every call that entered is answered, gone or still there."""
    waiting, ringing = r["CurrentNumberWaitingCalls"], r["Now:CallRinging"]
    entered, answered, abandoned = r["Total_Entered"], r["Total_Answered"], r["Total_Abandoned"]
    p.check(
        entered == answered + abandoned + waiting + ringing,
        "entered != answered + abandoned + waiting + ringing",
        where,
        entered=entered,
        answered=answered,
        abandoned=abandoned,
        waiting=waiting,
        ringing=ringing,
    )
    p.check(r["Current_In_Queue"] == waiting + ringing, "in queue != waiting + ringing", where)
    p.check(r["Now:CallWait"] == waiting, "CurrentNumber CallWait != waiting", where)
    p.check(r["Now:*"] == waiting + ringing, "CurrentNumber '*' != in queue", where)
    p.check(r["Total:CallWait"] == entered, "TotalNumber CallWait != entered", where)
    p.check(r["Total:CallAnswered"] == answered, "TotalNumber CallAnswered != answered", where)
    p.check(r["Total:*"] == answered + abandoned, "TotalNumber '*' != answered+abandoned", where)
    p.check(
        r["Within:3600"] == answered + abandoned,
        "calls in (0, 3600] != answered + abandoned",
        where,
        within=r["Within:3600"],
    )
    p.check(
        waiting > 0 or r["CurrMaxCallWaitingTime"] == 0,
        "an oldest wait with no call waiting",
        where,
        oldest=r["CurrMaxCallWaitingTime"],
    )
    p.check(
        answered > 0 or r["AverageWaitingTime"] == 0,
        "an average wait with no call answered",
        where,
    )
    p.check(abandoned > 0 or r["AbandonWait"] == 0, "an abandon wait with no call abandoned", where)
    p.check(0 <= r["ServiceLevel"] <= 100, "service level outside 0..100", where)
    if answered + abandoned == 0:
        p.check(r["ServiceLevel"] == 100, "service level before any call is not 100", where)


def check_floor(
    p: Problems, cc: ContactCenter, readings: dict[tuple[str, str], Reading], now: float
) -> None:
    """Agents against each other, teams against members, queues against agents."""
    ids = cc.ids
    agents = {a: readings[AGENT, a] for a in ids.agents}
    for agent_id, reading in agents.items():
        check_agent(p, agent_id, reading, now)
    for g, team in enumerate(ids.agent_groups):
        members = [agents[ids.agents[i]] for i in cc.groups[g].members]
        check_team(p, team, readings[GROUP_AGENTS, team], members)
    queues = [readings[QUEUE, q] for q in ids.queues]
    points = [readings[ROUTE_POINT, rp] for rp in ids.route_points]
    for q, (queue, point) in enumerate(zip(queues, points, strict=True)):
        check_queue(p, ids.queues[q], queue)
        check_queue(p, ids.route_points[q], point)
        for name in ("Total_Answered", "Total_Abandoned"):
            p.check(point[name] == queue[name], f"route point {name} != queue's", ids.queues[q])
        p.check(
            point["Total_Entered"] - queue["Total_Entered"]
            == point["CurrentNumberWaitingCalls"] - queue["CurrentNumberWaitingCalls"],
            "route point entered != queue entered + announcement",
            ids.queues[q],
        )
        p.check(
            point["AverageWaitingTime"] >= queue["AverageWaitingTime"],
            "route point waits shorter than the queue's",
            ids.queues[q],
        )
        serving = [g for g, group in enumerate(cc.groups) if q in group.queues]
        ready = sum(
            readings[GROUP_AGENTS, ids.agent_groups[g]]["CurrentReadyAgents"] for g in serving
        )
        p.check(
            queue["CurrentReadyAgents"] == ready, "queue ready != its teams' ready", ids.queues[q]
        )
    for k, group_id in enumerate(ids.queue_groups):
        r = readings[GROUP_QUEUES, group_id]
        check_queue(p, group_id, r)
        members = [queues[q] for q in cc.queue_groups[k]]
        for name in ("Total_Entered", "Total_Answered", "Total_Abandoned", "Current_In_Queue"):
            p.check(
                r[name] == sum(m[name] for m in members),
                "queue group is not the sum of its queues",
                f"{group_id} {name}",
            )

    # Every answered queue call is one agent's inbound call, and rings at one agent.
    statuses = [a["CurrentAgentState"]["status"] for a in agents.values()]
    for agent_side, queue_side, invariant in (
        (
            sum(a["InboundCalls"] for a in agents.values()),
            sum(q["Total_Answered"] for q in queues),
            "agents' inbound calls != queues' answered calls",
        ),
        (
            statuses.count(RINGING),
            sum(q["Now:CallRinging"] for q in queues),
            "agents ringing != calls ringing",
        ),
    ):
        p.check(agent_side == queue_side, invariant, "floor", agents=agent_side, queues=queue_side)
    for g, team in enumerate(ids.agent_groups):
        served = sum(queues[q]["Total_Answered"] for q in cc.groups[g].queues)
        team_inbound = readings[GROUP_AGENTS, team]["InboundCalls"]
        p.check(
            team_inbound <= served,
            "a team answered more calls than its queues did",
            team,
            team=team_inbound,
            queues=served,
        )
    for q, queue in enumerate(queues):
        serving = [g for g, group in enumerate(cc.groups) if q in group.queues]
        teams_inbound = sum(
            readings[GROUP_AGENTS, ids.agent_groups[g]]["InboundCalls"] for g in serving
        )
        p.check(
            queue["Total_Answered"] <= teams_inbound,
            "a queue answered more calls than the teams serving it",
            ids.queues[q],
            queue=queue["Total_Answered"],
            teams=teams_inbound,
        )


def check_step(
    p: Problems,
    before: dict[tuple[str, str], Reading],
    after: dict[tuple[str, str], Reading],
) -> None:
    """From one moment to the next: totals only grow; nothing moves for a logged-out agent."""
    for key, old in before.items():
        new = after[key]
        where = " ".join(key)
        for name, value in old.items():
            if name in ADDITIVE or name.startswith("Total"):
                p.check(new[name] >= value, "a total went down", f"{where} {name}")
        if key[0] != AGENT:
            continue
        out_throughout = (
            old["CurrentAgentState"]["status"] == LOGGED_OUT
            and new["CurrentAgentState"]["status"] == LOGGED_OUT
            and old[f"Entries:{LOGGED_OUT}"] == new[f"Entries:{LOGGED_OUT}"]
        )
        if out_throughout:
            for name in ADDITIVE:
                if name != f"TotalTime:{LOGGED_OUT}":
                    p.check(
                        new[name] == old[name],
                        "a logged-out agent's figure moved",
                        f"{where} {name}",
                        before=old[name],
                        after=new[name],
                    )
            for name in ("TimeInCurrentState", "CurrentTime:*", "Productivity"):
                p.check(
                    new[name] == old[name],
                    "a logged-out agent's current figure moved",
                    f"{where} {name}",
                    before=old[name],
                    after=new[name],
                )


def walk(cc: ContactCenter, offsets: list[float]) -> Problems:
    """Read everything at each offset from the start and check every invariant."""
    floor = Floor(cc)
    problems = Problems()
    before: dict[tuple[str, str], Reading] | None = None
    for offset in sorted(set(offsets)):
        cc.advance_to(START + offset)
        readings = floor.read()
        check_floor(problems, cc, readings, cc.now)
        if before is not None:
            check_step(problems, before, readings)
        before = readings
    return problems


def report(problems: Problems) -> str:
    shown = "\n".join(problems.found[:25])
    return f"{len(problems.found)} broken ({sorted(problems.names())}):\n{shown}"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    agents=st.integers(1, 60),
    queues=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    offsets=st.lists(st.floats(0, SHIFT), min_size=1, max_size=12),
)
@example(agents=50, queues=5, seed=1, offsets=[900.0, HOUR, 4 * HOUR, SHIFT])
def test_every_statistic_agrees_with_the_others_all_shift(
    agents: int, queues: int, seed: int, offsets: list[float]
) -> None:
    """Talk implies calls, AHT is defined with calls, teams and queues add up, all shift long."""
    cc = ContactCenter(agents=agents, queues=queues, seed=seed, start=START)
    problems = walk(cc, [*SHIFT_START, *offsets])
    assert not problems.found, report(problems)
