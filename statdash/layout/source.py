"""The text a layout was read from: the layout file and every object list beside it, as read.

A recording stores this rather than the compiled layout, and replay compiles it again: the
same compiler, so a layout that runs always replays, whatever its widgets, formulas or
alert rules (nothing has to learn how to store each new compiled type). Object lists are
kept as read, so a replay does not depend on files that may since have changed or gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class LayoutSourceError(ValueError):
    """Stored layout text that cannot be read back; the message says why."""


@dataclass(frozen=True, slots=True)
class LayoutSource:
    """A layout's file name (as the user gave it), its text, and the files it read."""

    file: str
    text: str
    files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Object list files by the name the layout gives them (`file: data/agents.txt`)."""

    def without(self, secrets: Iterable[str], placeholder: str) -> LayoutSource:
        """This source with every one of `secrets` in the layout's text replaced by
        `placeholder` (which must itself be valid where a secret stood)."""
        text = self.text
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, placeholder)
        return LayoutSource(self.file, text, self.files)

    def to_json(self) -> str:
        """The source as compact JSON text."""
        data = {"file": self.file, "text": self.text, "files": dict(self.files)}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> LayoutSource:
        """The source `to_json` wrote; LayoutSourceError when the text is not one."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise LayoutSourceError("it is not JSON") from None
        if not isinstance(data, dict):
            raise LayoutSourceError("it is not a mapping")
        file, layout, files = data.get("file"), data.get("text"), data.get("files")
        if not isinstance(file, str) or not isinstance(layout, str):
            raise LayoutSourceError("it has no layout file name or text")
        if not isinstance(files, dict) or not all(
            isinstance(name, str) and isinstance(body, str) for name, body in files.items()
        ):
            raise LayoutSourceError("its object list files are not names and texts")
        return cls(file, layout, MappingProxyType(dict(files)))
