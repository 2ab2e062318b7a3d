"""The command line: a thin layer over :func:`ordercheck.check` and the reports.

Exit codes: 0 holds, 1 violated, 2 error in the input or the model (a message,
no traceback), 3 inconclusive (a bound, Z3 unknown, Ctrl-C or SIGTERM), 4 an internal
error: a bug in ordercheck, reported in one line with its traceback saved to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

from .api import ENGINES, check
from .explicit.levels import BACKENDS, STORE_CHOICES
from .explicit.limits import parse_size
from .explicit.vectorized import DEVICES
from .lang.errors import InputError, Interrupted, ModelError, OrdercheckError, interruption_in_c
from .lang.model import Const, Model, _declarations, spec_of
from .lang.spec import Spec
from .lang.types import describe_value
from .replay import replay_trace, trace_misfit
from .report.ci import Checked, write_reports
from .report.escape import TerminalStream
from .report.explain import explain_trace
from .report.itf import read_itf, write_itf
from .report.json_doc import result_to_json
from .report.mermaid import render_mermaid
from .report.result import EXIT_CODES, HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats, combine_verdicts
from .report.text import headline, render_text
from .report.trace import Trace
from .sources import ModelSource, constant_overrides, find_model_files, instantiate, sources_in

__all__ = ["build_parser", "main"]

EXIT_ERROR = 2
EXIT_INTERNAL = 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 and no traceback (its default), naming the option."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"ordercheck: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _memory_size(text: str) -> int:
    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _say_that_check_runs_code(check: argparse.ArgumentParser) -> None:
    """``check --help`` says plainly that a directory's ``*.py`` files are imported, so run."""
    check.description = ("Check models and designs. A model file is code: checking a directory imports (runs) every *.py file "
                         "in it, so check only folders whose code you trust; a line on stderr says which files defined models "
                         "and which were skipped.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ordercheck", description="Check that acknowledged orders survive: explore every interleaving of the steps "
                                                    "and faults of a model (.py) or a design (.toml).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check models and designs (.py models, .toml designs, or directories of them; ./model by default)")
    c.add_argument("path", nargs="*", default=["model"],
                   help="model files (.py), design files (.toml) or directories of them; several may be given (default: ./model)")
    c.add_argument("--model", action="append", default=[], metavar="NAME", help="check only this model class (repeatable)")
    c.add_argument("--const", action="append", default=[], metavar="NAME=V1,V2,...", help="override a constant (repeatable)")
    c.add_argument("--property", action="append", default=None, metavar="NAME", help="check only this property (repeatable)")
    c.add_argument("--continue", dest="keep_going", action="store_true", help="keep searching after a violation; report every violated property")
    c.add_argument("--engine", choices=ENGINES, default="auto",
                   help="explicit (BFS over every state), bmc (Z3 bounded model checking to --depth), induction (Z3 k-induction "
                        "to k = --depth, default 10), pdr (Z3 Spacer's IC3/PDR: proves invariants without lemmas and prints the "
                        "inductive invariant it finds), auto (explicit; says which to try when a bound is hit)")
    c.add_argument("--depth", type=_positive_int, default=None, metavar="N",
                   help="bmc: look for violations in executions of up to N states; induction: try k up to N")
    c.add_argument("--independence", action="store_true",
                   help="say whether the protocol treats orders independently (no action reads two orders together), so that "
                        "one order's verdict holds for any number of orders; or which action reads two orders")
    c.add_argument("--vacuity", action="store_true",
                   help="also look (with Z3) for what would make the verdicts hollow: no initial state, actions never enabled, "
                        "implications whose premise never holds")
    c.add_argument("--lemma", action="append", default=None, metavar="NAME",
                   help="induction: assume (and prove) this invariant as a strengthening lemma (default: the model's @lemma ones)")
    c.add_argument("--coverage", action="store_true",
                   help="after the verdict, per action (as TLC's -coverage): transitions to new states and in all, and the actions "
                        "never enabled (for a design, only its protocol steps)")
    c.add_argument("--deadlock", action="store_true", help="report a reachable state with no enabled action")
    c.add_argument("--max-states", type=_positive_int, metavar="N", help="stop after N distinct states (inconclusive)")
    c.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop after S seconds (inconclusive)")
    c.add_argument("--max-memory", type=_memory_size, metavar="SIZE",
                   help="stop when the checker holds more than SIZE of memory (2G, 512M; default: 3/4 of the memory available): inconclusive")
    c.add_argument("--max-depth", type=_positive_int, metavar="D", help="explore at most D BFS levels (inconclusive if more exist)")
    c.add_argument("--json", metavar="FILE", help="write the result document as JSON")
    c.add_argument("--trace-out", metavar="FILE",
                   help="write each violated property's counterexample as ITF JSON to FILE, with .Model inserted before .itf.json when "
                        "several models are checked and .property when a model has several violated properties (each file is listed)")
    c.add_argument("--tolerance", action="store_true", help="also report each property's fault tolerance (the largest k that holds)")
    c.add_argument("--symmetry", action="append", default=None, metavar="NAMES",
                   help="symmetry reduction: 'auto' (the automorphisms of the model's topology: interchangeable nodes) or the constants "
                        "whose elements are interchangeable, comma-separated (RM,ORDER); distinct states then count orbits, and a model "
                        "that is not symmetric is an error (exit 2)")
    c.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="explicit-engine backend: scalar (compiled Python, a state at a time), vectorized (a BFS level at once on arrays), "
                        "or auto (scalar for tiny models; default)")
    c.add_argument("--device", choices=DEVICES, default="cpu", help="where the vectorized backend runs: cpu (numpy; default) or gpu (CuPy)")
    c.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="processes expanding each BFS level (default: 1)")
    c.add_argument("--store", choices=STORE_CHOICES, default="auto",
                   help="visited-state store: exact (auto; default) or fingerprint (8 bytes a state; the collision probability is reported)")
    c.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    c.add_argument("--format", choices=("text", "mermaid"), default="text",
                   help="how counterexamples are printed: text (default), or Mermaid sequence diagrams in ```mermaid fences")
    c.add_argument("--full-states", action="store_true",
                   help="print every variable of every state of a counterexample (default: the initial state's non-empty "
                        "variables, then what each step changed)")
    c.add_argument("--html", metavar="FILE", help="write a self-contained HTML page for stepping through the counterexamples")
    c.add_argument("--svg", metavar="FILE", help="draw each model's topology with its smallest failure set marked (SVG; FILE.Model.svg for several)")
    c.add_argument("--junit", metavar="FILE", help="write JUnit XML: one test case per model or design x property")
    c.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0: each violated property located at its definition")
    c.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (for a CI job's summary page)")

    e = sub.add_parser("explain", help="explain a saved ITF trace in plain sentences")
    e.add_argument("path", help="the model (.py) or design (.toml) file the trace comes from")
    e.add_argument("trace", help="the trace (.itf.json, as --trace-out writes it)")
    e.add_argument("--model", default=None, metavar="NAME", help="the model class (default: the one the trace names)")
    e.add_argument("--format", choices=("text", "mermaid"), default="text", help="plain sentences (default), or a Mermaid sequence diagram")

    r = sub.add_parser("replay", help="re-run a saved ITF trace against the current model")
    r.add_argument("path", help="the model (.py) or design (.toml) file the trace comes from")
    r.add_argument("trace", help="the trace (.itf.json)")
    r.add_argument("--model", default=None, metavar="NAME", help="the model class (default: the one the trace names)")
    r.add_argument("--const", action="append", default=[], metavar="NAME=V1,V2,...", help="override a constant (default: the trace's constants)")
    _say_that_check_runs_code(c)

    sim = sub.add_parser("simulate", help="random walks with faults, for models too large to explore; finding nothing is inconclusive")
    sim.add_argument("path", help="the model file (.py) or design file (.toml) to simulate")
    sim.add_argument("--model", default=None, metavar="NAME", help="the model class to simulate (needed when the file defines several)")
    sim.add_argument("--const", action="append", default=[], metavar="NAME=V1,V2,...", help="override a constant (repeatable)")
    sim.add_argument("--runs", type=_positive_int, default=1000, metavar="N", help="how many random walks (default: 1000)")
    sim.add_argument("--depth", type=_positive_int, default=100, metavar="D", help="the most steps a walk takes (default: 100)")
    sim.add_argument("--seed", type=_seed, default=0, metavar="S", help="the random seed; the same seed gives the same walks (default: 0)")
    sim.add_argument("--fault-weight", type=_weight, default=1.0, metavar="W",
                     help="weight of each enabled fault, restart or heal against 1 for each protocol step (default: 1; 0: no faults)")
    sim.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop starting walks after S seconds (still inconclusive)")
    sim.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                     help="processes running the walks; the same result for any number (default: 1)")
    sim.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    sim.add_argument("--trace-out", metavar="FILE", help="write the (shortened) counterexample as ITF JSON to FILE")
    sim.add_argument("--json", metavar="FILE", help="write the simulation's result as JSON")
    for name, text in (("sweep", "check every combination of a grid of design values: the design variant x property table"),
                       ("tune", "the cheapest variants of a grid that satisfy every required property, and why each cheaper one fails")):
        w = sub.add_parser(name, help=text)
        w.add_argument("design", help="the design file (.toml) to vary")
        w.add_argument("--grid", required=True, metavar="GRID.toml", help="the grid file: [grid] maps dotted design keys to lists of values; "
                                                                             "[cost] weighs servers and the acknowledgement path")
        if name == "tune":
            w.add_argument("--require", action="append", required=True, metavar="PROPERTY",
                           help="a property every winner must satisfy (repeatable)")
        w.add_argument("--workers", type=_positive_int, default=None, metavar="N", help="processes of the local pool (default: the CPU count)")
        w.add_argument("--scheduler", metavar="ADDRESS", help="run the variants on this Dask distributed scheduler (tcp://host:8786) instead")
        w.add_argument("--max-states", type=_positive_int, metavar="N", help="stop each variant after N distinct states (inconclusive)")
        w.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop each variant after S seconds (inconclusive)")
        w.add_argument("--json", metavar="FILE", help="write the table (tune: the answer) as JSON")
        w.add_argument("--markdown", metavar="FILE", help="write the table as Markdown")
        w.add_argument("--html", metavar="FILE", help="write a self-contained HTML page: the table and a plot of tolerance against cost")
        w.add_argument("--tolerance", action="store_true", help="also measure each property's fault tolerance in every variant")
        w.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    return parser


