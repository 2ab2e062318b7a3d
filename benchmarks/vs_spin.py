"""Benchmark: ordercheck's explicit backends side by side with SPIN, in one run.

Run from the repository root (SPIN is the Debian package ``spin``, plus ``gcc``)::

    apt-get update && apt-get install -y spin gcc
    python benchmarks/vs_spin.py                      # the reference models, 3 repetitions each
    python benchmarks/vs_spin.py --large --json out/vs_spin.json
    python benchmarks/vs_spin.py --models twophase8 --repeat 5 --runs scalar vectorized spin

For each model every *run* (ordercheck's scalar backend, the scalar backend in two worker
processes, the vectorized backend, the vectorized backend with two worker processes, the
vectorized backend on a GPU when CuPy and a GPU are there, and SPIN) goes in a fresh process, ``--repeat`` times; the fastest
repetition counts (the machine may be shared).  Times are the search alone: ordercheck's
tracing and SPIN's ``spin -a`` + ``gcc`` are reported apart.  Peak memory is the process's
maximum RSS.  The table gives, per run, states, depth, seconds, states per second, peak
memory, the store's bytes per state, and the speed ratios to the scalar backend and to SPIN.

The Promela versions are ``benchmarks/spin/*.pml`` (written by ``benchmarks/spin/make_pml.py``);
SPIN's stored states and transitions are compared with ordercheck's distinct and generated
states, and any difference is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPIN_DIR = ROOT / "benchmarks" / "spin"
GIB = 1 << 30

# name -> (model file, class, constants, properties (None: all), keep_going, Promela file or None)
MODELS: dict[str, tuple[str, str, dict[str, Any], list[str] | None, bool, str | None]] = {
    "twophase7": ("model/twophase.py", "TwoPhase", {"RM": [f"r{i}" for i in range(1, 8)]}, None, False, "twophase7.pml"),
    "twophase8": ("model/twophase.py", "TwoPhase", {"RM": [f"r{i}" for i in range(1, 9)]}, None, False, "twophase8.pml"),
    "replication": ("model/replication.py", "AckAfterReplication", {"ORDER": ["o1", "o2", "o3"], "MAX_CRASHES": 2},
                    ["acked_orders_on_primary"], False, "replication.pml"),
    "hospital3": ("model/hospital-3-failover-without-synchronous-commit.toml", "", {}, None, True, None),
}
LARGE = {
    "replication4": ("model/replication.py", "AckAfterReplication", {"ORDER": ["o1", "o2", "o3", "o4"], "MAX_CRASHES": 2},
                     ["acked_orders_on_primary"], False, None),
}
RUNS = ("scalar", "scalar-w2", "vectorized", "workers2", "gpu", "spin", "spin-hc4")
SPIN_FLAGS = {"spin": ["-DSAFETY", "-DNOREDUCE"], "spin-hc4": ["-DSAFETY", "-DNOREDUCE", "-DHC4"]}


# ----------------------------------------------------------------------------- one ordercheck run (in its own process)


def _load(spec: tuple[str, str, dict[str, Any], list[str] | None, bool, str | None]) -> Any:
    from ordercheck.sources import sources_in

    path, cls_name, constants, _, _, _ = spec
    sources = sources_in(ROOT / path)
    cls = next(s.cls for s in sources if not cls_name or s.cls.__name__ == cls_name)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in constants.items()})


def run_one(name: str, run: str) -> dict[str, Any]:
    """Check one model with one backend; the figures as a dict (printed as JSON by ``--one``)."""
    sys.path.insert(0, str(ROOT / "src"))  # works without installing ordercheck too
    from ordercheck import check

    spec = {**MODELS, **LARGE}[name]
    start = time.perf_counter()
    model = _load(spec)
    traced = time.perf_counter()
    options: dict[str, Any] = {"scalar": {"backend": "scalar"}, "scalar-w2": {"backend": "scalar", "workers": 2},
                               "vectorized": {"backend": "vectorized"},
                               "workers2": {"backend": "vectorized", "workers": 2}, "gpu": {"backend": "vectorized", "device": "gpu"}}[run]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = check(model, properties=spec[3], keep_going=spec[4], **options)
    done = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store = result.extra.get("store") or {}
    return {"states": result.stats.distinct_states, "generated": result.stats.generated_states, "depth": result.stats.depth,
            "verdict": result.verdict, "trace_seconds": traced - start, "seconds": done - traced,
            "store_bytes_per_state": store.get("bytes_per_state_total"), "backend": result.extra.get("backend"),
            "search_peak_bytes_per_state": round((after - before) * 1024 / max(1, result.stats.distinct_states), 1),
            "before_search_mib": before / 1024}


# ----------------------------------------------------------------------------- measuring processes


def _measure(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, float]:
    """stdout, wall seconds and peak RSS (MiB) of a command run to completion."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out[-2000:]}")
    return out, wall, usage.ru_maxrss / 1024


