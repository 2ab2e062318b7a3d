"""Before/after figures for the search core: the shipped designs, more orders, and ``--tolerance``.

Each row runs ``ordercheck check DESIGN --quiet`` as a fresh process, once with the sources of a
previous checkout (``--before /path/to/checkout``, default: none) and once with this checkout's,
under the same ``--max-seconds`` cap (``--tolerance`` rows: no cap but a kill at twice it), and reports wall
time, CPU time (the figure to compare on a shared machine), peak resident memory, distinct states
and the verdict line; a run that hits the cap says so (it is then "inconclusive", exit 3, or
killed at twice the cap).  Variants of a design (``orders = 2``) are written to a temporary folder
beside a link to ``properties/``.

Usage::

    python benchmarks/engine_core.py --before /work/main --cap 120
    python benchmarks/engine_core.py --rows hospital-4-orders2 --cap 60
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "model"

ROWS: dict[str, tuple[str, dict[str, str], list[str]]] = {
    # name: (design file, TOML keys to change, extra options)
    "hospital-1": ("hospital-1-app-tier-acks-from-memory.toml", {}, []),
    "hospital-1 --tolerance": ("hospital-1-app-tier-acks-from-memory.toml", {}, ["--tolerance"]),
    "hospital-2": ("hospital-2-interface-queue-in-memory.toml", {}, []),
    "hospital-2 --tolerance": ("hospital-2-interface-queue-in-memory.toml", {}, ["--tolerance"]),
    "hospital-3": ("hospital-3-failover-without-synchronous-commit.toml", {}, []),
    "hospital-3 --tolerance": ("hospital-3-failover-without-synchronous-commit.toml", {}, ["--tolerance"]),
    "hospital-4": ("hospital-4-corrected.toml", {}, []),
    "hospital-4 --tolerance": ("hospital-4-corrected.toml", {}, ["--tolerance"]),
    "hospital-3-orders2": ("hospital-3-failover-without-synchronous-commit.toml", {"orders": "2"}, []),
    "hospital-4-orders2": ("hospital-4-corrected.toml", {"orders": "2"}, []),
}


def _variant(folder: Path, design: str, changes: dict[str, str]) -> Path:
    text = (MODEL / design).read_text()
    for key, value in changes.items():
        text = re.sub(rf"(?m)^{re.escape(key)}\s*=.*$", f"{key} = {value}", text, count=1)
    (folder / "model").mkdir(exist_ok=True)
    link = folder / "properties"
    if not link.exists():
        link.symlink_to(ROOT / "properties")
    path = folder / "model" / design
    path.write_text(text)
    return path


def _run(src: Path, design: Path, options: list[str], cap: float) -> dict[str, object]:
    """One fresh process; its wall time, exit code, states and peak resident memory (from ``wait4``)."""
    env = dict(os.environ, PYTHONPATH=str(src / "src"))
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        # --tolerance runs with its default allowance (2x the check, at least 10 s); a run past 2 x cap + 30 s is killed
        bound = [] if "--tolerance" in options else ["--max-seconds", str(cap)]
        proc = subprocess.Popen([sys.executable, "-m", "ordercheck", "check", str(design), "--quiet", *bound, *options],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=design.parent)
        code: object = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - start > 2 * cap + 30:
                proc.kill()
                _, _, usage = os.wait4(proc.pid, 0)
                code = "killed"
                break
            time.sleep(0.05)
        proc.returncode = 0  # reaped above
        took = time.monotonic() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    counts = [int(m.replace(",", "")) for m in re.findall(r"([\d,]+) distinct states", text)]
    return {"seconds": took, "cpu": usage.ru_utime + usage.ru_stime, "code": code, "states": max(counts, default=0), "text": text,
            "peak_mib": usage.ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, default=None, help="a checkout with the previous engine")
    ap.add_argument("--cap", type=float, default=120.0, help="--max-seconds for every run")
    ap.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    args = ap.parse_args(argv)
    print("| design | engine | seconds | CPU s | exit | states | peak MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.rows:
            design, changes, options = ROWS[name]
            path = _variant(Path(tmp), design, changes) if changes else MODEL / design
            for label, src in (("before", args.before), ("after", ROOT)):
                if src is None:
                    continue
                r = _run(src, path, options, args.cap)
                print(f"| {name} | {label} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['code']} | {r['states']:,} | {r['peak_mib']:,.0f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
