"""A report section's chart as an SVG image (pygal), served from its own route and shown with
``<img src alt>``: pygal's inline script cannot run inside an image and the page's Content
Security Policy stays strict (ADR 0034). No Flask, no database.

* ``js=[]``: no pygal-tooltips script from a CDN; the SVG refers to nothing outside itself.
* Suppressed values are drawn at 0 with "<5" printed as their value, so a hidden count cannot
  be measured off the axis.
* Colours are GOV.UK palette colours with a contrast of at least 3:1 against white (WCAG 1.4.11),
  and each series also differs by position and its legend, never by colour alone.
"""

from __future__ import annotations

import sys
from typing import Any

import pygal
from pygal.style import Style

from casework.reports.tables import Cell, CellKind, Chart, ChartKind

# pygal appends a legacy ``sys.meta_path`` finder (only for its map plugins, which we do not
# use) that makes every later import fall back to ``find_module`` with an ImportWarning.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

#: GOV.UK blue, green, purple, red, dark grey, brown: each at least 3:1 against white.
COLOURS = ("#1d70b8", "#00703c", "#4c2c92", "#d4351c", "#505a5f", "#b58840")
#: Contrast of each colour against white (checked by the unit tests; WCAG needs 3:1).
MIN_CONTRAST = 3.0

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    opacity="1",
    opacity_hover="1",
    colors=COLOURS,
    font_family="Arial, Helvetica, sans-serif",
    title_font_size=20,
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=14,
    value_label_font_size=14,
    legend_font_size=14,
    tooltip_font_size=14,
)

WIDTH = 800
BAR_HEIGHT = 420
#: The small-screen version (``<picture>`` picks it under 641 px): the same font sizes on a
#: narrower drawing, so the text stays readable instead of shrinking with the image.
NARROW_WIDTH = 400
NARROW_BAR_HEIGHT = 380


def chart_value(cell: Cell) -> float | None:
    """What a bar shows for a cell: None when hidden or there is no figure."""
    if cell.suppressed:
        return None
    if cell.kind is CellKind.RATIO:
        return cell.percent
    if cell.kind in (CellKind.COUNT, CellKind.NUMBER, CellKind.DAYS, CellKind.PERCENT):
        return None if cell.value is None else float(cell.value)  # type: ignore[arg-type]
    return None


def _point(cell: Cell) -> dict[str, Any]:
    value = chart_value(cell)
    if cell.suppressed:
        # Drawn at 0 (its height gives nothing away) with "<5" printed where the value goes.
        hidden = f"<{cell.threshold}"
        return {"value": 0, "label": f"{hidden} (not shown)", "formatter": lambda _v: hidden}
    return {"value": value, "label": cell.shown}


def _shorten(label: str, most: int = 18) -> str:
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def _formatter(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def axis_ticks(chart: Chart) -> list[float] | None:
    """Whole-number ticks for counts (pygal would label 0 to 1 in tenths when every value is
    0); None lets pygal choose, for figures that are not whole numbers."""
    drawn = [chart_value(cell) for _, cells in chart.series for cell in cells]
    numbers = [value for value in drawn if value is not None]
    if any(value != int(value) for value in numbers):
        return None
    top = int(max(numbers, default=0))
    step = 1
    while top / step > 10:  # 1, 2, 5, 10, 20, 50...
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    last = max(step, -(-top // step) * step)
    return [float(tick) for tick in range(0, last + 1, step)]


def render_svg(chart: Chart, *, narrow: bool = False) -> bytes:
    """The chart as a standalone SVG document (UTF-8 bytes); ``narrow`` for small screens."""
    horizontal = chart.kind is ChartKind.HBAR
    many = len(chart.labels) > (3 if narrow else 6)
    bar_height = NARROW_BAR_HEIGHT if narrow else BAR_HEIGHT
    height = max(bar_height, 90 + 34 * len(chart.labels) * max(1, len(chart.series)))
    config: dict[str, Any] = {
        "style": STYLE,
        "js": [],
        "title": chart.title,
        "width": NARROW_WIDTH if narrow else WIDTH,
        "height": height if horizontal else bar_height,
        "show_legend": len(chart.series) > 1,
        "legend_at_bottom": True,
        "print_values": True,
        "print_values_position": "top",
        "print_zeroes": True,
        "value_formatter": _formatter,
        "truncate_label": -1,
        "truncate_legend": -1,
        "x_label_rotation": 0 if horizontal or not many else (45 if narrow else 30),
        "margin": 16,
        "include_x_axis": True,
        "show_y_guides": not horizontal,
        "show_x_guides": horizontal,
        "tooltip_border_radius": 0,
        "disable_xml_declaration": False,
        "explicit_size": False,
        "pretty_print": False,
        "no_data_text": "No figures to draw",
    }
    ticks = axis_ticks(chart)
    if ticks is not None:
        config["y_labels"] = ticks
        config["range"] = (0, ticks[-1])
    drawing = (pygal.HorizontalBar if horizontal else pygal.Bar)(**config)
    # On a phone, long category names would squeeze horizontal bars: the table has them whole.
    short = narrow and horizontal
    labels = [_shorten(label) if short else label for label in chart.labels]
    # pygal draws a horizontal chart's first label at the bottom: reversed, the first label
    # (a funnel's first stage) is at the top, as in the table.
    order: slice = slice(None, None, -1) if horizontal else slice(None)
    drawing.x_labels = labels[order]
    for name, cells in chart.series:
        drawing.add(name, [_point(cell) for cell in cells][order])
    svg = drawing.render()
    return svg if isinstance(svg, bytes) else str(svg).encode("utf-8")


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)
