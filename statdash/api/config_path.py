"""Where the config file lives by default: apart from `settings`, so a command's `--help` can
name it without loading the settings' pydantic."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_dir


def default_config_path() -> Path:
    """`config.toml` in the platform's per-user config directory."""
    return Path(user_config_dir("statdash")) / "config.toml"