def _error(message: str, stream: TextIO) -> None:
    stream.write(f"error: {message}\n")


def _print_model_error(exc: ModelError, err: TextIO) -> None:
    _error(str(exc), err)
    if exc.trace is not None:
        err.write("\nThe trace that reaches it:\n")
        err.write(render_text(exc.trace))
        err.write("\n")


def _select(sources: list[ModelSource], names: list[str], where: str) -> list[ModelSource]:
    if not names:
        return sources
    known = {s.cls.__name__ for s in sources}
    for name in names:
        if name not in known:
            raise InputError(f"{where}: no model named {name!r} (models: {', '.join(sorted(known)) or 'none'})")
    return [s for s in sources if s.cls.__name__ in names]


def _progress(err: TextIO) -> Any:
    def report(stats: Any) -> None:
        if isinstance(stats, Stats):
            err.write(f"  {stats.distinct_states:,} states, depth {stats.depth}, queue {stats.queue:,}, {stats.states_per_second:,.0f} states/s\n")
        else:  # the Z3 engines report each depth with its solver time
            err.write(f"  {stats}\n")
        err.flush()

    return report


def _symmetry(values: list[str] | None) -> list[str] | None:
    """``--symmetry`` values (repeatable, comma-separated) as a list of names, or None."""
    if not values:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not names:
        raise InputError("--symmetry needs 'auto' or constant names")
    return names


def _summary(result: Result) -> str:
    derived = result.extra.get("derived_constants", ())
    constants = ", ".join(f"{k}={describe_value(v)}" for k, v in result.constants.items() if k not in derived)
    lines = [f"{result.model}({constants})  [{result.engine}]"]
    width = max([len(p.name) for p in result.properties] + [8])
    for p in result.properties:
        verdict, reason = _shown_verdict(p)
        lines.append(f"  {p.name:<{width}}  {verdict}{f'  ({reason})' if reason else ''}")
    if any(_not_checked(p) for p in result.properties):
        lines.append(f"  {NOT_CHECKED}")
    s = result.stats
    if result.engine in ("bmc", "induction"):
        reached = "k" if result.engine == "induction" else "depth"
        lines.append(f"  {reached} {s.depth}, {s.seconds:.2f} s (Z3)")
    elif result.engine == "pdr":
        lines.extend(_pdr_lines(result))
    else:
        lines.append(f"  {s.distinct_states:,} distinct states, {s.generated_states:,} generated, depth {s.depth}, "
                     f"{s.seconds:.2f} s ({s.states_per_second:,.0f} states/s)")
    symmetry = result.extra.get("symmetry")
    if symmetry:
        orbits = "; distinct states are orbits" if symmetry["group_size"] > 1 else "; no reduction"
        lines.append(f"  symmetry: {symmetry['description']}{orbits}")
    engine_line = _engine_line(result)
    if engine_line:
        lines.append(engine_line)
    if result.reason:
        lines.append(f"  stopped: {result.reason}")
    lines.append(f"  verdict: {result.verdict}")
    return "\n".join(lines)


