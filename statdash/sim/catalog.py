"""Statistic catalogue: predefined names and supported ad-hoc definitions, bound to the model."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statdash.sim import ids
from statdash.sim import model as m
from statdash.sim.model import Agent, ContactCenter, WaitStats

Value = dict[str, Any]
# Computes the current `value` object of one statistic; bound to one model object.
Compute = Callable[[], Value]

AGENT = "Agent"
GROUP_AGENTS = "GroupAgents"
QUEUE = "Queue"
ROUTE_POINT = "RoutePoint"
GROUP_QUEUES = "GroupQueues"
OBJECT_TYPES: tuple[str, ...] = (AGENT, GROUP_AGENTS, QUEUE, ROUTE_POINT, GROUP_QUEUES)
QUEUE_LIKE = (QUEUE, ROUTE_POINT, GROUP_QUEUES)

SERVICE_LEVEL_SECONDS = 20
# Everything an agent can be in while logged in: the meaning of "*" for agent masks.
LOGGED_IN_STATUSES = tuple(s for s in m.STATUSES if s != m.LOGGED_OUT)
ON_CALL_OR_WRAP = tuple(sorted(m.BUSY_STATUSES))
KNOWN_ACTIONS = frozenset(
    {
        "CallWait",
        "CallAnswered",
        "CallAbandoned",
        "CallInbound",
        "CallOutbound",
        "CallInternal",
        "CallConsult",
        "CallOnHold",
        "CallRinging",
        "CallDialing",
        "AfterCallWork",
        "WaitForNextCall",
        "NotReadyForNextCall",
        "LoggedOut",
        "OffHook",
    }
)
NOTIFICATION_MODES = frozenset({"Immediate", "Periodical", "Reset", "NoNotification"})
# Stat Server's default notificationFrequency for Periodical statistics, and the longest.
DEFAULT_NOTIFICATION_FREQUENCY = 10
MAX_NOTIFICATION_FREQUENCY = 86_400
# Predefined statistics whose value moves with time alone (durations, a ratio over login time,
# the wait of the oldest call). The catalogue configures them Periodical, as a server would:
# pushed on events only they would look frozen between events.
TIME_DRIVEN = frozenset(
    {
        "TimeInCurrentState",
        "ReadyDuration",
        "NotReadyDuration",
        "TalkDuration",
        "HoldDuration",
        "WrapDuration",
        "LoginDuration",
        "AverageHandlingTime",
        "Productivity",
        "CurrMaxCallWaitingTime",
    }
)


class CatalogError(Exception):
    """A statistic that cannot be opened: `code` 404 (unknown) or 400 (unsupported)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ------------------------------------------------------------------------------- values


def number(model: ContactCenter, n: int) -> Value:
    """A count or a duration in whole seconds."""
    return {
        "intValue": n,
        "stringValue": str(n),
        "timestamp": model.now_ms,
        "tag": -1,
        "intervalLength": 0,
    }


def fraction(model: ContactCenter, x: float) -> Value:
    """A fractional figure: rounded in intValue, exact to two decimals in stringValue."""
    return {
        "intValue": math.floor(x + 0.5),
        "stringValue": f"{x:.2f}",
        "timestamp": model.now_ms,
        "tag": -1,
        "intervalLength": 0,
    }


# Stat Server's status numbers (PSDK DN/agent status), served with `numeric_states`.
STATUS_NUMBERS = {
    "LoggedIn": 2,
    "WaitForNextCall": 4,
    "OffHook": 5,
    "CallDialing": 6,
    "CallRinging": 7,
    "NotReadyForNextCall": 8,
    "AfterCallWork": 9,
    "CallOnHold": 13,
    "CallConsult": 19,
    "CallInternal": 20,
    "CallOutbound": 21,
    "CallInbound": 22,
    "LoggedOut": 23,
}
# Not-ready reason codes served with `numeric_states` (a deployment's own numbering).
REASON_CODES = {
    "Break": 1,
    "Personal": 2,
    "Coaching": 3,
    "Meeting": 4,
    "Training": 5,
    "Lunch": 6,
    m.ACW_REASON: 9,
}


