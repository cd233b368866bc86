"""The simulated contact center: agents, queues and calls as a seeded discrete-event model."""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, auto

from statdash.sim import ids

LOGGED_OUT = "LoggedOut"
READY = "WaitForNextCall"
NOT_READY = "NotReadyForNextCall"
ACW = "AfterCallWork"
INBOUND = "CallInbound"
OUTBOUND = "CallOutbound"
INTERNAL = "CallInternal"
CONSULT = "CallConsult"
HOLD = "CallOnHold"
RINGING = "CallRinging"
DIALING = "CallDialing"

STATUSES: tuple[str, ...] = (
    LOGGED_OUT,
    READY,
    NOT_READY,
    ACW,
    INBOUND,
    OUTBOUND,
    INTERNAL,
    CONSULT,
    HOLD,
    RINGING,
    DIALING,
)
# Time that counts as working a contact, for Productivity.
BUSY_STATUSES = frozenset({ACW, INBOUND, OUTBOUND, INTERNAL, CONSULT, HOLD, RINGING, DIALING})
TALK_STATUSES = frozenset({INBOUND, OUTBOUND, INTERNAL, CONSULT})

ACW_REASON = "ACW"
# (reason, weight, min seconds, max seconds)
NOT_READY_REASONS: tuple[tuple[str, int, float, float], ...] = (
    ("Break", 40, 600.0, 900.0),
    ("Personal", 20, 120.0, 480.0),
    ("Coaching", 10, 600.0, 1500.0),
    ("Meeting", 10, 900.0, 2700.0),
    ("Training", 8, 1200.0, 3600.0),
    ("Lunch", 12, 1800.0, 2700.0),
)
_REASON_INDEX = {name: i for i, (name, _, _, _) in enumerate(NOT_READY_REASONS)}
_ALL_REASONS = tuple(range(len(NOT_READY_REASONS)))
# What keeps an agent from taking calls right after logging in (nobody starts with lunch).
_LOGIN_REASONS = tuple(_REASON_INDEX[name] for name in ("Coaching", "Meeting", "Training"))

# Strings a hostile simulator serves as reason codes: markup, escape sequences, bidi and
# zero-width characters, all valid JSON strings that a terminal UI must neutralise.
HOSTILE_STRINGS: tuple[str, ...] = (
    "[/]",
    "[@click=app.quit]x",
    "\x1b]52;c;aGk=\x07",
    "\x1b[2J",
    "[b]bold[/b]",
    "\u202eevil\u202c",
    "zero\u200bwidth\u200d\ufeff",
    "line1\nline2\rline3\ttab",
    "\x00nul\x7fdel",
    "<script>alert(1)</script>%s%n{0}",
    "Lunch" * 400,
)

# Seconds a ringing call waits for the agent before it is redirected (RONA).
_RING_MIN, _RING_MAX = 2.0, 7.0
_RONA_PROBABILITY = 0.03
_REFUSE_PROBABILITY = 0.01
_HOLD_PROBABILITY = 0.2
_CONSULT_PROBABILITY = 0.1
_TRANSFER_AFTER_CONSULT = 0.4
_OUTBOUND_CONNECT_PROBABILITY = 0.65
# Share of agents still logged out when the simulator starts, and of those logged in who start
# not ready (a meeting, coaching, ...) rather than ready.
_LOGGED_OUT_AT_START = 0.12
_NOT_READY_AT_LOGIN = 0.12
# Share of logged-in time an agent is expected to be available for queue calls, used to tune
# the default arrival rate (breaks and self-initiated calls take the rest).
_AVAILABLE_SHARE = 0.74
_TARGET_OCCUPANCY = 0.85

CALL_IVR = 0
CALL_WAITING = 1
CALL_RINGING = 2
CALL_CONNECTED = 3
CALL_GONE = 4

# Wait-time histograms have 1-second bins (so integer thresholds are exact) up to this wait.
HIST_MAX = 3600


class Call:
    """One inbound call from its arrival at a route point until it is answered or abandoned."""

    __slots__ = ("agent", "arrived", "enqueued", "patience", "queue", "state")

    def __init__(self, queue: int, arrived: float, patience: float) -> None:
        self.queue = queue
        self.arrived = arrived
        self.enqueued = arrived
        self.patience = patience
        self.state = CALL_IVR
        self.agent = -1  # index of the agent it rings at or talks to


