"""The hub benchmark's part of docs/hub.md: one `### ` subsection per question under the page's
"## Measured" heading, each rewritten by its own run and nothing else on the page touched.

The lead writes the rest of the page; a question's run replaces only its own subsection (and
creates the "## Measured" section, or the page, when they are not there yet).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from benchkit.startup import load

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "hub.md"
MEASURED = "## Measured"
INTRO = (
    "Figures from `benchmarks/hub.py` (one subsection per question, each written by its own"
    " run; nothing here is typed by hand). The machine has 2 cores shared with other work:"
    " the load average is given beside each run.\n"
)


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile, nearest rank (nan for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def stamp() -> str:
    """When and under what load a run measured: `2026-12-07 23:40 UTC, load 2.10, 1.90, 1.50`."""
    return f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load()}"


def write_subsection(title: str, body: str, page: Path = PAGE) -> None:
    """Put `### title` with `body` under "## Measured" in `page`, replacing its old text."""
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    block = f"### {title}\n\n{body.rstrip()}\n"
    start = text.find(MEASURED + "\n")
    if start < 0:
        prefix = text.rstrip() + "\n\n" if text.strip() else ""
        page.write_text(f"{prefix}{MEASURED}\n\n{INTRO}\n{block}", encoding="utf-8")
        return
    end = text.find("\n## ", start + len(MEASURED))
    end = len(text) if end < 0 else end + 1
    section = text[start:end]
    heading = f"\n### {title}\n"
    at = section.find(heading)
    if at < 0:
        section = section.rstrip() + "\n\n" + block
    else:
        after = section.find("\n### ", at + len(heading))
        rest = section[after + 1 :] if after >= 0 else ""
        section = section[: at + 1] + block + ("\n" + rest if rest else "")
    tail = text[end:]
    page.write_text(text[:start] + section.rstrip() + "\n" + ("\n" + tail if tail else ""), "utf-8")