def agent_state(model: ContactCenter, agent: Agent) -> Value:
    """Stat Server's AgentStatus object: status, when it began, reason, place and DN."""
    began = int(agent.since)
    status: str | int = agent.status
    if model.numeric_states:
        status = STATUS_NUMBERS.get(agent.status, agent.status)
    state: Value = {"agentId": agent.id, "status": status, "time": began}
    if agent.reason is not None and agent.status in (m.NOT_READY, m.ACW):
        reason: str | int = agent.reason
        if model.numeric_states:
            reason = REASON_CODES.get(agent.reason, agent.reason)
        state["reason"] = reason
    state["media"] = "voice"
    state["place"] = {
        "placeId": f"Place_{agent.id}",
        "dnStatuses": [{"dnId": agent.dn, "switchId": ids.SWITCH, "status": status, "time": began}],
    }
    return {"stateValue": state, "timestamp": model.now_ms}


# ------------------------------------------------------------------------------ objects


def find_object(model: ContactCenter, object_type: str, object_id: str) -> int:
    """Index of the object, or CatalogError 404 when the type or id is unknown."""
    index: int | None = None
    if object_type == AGENT:
        index = model.agent_index.get(object_id)
    elif object_type == GROUP_AGENTS:
        index = model.group_index.get(object_id)
    elif object_type == QUEUE:
        index = model.queue_index.get(object_id)
    elif object_type == ROUTE_POINT:
        index = model.rp_index.get(object_id)
    elif object_type == GROUP_QUEUES:
        index = model.queue_group_index.get(object_id)
    if index is None:
        raise CatalogError(404, f"Unknown object '{object_type}:{object_id}'")
    return index


def _queues_of(model: ContactCenter, object_type: str, index: int) -> list[int]:
    return model.queue_groups[index] if object_type == GROUP_QUEUES else [index]


def _agents_of(model: ContactCenter, object_type: str, index: int) -> list[Agent]:
    if object_type == AGENT:
        return [model.agents[index]]
    return [model.agents[i] for i in model.groups[index].members]


# ----------------------------------------------------------------- queue-side figures


class QueueView:
    """The call figures of a queue, a route point or a queue group, read at peek time."""

    def __init__(self, model: ContactCenter, object_type: str, index: int) -> None:
        self.model = model
        self.route_point = object_type == ROUTE_POINT
        self.queues = [model.queues[q] for q in _queues_of(model, object_type, index)]
        self.indexes = [q.index for q in self.queues]

    def _stats(self) -> list[WaitStats]:
        return [q.rp if self.route_point else q.stats for q in self.queues]

    def waiting(self) -> int:
        """Calls waiting for an agent (for a route point, also those hearing its announcement)."""
        extra = sum(len(q.in_ivr) for q in self.queues) if self.route_point else 0
        return sum(q.waiting_count for q in self.queues) + extra

    def ringing(self) -> int:
        """Calls offered to an agent and not answered yet."""
        return sum(q.ringing for q in self.queues)

    def oldest(self) -> float:
        """Seconds the longest-waiting call has waited."""
        return max(
            self.model.oldest_wait(q, from_route_point=self.route_point) for q in self.indexes
        )

    def entered(self) -> int:
        return sum(s.entered for s in self._stats())

    def answered(self) -> int:
        return sum(s.answered for s in self._stats())

    def abandoned(self) -> int:
        return sum(s.abandoned for s in self._stats())

    def average_wait(self, answered: bool, abandoned: bool) -> float:
        """Mean wait of the answered and/or abandoned calls (0 when there are none)."""
        count, total = 0, 0.0
        for s in self._stats():
            if answered:
                count, total = count + s.answered, total + s.answered_wait
            if abandoned:
                count, total = count + s.abandoned, total + s.abandoned_wait
        return total / count if count else 0.0

    def within(self, *, answered: bool, upto: int) -> int:
        """Calls answered (or abandoned) after waiting at most `upto` seconds."""
        end = max(0, min(upto, m.HIST_MAX)) + 1
        return sum(
            sum((s.answered_hist if answered else s.abandoned_hist)[:end]) for s in self._stats()
        )

    def service_level(self, right: int, left: int) -> float:
        """Percent answered within `right` s, short abandons (within `left` s) left out."""
        answered = self.answered()
        counted_abandons = self.abandoned() - (
            self.within(answered=False, upto=left) if left > 0 else 0
        )
        denominator = answered + counted_abandons
        if denominator <= 0:
            return 100.0
        return 100.0 * self.within(answered=True, upto=right) / denominator

    def agents_in(self, statuses: Sequence[str]) -> int:
        """Agents in `statuses` among the groups serving these queues."""
        return self.model.ready_serving(self.indexes, statuses)