NOT_CHECKED = "not checked: the search stopped at the first violation; use --continue to check every property"


def _not_checked(p: PropertyResult) -> bool:
    """Whether a property was left unchecked because the search stopped at another one's violation."""
    return p.verdict == INCONCLUSIVE and "stopped at the first violation" in (p.reason or "")


def _shown_verdict(p: PropertyResult) -> tuple[str, str]:
    """The verdict and reason a property's line shows: ``not checked`` (said once, below) for one the search stopped before."""
    if _not_checked(p):
        return "not checked", ""
    return p.verdict, p.reason if p.reason and p.verdict != HOLDS else ""


def _pdr_lines(result: Result) -> list[str]:
    """The Spacer queries and time, and the inductive invariant of each property proved (at most 30 clauses each)."""
    queries = result.extra.get("queries", 0)
    lines = [f"  {queries} Spacer quer{'y' if queries == 1 else 'ies'}, {result.stats.seconds:.2f} s (Z3)"]
    for name, clauses in (result.extra.get("invariants") or {}).items():
        lines.append(f"  inductive invariant for {name} (Spacer, re-checked), {len(clauses)} clause{'s' if len(clauses) != 1 else ''}:")
        lines.extend(f"    {c}" for c in clauses[:30])
        if len(clauses) > 30:
            lines.append(f"    ... and {len(clauses) - 30} more (all of them: check(model, engine='pdr').extra['invariants'])")
    return lines


def _independence(source: ModelSource, model: Model) -> str:
    """The data-independence finding (:mod:`ordercheck.lang.independence`), on an instance with at least two orders."""
    from .lang.independence import order_independence

    if source.design is not None and source.design.orders < 2:
        # one order hides what two orders' bindings would read of each other: analyse the design with two
        import dataclasses

        model = dataclasses.replace(source.design, orders=2).model()
    spec = spec_of(model)
    found = order_independence(spec)
    orders = spec.constants.get("ORDER")
    note = f" (analysed with {len(orders)} order{'s' if len(orders) != 1 else ''})" if orders is not None else ""
    return str(found) + note


def _engine_line(result: Result) -> str:
    """The backend, and for the level-synchronous search its store and fingerprint-collision probability."""
    backend = result.extra.get("backend")
    store = result.extra.get("store")
    if not backend or not store:  # the scalar search: nothing to add
        return ""
    parts = [f"backend: {backend}"]
    if result.extra.get("device", "cpu") != "cpu":
        parts[0] += f" ({result.extra['device']})"
    if result.extra.get("workers", 1) > 1:
        parts.append(f"{result.extra['workers']} workers")
    parts.append(f"store: {store['kind']}, {store['bytes_per_state_total']:g} bytes/state with parents")
    if store["kind"] == "fingerprint":
        p = store["collision_probability"]
        parts.append("fingerprint collision probability 0 (states fit 64 bits)" if p == 0 else f"fingerprint collision probability {p:.1e}")
    line = "  " + "; ".join(parts)
    if result.extra.get("backend_note"):
        line += f"\n  note: {result.extra['backend_note']}"
    return line


def _tolerance_lines(result: Result) -> list[str]:
    table = result.extra.get("tolerance")
    if not table:
        return []
    lines = ["  fault tolerance:"]
    width = max(len(name) for name in table)
    for name, t in table.items():
        k = "none (breaks with no failure)" if t.k is None else f"{t.k}"
        if t.verdict == INCONCLUSIVE:
            k = f"inconclusive ({t.reason})"
        broken = f"; breaks at {t.k + 1 if t.k is not None else 0} with {', '.join(t.failure_set)}" if t.failure_set else ""
        lines.append(f"    {name:<{width}}  {t.measure} = {k}{broken}")
    return lines


def _table_name(source: ModelSource, many_in_file: bool) -> str:
    """A row's first cell: the design's file, or ``file.py::Model`` for a Python model."""
    if source.design is not None and not many_in_file:
        return source.path.name
    return f"{source.path.name}::{source.cls.__name__}"


def _design_table(rows: list[tuple[ModelSource, Result]]) -> str:
    """model (or design) x property -> verdict, trace length, fault tolerance (when measured), states, time.

    Titled ``Designs:`` when every row is a design, ``Models and designs:`` otherwise.
    """
    designs_only = all(source.design is not None for source, _ in rows)
    per_file: dict[Path, int] = {}
    for source, _ in rows:
        per_file[source.path] = per_file.get(source.path, 0) + 1
    lines = ["Designs:" if designs_only else "Models and designs:", ""]
    header = ("design" if designs_only else "model", "property", "verdict", "trace", "tolerance", "states", "seconds")
    body = []
    for source, result in rows:
        tolerance = result.extra.get("tolerance", {})
        for p in result.properties:
            t = tolerance.get(p.name)
            body.append((_table_name(source, per_file[source.path] > 1), p.name, _shown_verdict(p)[0],
                         str(len(p.counterexample)) if p.counterexample else "",
                         "" if t is None else ("none" if t.k is None else str(t.k)),
                         f"{result.stats.distinct_states:,}", f"{result.stats.seconds:.1f}"))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *body]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if any(_not_checked(p) for _, result in rows for p in result.properties):
        lines.append("")
        lines.append(NOT_CHECKED)
    return "\n".join(lines)


def _coverage_lines(spec: Spec, args: argparse.Namespace, design: bool) -> list[str]:
    """``--coverage``: each action's transitions to new states and in all, as TLC prints them, and the actions never enabled.

    A design is told only of its protocol steps that never happen (a promotion that can never take
    place); the fault actions the framework generates are counted but not reported as never enabled.
    """
    from .explicit.coverage import action_coverage

    cov = action_coverage(spec, max_states=args.max_states, max_seconds=args.max_seconds)
    scope = f"{cov.states:,} reachable states" if cov.complete else f"the first {cov.states:,} states only ({cov.reason})"
    width = max([len(a.action) for a in cov.actions] + [6])
    lines = [f"  coverage over {scope}:", f"    {'action':<{width}}  {'new states':>10}  {'transitions':>11}"]
    generated = set(spec.extra.get("generated_actions", ()))
    for a in cov.actions:
        lines.append(f"    {a.action:<{width}}  {a.distinct:>10,}  {a.total:>11,}")
    never = [name for name in cov.never_enabled() if not (design and name in generated)]
    if never:
        where = "in any reachable state" if cov.complete else "within the bound"
        lines.append(f"  never enabled {where}: {', '.join(never)}")
    return lines


