"""The plan's locks as a picture: one row per step, its statement, and beside it a bar whose length is the
time other sessions wait on the step's lock (one scale for every step) and whose colour is what the lock
blocks. A pure function from plan steps to an SVG string: no script, no external asset, text XML-escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dualpath.estimates import human_seconds
from dualpath.plan import Step

BLOCK_COLOURS = {"none": "#1f8a4c", "writes": "#d68910", "reads and writes": "#c0392b"}
BLOCK_LABELS = {"none": "blocks nothing", "writes": "blocks writes", "reads and writes": "blocks reads and writes"}

WIDTH, ID_COL, SQL_COL, LOCK_COL, BAR_COL, BAR_WIDTH = 980, 14, 64, 470, 636, 260
ROW, BAR, TOP = 24, 14, 46
FONT = 'font-family="-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'
MONO = 'font-family="SFMono-Regular, Menlo, Consolas, monospace"'


def blocking_seconds(step: Step) -> float:
    """How long the step holds a lock others wait on: its whole estimate when it blocks anything, else 0."""
    return step.seconds if step.blocks != "none" else 0.0


def locks_svg(steps: Sequence[Step], title: str = "Predicted locks and blocking time") -> str:
    """Each step's predicted lock and blocking time; bar lengths share the scale of the longest block."""
    longest = max((blocking_seconds(s) for s in steps), default=0.0)
    height = TOP + ROW * max(len(steps), 1) + 14
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="locks" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" role="img" aria-label="{_x(title)}" {FONT} font-size="12">',
           f"<title>{_x(title)}</title>", f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    out += _legend()
    out.append(f'<text x="{BAR_COL}" y="{TOP - 6}" fill="#5b6475">blocking time '
               f"(full bar: {_x(human_seconds(longest)) if longest else 'no step blocks'})</text>")
    if not steps:
        out.append(f'<text x="{ID_COL}" y="{TOP + 16}" fill="#5b6475">no step: nothing is pending</text>')
    for index, step in enumerate(steps):
        out += _row(step, TOP + index * ROW, longest, index)
    out.append("</svg>")
    return "\n".join(out)


def _row(step: Step, y: int, longest: float, index: int) -> list[str]:
    blocks = step.blocks if step.blocks in BLOCK_COLOURS else "reads and writes"  # unknown: assume the worst
    seconds = blocking_seconds(step)
    statement = " ".join(step.sql.split()) or step.where
    shown = _cut(statement, 56)
    width = seconds / longest * BAR_WIDTH if longest else 0.0
    width = max(width, 3.0)  # a step that blocks briefly (or not at all) still shows its colour
    out = [f'<g class="step" data-step="{_x(step.id)}" data-blocks="{_x(blocks)}">',
           f"<title>{_x(step.id)} {_x(statement)}</title>"]
    if index % 2:
        out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="#f5f7fa"/>')
    out += [f'<text x="{ID_COL}" y="{y + 16}" font-weight="600" fill="#1d2433">{_x(step.id)}</text>',
            f'<text x="{SQL_COL}" y="{y + 16}" {MONO} font-size="11.5" fill="#1d2433">{_x(shown)}</text>',
            f'<rect class="bar" data-seconds="{seconds:.3f}" x="{BAR_COL}" y="{y + 5}" width="{width:.1f}" '
            f'height="{BAR}" rx="2" fill="{BLOCK_COLOURS[blocks]}">'
            f"<title>{_x(step.lock)}: {_x(BLOCK_LABELS[blocks])} for ~{_x(human_seconds(seconds))}</title></rect>",
            f'<text x="{LOCK_COL}" y="{y + 16}" fill="{BLOCK_COLOURS[blocks]}" font-weight="600">'
            f"{_x(_cut(step.lock, 22))}</text>",
            f'<text x="{BAR_COL + width + 6:.1f}" y="{y + 16}" fill="#5b6475">'
            f"{_x(f'~{human_seconds(seconds)}') if seconds else 'no wait'}</text>",
            "</g>"]
    return out


def _legend() -> list[str]:
    out, x = [], ID_COL
    for blocks, colour in BLOCK_COLOURS.items():
        out.append(f'<rect class="legend" data-blocks="{blocks}" x="{x}" y="10" width="14" height="12" rx="2" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{x + 19}" y="20" fill="#1d2433">{_x(BLOCK_LABELS[blocks])}</text>')
        x += 34 + 7 * len(BLOCK_LABELS[blocks])
    out.append(f'<text x="{ID_COL}" y="{TOP - 6}" fill="#5b6475">step · statement</text>')
    out.append(f'<text x="{LOCK_COL}" y="{TOP - 6}" fill="#5b6475">lock (predicted)</text>')
    return out


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _x(text: object) -> str:
    """XML-escaped text for an element or an attribute (quotes included)."""
    return escape(str(text), quote=True)
