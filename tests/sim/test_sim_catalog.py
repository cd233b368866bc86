"""The statistic catalogue: predefined names, value shapes, ad-hoc definitions and their errors."""

from __future__ import annotations

from typing import Any

import pytest

from statdash.sim import catalog
from statdash.sim.catalog import CatalogError, adhoc, fraction, number, predefined
from statdash.sim.model import ACW, CONSULT, LOGGED_OUT, NOT_READY, ContactCenter

START = 1_700_000_000.0
AGENT_ID = "ana.silva"
GROUP_ID = "Team_01"
QUEUE_ID = "8001@SIP_Switch"
RP_ID = "7001@SIP_Switch"
QGROUP_ID = "QueueGroup_01"
OBJECT_OF = {
    "Agent": AGENT_ID,
    "GroupAgents": GROUP_ID,
    "Queue": QUEUE_ID,
    "RoutePoint": RP_ID,
    "GroupQueues": QGROUP_ID,
}


@pytest.fixture(scope="module")
def cc() -> ContactCenter:
    """A 50-agent floor two hours into its shift."""
    center = ContactCenter(agents=50, queues=5, seed=2, start=START)
    center.advance_to(START + 7200)
    return center


def is_number(value: dict[str, Any]) -> bool:
    return (
        set(value) == {"intValue", "stringValue", "timestamp", "tag", "intervalLength"}
        and isinstance(value["intValue"], int)
        and value["tag"] == -1
        and value["intervalLength"] == 0
    )


def test_number_and_fraction_shapes(cc: ContactCenter) -> None:
    """Counts carry the same figure twice; fractions round intValue and keep 2 decimals."""
    assert number(cc, 12) == {
        "intValue": 12,
        "stringValue": "12",
        "timestamp": cc.now_ms,
        "tag": -1,
        "intervalLength": 0,
    }
    assert fraction(cc, 41.37)["intValue"] == 41
    assert fraction(cc, 41.37)["stringValue"] == "41.37"
    assert fraction(cc, 41.5)["intValue"] == 42
    assert cc.now_ms == int((START + 7200) * 1000)


@pytest.mark.parametrize("name", sorted(catalog.PREDEFINED))
def test_every_predefined_statistic_computes_on_its_object_types(
    cc: ContactCenter, name: str
) -> None:
    """Each predefined name gives a well-formed value on every object type it is listed for."""
    entry = catalog.PREDEFINED[name]
    for object_type in entry.object_types:
        value = predefined(cc, name, object_type, OBJECT_OF[object_type])()
        if entry.unit == "state":
            assert set(value) == {"stateValue", "timestamp"}
        else:
            assert is_number(value), (name, object_type, value)
            assert value["intValue"] >= 0
            if "fractional" in entry.unit:
                assert value["stringValue"].count(".") == 1
            else:
                assert value["stringValue"] == str(value["intValue"])


@pytest.mark.parametrize(
    ("name", "object_type"),
    [
        ("CurrentAgentState", "Queue"),
        ("InboundCalls", "Queue"),
        ("ServiceLevel", "Agent"),
        ("CurrentNotReadyAgents", "Queue"),
        ("TimeInCurrentState", "GroupAgents"),
    ],
)
def test_predefined_statistic_on_the_wrong_object_type_is_a_400(
    cc: ContactCenter, name: str, object_type: str
) -> None:
    """A known statistic on an object type it does not apply to is refused with code 400."""
    with pytest.raises(CatalogError) as caught:
        predefined(cc, name, object_type, OBJECT_OF[object_type])
    assert caught.value.code == 400
    assert caught.value.message.startswith(
        f"Statistic '{name}' does not apply to objectType '{object_type}'"
    )