def _counterexample_text(trace: Trace, spec: Spec, args: argparse.Namespace) -> str:
    """A counterexample as ``check`` prints it: the trace (text or Mermaid), then the same trace in plain words."""
    if args.format == "mermaid":
        shown = f"\n{headline(trace)}:\n\n```mermaid\n{render_mermaid(trace, spec)}\n```\n"
    else:
        shown = "\n" + render_text(trace, full_states=args.full_states) + "\n"
    words = explain_trace(trace, spec)[1:]  # the first sentence repeats the headline
    return shown + ("\nIn plain words:\n" + "".join(f"  {sentence}\n" for sentence in words) if words else "")


def _sources_of_paths(paths: list[str], quiet: bool = True, err: TextIO = sys.stderr) -> list[ModelSource]:
    """The models of every file under ``paths`` (each file once, in the order given); see :func:`_load_sources`."""
    seen: set[tuple[Path, str]] = set()
    sources: list[ModelSource] = []
    for path in paths:
        for source in _load_sources(Path(path), quiet, err):
            key = (source.path.resolve(), source.cls.__name__)
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources


def _suffixed(path: str, *parts: str) -> Path:
    """``path`` with ``.part`` inserted before its extension (``.itf.json``, ``.json`` or none) for each part."""
    p = Path(path)
    name = p.name
    inserted = "".join(f".{part}" for part in parts)
    for ext in (".itf.json", ".json"):
        if name.endswith(ext):
            return p.with_name(f"{name[: -len(ext)]}{inserted}{ext}")
    return p.with_name(f"{name}{inserted}")


