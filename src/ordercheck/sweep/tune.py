"""``tune``: the cheapest variants of a sweep that satisfy every required property, and why each cheaper one fails."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..design import _did_you_mean
from ..lang.errors import InputError
from ..report.result import HOLDS, INCONCLUSIVE, VIOLATED
from .run import PropertyRow, SweepResult, VariantResult

__all__ = ["Rejected", "TuneResult", "tune"]


@dataclass(frozen=True)
class Rejected:
    """A variant cheaper than the winners and why it is out: a violated property (with its trace), or no proof."""

    variant: VariantResult
    verdict: str
    property: str = ""
    reason: str = ""
    trace: tuple[str, ...] = ()


@dataclass
class TuneResult:
    """The winners (every required property holds, least cost) and every cheaper variant with what rules it out."""

    required: list[str]
    winners: list[VariantResult] = field(default_factory=list)
    cheaper: list[Rejected] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``holds``: winners found and every cheaper variant violates a requirement; ``inconclusive`` when a
        cheaper one could not be ruled out (a bound, an invalid variant, a lost worker); ``violated``: no winner."""
        if not self.winners:
            return INCONCLUSIVE if any(r.verdict == INCONCLUSIVE for r in self.cheaper) else VIOLATED
        return INCONCLUSIVE if any(r.verdict != VIOLATED for r in self.cheaper) else HOLDS


def _row(variant: VariantResult, name: str) -> PropertyRow | None:
    return next((r for r in variant.rows if r.name == name), None)


def _why_not(variant: VariantResult, required: list[str]) -> Rejected | None:
    """None when every required property holds; else the first violation, or what leaves it open."""
    if variant.error or variant.failure:
        return Rejected(variant, "invalid" if variant.error else INCONCLUSIVE, reason=variant.error or variant.failure)
    rows = [(name, _row(variant, name)) for name in required]
    for name, row in rows:
        if row is not None and row.verdict == VIOLATED:
            return Rejected(variant, VIOLATED, name, row.reason, row.trace)
    for name, row in rows:
        if row is None:
            return Rejected(variant, "invalid", name, f"this variant has no property {name!r}")
        if row.verdict != HOLDS:
            return Rejected(variant, INCONCLUSIVE, name, row.reason)
    return None


def tune(sweep: SweepResult, required: list[str]) -> TuneResult:
    """Pick the cheapest variants of ``sweep`` where every property in ``required`` holds.

    Every variant cheaper than the winners (all variants, when none wins) is listed with the property it
    violates and its counterexample, or with what keeps it from being ruled out.
    """
    known = sweep.properties
    for name in required:
        if name not in known:
            raise InputError(f"--require {name!r}: no variant has this property{_did_you_mean(name, known)} (properties: {', '.join(known)})")
    result = TuneResult(list(required))
    verdicts = [(v, _why_not(v, required)) for v in sweep.variants]
    passing = [v for v, why in verdicts if why is None and v.cost is not None]
    best = min((v.cost for v in passing if v.cost is not None), default=None)
    result.winners = [v for v in passing if v.cost == best]
    for variant, why in sorted(verdicts, key=lambda pair: (pair[0].cost if pair[0].cost is not None else -1.0, pair[0].variant.index)):
        if why is None or variant.error:
            continue  # an invalid variant is not a design at all (the sweep's table lists its error)
        if best is None or variant.cost is None or variant.cost < best:
            result.cheaper.append(why)
    return result