def test_unknown_statistic_and_unknown_object_are_404s(cc: ContactCenter) -> None:
    """Unknown names and unknown objects are refused with code 404 and the brief's wording."""
    with pytest.raises(CatalogError) as name_error:
        predefined(cc, "Foo", "Agent", AGENT_ID)
    assert (name_error.value.code, name_error.value.message) == (404, "Unknown statistic 'Foo'")
    with pytest.raises(CatalogError) as object_error:
        predefined(cc, "InboundCalls", "Agent", "xyz")
    assert (object_error.value.code, object_error.value.message) == (
        404,
        "Unknown object 'Agent:xyz'",
    )
    with pytest.raises(CatalogError) as type_error:
        predefined(cc, "InboundCalls", "Place", AGENT_ID)
    assert type_error.value.code == 404


def test_agent_state_carries_place_dn_and_reason_only_when_it_has_one(cc: ContactCenter) -> None:
    """The state value has the place and DN; a reason appears for not-ready and wrap-up only."""
    for agent in cc.agents:
        state = predefined(cc, "CurrentAgentState", "Agent", agent.id)()["stateValue"]
        assert state["agentId"] == agent.id
        assert state["status"] == agent.status
        assert state["time"] == int(agent.since)
        assert state["media"] == "voice"
        assert state["place"]["placeId"] == f"Place_{agent.id}"
        assert state["place"]["dnStatuses"] == [
            {
                "dnId": agent.dn,
                "switchId": "SIP_Switch",
                "status": agent.status,
                "time": int(agent.since),
            }
        ]
        assert ("reason" in state) == (agent.status in (NOT_READY, ACW) and bool(agent.reason))
    assert any(a.status == NOT_READY and a.reason for a in cc.agents)


EQUIVALENTS = [
    ({"category": "CurrentState", "subject": "AgentStatus"}, "Agent", "CurrentAgentState"),
    (
        {"category": "CurrentNumber", "subject": "DNAction", "mainMask": "CallWait"},
        "Queue",
        "CurrentNumberWaitingCalls",
    ),
    (
        {"category": "CurrentNumber", "subject": "DNAction", "mainMask": "*"},
        "RoutePoint",
        "Current_In_Queue",
    ),
    (
        {"category": "TotalNumber", "subject": "Action", "mainMask": "CallAnswered"},
        "Queue",
        "Total_Answered",
    ),
    (
        {"category": "TotalNumber", "subject": "Action", "mainMask": "CallAbandoned"},
        "GroupQueues",
        "Total_Abandoned",
    ),
    (
        {"category": "CurrentNumber", "subject": "AgentStatus", "mainMask": "WaitForNextCall"},
        "GroupAgents",
        "CurrentReadyAgents",
    ),
    (
        {"category": "CurrentNumber", "subject": "AgentStatus", "mainMask": "WaitForNextCall"},
        "Queue",
        "CurrentReadyAgents",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "mainMask": "WaitForNextCall"},
        "Agent",
        "ReadyDuration",
    ),
    (
        {
            "category": "TotalTime",
            "subject": "AgentStatus",
            "mainMask": "CallInbound,CallOutbound,CallInternal,CallConsult",
        },
        "GroupAgents",
        "TalkDuration",
    ),
    (
        {"category": "ServiceFactor1", "subject": "DNAction", "timeRangeRight": 20},
        "Queue",
        "ServiceLevel",
    ),
    (
        {"category": "CurrentMaxTime", "subject": "DNAction", "mainMask": "CallWait"},
        "Queue",
        "CurrMaxCallWaitingTime",
    ),
    (
        {"category": "AverageTime", "subject": "Action", "mainMask": "CallAnswered"},
        "RoutePoint",
        "AverageWaitingTime",
    ),
    (
        {"category": "TotalNumber", "subject": "Action", "mainMask": "CallInbound"},
        "Agent",
        "InboundCalls",
    ),
    (
        {"category": "CurrentTime", "subject": "AgentStatus", "mainMask": "*"},
        "Agent",
        "TimeInCurrentState",
    ),
]


@pytest.mark.parametrize(("definition", "object_type", "name"), EQUIVALENTS)
def test_ad_hoc_definitions_match_their_predefined_twin(
    cc: ContactCenter, definition: dict[str, Any], object_type: str, name: str
) -> None:
    """A supported ad-hoc definition computes the same value as the predefined statistic."""
    object_id = OBJECT_OF[object_type]
    assert (
        adhoc(cc, definition, object_type, object_id)()
        == predefined(cc, name, object_type, object_id)()
    )


