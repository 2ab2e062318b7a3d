"""A sweep's table (terminal text, Markdown, JSON) and tune's answer as text."""

from __future__ import annotations

from typing import Any

from .run import SweepResult, VariantResult
from .tune import TuneResult

__all__ = ["sweep_json", "sweep_markdown", "sweep_text", "tune_json", "tune_text"]


def _cells(variant: VariantResult, properties: list[str]) -> list[str]:
    if variant.error or variant.failure:
        return ["invalid" if variant.error else "inconclusive"] * len(properties)
    verdicts = {r.name: r.verdict for r in variant.rows}
    return [verdicts.get(name, "-") for name in properties]


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
        "properties": [{"name": r.name, "verdict": r.verdict, "reason": r.reason or None, "trace": list(r.trace)} for r in v.rows],
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