# ------------------------------------------------------------------- agent-side figures


def _sum_agents(agents: list[Agent], read: Callable[[Agent], float]) -> float:
    return sum(read(a) for a in agents)


def _agent_average_handling(model: ContactCenter, agents: list[Agent]) -> float:
    # The call in progress counts, so an agent on their first call already has an AHT.
    calls, seconds = 0, 0.0
    for agent in agents:
        handled, handle_time = agent.handling(model.now)
        calls += handled
        seconds += handle_time
    return seconds / calls if calls else 0.0


def _agent_productivity(model: ContactCenter, agents: list[Agent]) -> float:
    now = model.now
    login = sum(a.login_time(now) for a in agents)
    if login <= 0:
        return 0.0
    busy = sum(a.time_in(ON_CALL_OR_WRAP, now) for a in agents)
    return 100.0 * busy / login


# --------------------------------------------------------------------- predefined names

Factory = Callable[[ContactCenter, str, int], Compute]


@dataclass(frozen=True)
class Predefined:
    """One predefined statistic: where it applies, its unit and how it is computed."""

    name: str
    object_types: tuple[str, ...]
    unit: str
    meaning: str
    factory: Factory


def _agent_counter(attr: str) -> Factory:
    def factory(model: ContactCenter, object_type: str, index: int) -> Compute:
        agents = _agents_of(model, object_type, index)
        if len(agents) == 1:
            agent = agents[0]
            return lambda: number(model, getattr(agent, attr))
        return lambda: number(model, int(sum(getattr(a, attr) for a in agents)))

    return factory


def _agent_duration(statuses: tuple[str, ...]) -> Factory:
    def factory(model: ContactCenter, object_type: str, index: int) -> Compute:
        agents = _agents_of(model, object_type, index)
        return lambda: number(
            model, int(_sum_agents(agents, lambda a: a.time_in(statuses, model.now)))
        )

    return factory


def _login_duration(model: ContactCenter, object_type: str, index: int) -> Compute:
    agents = _agents_of(model, object_type, index)
    return lambda: number(model, int(_sum_agents(agents, lambda a: a.login_time(model.now))))


def _time_in_current_state(model: ContactCenter, object_type: str, index: int) -> Compute:
    agent = model.agents[index]
    return lambda: number(model, int(agent.time_in_current(model.now)))


def _current_agent_state(model: ContactCenter, object_type: str, index: int) -> Compute:
    agent = model.agents[index]
    return lambda: agent_state(model, agent)


def _average_handling(model: ContactCenter, object_type: str, index: int) -> Compute:
    agents = _agents_of(model, object_type, index)
    return lambda: fraction(model, _agent_average_handling(model, agents))


def _productivity(model: ContactCenter, object_type: str, index: int) -> Compute:
    agents = _agents_of(model, object_type, index)
    return lambda: fraction(model, _agent_productivity(model, agents))


def _group_status_count(statuses: tuple[str, ...]) -> Factory:
    def factory(model: ContactCenter, object_type: str, index: int) -> Compute:
        counts = model.groups[index].counts
        return lambda: number(model, sum(counts[s] for s in statuses))

    return factory


def _queue_figure(read: Callable[[QueueView], float], *, fractional: bool = False) -> Factory:
    def factory(model: ContactCenter, object_type: str, index: int) -> Compute:
        view = QueueView(model, object_type, index)
        if fractional:
            return lambda: fraction(model, read(view))
        return lambda: number(model, int(read(view)))

    return factory


def _ready_agents(model: ContactCenter, object_type: str, index: int) -> Compute:
    if object_type == GROUP_AGENTS:
        return _group_status_count((m.READY,))(model, object_type, index)
    view = QueueView(model, object_type, index)
    return lambda: number(model, view.agents_in((m.READY,)))


# GroupAgents take the agent statistics as sums (ratios pooled) over their members.
_A = (AGENT,)
_AG = (AGENT, GROUP_AGENTS)
_G = (GROUP_AGENTS,)
_GQ = (GROUP_AGENTS, *QUEUE_LIKE)