def test_mask_exclusions_and_time_ranges(cc: ContactCenter) -> None:
    """'~X' removes X from the default mask; time ranges count waits inside the range."""
    agent = cc.agents[0]
    not_ready = adhoc(
        cc,
        {"category": "TotalTime", "subject": "AgentStatus", "mainMask": "~WaitForNextCall"},
        "Agent",
        agent.id,
    )()["intValue"]
    login = predefined(cc, "LoginDuration", "Agent", agent.id)()["intValue"]
    ready = predefined(cc, "ReadyDuration", "Agent", agent.id)()["intValue"]
    assert abs(not_ready - (login - ready)) <= 1

    def in_range(left: int, right: int, mask: str = "CallAnswered") -> int:
        definition = {
            "category": "TotalNumberInTimeRange",
            "subject": "Action",
            "mainMask": mask,
            "timeRangeLeft": left,
            "timeRangeRight": right,
        }
        value: int = adhoc(cc, definition, "Queue", QUEUE_ID)()["intValue"]
        return value

    answered = predefined(cc, "Total_Answered", "Queue", QUEUE_ID)()["intValue"]
    assert in_range(0, 3600) == answered
    assert 0 < in_range(0, 10) < in_range(0, 60) <= answered
    assert in_range(0, 10) + in_range(10, 60) == in_range(0, 60)
    both = in_range(0, 3600, "CallAnswered,CallAbandoned")
    assert both == answered + predefined(cc, "Total_Abandoned", "Queue", QUEUE_ID)()["intValue"]


def test_service_level_is_100_before_any_call() -> None:
    """With no calls yet a queue's service level reads 100.00 rather than 0."""
    empty = ContactCenter(agents=5, queues=1, seed=1, start=START, calls_per_hour=0)
    empty.advance_to(START + 60)
    assert predefined(empty, "ServiceLevel", "Queue", QUEUE_ID)()["stringValue"] == "100.00"


UNSUPPORTED = [
    ({"subject": "AgentStatus"}, "Agent", "'category' is required"),
    ({"category": "CurrentState"}, "Agent", "'subject' is required"),
    ({"category": "Bogus", "subject": "AgentStatus"}, "Agent", "category 'Bogus'"),
    (
        {"category": "CurrentState", "subject": "GroupStatus"},
        "GroupAgents",
        "category 'CurrentState' with subject 'GroupStatus'",
    ),
    (
        {"category": "CurrentState", "subject": "AgentStatus"},
        "Queue",
        "category 'CurrentState' with subject 'AgentStatus' on objectType 'Queue'",
    ),
    (
        {"category": "CurrentNumber", "subject": "DNAction", "mainMask": "CallAnswered"},
        "Queue",
        "mainMask action 'CallAnswered' with category 'CurrentNumber'",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "mainMask": "Dancing"},
        "Agent",
        "mainMask action 'Dancing' is unknown",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "intervalType": "SlidingWindow"},
        "Agent",
        "intervalType 'SlidingWindow'",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "dynamicFilter": "MediaType=chat"},
        "Agent",
        "dynamicFilter 'MediaType=chat'",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "relativeMask": "CallWait"},
        "Agent",
        "relativeMask",
    ),
    (
        {"category": "TotalTime", "subject": "AgentStatus", "notificationMode": "Sometimes"},
        "Agent",
        "notificationMode 'Sometimes'",
    ),
    (
        {"category": "TotalNumberInTimeRange", "subject": "Action", "mainMask": "CallAnswered"},
        "Queue",
        "needs timeRangeRight",
    ),
    (
        {"category": "ServiceFactor1", "subject": "Action", "timeRangeRight": 2.5},
        "Queue",
        "timeRangeRight must be whole seconds",
    ),
    (
        {
            "category": "ServiceFactor1",
            "subject": "Action",
            "timeRangeLeft": 30,
            "timeRangeRight": 20,
        },
        "Queue",
        "timeRangeLeft is greater than timeRangeRight",
    ),
]


