"""The tolerance methods side by side on the shipped designs: the same answers, and what each costs.

For every design in ``model/*.toml`` (and ``--orders`` variants) and every measurable property, the
fault tolerance is measured with ``method="per-budget"`` (one search per property and budget: how it
was measured before), ``"budget-layers"`` (one scalar search ordered by faults spent) and
``"each-budget"`` (one search per budget for every open property, on the backend ``auto`` picks), capped
at ``--max-k`` (the default cap, the number of nodes, is out of reach for the old method on these
designs).  It prints the seconds of each method and whether every answer (k, verdict, reason, failure
set, breaking trace) is identical to the per-budget one.

Usage::

    python benchmarks/tolerance_agreement.py --max-k 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ordercheck import check, spec_of
from ordercheck.design import load_design
from ordercheck.explicit.levels import explore_levels, plan_search
from ordercheck.tolerance import fault_tolerances

ROOT = Path(__file__).resolve().parent.parent


def _key(t: Any) -> tuple[Any, ...]:
    trace = t.breaking.counterexample if t.breaking is not None else None
    return (t.k, t.verdict, t.reason, tuple(t.failure_set), tuple((s.label, str(s.state)) for s in trace.steps) if trace else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-k", type=int, default=2)
    ap.add_argument("--designs", nargs="*", default=sorted(str(p) for p in (ROOT / "model").glob("*.toml")))
    args = ap.parse_args(argv)
    print("| design | properties | check s | per-budget s | budget-layers s | each-budget s | identical |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for path in args.designs:
        model = load_design(path).model()
        spec = spec_of(model)
        start = time.monotonic()
        result = check(model, keep_going=True)
        plain = time.monotonic() - start
        props = [p.name for p in result.properties if p.kind in ("invariant", "step")]
        plan = plan_search(spec)

        def search(s: Any, _plan: Any = plan, **kw: Any) -> Any:
            return explore_levels(s, backend=_plan.backend, store=_plan.store, **kw)

        search.levels = plan.levels  # type: ignore[attr-defined]
        answers = {}
        seconds = {}
        for method in ("per-budget", "budget-layers", "each-budget"):
            start = time.monotonic()
            answers[method] = fault_tolerances(model, props, max_k=args.max_k, method=method, search=search if plan.levels else None)
            seconds[method] = time.monotonic() - start
        same = all(_key(answers[m][p]) == _key(answers["per-budget"][p]) for m in answers for p in props)
        print(f"| {Path(path).name} | {len(props)} | {plain:.1f} | {seconds['per-budget']:.1f} | {seconds['budget-layers']:.1f} | "
              f"{seconds['each-budget']:.1f} | {'yes' if same else 'NO'} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
