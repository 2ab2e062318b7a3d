"""Benchmark: the Z3 engines (BMC per depth, k-induction) beside the explicit engine, on the same verdicts.

For each model the explicit engine runs to its verdict; bounded model checking runs depth by
depth (one incremental solver) up to ``--depth`` or until its time budget is spent, and its
solver time per depth is recorded; k-induction proves the property where a lemma is known.
Each model runs in its own process.

Run from the repository root::

    python benchmarks/symbolic.py                          # every case, BMC to depth 14, 120 s budget
    python benchmarks/symbolic.py --cases twophase-5 --depth 17 --json out/symbolic.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CASES = ("replication-before", "replication-after", "twophase-5", "twophase-7", "hospital-3", "hospital-4")
DESIGNS = {"hospital-3": "hospital-3-failover-without-synchronous-commit.toml", "hospital-4": "hospital-4-corrected.toml"}


def _model(case: str) -> tuple[Any, Any, list[str] | None]:
    """The model instance, a subclass with the lemma as an invariant (or None), and the properties to check (None: all)."""
    if case in DESIGNS:
        from ordercheck.design import load_design

        return load_design(ROOT / "model" / DESIGNS[case]).model(), None, None
    sys.path.insert(0, str(ROOT / "model"))
    from replication import AckAfterReplication, AckBeforeReplication
    from twophase import TwoPhase

    from ordercheck import forall, invariant

    if case == "replication-before":
        return AckBeforeReplication(), None, ["acked_orders_on_primary"]
    if case == "replication-after":

        class WithLemma(AckAfterReplication):
            @invariant
            def acked_on_every_disk(s):
                """Every acknowledged order is on every node's disk (disks survive crashes)."""
                return forall(s.NODE, lambda n: s.acked <= s.disk[n])

        return AckAfterReplication(), WithLemma(), ["acked_orders_on_primary"]
    rms = int(case.split("-")[1])
    rm = tuple(f"r{i}" for i in range(1, rms + 1))

    class TwoPhaseWithLemma(TwoPhase):
        @invariant
        def ind(s):
            return s.inductive_invariant()

    return TwoPhase(RM=rm), TwoPhaseWithLemma(RM=rm), ["consistent"]


def _measure(case: str, depth: int, budget: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from ordercheck import check
    from ordercheck.symbolic import bmc, induction

    model, with_lemma, props = _model(case)
    row: dict[str, Any] = {"case": case, "property": props[0] if props else "every property (keep going)"}
    start = time.perf_counter()
    explicit = check(model, properties=props, keep_going=props is None)
    row["explicit"] = {"verdict": explicit.verdict, "seconds": round(time.perf_counter() - start, 3),
                       "distinct_states": explicit.stats.distinct_states, "depth": explicit.stats.depth,
                       "traces": [len(p.counterexample) if p.counterexample else None for p in explicit.properties]}
    start = time.perf_counter()
    result = bmc(model, depth, properties=props, keep_going=props is None, timeout_s=budget)
    if props:
        found = result.property(props[0])
        reason = f"a trace of {len(found.counterexample)} states" if found.counterexample is not None else found.reason
    else:
        reason = "trace lengths " + ", ".join(str(len(p.counterexample)) if p.counterexample else "-" for p in result.properties)
    row["bmc"] = {"verdict": result.verdict, "seconds": round(time.perf_counter() - start, 3), "depth": result.stats.depth, "reason": reason,
                  "traces": [len(p.counterexample) if p.counterexample else None for p in result.properties],
                  "depth_seconds": [round(x, 4) for x in result.extra["depth_seconds"]]}
    if with_lemma is not None:
        lemma = next(p for p in type(with_lemma).__dict__ if p in ("ind", "acked_on_every_disk"))
        start = time.perf_counter()
        proof = induction(with_lemma, properties=props, lemmas=[lemma], timeout_s=budget)
        row["induction"] = {"verdict": proof.verdict, "seconds": round(time.perf_counter() - start, 3),
                            "reason": proof.property(props[0]).reason}
    queue.put(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--depth", type=int, default=14, help="the BMC bound, in states (default 14)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds for each symbolic run (default 120)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    rows = []
    ctx = multiprocessing.get_context("spawn")
    for case in args.cases:
        queue = ctx.Queue()
        proc = ctx.Process(target=_measure, args=(case, args.depth, args.budget, queue))
        proc.start()
        row = queue.get()
        proc.join()
        rows.append(row)
        e, b = row["explicit"], row["bmc"]
        print(f"{case}: {row['property']}")
        lengths = ", ".join(str(n) if n else "-" for n in e["traces"])
        print(f"  explicit   {e['verdict']:<12} {e['seconds']:>8.3f} s  ({e['distinct_states']:,} states, depth {e['depth']}; trace lengths {lengths})")
        print(f"  bmc        {b['verdict']:<12} {b['seconds']:>8.3f} s  ({b['reason']})")
        print("             per depth: " + ", ".join(f"{d}: {s:.3f}" for d, s in enumerate(b["depth_seconds"], start=1)))
        if "induction" in row:
            i = row["induction"]
            print(f"  induction  {i['verdict']:<12} {i['seconds']:>8.3f} s  ({i['reason']})")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {"python": platform.python_version(), "machine": platform.machine(), "processor": platform.processor()}
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
