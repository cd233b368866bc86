"""Finds the layouts shipped with statdash (`statdash demo`'s), installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

# statdash/layout/shipped.py -> statdash/
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def layouts_dir() -> Path:
    """The directory of shipped layouts: inside the installed package, else the checkout's."""
    installed = _PACKAGE_DIR / "layouts"
    if installed.is_dir():
        return installed
    # An editable install or a plain checkout: the top-level layouts/ beside the package.
    return _PACKAGE_DIR.parent / "layouts"


def shipped_layout(name: str) -> Path:
    """The path of a shipped layout by file name, e.g. `demo.yaml`."""
    return layouts_dir() / name
