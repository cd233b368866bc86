"""How statdash comes through faults: one entry point, one question each.

    python benchmarks/faults.py hostile-replies [--cases ...]     # peak RSS against huge replies
    python benchmarks/faults.py push-recovery [--runs 10] [--refresh 2]  # after bad push replies
    python benchmarks/faults.py push-forgotten [--runs 3] [--refresh 2]  # a forgotten subscription

Run from the checkout with the development install; each question starts what it needs on
loopback (a hostile server, a simulator) and prints its figures. The figures in
docs/reliability.md and docs/push.md come from here. A whole shift with random faults is
`benchmarks/soak.py`. Shared code is in benchkit/.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchkit import hostile_replies, push_forgotten, push_recovery

QUESTIONS: dict[str, Callable[[list[str]], None]] = {
    "hostile-replies": hostile_replies.main,
    "push-recovery": push_recovery.main,
    "push-forgotten": push_forgotten.main,
}


def main(argv: list[str]) -> None:
    """`faults.py QUESTION ...` answers that question."""
    if not argv or argv[0] not in QUESTIONS:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    QUESTIONS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
