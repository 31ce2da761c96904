"""Charts as inline SVG strings: pie, line and bar, drawn from plain numbers.

The analytics report must open anywhere with no network and no JavaScript, and the GUI
can show the same SVG in a ``QSvgWidget``; so the charts are generated here as SVG text
instead of pulling in a plotting library. Every label is escaped. A chart with no data
still renders (axes and a "no data" note), so a report layout never breaks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from seisproc.jobs.model import JobState

__all__ = ["PALETTE", "STATE_COLORS", "Series", "Slice", "bar_chart", "line_chart",
           "nice_ticks", "pie_chart"]

PALETTE = ("#2f80ed", "#2e9d5b", "#d64541", "#e0a21b", "#9b59b6", "#16a2b8", "#e67e22",
           "#6c757d")
"""Series colours, in order, distinguishable for the common colour-vision deficiencies."""
STATE_COLORS = {
    JobState.COMPLETED: "#2e9d5b", JobState.FAILED: "#d64541", JobState.CANCELLED: "#e0a21b",
    JobState.RUNNING: "#2f80ed", JobState.QUEUED: "#9aa5b1", JobState.PAUSED: "#9b59b6",
    JobState.CANCELLING: "#e67e22", JobState.INTERRUPTED: "#8e2c2c",
    JobState.WAITING: "#5d8aa8",
}
"""One colour per job state, every state present, in the order a status chart lists them:
a failed job is the same red in the report, the GUI's charts and its job table."""
WIDTH, HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 56, 44
_FONT = "font-family='system-ui, -apple-system, Segoe UI, sans-serif'"


@dataclass(frozen=True)
class Slice:
    """One wedge of a pie: a label, a value (any unit) and a colour."""

    label: str
    value: float
    color: str


