"""Peak memory of the client refusing hostile replies: 300 MB declared or streamed, a gzip bomb.

Run: `.venv/bin/python benchmarks/faults.py hostile-replies [--cases declared,streamed,bomb,...]`.
This process serves the hostile replies on loopback (`tests/support/hostile.py`: bodies made
piece by piece, never held whole); each case's client runs in a fresh child process, which
peeks once, expects the refusal, and reports its own peak RSS (`ru_maxrss`) after importing
the client and after the call. The difference is what refusing the reply cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

# Run from a checkout without installing the package.
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.hostile import Reply, gzip_bomb, hostile, sized  # noqa: E402

MB = 1 << 20
SIZE = 300 * 1000 * 1000
BOMB = 1 << 30


def replies() -> dict[str, tuple[str, Reply]]:
    """Each case: what it is, and the reply that makes it (`token-` cases: the client has
    OAuth client credentials, so the first reply it reads is the token endpoint's)."""
    return {
        "declared": ("300 MB body, Content-Length declared", sized(SIZE, declared=True)),
        "streamed": ("300 MB body, no Content-Length", sized(SIZE, declared=False)),
        "bomb": ("gzip body inflating to 1 GiB", gzip_bomb(BOMB)),
        "token-streamed": ("token reply, 300 MB, no Content-Length", sized(SIZE, declared=False)),
        "token-bomb": ("token reply, gzip inflating to 1 GiB", gzip_bomb(BOMB)),
    }


def peak_mb() -> float:
    """This process's peak resident set so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def client_side(url: str, token: bool) -> dict[str, object]:
    """One peek against `url` (with client credentials when `token`); what came of it and
    the peaks around it."""
    from statdash.api.auth import ClientCredentials
    from statdash.api.client import StatisticsClient
    from statdash.api.errors import StatisticsError

    auth = ClientCredentials("statdash", "secret") if token else None
    before = peak_mb()
    started = time.perf_counter()
    async with StatisticsClient(url, "key", auth=auth, read_timeout=60.0) as client:
        try:
            await client.peek_subscription("s1")
            outcome = "accepted"
        except StatisticsError as error:
            outcome = f"{type(error).__name__}: {str(error)[:90]}"
    return {
        "outcome": outcome,
        "seconds": round(time.perf_counter() - started, 2),
        "rss_before_mb": round(before),
        "rss_peak_mb": round(peak_mb()),
    }


async def measure(case: str, reply: Reply) -> dict[str, object]:
    """Serve `reply` and run one client child process against it."""
    async with hostile(reply) as server:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client",
            server.url,
            *(["--token"] if case.startswith("token-") else []),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
    result: dict[str, object] = json.loads(out)
    return result


def main(argv: list[str]) -> None:
    """Parse `argv` (the question's own options) and measure."""
    parser = argparse.ArgumentParser(
        prog="faults.py hostile-replies", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--cases", default=",".join(replies()))
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--token", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        print(json.dumps(asyncio.run(client_side(args.client, args.token))))
        return
    cases = replies()
    for case in args.cases.split(","):
        what, reply = cases[case]
        result = asyncio.run(measure(case, reply))
        grew = int(str(result["rss_peak_mb"])) - int(str(result["rss_before_mb"]))
        print(
            f"{case:14} {what:38} peak {result['rss_peak_mb']:>5} MB "
            f"(+{grew} MB over the imports) in {result['seconds']} s: {result['outcome']}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
