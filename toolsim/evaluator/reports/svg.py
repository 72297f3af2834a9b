"""Small inline SVG charts (no scripts, no external files): bars with intervals, scatter, stacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3366cc", "#dc7633", "#2e9e6b", "#a64ca6", "#c0392b", "#7f8c8d", "#b7950b", "#17a2b8")
WIDTH = 720
TOP, BOTTOM, LEFT, RIGHT = 20, 70, 48, 16


def color(index: int) -> str:
    """The series colour of the index-th series."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True, slots=True)
class Bar:
    """A value in percent with an optional interval."""

    value: float | None
    low: float | None = None
    high: float | None = None


def _frame(height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}">' + "".join(body) + "</svg>"
    )


def _percent_axis(height: int, body: list[str], top: float = 100.0) -> None:
    plot = height - TOP - BOTTOM
    for tick in range(0, 101, 25):
        y = TOP + plot * (1 - tick / 100)
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{tick * top / 100:g}</text>"
        )


def bar_chart(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[Bar]]], *, label: str
) -> str:
    """Grouped bars (0-100) per category, one colour per series, intervals as whiskers."""
    height = 300 + 18 * ((len(series) + 2) // 3)
    body: list[str] = []
    _percent_axis(height, body)
    plot_h = height - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    bar_w = min(40.0, slot * 0.8 / max(len(series), 1))

    def y(value: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(value, 100.0)) / 100)

    for c, category in enumerate(categories):
        x0 = LEFT + c * slot + (slot - bar_w * len(series)) / 2
        for s, (name, bars) in enumerate(series):
            bar = bars[c]
            if bar.value is None:
                continue
            x = x0 + s * bar_w
            title = f"{escape(name)} / {escape(category)}: {bar.value:.1f}%"
            if bar.low is not None and bar.high is not None:
                title += f" (95% CI {bar.low:.1f}-{bar.high:.1f})"
            body.append(
                f'<rect x="{x:.1f}" y="{y(bar.value):.1f}" width="{bar_w - 2:.1f}" '
                f'height="{y(0) - y(bar.value):.1f}" fill="{color(s)}">'
                f"<title>{title}</title></rect>"
            )
            if bar.low is not None and bar.high is not None:
                mid = x + (bar_w - 2) / 2
                body.append(
                    f'<path class="whisker" d="M{mid:.1f} {y(bar.low):.1f}V{y(bar.high):.1f}'
                    f'M{mid - 4:.1f} {y(bar.low):.1f}h8M{mid - 4:.1f} {y(bar.high):.1f}h8"/>'
                )
        body.append(
            f'<text x="{LEFT + (c + 0.5) * slot:.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    _legend(body, [name for name, _ in series], TOP + plot_h + 34)
    return _frame(height, body, label)


def _legend(
    body: list[str], names: Sequence[str], top: float, colors: dict[str, str] | None = None
) -> None:
    for index, name in enumerate(names):
        fill = (colors or {}).get(name) or color(index)
        x = LEFT + (index % 3) * 220
        y = top + (index // 3) * 18
        body.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{fill}"/>'
            f'<text x="{x + 18}" y="{y}">{escape(name[:32])}</text>'
        )


def scatter(
    points: Sequence[tuple[str, float, float, int]], *, x_label: str, y_label: str, label: str
) -> str:
    """Points (name, x, y in 0-100, series index): y against x, each point named."""
    height = 320
    body: list[str] = []
    _percent_axis(height, body)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    top_x = max((x for _, x, _, _ in points), default=1.0) * 1.1 or 1.0
    for tick in range(5):
        value = top_x * tick / 4
        x = LEFT + plot_w * tick / 4
        body.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{value:.3g}</text>'
        )
    body.append(
        f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 36}" text-anchor="middle">'
        f'{escape(x_label)}</text><text x="12" y="{TOP + plot_h / 2}" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    for name, x_value, y_value, series in points:
        x = LEFT + plot_w * x_value / top_x
        y = TOP + plot_h * (1 - max(0.0, min(y_value, 100.0)) / 100)
        # Names of points in the right half go to their left, so none runs off the chart.
        right_half = x > LEFT + plot_w / 2
        anchor, offset = ("end", -9) if right_half else ("start", 9)
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color(series)}">'
            f"<title>{escape(name)}: {x_value:.3g}, {y_value:.1f}%</title></circle>"
            f'<text x="{x + offset:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">'
            f"{escape(name[:28])}</text>"
        )
    return _frame(height, body, label)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    label: str,
    colors: dict[str, str] | None = None,
) -> str:
    """Horizontal bars split into parts (name, share in percent), one row per name."""
    colors = colors or {}
    row_h = 26
    height = TOP + row_h * len(rows) + 50
    left = 150
    plot_w = WIDTH - left - RIGHT
    body: list[str] = []
    part_names: list[str] = []
    for r, (name, parts) in enumerate(rows):
        y = TOP + r * row_h
        x = float(left)
        body.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end">{escape(name[:22])}</text>'
        )
        for part, share in parts:
            if part not in part_names:
                part_names.append(part)
            width = plot_w * share / 100
            fill = colors.get(part) or color(part_names.index(part))
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row_h - 6}" '
                f'fill="{fill}"><title>{escape(name)}: {escape(part)} '
                f"{share:.1f}%</title></rect>"
            )
            x += width
    _legend(body, part_names, TOP + row_h * len(rows) + 24, colors)
    return _frame(height, body, label)
