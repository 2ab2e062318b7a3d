"""The command line: a thin layer over :func:`ordercheck.check` and the reports.

Exit codes: 0 holds, 1 violated, 2 error in the input or the model (a message,
no traceback), 3 inconclusive.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO, cast

from .api import ENGINES, check
from .domain.explain import explain_survives
from .explicit.levels import BACKENDS, STORE_CHOICES
from .explicit.vectorized import DEVICES
from .lang.errors import InputError, ModelError, OrdercheckError
from .lang.model import Const, Model, _declarations, spec_of
from .lang.types import describe_value
from .replay import replay_trace
from .report.ci import Checked, write_reports
from .report.escape import TerminalStream
from .report.explain import explain_trace
from .report.itf import read_itf, write_itf
from .report.json_doc import result_to_json
from .report.mermaid import render_mermaid
from .report.result import EXIT_CODES, HOLDS, INCONCLUSIVE, VIOLATED, Result, Stats, combine_verdicts
from .report.text import headline, render_text
from .report.trace import Trace
from .sources import ModelSource, constant_overrides, find_model_files, sources_in

__all__ = ["build_parser", "main"]

EXIT_ERROR = 2


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
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ordercheck", description="Check that acknowledged orders survive: explore every interleaving of a model's actions.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check models (a .py file or a directory of them; ./model by default)")
    c.add_argument("path", nargs="?", default="model", help="a model file or a directory of model files (default: ./model)")
    c.add_argument("--model", action="append", default=[], metavar="NAME", help="check only this model class (repeatable)")
    c.add_argument("--const", action="append", default=[], metavar="NAME=V1,V2,...", help="override a constant (repeatable)")
    c.add_argument("--property", action="append", default=None, metavar="NAME", help="check only this property (repeatable)")
    c.add_argument("--continue", dest="keep_going", action="store_true", help="keep searching after a violation; report every violated property")
    c.add_argument("--engine", choices=ENGINES, default="auto",
                   help="explicit (BFS over every state), bmc (Z3 bounded model checking to --depth), induction (Z3 k-induction "
                        "to k = --depth, default 10), auto (explicit; says which to try when a bound is hit)")
    c.add_argument("--depth", type=_positive_int, default=None, metavar="N",
                   help="bmc: look for violations in executions of up to N states; induction: try k up to N")
    c.add_argument("--vacuity", action="store_true",
                   help="also look (with Z3) for what would make the verdicts hollow: no initial state, actions never enabled, "
                        "implications whose premise never holds")
    c.add_argument("--lemma", action="append", default=None, metavar="NAME",
                   help="induction: assume (and prove) this invariant as a strengthening lemma (default: the model's @lemma ones)")
    c.add_argument("--deadlock", action="store_true", help="report a reachable state with no enabled action")
    c.add_argument("--max-states", type=_positive_int, metavar="N", help="stop after N distinct states (inconclusive)")
    c.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop after S seconds (inconclusive)")
    c.add_argument("--max-depth", type=_positive_int, metavar="D", help="explore at most D BFS levels (inconclusive if more exist)")
    c.add_argument("--json", metavar="FILE", help="write the result document as JSON")
    c.add_argument("--trace-out", metavar="FILE", help="write the counterexample as ITF JSON (.itf.json)")
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
    c.add_argument("--html", metavar="FILE", help="write a self-contained HTML page for stepping through the counterexamples")
    c.add_argument("--svg", metavar="FILE", help="draw each model's topology with its smallest failure set marked (SVG; FILE.Model.svg for several)")
    c.add_argument("--junit", metavar="FILE", help="write JUnit XML: one test case per model or design x property")
    c.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0: each violated property located at its definition")
    c.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (for a CI job's summary page)")

    e = sub.add_parser("explain", help="explain a saved ITF trace in plain sentences")
    e.add_argument("path", help="the model file or design the trace comes from")
    e.add_argument("trace", help="the trace (.itf.json, as --trace-out writes it)")
    e.add_argument("--model", default=None, metavar="NAME", help="the model class (default: the one the trace names)")
    e.add_argument("--format", choices=("text", "mermaid"), default="text", help="plain sentences (default), or a Mermaid sequence diagram")

    r = sub.add_parser("replay", help="re-run a saved ITF trace against the current model")
    r.add_argument("path", help="the model file")
    r.add_argument("trace", help="the trace (.itf.json)")
    r.add_argument("--model", default=None, metavar="NAME", help="the model class (default: the one the trace names)")
    r.add_argument("--const", action="append", default=[], metavar="NAME=V1,V2,...", help="override a constant (default: the trace's constants)")
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
        reason = f"  ({p.reason})" if p.reason and p.verdict != HOLDS else ""
        lines.append(f"  {p.name:<{width}}  {p.verdict}{reason}")
    s = result.stats
    if result.engine in ("bmc", "induction"):
        reached = "k" if result.engine == "induction" else "depth"
        lines.append(f"  {reached} {s.depth}, {s.seconds:.2f} s (Z3)")
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


def _design_table(rows: list[tuple[ModelSource, Result]]) -> str:
    """design x property -> verdict, trace length, fault tolerance (when measured), states, time."""
    lines = ["Designs:", ""]
    header = ("design", "property", "verdict", "trace", "tolerance", "states", "seconds")
    body = []
    for source, result in rows:
        tolerance = result.extra.get("tolerance", {})
        for p in result.properties:
            t = tolerance.get(p.name)
            body.append((source.path.name, p.name, p.verdict, str(len(p.counterexample)) if p.counterexample else "",
                         "" if t is None else ("none" if t.k is None else str(t.k)),
                         f"{result.stats.distinct_states:,}", f"{result.stats.seconds:.1f}"))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *body]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _suffixed(path: str, model: str, many: bool) -> Path:
    if not many:
        return Path(path)
    p = Path(path)
    name = p.name
    for ext in (".itf.json", ".json"):
        if name.endswith(ext):
            return p.with_name(f"{name[: -len(ext)]}.{model}{ext}")
    return p.with_name(f"{name}.{model}")


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    files = find_model_files(Path(args.path))
    sources: list[ModelSource] = []
    for file in files:
        sources.extend(sources_in(file))
    sources = _select(sources, args.model, args.path)
    if not sources:
        raise InputError(f"{args.path}: defines no models (classes deriving from ordercheck.Model)")
    used_consts: set[str] = set()
    for s in sources:
        used_consts.update(constant_overrides(s.cls, args.const))
    for text in args.const:
        name = text.partition("=")[0].strip()
        if name not in used_consts:
            known = sorted({c for s in sources for c, d in _declarations(s.cls).items() if isinstance(d, Const)})
            raise InputError(f"{args.path}: --const {text!r}: no model checked here has a constant {name!r} "
                             f"(constants: {', '.join(known) or 'none'})")
    many = len(sources) > 1
    codes: list[int] = []
    results: list[Result] = []
    table: list[tuple[ModelSource, Result]] = []
    checked: list[Checked] = []
    for source in sources:
        try:
            model = source.cls(**constant_overrides(source.cls, args.const))
            design = source.design
            # A design reports every property it lists (its table has a row for each).
            result = check(model, engine=args.engine, properties=args.property, keep_going=args.keep_going or design is not None,
                           deadlock=args.deadlock,
                           max_states=args.max_states or (design.max_states if design else None),
                           max_seconds=args.max_seconds or (design.max_seconds if design else None),
                           max_depth=args.max_depth, progress=None if args.quiet else _progress(err), tolerance=args.tolerance,
                           symmetry=_symmetry(args.symmetry), backend=args.backend, device=args.device, workers=args.workers,
                           depth=args.depth, lemmas=args.lemma,
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
        codes.append(result.exit_code)
        if source.design is not None:
            table.append((source, result))
            out.write(f"== {source.path}: {source.design.name}\n")
        out.write(_summary(result) + "\n")
        for line in _tolerance_lines(result):
            out.write(line + "\n")
        if args.vacuity:
            from .symbolic import vacuity

            findings = vacuity(model, depth=args.depth or 10)
            out.write("  vacuity: " + ("nothing found" if not findings else f"{len(findings)} finding(s)") + "\n")
            for finding in findings:
                out.write(f"    - {finding}\n")
        for p in result.properties:
            if p.counterexample is not None and args.format == "mermaid":
                out.write(f"\n{headline(p.counterexample)}:\n\n```mermaid\n{render_mermaid(p.counterexample, spec)}\n```\n")
            elif p.counterexample is not None:
                out.write("\n" + render_text(p.counterexample) + "\n")
                for sentence in explain_survives(spec.extra, result.constants, p.name, p.counterexample.final_state):
                    out.write(f"  {sentence}\n")
        if result.verdict == INCONCLUSIVE:
            out.write("  'inconclusive' is not a pass: raise the bound, or check a smaller instance with --const.\n")
            if result.extra.get("hint"):
                out.write(f"  {result.extra['hint']}\n")
        if args.trace_out and result.counterexample is not None:
            target = _suffixed(args.trace_out, result.model, many)
            write_itf(result.counterexample, target)
            out.write(f"  counterexample written to {target}\n")
        out.write("\n")
    if table:
        out.write(_design_table(table) + "\n")
    for line in write_reports(checked, html=args.html, junit=args.junit, sarif=args.sarif, markdown=args.markdown, svg=args.svg):
        out.write(line + "\n")
    if args.json and not results:
        # An error is not a verdict: no document rather than one that reads "inconclusive".
        err.write(f"no JSON document written to {args.json}: no model could be checked\n")
    elif args.json:
        docs = [result_to_json(r) for r in results]
        if len(docs) == 1 and not many:
            document: Any = docs[0]
        else:
            document = {"verdict": combine_verdicts([r.verdict for r in results]), "results": docs}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
    if EXIT_ERROR in codes:
        return EXIT_ERROR
    for verdict in (VIOLATED, INCONCLUSIVE):
        if EXIT_CODES[verdict] in codes:
            return EXIT_CODES[verdict]
    return 0


def _trace_and_model(args: argparse.Namespace) -> tuple[Path, Trace, Model]:
    """The saved trace of ``replay`` / ``explain`` and the model it belongs to, built with the trace's constants."""
    path = Path(args.path)
    try:
        trace = read_itf(args.trace)
    except OSError as exc:
        raise InputError(f"{args.trace}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"{args.trace}: not a readable ITF trace: {exc}") from None
    sources = [source for file in find_model_files(path) for source in sources_in(file)]
    name = args.model or trace.model
    chosen = [s for s in sources if s.cls.__name__ == name]
    if not chosen:
        raise InputError(f"{path}: no model named {name!r} (models: {', '.join(s.cls.__name__ for s in sources) or 'none'})")
    cls = chosen[0].cls
    model = cls()
    # The trace's constants where they differ from the model's defaults (a topology keeps its roles and
    # places; derived constants follow), then --const.
    defaults = spec_of(model).constants
    changed = {k: v for k, v in trace.constants.items()
               if k in defaults and k not in spec_of(model).derived and _differs(v, defaults[k])}
    changed.update(constant_overrides(cls, getattr(args, "const", [])))
    if changed:
        model = cls(**changed)
    return path, trace, model


def _cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _, trace, model = _trace_and_model(args)
    outcome = replay_trace(model, trace)
    out.write(f"{outcome.message}\n")
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


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    # Names from models, designs and traces may hold control characters: never written raw.
    out = cast(TextIO, TerminalStream(out or sys.stdout))
    err = cast(TextIO, TerminalStream(err or sys.stderr))
    import contextlib

    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    try:
        if args.command == "check":
            return _cmd_check(args, out, err)
        if args.command == "explain":
            return _cmd_explain(args, out, err)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