@dataclass(frozen=True)
class Series:
    """One line: ``values[i]`` is drawn at ``xs[i]``; ``None`` leaves a gap."""

    name: str
    values: Sequence[float | None]
    color: str


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``: steps of 1, 2, 2.5 or 5 x 10^k.

    >>> nice_ticks(87)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    >>> nice_ticks(0)
    [0.0, 1.0]
    """
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [float(i * step) for i in range(math.ceil(top / step - 1e-9) + 1)]


def pie_chart(title: str, slices: Sequence[Slice], *,
              value_label: Callable[[float], str] = lambda v: f"{v:,.0f}") -> str:
    """A pie with a legend of label, value and share; zero slices are left out."""
    shown = [s for s in slices if s.value > 0]
    total = sum(s.value for s in shown)
    parts = [_title(title)]
    if not total:
        return _svg(parts + [_no_data()])
    cx, cy, r = 170, HEIGHT / 2 + 18, 105
    angle = -math.pi / 2
    for piece in shown:
        sweep = 2 * math.pi * piece.value / total
        parts.append(_wedge(cx, cy, r, angle, sweep, piece))
        angle += sweep
    for i, piece in enumerate(shown):
        y = 80 + i * 24
        share = 100 * piece.value / total
        parts.append(f"<rect x='330' y='{y - 11}' width='14' height='14' rx='2' "
                     f"fill='{piece.color}'/>")
        parts.append(_text(352, y, f"{piece.label}  {value_label(piece.value)} "
                                   f"({share:.1f} %)", size=13))
    return _svg(parts)


def _wedge(cx: float, cy: float, r: float, start: float, sweep: float, piece: Slice) -> str:
    tip = f"<title>{escape(piece.label)}: {piece.value:,.0f}</title>"
    if sweep >= 2 * math.pi - 1e-9:
        return f"<circle cx='{cx}' cy='{cy}' r='{r}' fill='{piece.color}'>{tip}</circle>"
    x0, y0 = cx + r * math.cos(start), cy + r * math.sin(start)
    x1, y1 = cx + r * math.cos(start + sweep), cy + r * math.sin(start + sweep)
    large = 1 if sweep > math.pi else 0
    return (f"<path d='M{cx},{cy} L{x0:.2f},{y0:.2f} A{r},{r} 0 {large} 1 {x1:.2f},{y1:.2f} Z'"
            f" fill='{piece.color}' stroke='#fff' stroke-width='1.5'>{tip}</path>")


def line_chart(title: str, xs: Sequence[float], series: Sequence[Series], *,
               x_label: Callable[[float], str], y_unit: str = "",
               y_max: float | None = None) -> str:
    """Lines over numeric ``xs`` (days, timestamps), with a legend and labelled axes.

    ``y_max`` fixes the top of the axis (100 for percentages); otherwise it is rounded up
    from the data. A lone point (or one between gaps) is drawn as a dot.
    """
    values = [v for s in series for v in s.values if v is not None]
    parts = [_title(title), _legend([(s.name, s.color) for s in series])]
    if not xs or not values:
        return _svg(parts + [_no_data()])
    ticks = nice_ticks(y_max if y_max is not None else max(values))
    x_of, y_of = _scales(xs, ticks[-1])
    parts += _y_axis(ticks, y_of, y_unit) + _x_axis(xs, x_of, x_label)
    for line in series:
        parts += _polylines(line, xs, x_of, y_of)
    return _svg(parts)


def _scales(xs: Sequence[float], y_top: float) -> tuple[Callable[[float], float],
                                                        Callable[[float], float]]:
    low, high = min(xs), max(xs)
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x_of(x: float) -> float:
        return _LEFT + (plot_w / 2 if high == low else plot_w * (x - low) / span)

    def y_of(y: float) -> float:
        return _TOP + plot_h * (1 - y / y_top)

    return x_of, y_of


def _y_axis(ticks: Sequence[float], y_of: Callable[[float], float], unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(f"<line x1='{_LEFT}' x2='{WIDTH - _RIGHT}' y1='{y:.1f}' y2='{y:.1f}' "
                     "stroke='#e3e7ec'/>")
        parts.append(_text(_LEFT - 8, y + 4, f"{_number(tick)}{unit}", size=11, anchor="end",
                           fill="#5f6b7a"))
    return parts


def _x_axis(xs: Sequence[float], x_of: Callable[[float], float],
            label: Callable[[float], str], most: int = 6) -> list[str]:
    base = HEIGHT - _BOTTOM
    parts = [f"<line x1='{_LEFT}' x2='{WIDTH - _RIGHT}' y1='{base}' y2='{base}' "
             "stroke='#9aa5b1'/>"]
    last = len(xs) - 1
    shown = sorted({round(i * last / (most - 1)) for i in range(most)}) if last else [0]
    for index in shown:  # evenly spread, first and last included (inside the frame)
        anchor = "end" if index == last and last else "middle"
        parts.append(_text(x_of(xs[index]), base + 18, label(xs[index]), size=11,
                           anchor=anchor, fill="#5f6b7a"))
    return parts


def _polylines(line: Series, xs: Sequence[float], x_of: Callable[[float], float],
               y_of: Callable[[float], float]) -> list[str]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, value in zip(xs, line.values, strict=True):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((x_of(x), y_of(value)))
    parts = []
    for run in filter(None, runs):
        if len(run) == 1:
            (px, py), = run
            parts.append(f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{line.color}'/>")
            continue
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
        parts.append(f"<polyline points='{points}' fill='none' stroke='{line.color}' "
                     "stroke-width='2' stroke-linejoin='round'/>")
    return parts


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, color: str = PALETTE[0],
              value_label: Callable[[float], str] = lambda v: f"{v:,.0f}",
              y_unit: str = "") -> str:
    """Vertical bars, one per label, each with its value written above it."""
    parts = [_title(title)]
    if not bars:
        return _svg(parts + [_no_data()])
    ticks = nice_ticks(max(value for _, value in bars))
    _, y_of = _scales([0.0, 1.0], ticks[-1])
    parts += _y_axis(ticks, y_of, y_unit)
    slot = (WIDTH - _LEFT - _RIGHT) / len(bars)
    width = min(80.0, slot * 0.6)
    for i, (label, value) in enumerate(bars):
        x = _LEFT + slot * i + (slot - width) / 2
        top = y_of(value)
        parts.append(f"<rect x='{x:.1f}' y='{top:.1f}' width='{width:.1f}' "
                     f"height='{y_of(0) - top:.1f}' rx='3' fill='{color}'>"
                     f"<title>{escape(label)}: {escape(value_label(value))}</title></rect>")
        parts.append(_text(x + width / 2, top - 6, value_label(value), size=12,
                           anchor="middle"))
        parts.append(_text(x + width / 2, HEIGHT - _BOTTOM + 18, label, size=12,
                           anchor="middle", fill="#5f6b7a"))
    return _svg(parts)


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    parts, x = [], _LEFT
    for name, color in entries:
        parts.append(f"<rect x='{x}' y='32' width='12' height='4' fill='{color}'/>")
        parts.append(_text(x + 16, 38, name, size=12))
        x += 24 + 7 * len(name)
    return "".join(parts)


def _title(title: str) -> str:
    return _text(16, 22, title, size=15, weight="600")


def _no_data() -> str:
    return _text(WIDTH / 2, HEIGHT / 2 + 10, "no data in this period", size=14,
                 anchor="middle", fill="#9aa5b1")


def _text(x: float, y: float, text: str, *, size: int, anchor: str = "start",
          fill: str = "#1f2933", weight: str = "400") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
            f"fill='{fill}' font-weight='{weight}'>{escape(text)}</text>")


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _svg(parts: Sequence[str]) -> str:
    body = "".join(parts)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' "
            f"width='100%' role='img' {_FONT}>{body}</svg>")
