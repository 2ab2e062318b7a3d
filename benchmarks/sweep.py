"""Benchmark: a sweep of 120 design variants, one process versus the local pool versus a Dask LocalCluster.

The design is PostgreSQL streaming replication (``model/postgresql-synchronous-standby.toml``); the
grid varies ``synchronous_commit`` (5 levels), ``synchronous_standby_names`` (2), ``failover`` (2),
the fault budget (2, 3) and the fault kinds (3): 5 x 2 x 2 x 2 x 3 = 120 variants.  Each run checks every
variant; the script checks that every run gives the same table (verdicts, states, costs) and prints
the wall time of each.

Run from the repository root::

    python benchmarks/sweep.py                     # 1 process, the local pool, and Dask (when installed)
    python benchmarks/sweep.py --workers 4 --no-dask
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from ordercheck.sweep import load_grid, run_sweep

DESIGN = Path(__file__).resolve().parent.parent / "model" / "postgresql-synchronous-standby.toml"
GRID = {
    "protocol.synchronous_commit": ["off", "local", "remote_write", "on", "remote_apply"],
    "protocol.synchronous_standby_names": ["FIRST 1 (db2)", "FIRST 2 (db2, db3)"],
    "protocol.failover": ["confirmed-standby", "any-standby"],
    "check.faults.budget": [2, 3],
    "check.faults.kinds": [["crash"], ["crash", "power-loss"], ["crash", "power-loss", "disk-loss"]],
}


def _table(sweep: object) -> list[tuple[object, ...]]:
    return [(v.variant, v.rows, v.states, v.cost, v.error) for v in sweep.variants]  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes of the local pool and of the Dask cluster")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    grid_path = folder / "grid.toml"
    grid_path.write_text("[grid]\n" + "".join(f'"{k}" = {json.dumps(v)}\n' for k, v in GRID.items()), encoding="utf-8")
    grid = load_grid(grid_path, DESIGN)
    print(f"{len(grid.variants())} variants of {DESIGN.name}; {os.cpu_count()} CPUs")
    runs: dict[str, tuple[float, list[tuple[object, ...]]]] = {}
    for name, workers in (("1 process", 1), (f"local pool, {args.workers} workers", args.workers)):
        start = time.perf_counter()
        table = _table(run_sweep(DESIGN, grid, workers=workers))
        runs[name] = (time.perf_counter() - start, table)
    if not args.no_dask:
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            print("dask[distributed] is not installed: no Dask run")
        else:
            with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
                start = time.perf_counter()
                table = _table(run_sweep(DESIGN, grid, scheduler=cluster.scheduler_address))
                runs[f"Dask LocalCluster, {args.workers} workers"] = (time.perf_counter() - start, table)
    reference = next(iter(runs.values()))[1]
    print("| run | wall seconds | same table |\n|---|---|---|")
    for name, (seconds, table) in runs.items():
        print(f"| {name} | {seconds:.1f} | {'yes' if table == reference else 'NO'} |")
    if any(table != reference for _, table in runs.values()):
        raise SystemExit("the executors gave different tables")


if __name__ == "__main__":
    main()