@pytest.mark.parametrize(("definition", "object_type", "fragment"), UNSUPPORTED)
def test_unsupported_definitions_are_400s_naming_what_is_unsupported(
    cc: ContactCenter, definition: dict[str, Any], object_type: str, fragment: str
) -> None:
    """An unsupported definition is refused with code 400 and a message naming the problem."""
    with pytest.raises(CatalogError) as caught:
        adhoc(cc, definition, object_type, OBJECT_OF[object_type])
    assert caught.value.code == 400
    assert caught.value.message.startswith("Unsupported definition: ")
    assert fragment in caught.value.message


def test_supported_definition_on_an_unknown_object_is_a_404(cc: ContactCenter) -> None:
    """A valid definition on an object that does not exist is an unknown object."""
    with pytest.raises(CatalogError) as caught:
        adhoc(cc, {"category": "CurrentState", "subject": "AgentStatus"}, "Agent", "nobody")
    assert (caught.value.code, caught.value.message) == (404, "Unknown object 'Agent:nobody'")


def value_of(cc: ContactCenter, name: str, object_type: str, object_id: str) -> Any:
    value = predefined(cc, name, object_type, object_id)()
    return float(value["stringValue"]) if "." in value["stringValue"] else value["intValue"]


def test_queue_figures_match_a_hand_count(cc: ContactCenter) -> None:
    """Queue statistics equal what a hand count over the model's calls and agents gives."""
    for q, queue in enumerate(cc.queues):
        qid = cc.ids.queues[q]
        stats = queue.stats
        finished = stats.answered + stats.abandoned
        assert value_of(cc, "ServiceLevel", "Queue", qid) == pytest.approx(
            100 * sum(stats.answered_hist[:21]) / finished, abs=0.005
        )
        assert value_of(cc, "AverageWaitingTime", "Queue", qid) == pytest.approx(
            stats.answered_wait / stats.answered, abs=0.005
        )
        assert value_of(cc, "Current_In_Queue", "Queue", qid) == (
            queue.waiting_count + queue.ringing
        )
        assert value_of(
            cc, "CurrentNumberWaitingCalls", "RoutePoint", cc.ids.route_points[q]
        ) == queue.waiting_count + len(queue.in_ivr)
        serving = {a.index for a in cc.agents if q in cc.groups[a.group].queues}
        assert value_of(cc, "CurrentReadyAgents", "Queue", qid) == sum(
            1 for i in serving if cc.agents[i].status == "WaitForNextCall"
        )
    all_queues = cc.queues
    answered = sum(q.stats.answered for q in all_queues)
    assert value_of(cc, "Total_Answered", "GroupQueues", QGROUP_ID) == answered
    assert value_of(cc, "ServiceLevel", "GroupQueues", QGROUP_ID) == pytest.approx(
        100
        * sum(sum(q.stats.answered_hist[:21]) for q in all_queues)
        / sum(q.stats.answered + q.stats.abandoned for q in all_queues),
        abs=0.005,
    )


def test_first_seconds_of_a_shift_show_no_talk_or_wrap_up_without_a_call() -> None:
    """Seconds after the start, an agent with talk or wrap-up time has a call to show for it."""
    fresh = ContactCenter(agents=50, queues=5, seed=1, start=START)
    for seconds in (1, 5, 30, 90):
        fresh.advance_to(START + seconds)
        for agent in fresh.ids.agents:
            calls = sum(
                value_of(fresh, name, "Agent", agent)
                for name in ("InboundCalls", "OutboundCalls", "InternalCalls")
            )
            for name in ("TalkDuration", "WrapDuration", "HoldDuration"):
                assert calls > 0 or value_of(fresh, name, "Agent", agent) == 0, (seconds, agent)