class EventKind(Enum):
    """What a scheduled event does when its time comes."""

    ARRIVAL = auto()  # a call reaches queue `target`'s route point
    IVR_END = auto()  # `call` leaves the IVR and joins its queue
    ABANDON = auto()  # `call`'s caller runs out of patience
    AGENT = auto()  # agent `target`'s own timer (end of a ring, talk, wrap-up, break, ...)
    BREAK_DUE = auto()  # agent `target`'s next break is due
    LOGOUT_DUE = auto()  # agent `target`'s shift is over


# The event loop compares kinds against these: looking a member up on an Enum class
# (EventKind.AGENT) goes through the enum metaclass and costs as much as a cheap event.
_AGENT = EventKind.AGENT
_ABANDON = EventKind.ABANDON
_ARRIVAL = EventKind.ARRIVAL
_IVR_END = EventKind.IVR_END
_BREAK_DUE = EventKind.BREAK_DUE


# One scheduled event: (at, seq, kind, target, valid_for, call).
#   seq       unique, so ties at `at` run in scheduling order and `kind` is never compared
#   target    the queue (ARRIVAL, IVR_END, ABANDON) or the agent the event is for
#   valid_for an agent event is stale once this no longer matches: the agent's `version` for
#             AGENT, its `login_session` for BREAK_DUE and LOGOUT_DUE; 0 for call events
#   call      the call of IVR_END and ABANDON, else None
# A plain tuple, not a NamedTuple: a tuple subclass has no free list, stays tracked by the
# garbage collector and unpacks through the iterator protocol, which made a shift at floor
# size about 25% slower (`benchmarks/perf.py sim-shift`; the Enum kind costs about 5%).
Event = tuple[float, int, EventKind, int, int, Call | None]


class WaitStats:
    """Counters of one queue-like object: answered and abandoned calls with their waits."""

    __slots__ = (
        "abandoned",
        "abandoned_hist",
        "abandoned_wait",
        "answered",
        "answered_hist",
        "answered_wait",
        "entered",
    )

    def __init__(self) -> None:
        self.entered = 0
        self.answered = 0
        self.abandoned = 0
        self.answered_wait = 0.0
        self.abandoned_wait = 0.0
        # Index k counts waits w with k-1 < w <= k, so "within T" is a prefix sum up to T.
        self.answered_hist = [0] * (HIST_MAX + 1)
        self.abandoned_hist = [0] * (HIST_MAX + 1)

    def answer(self, wait: float) -> None:
        """Count a call answered after `wait` seconds."""
        self.answered += 1
        self.answered_wait += wait
        self.answered_hist[_bin(wait)] += 1

    def abandon(self, wait: float) -> None:
        """Count a call abandoned after `wait` seconds."""
        self.abandoned += 1
        self.abandoned_wait += wait
        self.abandoned_hist[_bin(wait)] += 1


def _bin(wait: float) -> int:
    return min(HIST_MAX, max(0, math.ceil(wait - 1e-9)))


class Queue:
    """An ACD queue (and, through `rp`, the route point feeding it)."""

    __slots__ = (
        "groups",
        "in_ivr",
        "index",
        "ivr_time",
        "rate",
        "ringing",
        "rp",
        "stats",
        "waiting",
        "waiting_count",
    )

    def __init__(self, index: int, rate: float, ivr_time: float) -> None:
        self.index = index
        self.rate = rate  # calls per second
        self.ivr_time = ivr_time
        self.groups: list[int] = []
        self.waiting: deque[Call] = deque()
        self.waiting_count = 0
        self.ringing = 0
        self.in_ivr: deque[Call] = deque()
        self.stats = WaitStats()  # waits measured from entering the queue
        self.rp = WaitStats()  # waits measured from arriving at the route point

    def head(self) -> Call | None:
        """The longest-waiting call still in the queue (abandoned calls are dropped lazily)."""
        waiting = self.waiting
        while waiting and waiting[0].state != CALL_WAITING:
            waiting.popleft()
        return waiting[0] if waiting else None