PREDEFINED: dict[str, Predefined] = {
    p.name: p
    for p in (
        Predefined(
            "CurrentAgentState",
            _A,
            "state",
            "Current status, when it began, reason, place and DN",
            _current_agent_state,
        ),
        Predefined(
            "TimeInCurrentState",
            _A,
            "seconds",
            "Seconds since the current status began; 0 while logged out",
            _time_in_current_state,
        ),
        Predefined(
            "ReadyDuration",
            _AG,
            "seconds",
            "Time ready (WaitForNextCall)",
            _agent_duration((m.READY,)),
        ),
        Predefined(
            "NotReadyDuration",
            _AG,
            "seconds",
            "Time not ready (NotReadyForNextCall)",
            _agent_duration((m.NOT_READY,)),
        ),
        Predefined(
            "TalkDuration",
            _AG,
            "seconds",
            "Time talking: inbound, outbound, internal and consult calls",
            _agent_duration(tuple(sorted(m.TALK_STATUSES))),
        ),
        Predefined(
            "HoldDuration", _AG, "seconds", "Time with a caller on hold", _agent_duration((m.HOLD,))
        ),
        Predefined(
            "WrapDuration", _AG, "seconds", "Time in after-call work", _agent_duration((m.ACW,))
        ),
        Predefined("LoginDuration", _AG, "seconds", "Time logged in", _login_duration),
        Predefined(
            "InboundCalls", _AG, "count", "Inbound queue calls answered", _agent_counter("inbound")
        ),
        Predefined(
            "OutboundCalls", _AG, "count", "Outbound calls dialled", _agent_counter("outbound")
        ),
        Predefined(
            "InternalCalls", _AG, "count", "Internal calls made", _agent_counter("internal")
        ),
        Predefined(
            "ConsultCalls", _AG, "count", "Consultations during a call", _agent_counter("consults")
        ),
        Predefined(
            "MissedCalls",
            _AG,
            "count",
            "Calls that rang unanswered and were redirected (RONA)",
            _agent_counter("missed"),
        ),
        Predefined(
            "RefusedCalls",
            _AG,
            "count",
            "Calls the agent declined while they rang",
            _agent_counter("refused"),
        ),
        Predefined(
            "InteractionTransferred",
            _AG,
            "count",
            "Calls transferred after a consult",
            _agent_counter("transferred"),
        ),
        Predefined(
            "AverageHandlingTime",
            _AG,
            "seconds (fractional)",
            "Mean handle time (talk, hold, wrap-up) of inbound and connected outbound calls, "
            "the one in progress included",
            _average_handling,
        ),
        Predefined(
            "Productivity",
            _AG,
            "percent (fractional)",
            "Share of logged-in time on calls or in after-call work",
            _productivity,
        ),
        Predefined(
            "CurrentReadyAgents",
            _GQ,
            "count",
            "Agents ready now (for queues: in the groups serving them)",
            _ready_agents,
        ),
        Predefined(
            "CurrentNotReadyAgents",
            _G,
            "count",
            "Agents not ready now",
            _group_status_count((m.NOT_READY,)),
        ),
        Predefined(
            "CurrentBusyAgents",
            _G,
            "count",
            "Agents on a call or in after-call work now",
            _group_status_count(ON_CALL_OR_WRAP),
        ),
        Predefined(
            "CurrentLoggedInAgents",
            _G,
            "count",
            "Agents logged in now",
            _group_status_count(LOGGED_IN_STATUSES),
        ),
        Predefined(
            "Current_In_Queue",
            QUEUE_LIKE,
            "count",
            "Calls waiting or ringing at an agent (route point: plus those in its announcement)",
            _queue_figure(lambda v: v.waiting() + v.ringing()),
        ),
        Predefined(
            "CurrentNumberWaitingCalls",
            QUEUE_LIKE,
            "count",
            "Calls waiting for an agent (route point: plus those in its announcement)",
            _queue_figure(QueueView.waiting),
        ),
        Predefined(
            "CurrMaxCallWaitingTime",
            QUEUE_LIKE,
            "seconds",
            "Wait so far of the longest-waiting call",
            _queue_figure(QueueView.oldest),
        ),
        Predefined(
            "AverageWaitingTime",
            QUEUE_LIKE,
            "seconds (fractional)",
            "Mean wait of answered calls (route point: from arrival at it)",
            _queue_figure(lambda v: v.average_wait(True, False), fractional=True),
        ),
        Predefined(
            "ServiceLevel",
            QUEUE_LIKE,
            "percent (fractional)",
            "Answered within 20 s / (answered + abandoned); 100 before any call",
            _queue_figure(lambda v: v.service_level(SERVICE_LEVEL_SECONDS, 0), fractional=True),
        ),
        Predefined(
            "Total_Entered",
            QUEUE_LIKE,
            "count",
            "Calls that entered",
            _queue_figure(QueueView.entered),
        ),
        Predefined(
            "Total_Answered",
            QUEUE_LIKE,
            "count",
            "Calls answered",
            _queue_figure(QueueView.answered),
        ),
        Predefined(
            "Total_Abandoned",
            QUEUE_LIKE,
            "count",
            "Calls abandoned while waiting or ringing",
            _queue_figure(QueueView.abandoned),
        ),
    )
}