def test_consults_and_transfers_count_when_they_happen() -> None:
    """A consult counts once it begins, a transfer once its consult is over, never ahead."""
    floor = ContactCenter(agents=50, queues=5, seed=3, start=START)
    consults_begun = {
        "category": "TotalNumber",
        "subject": "AgentStatus",
        "mainMask": "CallConsult",
    }
    for seconds in range(20, 2 * 3600, 20):
        floor.advance_to(START + seconds)
        for agent in floor.agents:
            consults = value_of(floor, "ConsultCalls", "Agent", agent.id)
            begun = adhoc(floor, consults_begun, "Agent", agent.id)()["intValue"]
            assert consults == begun, (seconds, agent.id)
            finished = consults - (1 if agent.status == CONSULT else 0)
            assert value_of(floor, "InteractionTransferred", "Agent", agent.id) <= finished
    assert sum(a.transferred for a in floor.agents) > 0


def test_an_agent_on_a_first_call_already_has_an_aht() -> None:
    """AverageHandlingTime is defined as soon as an agent has a call, the one in progress."""
    fresh = ContactCenter(agents=50, queues=5, seed=1, start=START)
    fresh.advance_to(START + 120)
    on_first_call = [
        a.id for a in fresh.agents if a.inbound == 1 and a.handled == 0 and a.status != ACW
    ]
    assert on_first_call
    for agent in on_first_call:
        assert value_of(fresh, "AverageHandlingTime", "Agent", agent) > 0
    for member in fresh.agents:
        if member.inbound == 0 and member.handle_start is None:
            assert value_of(fresh, "AverageHandlingTime", "Agent", member.id) == 0


def test_nothing_grows_for_a_logged_out_agent() -> None:
    """A logged-out agent's time in state reads 0 and stays there; its state tells since when."""
    floor = ContactCenter(agents=50, queues=5, seed=1, start=START)
    out = [a for a in floor.agents if a.status == LOGGED_OUT]
    assert out
    any_status = {"category": "CurrentTime", "subject": "AgentStatus", "mainMask": "*"}
    for seconds in (30, 300):
        floor.advance_to(START + seconds)
        for agent in out:
            if agent.status != LOGGED_OUT:
                continue
            assert value_of(floor, "TimeInCurrentState", "Agent", agent.id) == 0
            assert adhoc(floor, any_status, "Agent", agent.id)()["intValue"] == 0
            state = predefined(floor, "CurrentAgentState", "Agent", agent.id)()["stateValue"]
            assert (state["status"], state["time"]) == (LOGGED_OUT, int(agent.since))


def test_agent_figures_match_a_hand_count(cc: ContactCenter) -> None:
    """Agent and team statistics equal sums and ratios over the model's accumulators."""
    now = cc.now
    team = [cc.agents[i] for i in cc.groups[0].members]
    for agent in team:
        login = agent.login_time(now)
        assert value_of(cc, "LoginDuration", "Agent", agent.id) == int(login)
        busy = sum(
            agent.time_in([s], now)
            for s in (
                "AfterCallWork",
                "CallInbound",
                "CallOutbound",
                "CallInternal",
                "CallConsult",
                "CallOnHold",
                "CallRinging",
                "CallDialing",
            )
        )
        assert value_of(cc, "Productivity", "Agent", agent.id) == pytest.approx(
            100 * busy / login if login else 0, abs=0.005
        )
    # The calls in progress count with their handle time so far.
    in_progress = [a for a in team if a.handle_start is not None]
    handled = sum(a.handled for a in team) + len(in_progress)
    handle_time = sum(a.handle_total for a in team) + sum(
        now - a.handle_start for a in in_progress if a.handle_start is not None
    )
    assert in_progress
    assert value_of(cc, "AverageHandlingTime", "GroupAgents", GROUP_ID) == pytest.approx(
        handle_time / handled, abs=0.005
    )
    assert value_of(cc, "InboundCalls", "GroupAgents", GROUP_ID) == sum(a.inbound for a in team)
    assert value_of(cc, "CurrentNotReadyAgents", "GroupAgents", GROUP_ID) == sum(
        1 for a in team if a.status == "NotReadyForNextCall"
    )
