"""A rollout as a picture: one row per tenant, its phases (backup, each change and batch, validation, rollback)
as bars on one shared time axis, coloured by outcome, rows grouped by wave. A pure function from the run's
``TenantOutcome`` records to an SVG string: no script, no external asset, every text XML-escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from dualpath.rollout import Phase, PhaseOutcome, TenantOutcome

OUTCOME_COLOURS: dict[PhaseOutcome, str] = {"ok": "#1f8a4c", "failed": "#c0392b", "rolled back": "#d68910",
                                            "skipped": "#9aa3b2"}
KIND_OPACITY = {"backup": 0.45, "change": 1.0, "batch": 1.0, "validation": 0.7, "rollback": 1.0}  # at a glance
BATCH_INK = "#0b3d20"  # a batch is drawn as a dark strip along the bottom of its change's bar

WIDTH, GUTTER, RIGHT = 980, 210, 24
ROW, BAR, WAVE_HEAD, TOP = 26, 16, 20, 64
FONT = 'font-family="-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'
# rollback bars carry white stripes over their colour: told apart from the changes they undid
HATCH = ('<defs><pattern id="rollback-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><rect width="2.5" height="6" fill="#ffffff" fill-opacity="0.55"/>'
         "</pattern></defs>")
_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)


def timeline_svg(outcomes: Sequence[TenantOutcome], title: str = "Rollout timeline") -> str:
    """The timeline of a run; tenants that never started (skipped) get a grey row that says so."""
    phases = [p for o in outcomes for p in o.phases]
    t0 = min((p.start for p in phases), default=0.0)
    span = max(max((p.end for p in phases), default=0.0) - t0, 0.001)
    plot = WIDTH - GUTTER - RIGHT
    waves = _by_wave(outcomes)
    height = TOP + sum(WAVE_HEAD + ROW * len(rows) for rows in waves.values()) + 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" role="img" aria-label="{_x(title)}" {FONT} font-size="12">',
           f"<title>{_x(title)}</title>", HATCH, f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    out += _legend()
    if not phases:
        out.append(f'<text x="{GUTTER}" y="{TOP + 14}" fill="#5b6475">no timed phase was recorded in this run '
                   "(nothing was backed up, applied or rolled back)</text>")
    ticks = _ticks(span) if phases else []
    bottom = height - 30
    for tick in ticks:
        x = GUTTER + tick / span * plot
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{bottom}" stroke="#e4e8ef"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP - 10}" text-anchor="middle" fill="#5b6475">{_x(_tick_label(tick))}'
                   "</text>")
    y = TOP
    for index, (wave, rows) in enumerate(waves.items()):
        band = WAVE_HEAD + ROW * len(rows)
        fill = "#f3f6fb" if index % 2 == 0 else "#ffffff"
        out.append(f'<rect class="wave" data-wave="{wave}" x="0" y="{y}" width="{WIDTH}" height="{band}" '
                   f'fill="{fill}" fill-opacity="0.85"/>')
        label = f"wave {wave}" + (" (canary)" if wave == 1 and len(waves) > 1 else "")
        out.append(f'<text class="wave-label" x="10" y="{y + 14}" font-weight="700" fill="#0f2a4a">{_x(label)}</text>')
        starts = [p.start for o in rows for p in o.phases if p.kind != "backup"]
        if starts:  # where the wave began on the shared axis
            x = GUTTER + (min(starts) - t0) / span * plot
            out.append(f'<line class="wave-start" x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="{y + band - 2}" '
                       'stroke="#0f2a4a" stroke-dasharray="3 3"/>')
            out.append(f'<text x="{x + 4:.1f}" y="{y + 14}" fill="#0f2a4a">wave {wave} starts</text>')
        y += WAVE_HEAD
        for outcome in rows:
            out += _row(outcome, y, t0, span, plot)
            y += ROW
    out.append(f'<line x1="{GUTTER}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#9aa3b2"/>')
    began = datetime.fromtimestamp(t0, UTC).strftime(" at %Y-%m-%d %H:%M:%S UTC") if phases else ""
    total = f"; {_tick_label(span)} in all" if phases else ""
    out.append(f'<text x="{GUTTER}" y="{bottom + 18}" fill="#5b6475">time since the first phase began{began}'
               f"{_x(total)}; on the HTML page, hover a bar for its exact time</text>")
    out.append("</svg>")
    return "\n".join(out)


def _row(outcome: TenantOutcome, y: int, t0: float, span: float, plot: float) -> list[str]:
    name = outcome.name if len(outcome.name) <= 26 else outcome.name[:25] + "…"
    out = [f'<g class="tenant" data-tenant="{_x(outcome.name)}" data-state="{_x(outcome.state)}">',
           f"<title>{_x(outcome.name)}: {_x(outcome.state)}</title>",
           f'<text x="18" y="{y + 17}" fill="#1d2433">{_x(name)}</text>']
    if not outcome.phases:
        colour = OUTCOME_COLOURS["skipped"] if outcome.state == "skipped" else "#cfd5df"
        out.append(f'<rect class="bar" data-kind="none" data-outcome="skipped" x="{GUTTER}" y="{y + 5}" '
                   f'width="{plot:.1f}" height="{BAR}" fill="none" stroke="{colour}" stroke-dasharray="4 3" rx="3"/>')
        out.append(f'<text x="{GUTTER + 8}" y="{y + 17}" fill="#5b6475">{_x(outcome.state)}: '
                   "never started in this run</text>")
    for phase in outcome.phases:
        shown = _shown_outcome(outcome, phase)
        x = GUTTER + (phase.start - t0) / span * plot
        width = max((phase.end - phase.start) / span * plot, 2.0)  # a quick phase stays visible
        seconds = phase.end - phase.start
        if phase.kind == "batch":  # inside its change: a strip, so the change's bar stays readable
            ink = BATCH_INK if shown == "ok" else OUTCOME_COLOURS[shown]
            out.append(f'<rect class="bar" data-kind="batch" data-outcome="{shown}" x="{x:.1f}" y="{y + BAR - 1}" '
                       f'width="{width:.1f}" height="5" fill="{ink}" stroke="#ffffff" stroke-width="0.5">'
                       f"<title>{_x(outcome.name)} · {_x(phase.label)}: {_x(shown)}, {seconds:.2f} s</title></rect>")
            continue
        out.append(f'<rect class="bar" data-kind="{phase.kind}" data-outcome="{shown}" x="{x:.1f}" y="{y + 5}" '
                   f'width="{width:.1f}" height="{BAR}" rx="2" fill="{OUTCOME_COLOURS[shown]}" '
                   f'fill-opacity="{KIND_OPACITY[phase.kind]}" stroke="#ffffff" stroke-width="1">'
                   f"<title>{_x(outcome.name)} · {_x(phase.label)}: {_x(shown)}, {seconds:.2f} s</title></rect>")
        if phase.kind == "rollback":
            out.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{width:.1f}" height="{BAR}" rx="2" '
                       'fill="url(#rollback-hatch)" pointer-events="none"/>')
        if width >= 7 * len(phase.label) + 8:  # the label only where it fits inside the bar
            ink = "#1d2433" if phase.kind == "rollback" else "#ffffff"  # white on the stripes would vanish
            out.append(f'<text x="{x + 4:.1f}" y="{y + 17}" fill="{ink}" font-size="11" '
                       f'pointer-events="none">{_x(phase.label)}</text>')
    out.append("</g>")
    return out


def _shown_outcome(outcome: TenantOutcome, phase: Phase) -> PhaseOutcome:
    """A change that went in and was undone later is drawn as rolled back: it did not stay."""
    if phase.outcome == "ok" and phase.kind in ("change", "batch", "validation") and outcome.state in (
            "rolled back", "rollback blocked"):
        return "rolled back"
    return phase.outcome


def _by_wave(outcomes: Sequence[TenantOutcome]) -> dict[int, list[TenantOutcome]]:
    waves: dict[int, list[TenantOutcome]] = {}
    for outcome in outcomes:
        waves.setdefault(outcome.wave, []).append(outcome)
    return dict(sorted(waves.items()))


def _legend() -> list[str]:
    out, x = [], GUTTER
    for outcome, colour in OUTCOME_COLOURS.items():
        out.append(f'<rect class="legend" data-outcome="{outcome}" x="{x}" y="10" width="14" height="12" rx="2" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{x + 19}" y="20" fill="#1d2433">{_x(outcome)}</text>')
        x += 30 + 7 * len(outcome)
    out.append(f'<text x="{x + 12}" y="20" fill="#5b6475">pale: backup · solid: each change · dark strip: '
               "a batch · lighter: validation · striped: rollback</text>")
    return out


def _ticks(span: float) -> list[float]:
    step = next((s for s in _STEPS if span / s <= 8), _STEPS[-1])
    return [i * step for i in range(int(span / step) + 1)]


def _tick_label(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s" if seconds % 1 else f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 120:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


def _x(text: object) -> str:
    """XML-escaped text for an element or an attribute (quotes included)."""
    return escape(str(text), quote=True)