def predefined_entry(
    model: ContactCenter, name: str, object_type: str, object_id: str
) -> tuple[Predefined, int]:
    """The catalogue entry of `name` and the index of its object; CatalogError when none."""
    entry = PREDEFINED.get(name)
    if entry is None:
        raise CatalogError(404, f"Unknown statistic '{name}'")
    index = find_object(model, object_type, object_id)
    if object_type not in entry.object_types:
        allowed = ", ".join(entry.object_types)
        raise CatalogError(
            400,
            f"Statistic '{name}' does not apply to objectType '{object_type}' "
            f"(it applies to {allowed})",
        )
    return entry, index


def predefined(
    model: ContactCenter,
    name: str,
    object_type: str,
    object_id: str,
) -> Compute:
    """Bind a predefined statistic to an object; CatalogError 404/400 when it cannot be.

    The simulator serves it through its pins (`pins.Pins.bind`), which may hold it at a value.
    """
    entry, index = predefined_entry(model, name, object_type, object_id)
    return entry.factory(model, object_type, index)


# ------------------------------------------------------------------ what a value depends on


def sources(model: ContactCenter, object_type: str, object_id: str) -> tuple[int, ...]:
    """Keys of the model objects whose events can change any statistic of this object.

    Keys are ints: agent i is i, agent group g is agents + g, queue q is agents + groups + q
    (see `touched_sources`). Queue-like objects also depend on the agent groups serving them
    (ready agents). Time passing alone changes no key: durations are pushed as of an event.
    """
    index = find_object(model, object_type, object_id)
    base_group = len(model.agents)
    base_queue = base_group + len(model.groups)
    if object_type == AGENT:
        return (index,)
    if object_type == GROUP_AGENTS:
        return (base_group + index,)
    queues = _queues_of(model, object_type, index)
    groups = sorted({g for q in queues for g in model.queues[q].groups})
    return (*(base_queue + q for q in queues), *(base_group + g for g in groups))


def touched_sources(model: ContactCenter) -> set[int]:
    """The `sources` keys events touched since the last call (consumes the model's record)."""
    agents, queues = model.take_touched()
    base_group = len(model.agents)
    base_queue = base_group + len(model.groups)
    keys = set(agents)
    every = model.agents
    keys.update(base_group + every[i].group for i in agents)
    keys.update(base_queue + q for q in queues)
    return keys


# ------------------------------------------------------------------------ notifications


@dataclass(frozen=True)
class Notification:
    """When the push channel delivers a statistic's changes.

    `mode` is Immediate (at the next connect after an event changed it), Periodical (at most
    every `frequency` simulated seconds, the latest value) or NoNotification (never pushed;
    peeks still read it). Reset is served as NoNotification: GrowingWindow totals never reset.
    A numeric change is pushed only when it exceeds `insensitivity` percent of the value last
    pushed (Stat Server's "insensitivity percentage"); 0 pushes every change.
    """

    mode: str = "Immediate"
    frequency: float = DEFAULT_NOTIFICATION_FREQUENCY
    insensitivity: float = 0.0


IMMEDIATE = Notification()


def notification(
    definition: Mapping[str, Any] | None,
    name: str | None = None,
    time_driven_frequency: float = DEFAULT_NOTIFICATION_FREQUENCY,
) -> Notification:
    """The notification settings of an ad-hoc definition, or of predefined statistic `name`.

    Predefined statistics are Immediate with no insensitivity, except the TIME_DRIVEN ones:
    Periodical every `time_driven_frequency` seconds. Call after the statistic resolved.
    """
    if definition is None:
        if name in TIME_DRIVEN:
            return Notification("Periodical", time_driven_frequency)
        return IMMEDIATE
    mode = definition.get("notificationMode") or "Immediate"
    if mode == "Reset":
        mode = "NoNotification"
    frequency = definition.get("notificationFrequency")
    insensitivity = definition.get("insensitivity")
    return Notification(
        mode,
        float(frequency) if frequency is not None else DEFAULT_NOTIFICATION_FREQUENCY,
        float(insensitivity) if insensitivity is not None else 0.0,
    )