def ordercheck_run(name: str, run: str) -> dict[str, Any]:
    out, _, rss = _measure([sys.executable, str(Path(__file__).resolve()), "--one", name, run], cwd=ROOT)
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_mib"] = rss
    return row


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def spin_run(pml: str, workdir: Path, flags: list[str]) -> dict[str, Any]:
    """``spin -a`` and ``gcc`` once (timed apart), then ``pan``: exhaustive safety search, assertions checked.

    ``spin``: every state vector stored whole; ``spin-hc4``: hash-compact storage (-DHC4), SPIN's
    counterpart of a fingerprint store.
    """
    if not (workdir / "pan").exists():
        shutil.copy(SPIN_DIR / pml, workdir / pml)
        start = time.perf_counter()
        subprocess.run(["spin", "-a", pml], cwd=workdir, check=True, capture_output=True)
        subprocess.run(["gcc", "-O2", *flags, "-DMEMLIM=8192", "-o", "pan", "pan.c"], cwd=workdir, check=True, capture_output=True)
        (workdir / "compile_seconds").write_text(str(time.perf_counter() - start))
    out, wall, rss = _measure(["./pan", "-m1000000"], cwd=workdir)
    figures: dict[str, Any] = {"peak_mib": rss, "wall": wall, "compile_seconds": float((workdir / "compile_seconds").read_text())}
    for line in out.splitlines():
        words = line.split()
        if "states, stored" in line:
            figures["states"] = int(words[0])
        elif "transitions (= stored+matched)" in line:
            figures["generated"] = int(words[0])
        elif line.startswith("pan: elapsed time"):
            figures["seconds"] = float(words[3])
        elif "depth reached" in line:
            figures["depth_reached"] = int(line.split("depth reached")[1].split(",")[0])
            figures["errors"] = int(line.split("errors:")[1])
        elif "total actual memory usage" in line:
            figures["spin_total_mib"] = float(words[0])
        elif "actual memory usage for states" in line:
            figures["spin_state_mib"] = float(words[0])
    figures["verdict"] = "violated" if figures.get("errors") else "holds"
    if figures.get("states"):
        figures["store_bytes_per_state"] = round(figures.get("spin_state_mib", 0) * (1 << 20) / figures["states"], 1)
    return figures


# ----------------------------------------------------------------------------- the table


