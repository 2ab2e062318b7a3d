"""A sweep's table (terminal text, Markdown, JSON) and tune's answer as text."""

from __future__ import annotations

from typing import Any

from .run import PropertyRow, SweepResult, VariantResult
from .tune import TuneResult

__all__ = ["pareto_front", "sweep_html", "sweep_json", "sweep_markdown", "sweep_text", "tune_json", "tune_text"]


def _cells(variant: VariantResult, properties: list[str]) -> list[str]:
    if variant.error or variant.failure:
        return ["invalid" if variant.error else "inconclusive"] * len(properties)
    verdicts = {r.name: r.verdict + _tolerance_text(r) for r in variant.rows}
    return [verdicts.get(name, "-") for name in properties]


def _tolerance_text(row: PropertyRow) -> str:
    """`` (tolerates 2)`` after a verdict when the tolerance was measured; ``?`` when a bound left it unproved."""
    if row.tolerance is None:
        return ""
    shown = "none" if row.tolerance < 0 else str(row.tolerance)
    return f" (tolerates {shown}{'?' if row.tolerance_verdict == 'inconclusive' else ''})"


def _rows(sweep: SweepResult) -> tuple[list[str], list[list[str]]]:
    properties = sweep.properties
    head = ["#", *sweep.keys, *properties, "states", "seconds", "cost"]
    rows = []
    for v in sweep.variants:
        values = [_value(value) for _, value in v.variant.values]
        cost = "-" if v.cost is None else f"{v.cost:g}"
        rows.append([str(v.variant.index + 1), *values, *_cells(v, properties), str(v.states), f"{v.seconds:.2f}", cost])
    return head, rows


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _notes(sweep: SweepResult) -> list[str]:
    return [f"variant {v.variant.index + 1} ({v.variant.label}): {v.error or v.failure}" for v in sweep.variants if v.error or v.failure]