# ---------------------------------------------------------------------- ad-hoc definitions

Builder = Callable[[ContactCenter, str, int, frozenset[str], "Ranges"], Compute]


@dataclass(frozen=True)
class Ranges:
    """timeRangeLeft / timeRangeRight of a definition, in whole seconds."""

    left: int
    right: int | None


@dataclass(frozen=True)
class AdHoc:
    """One supported (category, subject, object types) combination and how it is computed."""

    category: str
    subjects: tuple[str, ...]
    object_types: tuple[str, ...]
    # mainMask actions this row understands; "*" means `star`.
    actions: frozenset[str]
    star: frozenset[str]
    meaning: str
    build: Builder
    needs_right: bool = False


def _state_builder(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    return _current_agent_state(model, t, i)


def _agents_in_mask(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    statuses = tuple(s for s in m.STATUSES if s in mask)
    if t == AGENT:
        agent = model.agents[i]
        return lambda: number(model, 1 if agent.status in statuses else 0)
    if t == GROUP_AGENTS:
        return _group_status_count(statuses)(model, t, i)
    view = QueueView(model, t, i)
    return lambda: number(model, view.agents_in(statuses))


def _calls_now(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    view = QueueView(model, t, i)
    wait, ring = "CallWait" in mask, "CallRinging" in mask
    return lambda: number(model, (view.waiting() if wait else 0) + (view.ringing() if ring else 0))


def _time_in_state(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    agent = model.agents[i]
    return lambda: number(
        model, int(agent.time_in_current(model.now)) if agent.status in mask else 0
    )


def _oldest(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    view = QueueView(model, t, i)
    return lambda: number(model, int(view.oldest()))


def _queue_totals(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    view = QueueView(model, t, i)
    parts: list[Callable[[], int]] = []
    if "CallWait" in mask:
        parts.append(view.entered)
    if "CallAnswered" in mask:
        parts.append(view.answered)
    if "CallAbandoned" in mask:
        parts.append(view.abandoned)
    return lambda: number(model, sum(p() for p in parts))


_AGENT_CALL_COUNTERS = {
    "CallInbound": "inbound",
    "CallOutbound": "outbound",
    "CallInternal": "internal",
    "CallConsult": "consults",
}


def _agent_totals(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    agents = _agents_of(model, t, i)
    attrs = [attr for action, attr in _AGENT_CALL_COUNTERS.items() if action in mask]
    return lambda: number(model, int(sum(getattr(a, x) for a in agents for x in attrs)))


def _status_entries(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    agents = _agents_of(model, t, i)
    statuses = tuple(s for s in m.STATUSES if s in mask)
    return lambda: number(model, sum(a.status_entries[s] for a in agents for s in statuses))


def _status_time(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    statuses = tuple(s for s in m.STATUSES if s in mask)
    return _agent_duration(statuses)(model, t, i)


def _average_wait(model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges) -> Compute:
    view = QueueView(model, t, i)
    answered, abandoned = "CallAnswered" in mask, "CallAbandoned" in mask
    return lambda: fraction(model, view.average_wait(answered, abandoned))


def _service_factor(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    view = QueueView(model, t, i)
    right = r.right if r.right is not None else SERVICE_LEVEL_SECONDS
    return lambda: fraction(model, view.service_level(right, r.left))


def _in_time_range(
    model: ContactCenter, t: str, i: int, mask: frozenset[str], r: Ranges
) -> Compute:
    view = QueueView(model, t, i)
    assert r.right is not None
    right, left = r.right, r.left
    kinds = [
        kind for kind in (True, False) if ("CallAnswered" if kind else "CallAbandoned") in mask
    ]

    def count() -> int:
        total = 0
        for answered in kinds:
            total += view.within(answered=answered, upto=right)
            if left > 0:
                total -= view.within(answered=answered, upto=left)
        return total

    return lambda: number(model, count())


_STATUS_SET = frozenset(m.STATUSES)
_LOGGED_IN = frozenset(LOGGED_IN_STATUSES)
_CALL_ACTIONS = ("DNAction", "Action")
_ALL_ACTIONS = frozenset(KNOWN_ACTIONS)

ADHOC: tuple[AdHoc, ...] = (
    AdHoc(
        "CurrentState",
        ("AgentStatus", "DNStatus", "PlaceStatus"),
        (AGENT,),
        _ALL_ACTIONS,
        _ALL_ACTIONS,
        "The agent's state, as CurrentAgentState (mainMask ignored)",
        _state_builder,
    ),
    AdHoc(
        "CurrentNumber",
        ("AgentStatus",),
        (AGENT, GROUP_AGENTS, *QUEUE_LIKE),
        _STATUS_SET,
        _LOGGED_IN,
        "Agents now in a mainMask status (queues: among the groups serving "
        "them; an Agent gives 1 or 0); '*' = logged in",
        _agents_in_mask,
    ),
    AdHoc(
        "CurrentNumber",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        frozenset({"CallWait", "CallRinging"}),
        frozenset({"CallWait", "CallRinging"}),
        "Calls now waiting (CallWait) and/or ringing at an agent (CallRinging)",
        _calls_now,
    ),
    AdHoc(
        "CurrentTime",
        ("AgentStatus",),
        (AGENT,),
        _STATUS_SET,
        _STATUS_SET,
        "Seconds in the current status when it is in mainMask, else 0 (0 while logged out)",
        _time_in_state,
    ),
    AdHoc(
        "CurrentMaxTime",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        frozenset({"CallWait"}),
        frozenset({"CallWait"}),
        "Wait so far of the longest-waiting call",
        _oldest,
    ),
    AdHoc(
        "TotalNumber",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        frozenset({"CallWait", "CallAnswered", "CallAbandoned"}),
        frozenset({"CallAnswered", "CallAbandoned"}),
        "Calls entered (CallWait), answered, abandoned: the sum over mainMask; "
        "'*' = answered + abandoned",
        _queue_totals,
    ),
    AdHoc(
        "TotalNumber",
        _CALL_ACTIONS,
        (AGENT, GROUP_AGENTS),
        frozenset(_AGENT_CALL_COUNTERS),
        frozenset(_AGENT_CALL_COUNTERS),
        "Calls handled: CallInbound, CallOutbound, CallInternal, CallConsult, summed",
        _agent_totals,
    ),
    AdHoc(
        "TotalNumber",
        ("AgentStatus",),
        (AGENT, GROUP_AGENTS),
        _STATUS_SET,
        _LOGGED_IN,
        "Times a mainMask status was entered",
        _status_entries,
    ),
    AdHoc(
        "TotalTime",
        ("AgentStatus",),
        (AGENT, GROUP_AGENTS),
        _STATUS_SET,
        _LOGGED_IN,
        "Seconds spent in the mainMask statuses; '*' = logged in",
        _status_time,
    ),
    AdHoc(
        "AverageTime",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        frozenset({"CallAnswered", "CallAbandoned"}),
        frozenset({"CallAnswered"}),
        "Mean wait of answered and/or abandoned calls (fractional)",
        _average_wait,
    ),
    AdHoc(
        "ServiceFactor1",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        _ALL_ACTIONS,
        _ALL_ACTIONS,
        "Percent answered within timeRangeRight (default 20) of answered + abandoned, "
        "abandons within timeRangeLeft (default 0) left out; mainMask ignored",
        _service_factor,
    ),
    AdHoc(
        "TotalNumberInTimeRange",
        _CALL_ACTIONS,
        QUEUE_LIKE,
        frozenset({"CallAnswered", "CallAbandoned"}),
        frozenset({"CallAnswered"}),
        "Calls answered/abandoned with a wait in (timeRangeLeft, timeRangeRight]; "
        "timeRangeRight required",
        _in_time_range,
        needs_right=True,
    ),
)

_CATEGORIES = frozenset(row.category for row in ADHOC)


def _unsupported(message: str) -> CatalogError:
    return CatalogError(400, f"Unsupported definition: {message}")


def _parse_mask(raw: object, row: AdHoc) -> frozenset[str]:
    if raw is None:
        tokens = ["*"]
    elif isinstance(raw, str):
        tokens = [t.strip() for t in raw.split(",") if t.strip()] or ["*"]
    elif isinstance(raw, list) and all(isinstance(t, str) for t in raw):
        tokens = [t.strip() for t in raw if t.strip()] or ["*"]
    else:
        raise _unsupported("mainMask must be a comma-separated string of actions")
    include: set[str] = set()
    exclude: set[str] = set()
    star = False
    for token in tokens:
        negated = token.startswith("~")
        action = token[1:].strip() if negated else token
        if action == "*":
            if negated:
                raise _unsupported("mainMask '~*' excludes everything")
            star = True
            continue
        if action not in KNOWN_ACTIONS:
            raise _unsupported(f"mainMask action '{action}' is unknown")
        if action not in row.actions:
            supported = ", ".join(sorted(row.actions))
            raise _unsupported(
                f"mainMask action '{action}' with category '{row.category}' "
                f"(supported: {supported})"
            )
        (exclude if negated else include).add(action)
    if star or (exclude and not include):
        include |= row.star
    return frozenset(include - exclude)


def _seconds(definition: Mapping[str, Any], key: str) -> int | None:
    raw = definition.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _unsupported(f"{key} must be a number of seconds")
    if raw < 0 or raw != int(raw) or raw > m.HIST_MAX:
        raise _unsupported(f"{key} must be whole seconds between 0 and {m.HIST_MAX}")
    return int(raw)


def _check_common(definition: Mapping[str, Any]) -> None:
    """The fields every category shares: accepted when they do not change the meaning."""
    mode = definition.get("notificationMode")
    if mode is not None and mode not in NOTIFICATION_MODES:
        raise _unsupported(f"notificationMode {mode!r}")
    for key in ("notificationFrequency", "insensitivity", "intervalLength"):
        raw = definition.get(key)
        if raw is not None and (
            isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw)
        ):
            raise _unsupported(f"{key} must be a number")
    frequency = definition.get("notificationFrequency")
    if frequency is not None and not 1 <= frequency <= MAX_NOTIFICATION_FREQUENCY:
        raise _unsupported(
            f"notificationFrequency must be 1 to {MAX_NOTIFICATION_FREQUENCY} seconds"
        )
    insensitivity = definition.get("insensitivity")
    if insensitivity is not None and insensitivity < 0:
        raise _unsupported("insensitivity must be >= 0")
    interval = definition.get("intervalType")
    if interval is not None and interval != "GrowingWindow":
        raise _unsupported(
            f"intervalType {interval!r} (only GrowingWindow: totals since the simulator started)"
        )
    relative = definition.get("relativeMask")
    if relative not in (None, "", "*"):
        raise _unsupported("relativeMask other than '*'")
    dynamic = definition.get("dynamicFilter")
    if dynamic not in (None, "") and (
        not isinstance(dynamic, str) or dynamic.replace(" ", "").lower() != "mediatype=voice"
    ):
        raise _unsupported(f"dynamicFilter {dynamic!r} (only MediaType=voice)")


def adhoc(
    model: ContactCenter, definition: Mapping[str, Any], object_type: str, object_id: str
) -> Compute:
    """Bind an ad-hoc definition to an object; CatalogError 400/404 when it cannot be."""
    category = definition.get("category")
    subject = definition.get("subject")
    if not isinstance(category, str) or not category:
        raise _unsupported("'category' is required")
    if not isinstance(subject, str) or not subject:
        raise _unsupported("'subject' is required")
    if category not in _CATEGORIES:
        raise _unsupported(f"category '{category}'")
    _check_common(definition)
    rows = [r for r in ADHOC if r.category == category and subject in r.subjects]
    if not rows:
        raise _unsupported(f"category '{category}' with subject '{subject}'")
    index = find_object(model, object_type, object_id)
    row = next((r for r in rows if object_type in r.object_types), None)
    if row is None:
        allowed = ", ".join(sorted({t for r in rows for t in r.object_types}))
        raise _unsupported(
            f"category '{category}' with subject '{subject}' on objectType '{object_type}' "
            f"(supported on {allowed})"
        )
    mask = _parse_mask(definition.get("mainMask"), row)
    left = _seconds(definition, "timeRangeLeft") or 0
    right = _seconds(definition, "timeRangeRight")
    if row.needs_right and right is None:
        raise _unsupported(f"category '{category}' needs timeRangeRight")
    if right is not None and left > right:
        raise _unsupported("timeRangeLeft is greater than timeRangeRight")
    return row.build(model, object_type, index, mask, Ranges(left, right))
