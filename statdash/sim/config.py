"""SimConfig: every knob of the simulator (sizes, seed, clock, auth, hostile mode) in one place."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ClockMode = Literal["realtime", "manual"]

# Loopback tool, not a file server: a body this large is a client bug, not a real request.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
# A day of warm-up is already a whole shift and more; longer only delays the first request.
MAX_WARM_UP = 86_400.0


@dataclass(frozen=True)
class SimConfig:
    """How the simulated contact center and its HTTP front behave.

    Sizes and `seed` fix the whole simulation: the same config and the same sequence of
    simulated times give the same values. Auth is open unless `api_key` or client credentials
    are set.
    """

    agents: int = 50
    queues: int = 5
    seed: int = 1
    # Simulated seconds per wall-clock second in "realtime" mode; ignored in "manual" mode,
    # where time only moves through POST /simulator/advance.
    time_scale: float = 1.0
    clock: ClockMode = "realtime"
    # Epoch seconds of the simulation start; None means the wall-clock time the app is created.
    start_time: float | None = None
    # Simulated seconds the floor runs before `start_time` (0: it opens as a shift begins, every
    # agent just logged in): with 1800 the first request sees a floor half an hour into its
    # shift. Deterministic for a seed like the rest; the clock still reads `start_time`.
    warm_up: float = 0.0
    # Seconds the server's clock runs ahead of the real one (negative: behind); applies when
    # start_time is None, so a client's time-in-state figures can be tested against a skew.
    clock_skew: float = 0.0
    # Calls per hour offered to each queue; None tunes it to the staffing (busy, rarely idle).
    calls_per_hour: float | None = None
    talk_mean: float = 240.0
    wrap_mean: float = 30.0
    patience_mean: float = 90.0
    api_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    # "TENANT\\name" -> password, for the password grant.
    users: Mapping[str, str] = field(default_factory=dict)
    token_ttl: float = 3600.0
    hostile: bool = False
    # Serve agent and DN status as Stat Server's numbers (4 = WaitForNextCall ...) and
    # Not-ready reasons as codes (catalog.REASON_CODES), as real Stat Servers do.
    numeric_states: bool = False
    # Seed of the fault-injection RNG; None reuses `seed`. Kept apart from the model's RNG so
    # injecting faults never changes the simulated contact center.
    fault_seed: int | None = None
    # Bytes of padding in a `huge` malformed response.
    huge_bytes: int = 4 * 1024 * 1024
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # How long a CometD /meta/connect is held open when there is nothing to deliver (real
    # servers: about 20 s).
    notification_hold: float = 20.0
    # A CometD client that sends nothing for this long between connects is forgotten: its
    # next message gets 402::Unknown client with advice to handshake again.
    notification_expiry: float = 60.0
    # notificationFrequency (simulated seconds) of the predefined statistics that change with
    # time alone (catalog.TIME_DRIVEN): they are pushed Periodical, the others Immediate.
    time_driven_frequency: float = 5.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every reason this config cannot run, as readable sentences (empty when valid)."""
        out: list[str] = []
        if not 1 <= self.agents <= 100_000:
            out.append(f"agents must be between 1 and 100000, got {self.agents}")
        if not 1 <= self.queues <= 10_000:
            out.append(f"queues must be between 1 and 10000, got {self.queues}")
        if self.clock not in ("realtime", "manual"):
            out.append(f"clock must be 'realtime' or 'manual', got {self.clock!r}")
        for name in ("time_scale", "talk_mean", "wrap_mean", "patience_mean", "token_ttl"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                out.append(f"{name} must be a finite number >= 0, got {value}")
        for name in ("talk_mean", "wrap_mean", "patience_mean", "token_ttl"):
            if getattr(self, name) == 0:
                out.append(f"{name} must be greater than 0")
        if self.calls_per_hour is not None and (
            not math.isfinite(self.calls_per_hour) or self.calls_per_hour < 0
        ):
            out.append(f"calls_per_hour must be a finite number >= 0, got {self.calls_per_hour}")
        if not math.isfinite(self.clock_skew) or abs(self.clock_skew) > 86_400:
            out.append(f"clock_skew must be within a day (+/-86400 s), got {self.clock_skew}")
        if self.start_time is not None and (
            not math.isfinite(self.start_time) or self.start_time < 0
        ):
            out.append(f"start_time must be epoch seconds >= 0, got {self.start_time}")
        if not (math.isfinite(self.warm_up) and 0 <= self.warm_up <= MAX_WARM_UP):
            out.append(
                f"warm_up must be simulated seconds from 0 to {MAX_WARM_UP:g}, got {self.warm_up}"
            )
        if (self.client_id is None) != (self.client_secret is None):
            out.append("client_id and client_secret must be set together")
        if self.users and self.client_id is None:
            out.append("users need client credentials (client_id and client_secret)")
        for user in self.users:
            if "\\" not in user or user.startswith("\\") or user.endswith("\\"):
                out.append(f"user {user!r} must look like TENANT\\name")
        if self.api_key is not None and not self.api_key.strip():
            out.append("api_key must not be empty")
        if self.huge_bytes < 1:
            out.append("huge_bytes must be at least 1")
        if self.max_body_bytes < 1024:
            out.append("max_body_bytes must be at least 1024")
        if not math.isfinite(self.notification_hold) or self.notification_hold < 0:
            out.append("notification_hold must be a finite number >= 0")
        if not math.isfinite(self.notification_expiry) or self.notification_expiry <= 0:
            out.append("notification_expiry must be a finite number > 0")
        if not 0 < self.time_driven_frequency <= 86_400:
            out.append("time_driven_frequency must be seconds, more than 0 and at most 86400")
        return out

    @property
    def auth_required(self) -> bool:
        """Whether /statistics/v3 requests need a bearer token (client credentials are set)."""
        return self.client_id is not None
