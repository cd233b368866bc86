"""What the hub (`statdash hub`) costs and saves: one entry point, one question each.

    python benchmarks/hub.py fanout [--quick] [--clients 200] [--processes 4] [--refresh 5]
    python benchmarks/hub.py dashboards [--quick] [--dashboards 20]
    python benchmarks/hub.py faults [--quick]

Run from the checkout with the development install (the dev extra brings nats-server); each
question starts what it needs on loopback (simulators, a nats-server, the hub, clients),
prints a table, and writes its subsection of "## Measured" in docs/hub.md (`--no-docs`:
print only). Shared code is in benchkit/.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchkit import hub_dashboards, hub_fanout, hub_faults

QUESTIONS: dict[str, Callable[[list[str]], None]] = {
    "fanout": hub_fanout.main,
    "dashboards": hub_dashboards.main,
    "faults": hub_faults.main,
}


def main(argv: list[str]) -> None:
    """`hub.py QUESTION ...` answers that question."""
    if not argv or argv[0] not in QUESTIONS:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    QUESTIONS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