class Agent:
    """One agent: current status, timers and the accumulators statistics read."""

    __slots__ = (
        "break_reason",
        "call",
        "consults",
        "dn",
        "group",
        "handle_start",
        "handle_total",
        "handled",
        "id",
        "inbound",
        "index",
        "internal",
        "login_session",
        "login_since",
        "login_total",
        "missed",
        "outbound",
        "pending_break",
        "pending_logout",
        "plan",
        "reason",
        "refused",
        "seg_start",
        "since",
        "status",
        "status_entries",
        "status_time",
        "transferred",
        "transferring",
        "version",
    )

    def __init__(self, index: int, start: float) -> None:
        self.index = index
        self.id = ids.agent_id(index)
        self.group = index // ids.AGENTS_PER_GROUP
        self.dn = agent_dn(index)
        self.status = LOGGED_OUT
        self.reason: str | None = None
        self.since = start  # when the current status began (may precede the start)
        self.seg_start = start  # when the current status began counting (never before start)
        self.version = 0
        self.login_session = 0
        self.login_since = start
        self.login_total = 0.0
        self.status_time = dict.fromkeys(STATUSES, 0.0)
        self.status_entries = dict.fromkeys(STATUSES, 0)
        self.call: Call | None = None
        self.plan: list[tuple[str, float]] = []
        self.pending_break: str | None = None
        self.pending_logout = False
        self.break_reason: str | None = None
        self.handle_start: float | None = None
        self.handle_total = 0.0
        self.handled = 0
        self.inbound = 0
        self.outbound = 0
        self.internal = 0
        self.consults = 0
        self.missed = 0
        self.refused = 0
        self.transferred = 0
        self.transferring = False  # the current call ends in a transfer after its consult

    def time_in(self, statuses: Iterable[str], now: float) -> float:
        """Seconds spent in any of `statuses` since the start, the current stretch included."""
        total = 0.0
        status_time = self.status_time
        for status in statuses:
            total += status_time[status]
            if status == self.status:
                total += now - self.seg_start
        return total

    def time_in_current(self, now: float) -> float:
        """Seconds in the current status; 0 while logged out, which is not a state on the floor."""
        if self.status == LOGGED_OUT:
            return 0.0
        return max(0.0, now - self.since)

    def handling(self, now: float) -> tuple[int, float]:
        """Calls handled and their handle time so far, the call in progress included."""
        if self.handle_start is None:
            return self.handled, self.handle_total
        return self.handled + 1, self.handle_total + now - self.handle_start

    def login_time(self, now: float) -> float:
        """Seconds logged in since the start, the current session included."""
        if self.status == LOGGED_OUT:
            return self.login_total
        return self.login_total + now - self.login_since


class AgentGroup:
    """A team of agents: its members, the queues it serves, its ready agents by idle time."""

    __slots__ = ("counts", "index", "members", "queues", "ready")

    def __init__(self, index: int, members: range) -> None:
        self.index = index
        self.members = members
        self.queues: list[int] = []
        # agent index -> ready since; insertion order is idle order because events run in time
        # order, so the first entry is always the longest-idle agent.
        self.ready: OrderedDict[int, float] = OrderedDict()
        self.counts = dict.fromkeys(STATUSES, 0)


@dataclass(frozen=True)
class ObjectIds:
    """Every object id of the center by type, in index order."""

    agents: tuple[str, ...]
    agent_groups: tuple[str, ...]
    queues: tuple[str, ...]
    route_points: tuple[str, ...]
    queue_groups: tuple[str, ...]


def agent_dn(index: int) -> str:
    """The extension (DN number) of agent `index`'s place: 10001, 10002, ..."""
    return str(10001 + index)


