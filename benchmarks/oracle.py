"""Benchmark: the failure-set oracle, on a 10,000-node topology and against brute force on small ones.

Part 1, large topologies: nodes in racks of 20, and power feeds that each span half of the nodes
of five neighbouring racks (node ``i`` of rack ``r`` is on feed ``(r // 5, i % 2)``), so a rack
and a feed overlap without either containing the other.  Each query asks for the fewest
failures that remove every holder of an order, the holders being ``h`` random nodes (``h`` = 3,
5, 8: typical replication factors).  One kind of failure domain (``node``, ``rack``, ``power``) is
answered directly; the mix ``("rack", "power")`` is a set-cover question answered by Z3.  The
table reports the time per query, and for the Z3 case the part of it spent listing the failure
units (``failure_units``: every rack and every feed with its nodes) before Z3 runs.

Part 2, the crossover: small topologies where every node holds the order, nodes in racks of 2 and
on feeds of 3 (node ``i``: rack ``i // 2``, feed ``(i + 1) // 3``), so the smallest failure set
grows with the number of holders.  Brute force tries every set of units by increasing size
(exponential); Z3's optimizer does not.  Both must agree on every instance, and the script
stops with an error if they do not.

Run from the repository root::

    python benchmarks/oracle.py                       # both parts, tables on stdout
    python benchmarks/oracle.py --nodes 1000 10000 --queries 5 --holders 3 5 8
    python benchmarks/oracle.py --update-docs         # also rewrite the tables in docs/durability.md
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

import networkx as nx

from ordercheck.domain import Topology, oracle
from ordercheck.domain.oracle import failure_units, min_failure_set, min_failure_set_brute_force

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "durability.md"
START, END = "<!-- benchmark:oracle:start -->", "<!-- benchmark:oracle:end -->"
RACK_SIZE = 20


def large_topology(n: int) -> Topology:
    """``n`` nodes, racks of 20, each feed on half the nodes of five neighbouring racks."""
    g = nx.Graph()
    for i in range(n):
        rack = i // RACK_SIZE
        g.add_node(f"n{i}", role="db", rack=f"r{rack}", power=f"p{rack // 5}-{i % 2}")
    return Topology(g)  # links are not used by the oracle


def chain_topology(n: int) -> Topology:
    """``n`` nodes, racks of 2 and feeds of 3, overlapping like tiles: the smallest cover grows with ``n``."""
    return Topology.from_nodes({f"n{i}": {"role": "db", "rack": f"r{i // 2}", "power": f"p{(i + 1) // 3}"} for i in range(n)}, links=[])


def seconds(fn, *args, repeat: int = 1):
    """The best of ``repeat`` wall-clock times of ``fn(*args)``, and its result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def _cached_units():
    """``failure_units`` memoised per (topology, domain): what a query costs once the units are listed once."""
    cache: dict = {}

    def units(topology, domain):
        key = (id(topology), domain)
        if key not in cache:
            cache[key] = _failure_units(topology, domain)
        return cache[key]

    return units


_failure_units = oracle.failure_units


def part_large(nodes: list[int], holder_counts: list[int], queries: int, seed: int) -> list[dict]:
    rows = []
    for n in nodes:
        topology = large_topology(n)
        rng = random.Random(seed)
        units = len(topology.domain_values("rack")) + len(topology.domain_values("power"))
        listing = seconds(failure_units, topology, ("rack", "power"))[0]
        for h in holder_counts:
            samples = [rng.sample(topology.nodes, h) for _ in range(queries)]
            for domain in ("node", "rack", "power", ("rack", "power")):
                times, cached, sizes = [], [], []
                for holders in samples:
                    t, answer = seconds(min_failure_set, topology, holders, domain)
                    times.append(t)
                    sizes.append(answer.size)
                    if isinstance(domain, tuple):
                        # the same query with the unit listing memoised (the Z3 part alone, nearly)
                        oracle.failure_units = _cached_units()
                        try:
                            oracle.failure_units(topology, domain)
                            t, again = seconds(min_failure_set, topology, holders, domain, repeat=3)
                        finally:
                            oracle.failure_units = _failure_units
                        assert again.size == answer.size
                        cached.append(t)
                rows.append({
                    "nodes": n, "units": units, "holders": h, "domain": "+".join(domain) if isinstance(domain, tuple) else domain,
                    "ms": statistics.median(times) * 1e3, "listing_ms": listing * 1e3 if cached else None,
                    "cached_ms": statistics.median(cached) * 1e3 if cached else None,
                    "sizes": f"{min(sizes)}-{max(sizes)}" if min(sizes) != max(sizes) else str(sizes[0]),
                })
    return rows