def sweep_text(sweep: SweepResult) -> str:
    """The design variant x property table for the terminal, then each invalid or failed variant's error."""
    head, rows = _rows(sweep)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = _notes(sweep)
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def sweep_markdown(sweep: SweepResult) -> str:
    """The same table in Markdown (a CI job's summary page)."""
    head, rows = _rows(sweep)
    out = [f"# Sweep of {sweep.design} over {sweep.grid}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    notes = _notes(sweep)
    if notes:
        out += ["", *(f"- {n}" for n in notes)]
    return "\n".join(out) + "\n"


def _variant_json(v: VariantResult) -> dict[str, Any]:
    return {
        "index": v.variant.index + 1, "values": dict(v.variant.values), "name": v.name, "cost": v.cost, "states": v.states,
        "seconds": v.seconds, "error": v.error or None, "failure": v.failure or None,
        "properties": [{"name": r.name, "verdict": r.verdict, "reason": r.reason or None, "trace": list(r.trace),
                        "tolerance": r.tolerance, "tolerance_verdict": r.tolerance_verdict or None} for r in v.rows],
    }


def sweep_json(sweep: SweepResult) -> dict[str, Any]:
    """The table as a JSON document: one entry per variant with its values, cost and per-property verdicts."""
    return {"design": sweep.design, "grid": sweep.grid, "keys": sweep.keys, "variants": [_variant_json(v) for v in sweep.variants]}


def tune_json(result: TuneResult) -> dict[str, Any]:
    """tune's answer as JSON."""
    return {
        "required": result.required, "verdict": result.verdict, "winners": [_variant_json(v) for v in result.winners],
        "cheaper": [{"variant": _variant_json(r.variant), "verdict": r.verdict, "property": r.property or None,
                     "reason": r.reason or None, "trace": list(r.trace)} for r in result.cheaper],
    }


def tune_text(result: TuneResult) -> str:
    """The winners with their proof, then each cheaper variant with the property it violates and its trace."""
    lines = []
    if result.winners:
        lines.append(f"cheapest variants where {', '.join(repr(n) for n in result.required)} hold (cost {result.winners[0].cost:g}):")
        for v in result.winners:
            lines.append(f"  variant {v.variant.index + 1}: {v.variant.label}: " + ", ".join(f"{n} holds" for n in result.required)
                         + f" ({v.states} states)")
    else:
        lines.append(f"no variant satisfies every required property ({', '.join(repr(n) for n in result.required)})")
    if result.cheaper:
        lines.append("cheaper variants, and what rules each out:" if result.winners else "every variant, and what rules it out:")
    for r in result.cheaper:
        cost = "-" if r.variant.cost is None else f"{r.variant.cost:g}"
        what = f"{r.property} {r.verdict}" if r.property else r.verdict
        lines.append(f"  variant {r.variant.variant.index + 1} (cost {cost}): {r.variant.variant.label}: {what}"
                     + (f": {r.reason}" if r.reason and r.verdict != "violated" else ""))
        if r.trace:
            lines.append("    counterexample: " + " -> ".join(r.trace))
    return "\n".join(lines) + "\n"


def _score(variant: VariantResult) -> tuple[float, str] | None:
    """What the plot puts on its y axis: the weakest measured tolerance (``-1``: none), else the properties that hold."""
    if variant.error or variant.failure or variant.cost is None:
        return None
    measured = [r.tolerance for r in variant.rows if r.tolerance is not None]
    if measured:
        return float(min(measured)), "fault tolerance (the weakest property's; -1: breaks with no fault)"
    return float(sum(r.verdict == "holds" for r in variant.rows)), "properties that hold"


def pareto_front(sweep: SweepResult) -> list[VariantResult]:
    """The variants no other beats: none costs no more and scores more, or costs less and scores as much."""
    scored = [(v, s[0]) for v in sweep.variants if (s := _score(v)) is not None]
    return [v for v, y in scored
            if not any((w.cost or 0) <= (v.cost or 0) and z >= y and ((w.cost or 0) < (v.cost or 0) or z > y) for w, z in scored)]


def sweep_html(sweep: SweepResult) -> str:
    """A self-contained page: the table, and an SVG plot of tolerance (or properties holding) against cost, Pareto front marked."""
    import html

    head, rows = _rows(sweep)
    scored = [(v, s) for v in sweep.variants if (s := _score(v)) is not None]
    front = {v.variant.index for v in pareto_front(sweep)}
    width, height, pad = 640, 360, 48
    xs = [v.cost or 0.0 for v, _ in scored] or [0.0]
    ys = [s[0] for _, s in scored] or [0.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def px(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def py(y: float) -> float:
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    label = scored[0][1][1] if scored else "properties that hold"
    dots = []
    for v, (y, _) in scored:
        on_front = v.variant.index in front
        dots.append(f'<circle cx="{px(v.cost or 0):.1f}" cy="{py(y):.1f}" r="{6 if on_front else 4}" fill="{"#c0392b" if on_front else "#7f8c8d"}">'
                    f"<title>variant {v.variant.index + 1}: {html.escape(v.variant.label)} (cost {v.cost:g}, {y:g})</title></circle>")
    line = sorted(((v.cost or 0.0, s[0]) for v, s in scored if v.variant.index in front))
    path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in line)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{html.escape(label)} against cost">'
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
           f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">cost ({x0:g} to {x1:g})</text>'
           f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">{html.escape(label)} ({y0:g} to {y1:g})</text>'
           f'<polyline points="{path}" fill="none" stroke="#c0392b" stroke-dasharray="4 3"/>' + "".join(dots) + "</svg>")
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows) + "</table>"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(sweep))
    title = html.escape(f"Sweep of {sweep.design} over {sweep.grid}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
            f"</style></head><body><h1>{title}</h1><p>Red: the Pareto front (no variant costs less and scores as much).</p>{svg}"
            f"{table}{'<ul>' + notes + '</ul>' if notes else ''}</body></html>\n")