def _gpu_available() -> bool:
    try:
        import cupy  # type: ignore[import-not-found]

        return bool(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS) + list(LARGE))
    parser.add_argument("--large", action="store_true", help=f"also {', '.join(LARGE)} (millions of states; the 8 GB estimate uses it)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    models = args.models + (list(LARGE) if args.large else [])
    runs = [r for r in args.runs if r != "gpu" or _gpu_available()]
    if any(r.startswith("spin") for r in runs) and not spin_available():
        print("SPIN or gcc not found (apt-get install -y spin gcc): SPIN runs skipped", file=sys.stderr)
        runs = [r for r in runs if not r.startswith("spin")]
    table: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            spec = {**MODELS, **LARGE}[name]
            table[name] = {}
            for rep in range(args.repeat):
                for run in runs:  # interleaved, so that a busy moment of the machine hits every run alike
                    if run.startswith("spin"):
                        if spec[5] is None:
                            continue
                        workdir = Path(tmp) / f"{name}-{run}"
                        workdir.mkdir(exist_ok=True)
                        row = spin_run(spec[5], workdir, SPIN_FLAGS[run])
                    else:
                        row = ordercheck_run(name, run)
                    best = table[name].get(run)
                    if best is None or row["seconds"] < best["seconds"]:
                        row["peak_mib"] = max(row["peak_mib"], best["peak_mib"]) if best else row["peak_mib"]
                        table[name][run] = row
                    print(f"  {name} {run} #{rep + 1}: {row['seconds']:.3f} s", file=sys.stderr)
    print_table(table)
    estimate = largest_in_8gb(table)
    if estimate:
        print(f"\nLargest model in 8 GB (vectorized, measured on {estimate['from']}, {estimate['states_measured']:,} states): "
              f"about {estimate['states'] / 1e6:,.0f} million states ({estimate['marginal_bytes']:.0f} bytes per state of peak memory "
              f"during the search, beyond the {estimate['base_mib']:.0f} MiB before it)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "machine": platform.machine(), "processor": _cpu_name(), "cpus": os.cpu_count()}
        Path(args.json).write_text(json.dumps({"machine": machine, "results": table, "largest_in_8gb": estimate}, indent=2) + "\n")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def print_table(table: dict[str, dict[str, dict[str, Any]]]) -> None:
    header = f"{'model':<12} {'run':<10} {'verdict':<9} {'states':>11} {'generated':>12} {'seconds':>8} {'states/s':>11} {'peak MiB':>9} " \
             f"{'B/state':>8} {'vs scalar':>9} {'vs SPIN':>8}"
    print(header)
    print("-" * len(header))
    for name, runs in table.items():
        scalar = runs.get("scalar", {}).get("seconds")
        spin = runs.get("spin", {}).get("seconds")
        for run, row in runs.items():
            secs = max(row["seconds"], 1e-3)
            rate = row["states"] / secs
            vs_scalar = f"{scalar / secs:.1f}x" if scalar else ""
            vs_spin = f"{spin / secs:.2f}x" if spin and not run.startswith("spin") else ""
            bps = row.get("store_bytes_per_state")
            print(f"{name:<12} {run:<10} {row['verdict']:<9} {row['states']:>11,} {row['generated']:>12,} {row['seconds']:>8.3f} {rate:>11,.0f} "
                  f"{row['peak_mib']:>9.0f} {'' if bps is None else f'{bps:g}':>8} {vs_scalar:>9} {vs_spin:>8}")
        ours = runs.get("vectorized") or runs.get("scalar")
        for run in ("spin", "spin-hc4"):
            if run not in runs or not ours:
                continue
            s = runs[run]
            same = s["states"] == ours["states"] and s["generated"] == ours["generated"]
            note = "same states and transitions as ordercheck" if same else \
                f"{s['states']:,} states / {s['generated']:,} transitions against ordercheck's {ours['states']:,} / {ours['generated']:,}" + \
                (" (hash-compact collisions: states never explored)" if run == "spin-hc4" else "")
            print(f"{'':<12} {run}: {note}; spin -a + gcc {s['compile_seconds']:.2f} s (not counted)")


def largest_in_8gb(table: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """From the largest vectorized run: the growth of peak memory during the search per state, and how many states 8 GiB holds."""
    rows = [(runs["vectorized"], name) for name, runs in table.items() if "vectorized" in runs]
    if not rows:
        return None
    big, name = max(rows, key=lambda r: r[0]["states"])
    marginal = big["search_peak_bytes_per_state"]
    if marginal <= 0:
        return None
    return {"from": name, "states_measured": big["states"], "marginal_bytes": marginal, "base_mib": big["before_search_mib"],
            "states": int((8 * GIB - big["before_search_mib"] * (1 << 20)) / marginal)}


if __name__ == "__main__":
    main()