def part_crossover(sizes: list[int], budget_s: float) -> list[dict]:
    rows = []
    brute_gave_up = False
    for n in sizes:
        topology = chain_topology(n)
        holders = topology.nodes
        domain = ("rack", "power")
        z3_s, answer = seconds(min_failure_set, topology, holders, domain, repeat=3)
        row = {"holders": n, "units": len(failure_units(topology, domain)), "size": answer.size, "z3_ms": z3_s * 1e3, "brute_ms": None}
        if not brute_gave_up:
            brute_s, brute = seconds(min_failure_set_brute_force, topology, holders, domain, repeat=1 if n > 16 else 3)
            if brute.size != answer.size:
                raise SystemExit(f"disagreement at {n} holders: Z3 {answer}, brute force {brute}")
            row["brute_ms"] = brute_s * 1e3
            brute_gave_up = brute_s > budget_s
        covered = set().union(*(dict(failure_units(topology, domain))[u] for u in answer.units))
        if not set(holders) <= covered:
            raise SystemExit(f"Z3's failure set does not cover the holders at {n}: {answer}")
        rows.append(row)
    return rows


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:,.3f}" if ms < 1 else f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def tables(large: list[dict], crossover: list[dict]) -> str:
    out = ["| nodes | racks + feeds | holders | domain | smallest set | ms per query | listing the units, ms | query with units listed once, ms |",
           "|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in large:
        out.append(f"| {r['nodes']:,} | {r['units']:,} | {r['holders']} | `{r['domain']}` | {r['sizes']} | {fmt_ms(r['ms'])} "
                   f"| {fmt_ms(r['listing_ms'])} | {fmt_ms(r['cached_ms'])} |")
    out += ["", "| holders (= nodes) | units touching them | smallest set | Z3 ms | brute force ms | faster |", "|---:|---:|---:|---:|---:|---|"]
    for r in crossover:
        faster = "—" if r["brute_ms"] is None else ("brute force" if r["brute_ms"] < r["z3_ms"] else "Z3")
        out.append(f"| {r['holders']} | {r['units']} | {r['size']} | {fmt_ms(r['z3_ms'])} | {fmt_ms(r['brute_ms'])} | {faster} |")
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {platform.machine()} {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--holders", type=int, nargs="+", default=[3, 5, 8])
    parser.add_argument("--queries", type=int, default=3, help="queries per row (the median is reported)")
    parser.add_argument("--crossover", type=int, nargs="+", default=[3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
    parser.add_argument("--brute-budget", type=float, default=2.0, help="stop running brute force after a query this slow (seconds)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite the tables between the markers in {DOCS.relative_to(ROOT)}")
    args = parser.parse_args()
    large = part_large(args.nodes, args.holders, args.queries, args.seed)
    crossover = part_crossover(args.crossover, args.brute_budget)
    text = tables(large, crossover)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    where = (f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}, load average {load:.1f} at the end; "
             f"`python benchmarks/oracle.py` (medians of {args.queries} queries).")
    print(where)
    print()
    print(text)
    if args.update_docs:
        doc = DOCS.read_text(encoding="utf-8")
        if START not in doc or END not in doc:
            raise SystemExit(f"{DOCS}: no {START} ... {END} markers")
        block = f"{START}\n{where}\n\n{text}\n{END}"
        DOCS.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S), encoding="utf-8")
        print(f"\nupdated {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
