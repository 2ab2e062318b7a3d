"""Benchmark: the explicit engine on TwoPhase with 6 and 7 resource managers.

Each instance runs in its own process so that peak memory (max RSS) is its
own.  Prints one line per instance and, with ``--json FILE``, writes the
figures for comparison side by side with another checker on the same model
(TLC reports 50,816 and 296,448 distinct states for 6 and 7 RMs).

Run from the repository root::

    python benchmarks/twophase.py            # RM = 6 and 7
    python benchmarks/twophase.py --rms 5 6 7 8 --json out/twophase.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _measure(rms: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    sys.path.insert(0, str(ROOT / "model"))
    from twophase import TwoPhase

    from ordercheck import check

    start = time.perf_counter()
    model = TwoPhase(RM=tuple(f"r{i}" for i in range(1, rms + 1)))
    traced = time.perf_counter()
    result = check(model)
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({
        "model": f"TwoPhase RM={rms}",
        "verdict": result.verdict,
        "distinct_states": result.stats.distinct_states,
        "generated_states": result.stats.generated_states,
        "depth": result.stats.depth,
        "trace_seconds": round(traced - start, 3),
        "check_seconds": round(done - traced, 3),
        "states_per_second": round(result.stats.distinct_states / (done - traced)),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "bytes_per_state_upper_bound": round(peak_kib * 1024 / result.stats.distinct_states),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rms", type=int, nargs="+", default=[6, 7])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    for rms in args.rms:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        proc = multiprocessing.Process(target=_measure, args=(rms, queue))
        proc.start()
        row = queue.get()
        proc.join()
        rows.append(row)
        print(f"{row['model']:<14} {row['distinct_states']:>10,} states  depth {row['depth']:>3}  "
              f"{row['check_seconds']:>7.2f} s  {row['states_per_second']:>9,} states/s  peak {row['peak_rss_mib']:>7.1f} MiB")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "machine": platform.machine(), "processor": platform.processor()}
        Path(args.json).write_text(json.dumps({"machine": machine, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