def _slug(name: str) -> str:
    """A property name as a file-name part: runs of anything but letters, digits, ``_`` and ``-`` become ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "property"


def _write_traces(path: str, result: Result, label: str | None) -> list[str]:
    """``--trace-out``: each violated property's trace as ITF JSON; the lines saying what was written, and what was not.

    The file is ``path`` itself, with ``.label`` (the model's unique label, :func:`_trace_labels`) inserted
    before the extension when several models are checked, and ``.property`` when the model has more than
    one violated property with a trace.
    """
    lines = []
    traced = [p for p in result.properties if p.verdict == VIOLATED and p.counterexample is not None]
    for p in result.properties:
        if p.verdict != VIOLATED:
            continue
        if p.counterexample is None:
            lines.append(f"no trace written for {p.name}: it has no counterexample ({p.reason or 'nothing to show'})")
            continue
        parts = ([label] if label else []) + ([_slug(p.name)] if len(traced) > 1 else [])
        target = _suffixed(path, *parts)
        try:
            write_itf(p.counterexample, target)
        except OSError as exc:
            raise _write_failed("--trace-out", target, exc) from None
        lines.append(f"counterexample of {p.name} written to {target}")
    return lines


def _trace_labels(sources: list[ModelSource]) -> list[str]:
    """One distinct label per model for its ``--trace-out`` file: its class name, with its file's name when two share one.

    Two designs with the same ``name`` (or two files defining a class of the same name) must not
    overwrite each other's trace; the label names the file too, and a number if even that repeats.
    """
    names = [s.cls.__name__ for s in sources]
    labels = [n if names.count(n) == 1 else f"{s.path.stem}.{n}" for s, n in zip(sources, names)]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}.{seen[label]}")
    return unique


def _load_sources(path: Path, quiet: bool, err: TextIO) -> list[ModelSource]:
    """The models at ``path``; for a folder, a line on ``err`` per file (unless ``quiet``): what it defined, or that it was skipped.

    Checking a folder imports, and so runs, every ``*.py`` file in it: the lines say which were loaded.
    """
    files = find_model_files(path)
    sources: list[ModelSource] = []
    for file in files:
        found = sources_in(file)
        sources.extend(found)
        if path.is_dir() and not quiet:
            if found:
                err.write(f"loaded {file}: {', '.join(s.cls.__name__ for s in found)}\n")
            else:
                err.write(f"note: skipped {file}: it defines no model (no class deriving from ordercheck.Model)\n")
    return sources


def _check_consts(args: argparse.Namespace, sources: list[ModelSource]) -> None:
    """Each ``--const`` names a constant of some model checked here, once."""
    seen: dict[str, str] = {}
    for text in args.const:
        name = text.partition("=")[0].strip()
        if name in seen:
            raise InputError(f"--const {name} is given twice ({seen[name]!r} and {text!r}); give each constant once")
        seen[name] = text
    used_consts: set[str] = set()
    for s in sources:
        used_consts.update(constant_overrides(s.cls, args.const))
    for text in args.const:
        name = text.partition("=")[0].strip()
        if name not in used_consts:
            known = sorted({c for s in sources for c, d in _declarations(s.cls).items() if isinstance(d, Const)})
            raise InputError(f"{', '.join(args.path)}: --const {text!r}: no model checked here has a constant {name!r} "
                             f"(constants: {', '.join(known) or 'none'})")


def _refuse_unused_options(args: argparse.Namespace) -> None:
    """Refuse an option that the chosen engine would ignore: nothing a user gives is silently dropped.

    The Z3 engines count no states and have no BFS levels, stores, backends or workers; the
    explicit engine has no solver depth and no lemmas (``--depth`` serves ``--vacuity`` there).
    """
    engine = args.engine
    if engine == "pdr" and (args.lemma is not None or args.depth is not None):
        raise InputError("--engine pdr finds its own invariant: --depth and --lemma belong to --engine bmc and induction")
    if engine in ("bmc", "induction", "pdr"):
        what = {"bmc": "bounded model checking", "induction": "k-induction", "pdr": "PDR"}[engine]
        instead = {
            "max_states": f"{what} does not count states; bound it with --depth N (states deep) or --max-seconds S",
            "max_depth": "--max-depth counts the explicit search's BFS levels; with --engine " + engine + " give --depth N",
            "tolerance": "the fault tolerance is measured with the explicit engine; drop --engine " + engine,
            "symmetry": "symmetry reduction belongs to the explicit engine",
            "workers": "the Z3 engines run in one process",
            "backend": "backends belong to the explicit engine",
            "device": "devices belong to the explicit engine's vectorized backend",
            "store": "the visited-state store belongs to the explicit engine",
        }
        if engine == "pdr":  # PDR has no depth: only time bounds it
            instead["max_states"] = "PDR does not count states; bound it with --max-seconds S"
            instead["max_depth"] = "--max-depth counts the explicit search's BFS levels; bound PDR with --max-seconds S"
        given = {"max_states": args.max_states is not None, "max_depth": args.max_depth is not None, "tolerance": args.tolerance,
                 "symmetry": bool(args.symmetry), "workers": args.workers != 1, "backend": args.backend != "auto",
                 "device": args.device != "cpu", "store": args.store != "auto"}
        for dest, present in given.items():
            if present:
                raise InputError(f"{_option(dest)} is not used by --engine {engine}: {instead[dest]}")
        if engine == "bmc" and args.lemma is not None:
            raise InputError("--lemma is not used by --engine bmc: lemmas strengthen --engine induction")
        return
    if args.lemma is not None:
        raise InputError(f"--lemma is not used by --engine {engine}: lemmas strengthen --engine induction")
    if args.depth is not None and not args.vacuity:
        raise InputError(f"--depth is not used by --engine {engine}: it is the depth of --engine bmc, the largest k of "
                         "--engine induction, or the depth of --vacuity; the explicit search's level bound is --max-depth")


def _interrupted(result: Result) -> bool:
    """Whether the search behind ``result`` was stopped by Ctrl-C or SIGTERM (every engine says so in its reason)."""
    return result.reason.startswith("interrupted") or any(p.reason.startswith("interrupted") for p in result.properties)


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _refuse_unused_options(args)
    where = ", ".join(args.path)
    sources = _select(_sources_of_paths(args.path, args.quiet, err), args.model, where)
    if not sources:
        raise InputError(f"{where}: defines no models (classes deriving from ordercheck.Model)")
    _check_consts(args, sources)
    labels = _trace_labels(sources)
    symbolic = args.engine in ("bmc", "induction")  # a design's state bound is for the explicit search
    many = len(sources) > 1
    codes: list[int] = []
    results: list[Result] = []
    result_files: list[str] = []
    table: list[tuple[ModelSource, Result]] = []
    checked: list[Checked] = []
    for index, (source, label) in enumerate(zip(sources, labels)):
        try:
            model = instantiate(source.cls, constant_overrides(source.cls, args.const))
            design = source.design
            # A design reports every property it lists (its table has a row for each).
            result = check(model, engine=args.engine, properties=args.property, keep_going=args.keep_going or design is not None,
                           deadlock=args.deadlock,
                           max_states=args.max_states or (design.max_states if design and not symbolic else None),
                           max_seconds=args.max_seconds or (design.max_seconds if design else None),
                           max_depth=args.max_depth, max_memory=args.max_memory, progress=None if args.quiet else _progress(err), tolerance=args.tolerance,
                           symmetry=_symmetry(args.symmetry), backend=args.backend, device=args.device, workers=args.workers,
                           depth=args.depth if symbolic else None, lemmas=args.lemma,
                           store=args.store)
        except ModelError as exc:
            _print_model_error(exc, err)
            codes.append(EXIT_ERROR)
            checked.append(Checked(source.path, source.cls.__name__, error=str(exc), design=source.design))
            continue
        except InputError as exc:
            _error(f"{source.path}: {source.cls.__name__}: {exc}", err)
            codes.append(EXIT_ERROR)
            checked.append(Checked(source.path, source.cls.__name__, error=str(exc), design=source.design))
            continue
        spec = spec_of(model)
        checked.append(Checked(source.path, source.cls.__name__, result, spec=spec, design=source.design,
                               title=source.design.name if source.design is not None else ""))
        results.append(result)
        result_files.append(str(source.path))
        codes.append(result.exit_code)
        table.append((source, result))
        if source.design is not None:
            out.write(f"== {source.path}: {source.design.name}\n")
        out.write(_summary(result) + "\n")
        for line in _tolerance_lines(result):
            out.write(line + "\n")
        if args.coverage:
            for line in _coverage_lines(spec, args, source.design is not None):
                out.write(line + "\n")
        if args.independence:
            out.write(f"  orders: {_independence(source, model)}\n")
        if args.vacuity:
            from .symbolic import vacuity

            findings = vacuity(model, depth=args.depth or 10)
            out.write("  vacuity: " + ("nothing found" if not findings else f"{len(findings)} finding(s)") + "\n")
            for finding in findings:
                out.write(f"    - {finding}\n")
        for p in result.properties:
            if p.counterexample is not None:
                out.write(_counterexample_text(p.counterexample, spec, args))
        if result.verdict == INCONCLUSIVE:
            out.write("  'inconclusive' is not a pass: raise the bound, or check a smaller instance with --const.\n")
            if result.extra.get("hint"):
                out.write(f"  {result.extra['hint']}\n")
        if args.trace_out:
            for line in _write_traces(args.trace_out, result, label if many else None):
                out.write(f"  {line}\n")
        out.write("\n")
        if _interrupted(result):  # Ctrl-C or SIGTERM stops the whole run, not just this model's search
            rest = [s.cls.__name__ for s in sources[index + 1:]]
            if rest:
                err.write(f"interrupted: not checked: {', '.join(rest)}\n")
            break
    if len(table) > 1 or any(source.design is not None for source, _ in table):
        out.write(_design_table(table) + "\n")
    for line in _write_reports(args, checked):
        out.write(line + "\n")
    if args.json and not results:
        # An error is not a verdict: no document rather than one that reads "inconclusive".
        err.write(f"no JSON document written to {args.json}: no model could be checked\n")
    elif args.json:
        docs = [result_to_json(r, file=f) for r, f in zip(results, result_files)]
        if len(docs) == 1 and not many:
            document: Any = docs[0]
        else:
            document = {"verdict": combine_verdicts([r.verdict for r in results]), "results": docs}
        try:
            _write_atomically(Path(args.json), json.dumps(document, indent=2) + "\n")
        except OSError as exc:
            raise _write_failed("--json", args.json, exc) from None
    if EXIT_ERROR in codes:
        return EXIT_ERROR
    for verdict in (VIOLATED, INCONCLUSIVE):
        if EXIT_CODES[verdict] in codes:
            return EXIT_CODES[verdict]
    return 0


def _read_trace(path: str) -> Trace:
    """The saved trace at ``path``; an :class:`InputError` naming it when it cannot be read or is not ITF."""
    try:
        return read_itf(path)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a readable ITF trace: {exc}") from None


def _trace_and_model(args: argparse.Namespace) -> tuple[Path, Trace, Model]:
    """The saved trace of ``replay`` / ``explain`` and the model it belongs to, built with the trace's constants.

    A trace that does not belong to the model (other variables or constants, values of other types,
    other parameters) is an :class:`InputError` saying what does not fit: replaying it would say
    nothing about the model.  With several models of the trace's name (two designs named alike),
    the first one the trace fits is taken.
    """
    path = Path(args.path)
    trace = _read_trace(args.trace)
    sources = [source for file in find_model_files(path) for source in sources_in(file)]
    name = args.model or trace.model
    chosen = [s for s in sources if s.cls.__name__ == name]
    if not chosen:
        raise InputError(f"{path}: no model named {name!r} (models: {', '.join(s.cls.__name__ for s in sources) or 'none'})")
    misfits = []
    for source in chosen:
        model, misfit = _fit(source.cls, trace, getattr(args, "const", []))
        if misfit is None:
            return path, trace, model
        misfits.append(f"{misfit}" + (f" ({source.path})" if len(chosen) > 1 else ""))
    raise InputError(f"{args.trace} does not fit model {name} in {path}: {'; '.join(misfits)}")


def _fit(cls: type[Model], trace: Trace, consts: list[str]) -> tuple[Model, str | None]:
    """``cls`` built with the trace's constants (then ``consts``), and what of the trace does not fit it (None if all does)."""
    model = instantiate(cls, {})  # the model as it is: an error here is the model's (exit 2, located)
    spec = spec_of(model)
    defaults = spec.constants
    if trace.constants:  # ordercheck's traces record their constants; other tools' may not
        extra = [k for k in trace.constants if k not in defaults]
        if extra:
            return model, f"the trace has the constant{'s' if len(extra) > 1 else ''} {', '.join(extra)}, which the model does not declare"
        missing = [k for k in defaults if k not in trace.constants]
        if missing:
            return model, f"the trace lacks the constant{'s' if len(missing) > 1 else ''} {', '.join(missing)}, which the model declares"
    declared = {n: d for n, d in _declarations(cls).items() if isinstance(d, Const)}
    changed = {}
    for k, v in trace.constants.items():
        if k in spec.derived or not _differs(v, defaults[k]):
            continue
        if hasattr(declared[k].default, "as_domain"):  # a topology: its nodes, roles and places are the design's own
            return model, (f"the trace's {k} is {describe_value(v)}, but the model's topology has the nodes "
                           f"{describe_value(defaults[k])}: it is a trace of another design")
        changed[k] = v
    # The trace's constants where they differ from the model's defaults (derived constants follow), then --const.
    changed.update(constant_overrides(cls, consts))
    if changed:
        try:
            model = instantiate(cls, changed)
        except ModelError as exc:
            return model, f"its constants do not fit: {exc.message}"
        spec = spec_of(model)
    return model, trace_misfit(spec, trace)


def _cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Exit 1: the trace still shows its violation; 0: it fits the model but no longer gets there; 2: it does not fit."""
    _, trace, model = _trace_and_model(args)
    outcome = replay_trace(model, trace)
    out.write(f"{outcome.message}\n")
    if not outcome.reproduced and outcome.replays:
        out.write(f"the trace no longer shows its violation: it replays to its last state, step {outcome.step}\n")
    elif not outcome.reproduced:
        out.write(f"the trace no longer shows its violation: it stops at step {outcome.step}\n")
    return EXIT_CODES[VIOLATED] if outcome.reproduced else 0


def _differs(a: Any, b: Any) -> bool:
    """Whether a constant read back from a trace differs from the model's (a domain compares by its elements)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return tuple(a) != tuple(b)
    return bool(a != b)


def _cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path, trace, model = _trace_and_model(args)
    outcome = replay_trace(model, trace)
    if not outcome.replays:
        err.write(f"warning: {args.trace} does not replay on {path}: {outcome.message}; explaining it as it is\n")
    if args.format == "mermaid":
        out.write(render_mermaid(trace, spec_of(model)) + "\n")
    else:
        for sentence in explain_trace(trace, spec_of(model)):
            out.write(sentence + "\n")
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``simulate``: random walks (:mod:`ordercheck.explicit.simulation`); 1 on a violation, else 3 (never holds)."""
    from .explicit.simulation import SimulationProgress, simulate
    from .report.itf import trace_to_itf
    from .report.json_doc import constant_to_json

    sources = _select(_sources_of_paths([args.path]), [args.model] if args.model else [], args.path)
    if len(sources) != 1:
        names = ", ".join(s.cls.__name__ for s in sources)
        raise InputError(f"{args.path}: " + (f"defines several models ({names}); choose one with --model" if sources
                                              else "defines no models (classes deriving from ordercheck.Model)"))
    source = sources[0]
    overrides = constant_overrides(source.cls, args.const)
    for text in args.const:
        if text.partition("=")[0].strip() not in overrides:
            raise InputError(f"{args.path}: --const {text!r}: {source.cls.__name__} has no such constant")
    spec = spec_of(source.cls(**overrides))

    def progress(p: SimulationProgress) -> None:
        err.write(f"  {p.runs:,} runs, {p.steps:,} steps, {p.distinct_states:,} distinct states\n")
        err.flush()

    r = simulate(spec, runs=args.runs, depth=args.depth, seed=args.seed, fault_weight=args.fault_weight,
                 max_seconds=args.max_seconds, progress=None if args.quiet else progress, workers=args.workers)
    if source.design is not None:
        out.write(f"== {source.path}: {source.design.name}\n")
    derived = spec.derived
    constants = ", ".join(f"{k}={describe_value(v)}" for k, v in spec.constants.items() if k not in derived)
    out.write(f"{spec.name}({constants})  [simulation: seed {r.seed}, up to {args.runs:,} runs of up to {r.depth:,} steps, "
              f"fault weight {r.fault_weight:g}]\n")
    out.write(f"  {r.runs:,} runs, {r.steps:,} steps, {r.distinct_states:,} distinct states seen, {r.seconds:.2f} s\n")
    width = max([len(a) for a in r.coverage] + [6])
    out.write("  steps taken per action:\n")
    for action, count in r.coverage.items():
        out.write(f"    {action:<{width}}  {count:>10,}\n")
    if r.counterexample is not None and r.found is not None:
        how = (f"shortened from {r.found_length} to {len(r.counterexample)} states by a breadth-first search bounded to {r.found_length}"
               if r.shortened else r.shorten_note or f"already as short as any: {r.found_length} states")
        out.write(f"  violated: {r.violated}, in run {r.runs} after {r.found_length} states; {how}\n")
    else:
        out.write(f"  stopped: {r.reason}\n")
    out.write(f"  verdict: {r.verdict}\n")
    if r.counterexample is not None:
        words = explain_trace(r.counterexample, spec)[1:]  # the first sentence repeats the headline
        out.write("\n" + render_text(r.counterexample) + "\n")
        out.write("\nIn plain words:\n" + "".join(f"  {sentence}\n" for sentence in words) if words else "")
        if args.trace_out:
            write_itf(r.counterexample, args.trace_out)
            out.write(f"  counterexample of {r.violated} written to {args.trace_out}\n")
    else:
        out.write("  'inconclusive' is not a pass: random walks prove nothing; check it exhaustively, or raise --runs and --depth.\n")
        if args.trace_out:
            out.write(f"  no trace written to {args.trace_out}: no violation was found\n")
    if args.json:
        doc = {"command": "simulate", "file": str(source.path), "model": spec.name,
               "constants": {k: constant_to_json(v) for k, v in spec.constants.items() if k not in derived},
               "verdict": r.verdict, "reason": r.reason, "seed": r.seed, "depth": r.depth, "fault_weight": r.fault_weight,
               "runs": r.runs, "steps": r.steps, "distinct_states": r.distinct_states, "seconds": round(r.seconds, 3),
               "coverage": r.coverage, "property": r.violated, "found_length": r.found_length or None,
               "shortened": r.shortened, "counterexample": trace_to_itf(r.counterexample) if r.counterexample else None}
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return r.exit_code


def _run_sweep(args: argparse.Namespace, err: TextIO) -> Any:
    from .sweep import load_grid, run_sweep

    design = Path(args.design)
    grid = load_grid(args.grid, design)

    last = [0.0]

    def progress(p: Any) -> None:
        # A line every couple of seconds, and the last one: a sweep of thousands of variants stays readable.
        now = time.monotonic()
        if not args.quiet and (now - last[0] >= 2 or p.done == p.total):
            last[0] = now
            err.write(p.line() + "\n")

    result = run_sweep(design, grid, workers=args.workers, scheduler=args.scheduler, max_states=args.max_states,
                       max_seconds=args.max_seconds, tolerance=args.tolerance, progress=progress)
    if args.html:
        from .sweep import sweep_html

        Path(args.html).write_text(sweep_html(result), encoding="utf-8")
    return result


def _cmd_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .sweep import sweep_json, sweep_markdown, sweep_text

    result = _run_sweep(args, err)
    out.write(sweep_text(result))
    if args.json:
        Path(args.json).write_text(json.dumps(sweep_json(result), indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(sweep_markdown(result), encoding="utf-8")
    return EXIT_CODES[INCONCLUSIVE] if any(v.inconclusive for v in result.variants) else 0


def _cmd_tune(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .sweep import sweep_markdown, tune, tune_json, tune_text

    result = _run_sweep(args, err)
    answer = tune(result, args.require)
    out.write(tune_text(answer))
    if args.json:
        Path(args.json).write_text(json.dumps(tune_json(answer), indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(sweep_markdown(result), encoding="utf-8")
    return EXIT_CODES[answer.verdict]


# ----------------------------------------------------------------------------- paths: read, written


_OUTPUT_OPTIONS = ("json", "trace_out", "html", "junit", "sarif", "markdown", "svg")


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _check_paths(args: argparse.Namespace) -> None:
    """Refuse, before any search, a path with a NUL byte and an output file that cannot be written.

    Each output file's folder must exist and be a folder, and the file must not be a folder: a
    long search is not run only to fail when its result is written.
    """
    for dest in ("path", "trace", "design", "grid", *_OUTPUT_OPTIONS):
        given = getattr(args, dest, None)
        for value in given if isinstance(given, list) else [given]:  # check takes several paths
            if isinstance(value, str) and "\0" in value:
                where = _option(dest) if dest in _OUTPUT_OPTIONS else dest.upper()
                raise InputError(f"{where} {value!r}: a path cannot contain a NUL byte")
    for dest in _OUTPUT_OPTIONS:
        value = getattr(args, dest, None)
        if value is not None:
            _check_writable(_option(dest), value)


def _check_writable(option: str, value: str) -> None:
    """An :class:`InputError` naming ``option`` and the path, unless a file can be written at ``value``."""
    if not value:
        raise InputError(f"{option}: an empty path")
    path = Path(value)
    parent = path.parent
    problem = ""
    if path.is_dir():
        problem = "it is a directory; give a file name"
    elif not parent.exists():
        problem = f"the directory {parent} does not exist"
    elif not parent.is_dir():
        problem = f"{parent} is not a directory"
    elif path.exists() and not os.access(path, os.W_OK):
        problem = "the file is not writable"
    elif not path.exists() and not os.access(parent, os.W_OK):
        problem = f"the directory {parent} is not writable"
    if problem:
        raise InputError(f"{option} {value}: cannot write there: {problem}")


def _write_failed(option: str, value: object, exc: OSError) -> InputError:
    return InputError(f"{option} {value}: cannot write there: {exc.strerror or exc}")


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file in the same folder, then a rename."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _write_reports(args: argparse.Namespace, checked: list[Checked]) -> list[str]:
    """:func:`write_reports` for the report options given; a file that cannot be written is an error naming its option."""
    options = {"html": args.html, "junit": args.junit, "sarif": args.sarif, "markdown": args.markdown, "svg": args.svg}
    try:
        return write_reports(checked, **options)
    except OSError as exc:
        failed = str(exc.filename or "")
        dest = next((d for d, v in options.items() if v and (failed == v or Path(failed).name.startswith(Path(v).stem))), None)
        raise _write_failed(_option(dest) if dest else "writing a report", failed or exc, exc) from None


# ----------------------------------------------------------------------------- exit code 4, signals


def _internal_error(exc: BaseException, argv: list[str] | None, err: TextIO) -> int:
    """Report a bug in ordercheck: one line on ``err``, the traceback in a file it names; exit code 4."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = (f"ordercheck {_version()} internal error\nargv: {sys.argv[:1] + list(argv if argv is not None else sys.argv[1:])!r}\n"
              f"python: {sys.version.split()[0]}\n\n{text}")
    where: str
    try:
        fd, name = tempfile.mkstemp(prefix=f"ordercheck-crash-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(report)
        where = f"the traceback is in {name}"
    except OSError as write_error:
        where = f"the traceback could not be saved ({write_error}); here it is:\n{text}"
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    try:
        err.write(f"internal error: this is a bug in ordercheck, not in your model or input ({summary}); {where}\n")
        err.flush()
    except (OSError, ValueError):
        pass
    return EXIT_INTERNAL


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("ordercheck")
    except Exception:  # only a label in the crash report
        return "(unknown version)"


@contextlib.contextmanager
def interrupt_signals() -> Iterator[None]:
    """Make SIGTERM (and SIGINT) stop the run the way Ctrl-C does, with an :class:`Interrupted`.

    Every engine catches ``KeyboardInterrupt`` and reports what it found so far as inconclusive,
    so a ``kill`` gives the same partial report as Ctrl-C.  Raising :class:`Interrupted`, rather
    than a plain ``KeyboardInterrupt``, lets the loaders tell a real signal from a model file that
    raises ``KeyboardInterrupt`` itself (a model error).  Forked workers inherit the handler; in
    them it falls back to the default action, so a pool can still terminate its workers.  Outside
    the main thread (``main`` called from a thread) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()
    signalled: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != owner:  # a forked worker: die as the signal says
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        signalled.append(signum)
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    installed = []
    for sig, old in previous.items():
        if sig == signal.SIGINT and old is not signal.default_int_handler:
            continue  # SIGINT ignored or handled by the caller (a test runner): leave it alone
        signal.signal(sig, handler)
        installed.append(sig)
    previous_hook = sys.unraisablehook

    def unraisable(info: Any) -> None:
        # A signal whose Interrupted was raised inside a destructor (Z3's __del__ calls C) is swallowed there and
        # would print "Exception ignored ... Traceback": deliver the same signal again, outside the destructor.
        exc = info.exc_value
        if exc is not None and (isinstance(exc, Interrupted) or interruption_in_c(exc)) and os.getpid() == owner:
            name = str(exc).rsplit(": ", 1)[-1].strip()
            again = signal.Signals[name] if name in signal.Signals.__members__ else signal.SIGINT
            # from another thread, so that the handler runs in the main thread after this hook has returned
            threading.Timer(0.01, os.kill, (os.getpid(), again)).start()
            return
        if signalled and getattr(info.object, "__module__", "").startswith("z3"):
            return  # a Z3 object half built when the interruption struck fails in its destructor: nothing to report
        previous_hook(info)

    if installed:
        sys.unraisablehook = unraisable
    watcher = _SolverInterrupter() if signal.SIGTERM in installed else None
    guard = _ForkGuard(previous, installed, watcher.write_fd if watcher is not None and watcher.previous_fd is not None else None)
    ref = weakref.ref(guard)
    os.register_at_fork(after_in_child=lambda: _undo_in_child(ref))
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        guard.active = False
        if watcher is not None:
            watcher.close()
        for sig in installed:
            signal.signal(sig, previous[sig])


@dataclass
class _ForkGuard:
    """What a process forked during the run (a pool's worker) must undo: the handlers and the wakeup pipe are the run's.

    A worker that kept them would need its main thread to run Python to die on the SIGTERM its
    pool sends it (a worker blocked in C would never end, and the pool's join would hang), and
    its own SIGTERM would reach the parent's wakeup pipe and read as the run being stopped.
    """

    previous: dict[signal.Signals, Any]
    installed: list[signal.Signals]
    wakeup_fd: int | None
    active: bool = True


def _undo_in_child(ref: weakref.ReferenceType[_ForkGuard]) -> None:
    """In a forked child: the signal handlers and the wakeup fd as they were before the run."""
    guard = ref()
    if guard is None or not guard.active:
        return
    guard.active = False
    for sig in guard.installed:
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(sig, guard.previous[sig])
    if guard.wakeup_fd is not None:
        with contextlib.suppress(ValueError, OSError):
            current = signal.set_wakeup_fd(-1)
            if current != guard.wakeup_fd:  # not ours after all: put it back
                signal.set_wakeup_fd(current)


class _SolverInterrupter:
    """Interrupts a running Z3 check when SIGTERM arrives.

    Python runs a signal handler only between bytecodes, so a SIGTERM that arrives while Z3
    solves would wait for the check to end (minutes, perhaps).  Z3 catches SIGINT itself, not
    SIGTERM; so a thread wakes on the signal (``signal.set_wakeup_fd``) and interrupts the Z3
    context, whose check then returns at once and the engine reports what it has.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.interrupted = False
        self.previous_fd: int | None = None
        try:
            self.previous_fd = signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        except ValueError:  # not the main thread of the main interpreter
            self.previous_fd = None
        self.thread = threading.Thread(target=self._watch, name="ordercheck-sigterm", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGTERM in data and "z3" in sys.modules:
                with contextlib.suppress(Exception):
                    sys.modules["z3"].main_ctx().interrupt()
                    self.interrupted = True

    def close(self) -> None:
        if self.previous_fd is not None:
            signal.set_wakeup_fd(self.previous_fd)
        os.close(self.write_fd)  # the thread's read returns empty and it ends
        self.thread.join(timeout=1)
        os.close(self.read_fd)
        if self.interrupted:
            # An interrupt that found Z3 idle stays pending and would cancel the next push on the context;
            # a check clears it, so that Z3 works again for whoever calls next (main() may be called again).
            with contextlib.suppress(Exception):
                sys.modules["z3"].Solver().check()


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the chosen subcommand; the errors it reports as such become exit code 2, an interruption exit code 3."""
    try:
        _check_paths(args)
        if args.command == "check":
            return _cmd_check(args, out, err)
        if args.command == "explain":
            return _cmd_explain(args, out, err)
        if args.command == "simulate":
            return _cmd_simulate(args, out, err)
        if args.command in ("sweep", "tune"):
            return _cmd_sweep(args, out, err) if args.command == "sweep" else _cmd_tune(args, out, err)
        return _cmd_replay(args, out, err)
    except ModelError as exc:
        _print_model_error(exc, err)
        return EXIT_ERROR
    except OrdercheckError as exc:
        _error(str(exc), err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _error("interrupted", err)
        return EXIT_CODES[INCONCLUSIVE]
    except BrokenPipeError:
        # The reader went away (`ordercheck check ... | head`): nothing more to say.
        sys.stderr.close()
        return EXIT_CODES[INCONCLUSIVE]


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (``python -m ordercheck`` and the console script come here).

    Whatever goes wrong inside ends with one of the documented codes: an exception that nothing
    reported as an input or model error is a bug in ordercheck, exit code 4, with its traceback in
    a file (:func:`_internal_error`); it never ends the run with 0, 1 or 3.
    """
    # Names from models, designs and traces may hold control characters: never written raw.
    out = cast(TextIO, TerminalStream(out or sys.stdout))
    err = cast(TextIO, TerminalStream(err or sys.stderr))
    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's own exit: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    except KeyboardInterrupt:
        _error("interrupted", err)
        return EXIT_CODES[INCONCLUSIVE]
    except BaseException as exc:
        return _internal_error(exc, argv, err)
    try:
        with interrupt_signals():
            return _dispatch(args, out, err)
    except KeyboardInterrupt:  # a signal that arrived between two steps of the run
        _error("interrupted", err)
        return EXIT_CODES[INCONCLUSIVE]
    except BaseException as exc:  # the last line of defence: a bug is exit 4, never a verdict
        if interruption_in_c(exc):  # a signal that arrived inside a call to C (Z3): an interruption, not a bug
            _error("interrupted", err)
            return EXIT_CODES[INCONCLUSIVE]
        return _internal_error(exc, argv, err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