def serving_plan(groups: int, queues: int) -> list[list[int]]:
    """Queues each agent group serves: one or two each, spread so every queue is served.

    With fewer than half as many groups as queues, each group serves ceil(queues/groups)
    queues, the only way to keep every queue staffed.
    """
    per_group = max(1, -(-queues // groups))
    plan: list[list[int]] = []
    for g in range(groups):
        served = [(g * per_group + j) % queues for j in range(per_group)]
        if per_group == 1 and queues > 1 and g % 2 == 1:
            served.append((g + 1) % queues)
        plan.append(sorted(set(served)))
    return plan


def object_ids(agents: int, queues: int) -> ObjectIds:
    """The ids of a center of this size (a smaller center's ids are a prefix of a larger's)."""
    return ObjectIds(
        agents=tuple(ids.agent_id(i) for i in range(agents)),
        agent_groups=tuple(ids.agent_group_id(g) for g in range(ids.group_count(agents))),
        queues=tuple(ids.queue_id(q) for q in range(queues)),
        route_points=tuple(ids.route_point_id(q) for q in range(queues)),
        queue_groups=tuple(ids.queue_group_id(k) for k in range(ids.queue_group_count(queues))),
    )


class ContactCenter:
    """The whole simulated floor, advanced lazily to any later simulated time.

    Owns its RNG and never reads the wall clock: the same seed, sizes and sequence of
    `advance_to` times give identical state, whatever the path (advancing to t1 then t2 equals
    advancing to t2 directly, because random draws happen only inside events).
    """

    def __init__(
        self,
        *,
        agents: int = 50,
        queues: int = 5,
        seed: int = 1,
        start: float = 1_700_000_000.0,
        calls_per_hour: float | None = None,
        talk_mean: float = 240.0,
        wrap_mean: float = 30.0,
        patience_mean: float = 90.0,
        reasons: Sequence[str] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.now = start
        self.talk_mean = talk_mean
        self.wrap_mean = wrap_mean
        self.patience_mean = patience_mean
        # Strings served instead of the reason names (hostile mode), rotated across agents so
        # that every one of them shows up on a floor of a dozen agents.
        self._served_reasons = tuple(reasons or ())
        # Agent status served as Stat Server numbers, reasons as codes (SimConfig).
        self.numeric_states = False
        self._events: list[Event] = []
        self._seq = 0
        self.ids = object_ids(agents, queues)

        self.agents = [Agent(i, start) for i in range(agents)]
        group_total = ids.group_count(agents)
        self.groups = [
            AgentGroup(
                g, range(g * ids.AGENTS_PER_GROUP, min(agents, (g + 1) * ids.AGENTS_PER_GROUP))
            )
            for g in range(group_total)
        ]
        plan = serving_plan(group_total, queues)
        capacity = [0.0] * queues
        for group, served in zip(self.groups, plan, strict=True):
            group.queues = served
            for q in served:
                capacity[q] += len(group.members) / len(served)
        # Mean handling time of a queue call: ring, talk, the odd hold and consult, wrap-up.
        aht = 4.5 + talk_mean + _HOLD_PROBABILITY * 40 + _CONSULT_PROBABILITY * 60 + wrap_mean
        self.queues: list[Queue] = []
        for q in range(queues):
            factor = self.rng.uniform(0.85, 1.15)
            if calls_per_hour is None:
                rate = _TARGET_OCCUPANCY * _AVAILABLE_SHARE * capacity[q] / aht * factor
            else:
                rate = calls_per_hour / 3600.0
            self.queues.append(Queue(q, rate, ivr_time=6.0 + (q % 5)))
        for group in self.groups:
            for q in group.queues:
                self.queues[q].groups.append(group.index)
        self.queue_groups: list[list[int]] = [
            list(
                range(
                    k * ids.QUEUES_PER_QUEUE_GROUP,
                    min(queues, (k + 1) * ids.QUEUES_PER_QUEUE_GROUP),
                )
            )
            for k in range(ids.queue_group_count(queues))
        ]
        self.agent_index = {a.id: a.index for a in self.agents}
        self.group_index = {gid: g for g, gid in enumerate(self.ids.agent_groups)}
        self.queue_index = {qid: q for q, qid in enumerate(self.ids.queues)}
        self.rp_index = {rid: q for q, rid in enumerate(self.ids.route_points)}
        self.queue_group_index = {kid: k for k, kid in enumerate(self.ids.queue_groups)}
        self.events_processed = 0
        # Agents and queues whose figures an event may have changed since `take_touched`:
        # what lets the push channel look only at what moved. Bounded by the object count.
        self.touched_agents: set[int] = set()
        self.touched_queues: set[int] = set()
        self._initial_floor()
        for queue in self.queues:
            if queue.rate > 0:
                self._schedule(
                    start + self.rng.expovariate(queue.rate), EventKind.ARRIVAL, queue.index
                )

    # ----------------------------------------------------------------------------- time

    def advance_to(self, when: float) -> None:
        """Run every event due at or before `when` (earlier times are ignored)."""
        if when <= self.now:
            return
        events = self._events
        pop = heapq.heappop
        while events and events[0][0] <= when:
            at, _, kind, target, valid_for, call = pop(events)
            self.now = at
            self.events_processed += 1
            # AGENT first: three events in five are agent timers.
            if kind is _AGENT:
                agent = self.agents[target]
                if agent.version == valid_for:
                    self._agent_timer(agent)
            elif kind is _ABANDON:
                assert call is not None
                self._abandon(call)
            elif kind is _ARRIVAL:
                self._arrival(target)
            elif kind is _IVR_END:
                assert call is not None
                self._enqueue(call)
            elif kind is _BREAK_DUE:
                self._break_due(self.agents[target], valid_for)
            else:
                self._logout_due(self.agents[target], valid_for)
        self.now = when

    @property
    def now_ms(self) -> int:
        """The current simulated time in epoch milliseconds."""
        return int(self.now * 1000)

    def _schedule(
        self, at: float, kind: EventKind, target: int, valid_for: int = 0, call: Call | None = None
    ) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, kind, target, valid_for, call))

    def _agent_after(self, agent: Agent, delay: float) -> None:
        self._schedule(self.now + delay, EventKind.AGENT, agent.index, agent.version)

    # ----------------------------------------------------------------------- start state

    def _initial_floor(self) -> None:
        """Open the shift: most agents log in at the start, a few are still logged out.

        Totals count from the start, so nothing on the floor began before it: a call or a
        wrap-up already in progress would show talk or wrap-up time with no call counted, and
        a break begun earlier would have lasted longer than the login.
        """
        rng = self.rng
        now = self.now
        for agent in self.agents:
            self._group(agent).counts[LOGGED_OUT] += 1
            if rng.random() < _LOGGED_OUT_AT_START:
                # Logged out since before the start; their shift begins later.
                agent.since = now - rng.uniform(0, 3600)
                self._agent_after(agent, rng.expovariate(1 / 1800))
                continue
            agent.login_session += 1
            if rng.random() < _NOT_READY_AT_LOGIN:
                self._go_not_ready(agent, self._draw_reason(_LOGIN_REASONS))
            else:
                self._set_status(agent, READY, quiet=True)
                self._ready_timer(agent)
            # Shifts of 2 to 9 hours and first breaks spread over the first 100 minutes, so
            # the floor does not go on break or log out all at once.
            self._plan_shift(
                agent, shift_left=rng.uniform(2, 9) * 3600, first_break=rng.uniform(600, 6000)
            )
        for agent in self.agents:
            # The status an agent is in at the start counts as entered at the start.
            agent.status_entries = dict.fromkeys(STATUSES, 0)
            agent.status_entries[agent.status] = 1

    def _plan_shift(self, agent: Agent, *, shift_left: float, first_break: float) -> None:
        self._schedule(
            self.now + shift_left, EventKind.LOGOUT_DUE, agent.index, agent.login_session
        )
        self._break_due_after(agent, first_break)

    def _break_due_after(self, agent: Agent, delay: float) -> None:
        """A break falls due `delay` seconds from now, unless the agent logs out before."""
        self._schedule(self.now + delay, EventKind.BREAK_DUE, agent.index, agent.login_session)

    # -------------------------------------------------------------------- status changes

    def _group(self, agent: Agent) -> AgentGroup:
        return self.groups[agent.group]

    def _set_status(
        self, agent: Agent, status: str, reason: str | None = None, *, quiet: bool = False
    ) -> None:
        """Close the current status stretch, open the next one; invalidates pending timers.

        With `quiet`, a newly ready agent does not pick up a waiting call yet (the caller will
        dispatch once its own bookkeeping is done).
        """
        now = self.now
        old = agent.status
        agent.status_time[old] += now - agent.seg_start
        group = self.groups[agent.group]
        group.counts[old] -= 1
        group.counts[status] += 1
        if old == READY:
            group.ready.pop(agent.index, None)
        if old == LOGGED_OUT and status != LOGGED_OUT:
            agent.login_since = now
        elif status == LOGGED_OUT and old != LOGGED_OUT:
            agent.login_total += now - agent.login_since
        agent.status = status
        agent.reason = reason
        agent.since = now
        agent.seg_start = now
        agent.status_entries[status] += 1
        agent.version += 1
        self.touched_agents.add(agent.index)
        if status == READY:
            group.ready[agent.index] = now
            if not quiet:
                self._ready_timer(agent)
                self._offer_waiting_call(agent)

    def _ready_timer(self, agent: Agent) -> None:
        # Idle agents now and then place an outbound or internal call of their own.
        self._agent_after(agent, self.rng.expovariate(1 / 900))

    def _reason_text(self, agent: Agent, reason_index: int) -> str:
        """The reason string served for a NOT_READY_REASONS entry (index len = ACW)."""
        served = self._served_reasons
        if served:
            return served[(reason_index + agent.index) % len(served)]
        return (
            ACW_REASON
            if reason_index == len(NOT_READY_REASONS)
            else NOT_READY_REASONS[reason_index][0]
        )

    def _acw_reason(self, agent: Agent) -> str:
        return self._reason_text(agent, len(NOT_READY_REASONS))

    def _draw_reason(self, among: Sequence[int] = _ALL_REASONS) -> int:
        """A NOT_READY_REASONS index, drawn by weight from the indexes `among`."""
        weights = [NOT_READY_REASONS[i][1] for i in among]
        return self.rng.choices(among, weights)[0]

    def _talk_time(self) -> float:
        return max(15.0, self.rng.gammavariate(2.0, self.talk_mean / 2))

    def _wrap_time(self) -> float:
        return max(3.0, self.rng.gammavariate(2.0, self.wrap_mean / 2))

    def _go_not_ready(self, agent: Agent, reason_index: int | None) -> None:
        if reason_index is None:
            self._set_status(agent, NOT_READY)
            self._agent_after(agent, self.rng.uniform(30, 90))
            return
        _, _, low, high = NOT_READY_REASONS[reason_index]
        self._set_status(agent, NOT_READY, self._reason_text(agent, reason_index))
        self._agent_after(agent, self.rng.uniform(low, high))

    def _take_break(self, agent: Agent, reason_index: int) -> None:
        """Go on break `reason_index` now; the next break falls due 50 to 100 minutes later."""
        self._go_not_ready(agent, reason_index)
        self._break_due_after(agent, self.rng.uniform(3000, 6000))

    def _become_available(self, agent: Agent) -> None:
        """After a call or a break: log out, take a due break, or get ready for the next call."""
        if agent.pending_logout:
            agent.pending_logout = False
            agent.pending_break = None
            self._log_out(agent)
        elif agent.pending_break is not None:
            reason = _REASON_INDEX[agent.pending_break]
            agent.pending_break = None
            self._take_break(agent, reason)
        else:
            self._set_status(agent, READY)

    def _log_out(self, agent: Agent) -> None:
        self._set_status(agent, LOGGED_OUT)
        agent.login_session += 1
        # Back for another shift later; some agents stay out for the rest of the day.
        self._agent_after(agent, self.rng.expovariate(1 / 2400))

    # ------------------------------------------------------------------------- timers

    def _agent_timer(self, agent: Agent) -> None:
        status = agent.status
        rng = self.rng
        if status == READY:
            if rng.random() < 0.6:
                agent.outbound += 1
                self._set_status(agent, DIALING)
                self._agent_after(agent, rng.uniform(5, 20))
            else:
                agent.internal += 1
                self._set_status(agent, INTERNAL)
                self._agent_after(agent, max(10.0, rng.gammavariate(2.0, 30.0)))
        elif status == RINGING:
            self._ring_end(agent)
        elif status in (INBOUND, HOLD, CONSULT, OUTBOUND):
            self._next_segment(agent)
        elif status == ACW:
            if agent.handle_start is not None:
                agent.handled += 1
                agent.handle_total += self.now - agent.handle_start
                agent.handle_start = None
            self._become_available(agent)
        elif status == DIALING:
            if rng.random() < _OUTBOUND_CONNECT_PROBABILITY:
                agent.handle_start = agent.since
                agent.plan = [(OUTBOUND, max(10.0, rng.gammavariate(2.0, 90.0)))]
                self._next_segment(agent)
            else:
                self._become_available(agent)
        elif status == INTERNAL:
            self._become_available(agent)
        elif status == NOT_READY:
            if agent.pending_logout:
                agent.pending_logout = False
                self._log_out(agent)
            else:
                self._set_status(agent, READY)
        elif status == LOGGED_OUT:
            agent.login_session += 1
            self._set_status(agent, READY)
            self._plan_shift(
                agent, shift_left=rng.uniform(4, 8) * 3600, first_break=rng.uniform(3000, 6000)
            )

    def _break_due(self, agent: Agent, session: int) -> None:
        if session != agent.login_session or agent.status == LOGGED_OUT:
            return
        reason = self._draw_reason()
        if agent.status == READY:
            self._take_break(agent, reason)
        elif agent.status == NOT_READY:
            # Already away: look again in half an hour to an hour.
            self._break_due_after(agent, self.rng.uniform(1800, 3600))
        else:
            agent.pending_break = NOT_READY_REASONS[reason][0]

    def _logout_due(self, agent: Agent, session: int) -> None:
        if session != agent.login_session or agent.status == LOGGED_OUT:
            return
        if agent.status in (READY, NOT_READY):
            self._log_out(agent)
        else:
            agent.pending_logout = True

    # -------------------------------------------------------------------------- calls

    def _arrival(self, q: int) -> None:
        queue = self.queues[q]
        call = Call(q, self.now, self.rng.expovariate(1 / self.patience_mean))
        queue.rp.entered += 1
        queue.in_ivr.append(call)
        self.touched_queues.add(q)
        self._schedule(self.now + queue.ivr_time, EventKind.IVR_END, q, 0, call)
        self._schedule(self.now + self.rng.expovariate(queue.rate), EventKind.ARRIVAL, q)

    def _enqueue(self, call: Call) -> None:
        queue = self.queues[call.queue]
        # A fixed announcement length per route point keeps IVR exits in arrival order.
        queue.in_ivr.popleft()
        call.enqueued = self.now
        call.state = CALL_WAITING
        queue.stats.entered += 1
        queue.waiting.append(call)
        self.touched_queues.add(call.queue)
        queue.waiting_count += 1
        self._schedule(self.now + call.patience, EventKind.ABANDON, call.queue, 0, call)
        agent = self._longest_idle(queue)
        if agent is not None:
            self._offer(agent, queue)

    def _longest_idle(self, queue: Queue) -> Agent | None:
        best: tuple[float, int] | None = None
        for g in queue.groups:
            ready = self.groups[g].ready
            if ready:
                index = next(iter(ready))
                key = (ready[index], index)
                if best is None or key < best:
                    best = key
        return self.agents[best[1]] if best is not None else None

    def _offer_waiting_call(self, agent: Agent) -> None:
        best: Queue | None = None
        best_key: tuple[float, int] | None = None
        for q in self.groups[agent.group].queues:
            queue = self.queues[q]
            head = queue.head()
            if head is not None:
                key = (head.enqueued, q)
                if best_key is None or key < best_key:
                    best, best_key = queue, key
        if best is not None:
            self._offer(agent, best)

    def _offer(self, agent: Agent, queue: Queue) -> None:
        call = queue.head()
        assert call is not None
        queue.waiting.popleft()
        queue.waiting_count -= 1
        queue.ringing += 1
        self.touched_queues.add(queue.index)
        call.state = CALL_RINGING
        call.agent = agent.index
        agent.call = call
        self._set_status(agent, RINGING)
        self._agent_after(agent, self.rng.uniform(_RING_MIN, _RING_MAX))

    def _requeue(self, call: Call) -> None:
        queue = self.queues[call.queue]
        queue.ringing -= 1
        call.state = CALL_WAITING
        call.agent = -1
        queue.waiting.appendleft(call)
        queue.waiting_count += 1
        self.touched_queues.add(call.queue)

    def _ring_end(self, agent: Agent) -> None:
        call = agent.call
        assert call is not None
        draw = self.rng.random()
        if draw < _RONA_PROBABILITY + _REFUSE_PROBABILITY:
            agent.call = None
            self._requeue(call)
            if draw < _RONA_PROBABILITY:
                agent.missed += 1
                # Redirect on no answer: the ACD takes the agent out of the ready pool.
                self._go_not_ready(agent, None)
                self._dispatch_queue(self.queues[call.queue])
            else:
                agent.refused += 1
                # Ready again but last in idle order, so another ready agent gets the call.
                self._set_status(agent, READY, quiet=True)
                self._dispatch_queue(self.queues[call.queue])
                if agent.status == READY:
                    self._ready_timer(agent)
                    self._offer_waiting_call(agent)
            return
        queue = self.queues[call.queue]
        queue.ringing -= 1
        self.touched_queues.add(call.queue)
        call.state = CALL_CONNECTED
        queue.stats.answer(self.now - call.enqueued)
        queue.rp.answer(self.now - call.arrived)
        agent.inbound += 1
        agent.handle_start = self.now
        agent.plan = self._inbound_plan(agent)
        self._next_segment(agent)

    def _dispatch_queue(self, queue: Queue) -> None:
        if queue.head() is not None:
            agent = self._longest_idle(queue)
            if agent is not None:
                self._offer(agent, queue)

    def _inbound_plan(self, agent: Agent) -> list[tuple[str, float]]:
        """Talk, with a hold and a consult (maybe ending in a transfer) now and then."""
        rng = self.rng
        talk = self._talk_time()
        breaks: list[tuple[float, str]] = []
        if rng.random() < _HOLD_PROBABILITY:
            breaks.append((rng.uniform(0.2, 0.8), HOLD))
        if rng.random() < _CONSULT_PROBABILITY:
            breaks.append((rng.uniform(0.3, 0.9), CONSULT))
        breaks.sort()
        plan: list[tuple[str, float]] = []
        done = 0.0
        for at, kind in breaks:
            plan.append((INBOUND, (at - done) * talk))
            done = at
            if kind == HOLD:
                plan.append((HOLD, max(5.0, rng.gammavariate(2.0, 20.0))))
            else:
                plan.append((CONSULT, max(10.0, rng.gammavariate(2.0, 30.0))))
                if rng.random() < _TRANSFER_AFTER_CONSULT:
                    # Counted when the consult ends and the call goes to the other party.
                    agent.transferring = True
                    return plan
        plan.append((INBOUND, (1.0 - done) * talk))
        return plan

    def _next_segment(self, agent: Agent) -> None:
        if agent.plan:
            status, length = agent.plan.pop(0)
            if status != agent.status:
                self._set_status(agent, status)
            else:
                agent.version += 1
                self.touched_agents.add(agent.index)
            if status == CONSULT:
                # Counted as it begins, like the other calls an agent makes.
                agent.consults += 1
            self._agent_after(agent, length)
            return
        if agent.transferring:
            agent.transferring = False
            agent.transferred += 1
        agent.call = None
        self._set_status(agent, ACW, self._acw_reason(agent))
        self._agent_after(agent, self._wrap_time())

    def _abandon(self, call: Call) -> None:
        queue = self.queues[call.queue]
        was_ringing = call.state == CALL_RINGING
        if call.state == CALL_WAITING:
            queue.waiting_count -= 1
        elif was_ringing:
            queue.ringing -= 1
        else:
            return
        call.state = CALL_GONE
        self.touched_queues.add(call.queue)
        queue.stats.abandon(self.now - call.enqueued)
        queue.rp.abandon(self.now - call.arrived)
        if was_ringing:
            # The caller hung up while it rang: the agent is free again.
            agent = self.agents[call.agent]
            agent.call = None
            self._set_status(agent, READY)

    # -------------------------------------------------------------------- read access

    def ready_serving(self, queues: Iterable[int], statuses: Iterable[str] = (READY,)) -> int:
        """Agents in `statuses` among the groups serving any of `queues` (each counted once)."""
        groups: set[int] = set()
        for q in queues:
            groups.update(self.queues[q].groups)
        wanted = tuple(statuses)
        return sum(self.groups[g].counts[s] for g in groups for s in wanted)

    def oldest_wait(self, q: int, *, from_route_point: bool = False) -> float:
        """Seconds the longest-waiting call has waited (0 when none waits)."""
        queue = self.queues[q]
        head = queue.head()
        if from_route_point:
            oldest = head.arrived if head is not None else None
            if queue.in_ivr and (oldest is None or queue.in_ivr[0].arrived < oldest):
                oldest = queue.in_ivr[0].arrived
            return self.now - oldest if oldest is not None else 0.0
        return self.now - head.enqueued if head is not None else 0.0

    def take_touched(self) -> tuple[set[int], set[int]]:
        """Agents and queues touched by events since the last call (and forget them)."""
        agents, queues = self.touched_agents, self.touched_queues
        self.touched_agents, self.touched_queues = set(), set()
        return agents, queues

    def status_counts(self) -> dict[str, int]:
        """How many agents are in each status right now."""
        totals = dict.fromkeys(STATUSES, 0)
        for group in self.groups:
            for status, count in group.counts.items():
                totals[status] += count
        return totals
