"""Did-you-mean: the closest known word to a misspelt one, for every error that names a choice."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Below this similarity a suggestion is more confusing than helpful ("kpi" for "queue").
_CUTOFF = 0.6


def _fold(word: str) -> str:
    # Case and separators are the commonest slips (main_mask for mainMask, Agents for agents).
    return word.casefold().replace("_", "").replace("-", "").replace(" ", "")


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option `word` most likely meant, or None when nothing is close enough."""
    choices = [option for option in dict.fromkeys(options) if option != word]
    folded = _fold(word)
    for option in choices:
        if _fold(option) == folded:
            return option
    by_fold: dict[str, str] = {}
    for option in choices:
        by_fold.setdefault(_fold(option), option)
    matches = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=_CUTOFF)
    return by_fold[matches[0]] if matches else None


def did_you_mean(word: str, options: Iterable[str], *, prefix: str = "") -> str:
    """`"; did you mean 'x'?"` for the closest option, or an empty string."""
    match = closest(word, options)
    return f"; did you mean '{prefix}{match}'?" if match is not None else ""


def one_of(options: Iterable[str]) -> str:
    """`a, b or c`: a short list of the valid choices for a message."""
    items = list(options)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
