"""Palette colour names and threshold levels -> concrete Rich styles for the current theme.

Layout files and `format.STATE_STYLES` speak in eight colour names (green, red, yellow, blue,
magenta, cyan, white, grey). Under a theme with `ansi=True` (e.g. `ansi-dark`) those become the
terminal's own 16 ANSI colours, so statdash matches the user's terminal scheme and survives
tmux/SSH setups without truecolor. Other themes get a fixed truecolor table (one for dark, one
for light backgrounds): state colours carry meaning, so "blue" must stay blue in every theme
rather than follow `$primary`, which is purple in several built-in themes. Threshold levels,
which are about urgency rather than identity, follow the theme's own warning/error colours.
"""

from __future__ import annotations

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from statdash.layout.formats import Level

PALETTE_NAMES: tuple[str, ...] = (
    "green",
    "red",
    "orange",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "grey",
)
"""Colour names a layout file (and `format.StateStyle.colour`) may use."""

_ALIASES = {"gray": "grey"}

# Rich names of the 16-colour ANSI palette; the terminal decides what they look like.
_ANSI: dict[str, str] = {
    "green": "green",
    "red": "red",
    # The 16-colour palette has no orange; bright red is the nearest that stays distinct.
    "orange": "bright_red",
    "yellow": "yellow",
    "blue": "blue",
    "magenta": "magenta",
    "cyan": "cyan",
    "white": "white",
    "grey": "bright_black",
}
# On a light terminal ANSI white is invisible, so "white" there means the default foreground.
_ANSI_LIGHT = {**_ANSI, "white": "default"}

# One Dark-like tones: distinct hues at similar brightness, readable on dark backgrounds.
_DARK: dict[str, str] = {
    "green": "#4EBF71",
    "red": "#E0565B",
    "orange": "#E8915A",
    "yellow": "#E5C07B",
    "blue": "#61AFEF",
    "magenta": "#C678DD",
    "cyan": "#56B6C2",
    "white": "#E6E6E6",
    "grey": "#8A8F98",
}
# Darker tones of the same hues for light backgrounds (contrast >= 4.5:1 on white).
_LIGHT: dict[str, str] = {
    "green": "#1A7F37",
    "red": "#CF222E",
    "orange": "#BC4C00",
    "yellow": "#9A6700",
    "blue": "#0969DA",
    "magenta": "#8250DF",
    "cyan": "#1B7C83",
    "white": "#24292F",
    "grey": "#6E7781",
}
_DARK_INK = "#101418"
_LIGHT_INK = "#F6F8FA"

# Which ANSI backgrounds need light text on top (the rest read better with black).
_ANSI_DARK_BACKGROUNDS = frozenset({"red", "bright_red", "blue", "magenta", "bright_black"})

STATDASH_THEME = Theme(
    name="statdash",
    primary="#61AFEF",
    secondary="#56B6C2",
    accent="#E5C07B",
    warning="#E5A50A",
    error="#E0565B",
    success="#4EBF71",
    foreground="#D8DEE9",
    background="#11151C",
    surface="#171C24",
    panel="#1F2630",
    dark=True,
)
"""statdash's own truecolor theme: calm dark background, state colours that stand out."""

THEME_NAMES: tuple[str, ...] = (
    "statdash",
    "ansi-dark",
    "ansi-light",
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "dracula",
    "tokyo-night",
    "catppuccin-mocha",
    "solarized-dark",
    "solarized-light",
)
"""Themes the app offers, in menu order (`statdash` must be registered; the rest are built in)."""


def _canonical(name: str) -> str:
    lowered = name.strip().lower()
    return _ALIASES.get(lowered, lowered)


def colour(name: str, theme: Theme) -> RichColor | None:
    """The Rich colour for palette colour `name` under `theme`; None for unknown names."""
    key = _canonical(name)
    if theme.ansi:
        table = _ANSI if theme.dark else _ANSI_LIGHT
    else:
        table = _DARK if theme.dark else _LIGHT
    value = table.get(key)
    return None if value is None else RichColor.parse(value)


def colour_style(name: str, theme: Theme) -> Style:
    """Foreground style for palette colour `name`; unknown names give the default foreground."""
    found = colour(name, theme)
    return Style() if found is None else Style(color=found)


def fill_style(name: str, theme: Theme) -> Style:
    """Background in palette colour `name` with readable text on top (for bar segments).

    Unknown names give reverse video, which is visible in every theme and without colour.
    """
    found = colour(name, theme)
    if found is None or found.is_default:
        return Style(reverse=True)
    if found.triplet is None:
        # An ANSI colour: its real shade is the terminal's secret, so pick by the usual look.
        ink = "bright_white" if found.name in _ANSI_DARK_BACKGROUNDS else "black"
        return Style(color=ink, bgcolor=found)
    red, green, blue = found.triplet
    luminance = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
    ink = _DARK_INK if luminance > 0.45 else _LIGHT_INK
    return Style(color=ink, bgcolor=found)


# Generating a theme's colour system is ~1 ms; render() asks for it on every paint.
_TEXT_COLOURS: dict[tuple[object, ...], tuple[RichColor, RichColor]] = {}


def _level_colours(theme: Theme) -> tuple[RichColor, RichColor]:
    """The theme's warning and error colours as text, contrast-adjusted to its background."""
    key = (theme.name, theme.warning, theme.error, theme.background, theme.dark, theme.ansi)
    found = _TEXT_COLOURS.get(key)
    if found is None:
        variables = {**theme.to_color_system().generate(), **theme.variables}
        found = (
            _parse(variables.get("text-warning"), "yellow", theme),
            _parse(variables.get("text-error"), "red", theme),
        )
        _TEXT_COLOURS[key] = found
    return found


def _parse(value: str | None, fallback: str, theme: Theme) -> RichColor:
    if value:
        try:
            return Color.parse(value).rich_color
        except ColorParseError:
            pass
    found = colour(fallback, theme)
    assert found is not None  # fallback is always a palette name
    return found


def level_style(level: Level, theme: Theme) -> Style:
    """Bold text in the theme's warning/error text colour for WARN/ALARM; OK is plain."""
    if level is Level.OK:
        return Style()
    warning, error = _level_colours(theme)
    return Style(color=warning if level is Level.WARN else error, bold=True)
