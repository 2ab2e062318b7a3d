"""Benchmark: PDR (Z3's Spacer, ``--engine pdr``) beside the explicit engine on designs with 1, 2 and 3 orders.

For each design and number of orders, both engines check every property (keep going) within the
same time budget, each in its own process with an address-space limit (a search that runs out of
memory is reported as such, not as a verdict).  The explicit engine's figure is its distinct
states; PDR's is its Spacer queries and the clauses of the inductive invariant it found.  What is
compared is time to a verdict per property: ``holds`` from PDR is an invariant re-checked by Z3,
never a bound.

Run from the repository root::

    python benchmarks/pdr.py                                   # every design, 1..3 orders, 120 s each
    python benchmarks/pdr.py --designs two-copies --orders 1 2 --budget 30 --json out/pdr.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

DESIGNS = {
    "two-copies": None,  # the small design below: a primary and two synchronous replicas
    "hospital-2": "hospital-2-interface-queue-in-memory.toml",
    "hospital-4": "hospital-4-corrected.toml",
}

TWO_COPIES = """\
name = "two copies"
orders = 1
[[node]]
name = "db1"
role = "primary"
[[node]]
name = "db2"
role = "replica"
replication = "sync"
[[node]]
name = "db3"
role = "replica"
replication = "sync"
[protocol]
family = "replicated-log"
ack = "primary.disk and 1 of sync.disk"
promote = "sync"
[check]
faults = { kinds = ["crash", "power-loss", "disk-loss"], budget = 1 }
[[check.property]]
kind = "never_lost"
[[check.property]]
kind = "visible_after_failover"
[[check.property]]
kind = "no_duplicates"
"""


def _model(design: str, orders: int) -> Any:
    from ordercheck.design import load_design

    if DESIGNS[design] is None:
        folder = Path(tempfile.mkdtemp())
        (folder / "two-copies.toml").write_text(TWO_COPIES)
        loaded = load_design(folder / "two-copies.toml")
    else:
        loaded = load_design(ROOT / "model" / DESIGNS[design])  # type: ignore[operator]
    return dataclasses.replace(loaded, orders=orders).model()


def _measure(design: str, orders: int, engine: str, budget: float, memory_gb: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limit = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from ordercheck import check

    row: dict[str, Any] = {"design": design, "orders": orders, "engine": engine}
    try:
        model = _model(design, orders)
        start = time.perf_counter()
        result = check(model, engine=engine, keep_going=True, max_seconds=budget)
        row["seconds"] = round(time.perf_counter() - start, 2)
        row["verdict"] = result.verdict
        row["reason"] = result.reason
        row["properties"] = {p.name: p.verdict for p in result.properties}
        if engine == "explicit":
            row["states"] = result.stats.distinct_states
        else:
            row["queries"] = result.extra.get("queries")
            row["clauses"] = len(result.extra.get("invariant_clauses") or [])
    except MemoryError:
        row["verdict"] = f"out of memory ({memory_gb:g} GB)"
    queue.put(row)


def run(designs: list[str], orders: list[int], budget: float, memory_gb: float) -> list[dict[str, Any]]:
    rows = []
    ctx = multiprocessing.get_context("spawn")
    for design in designs:
        for n in orders:
            for engine in ("explicit", "pdr"):
                queue = ctx.Queue()
                proc = ctx.Process(target=_measure, args=(design, n, engine, budget, memory_gb, queue))
                proc.start()
                proc.join(budget + 120)
                if proc.is_alive():
                    proc.kill()
                row = queue.get() if not queue.empty() else {"design": design, "orders": n, "engine": engine,
                                                             "verdict": f"no result (exit code {proc.exitcode})"}
                print(_line(row), flush=True)
                rows.append(row)
    return rows


def _line(row: dict[str, Any]) -> str:
    figure = (f"{row['states']:,} states" if "states" in row else
              f"{row['queries']} queries, {row['clauses']} clauses" if "queries" in row else "")
    props = row.get("properties", {})
    counts = {v: sum(1 for x in props.values() if x == v) for v in ("holds", "violated", "inconclusive")}
    summary = ", ".join(f"{c} {v}" for v, c in counts.items() if c)
    seconds = f"{row['seconds']:.2f}" if "seconds" in row else ""
    return f"| {row['design']} | {row['orders']} | {row['engine']} | {row['verdict']} | {summary} | {seconds} | {figure} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--orders", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per engine per case")
    parser.add_argument("--memory-gb", type=float, default=2.0, help="address-space limit per run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"# {platform.machine()}, Python {platform.python_version()}, budget {args.budget:g} s, {args.memory_gb:g} GB per run")
    print("| design | orders | engine | verdict | properties | seconds | explored |")
    print("|---|---|---|---|---|---|---|")
    rows = run(args.designs, args.orders, args.budget, args.memory_gb)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
