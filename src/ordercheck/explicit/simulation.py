"""Random simulation: what a spec too large to explore does on random walks, and the first violation they meet.

When breadth-first search cannot finish, TLC (``-simulate``), FizzBee and Stateright fall back on
random walks, and so does :func:`simulate`.  Each run starts in an initial state drawn at random and
takes up to ``depth`` steps, each chosen among the transitions enabled in the current state: a
protocol step has weight 1, an action the framework generates (a fault, a restart, a heal) has
weight ``fault_weight``, so ``fault_weight=0`` walks without faults and a large one provokes them;
the model's fault budget is part of the state and bounds them as it bounds the search.  Every state
is checked against the invariants, every step against the step invariants, with the compiled
successor and property functions of :mod:`ordercheck.explicit.compile`.

A walk that meets a violation stops the simulation.  Its path is replayed on the reference
semantics (:func:`~ordercheck.report.build.build_trace`, as every counterexample is), then
shortened: a breadth-first search (:func:`~ordercheck.explicit.bfs.explore`) of that property
bounded to the walk's length returns a shortest trace, which can be no longer than the walk.  Where
that search hits its own bounds the walk itself is reported, and the result says why.

Finding nothing proves nothing: the verdict is then ``inconclusive``, with the runs, the steps, the
distinct states seen (packed states, one machine integer each: about 60 bytes a state in CPython)
and how often each action fired, so that a reader can judge how much of the model the walks reached.

Runs are reproducible: run ``i`` draws from its own generator seeded by ``(seed, i)``, so the same
seed gives the same walks, in whatever order or process they run.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> r = simulate(spec_of(Up()), runs=5, depth=10, seed=1)
>>> r.verdict, r.violated, r.found_length, len(r.counterexample)
('violated', 'small', 3, 3)
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..lang.errors import InputError, ModelError
from ..lang.interpret import fire, holds
from ..lang.spec import Spec, State, select_properties
from ..report.build import build_trace
from ..report.result import INCONCLUSIVE, VIOLATED
from ..report.trace import Trace
from .bfs import Bounds, explore
from .compile import CheckFailure, CompiledSpec, compile_spec
from .parallel import check_workers

__all__ = ["SimulationProgress", "SimulationResult", "simulate"]


@dataclass(frozen=True)
class SimulationProgress:
    """Where a simulation stands: runs finished, steps taken, distinct states seen, seconds."""

    runs: int
    steps: int
    distinct_states: int
    seconds: float


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`simulate`.

    ``verdict`` is ``violated`` (``violated`` names the property; ``found`` is the walk's trace of
    ``found_length`` states and ``counterexample`` the shortened one) or ``inconclusive``
    (nothing found; ``reason`` says so).  ``coverage`` maps each action, in declared order, to
    how often the walks took it; ``states`` holds the packed states seen.
    """

    verdict: str
    model: str
    runs: int
    steps: int
    distinct_states: int
    coverage: dict[str, int]
    seed: int
    depth: int
    fault_weight: float
    seconds: float
    reason: str = ""
    violated: str | None = None
    found: Trace | None = None
    counterexample: Trace | None = None
    found_length: int = 0
    shortened: bool = False
    shorten_note: str = ""
    states: frozenset[int] = field(default=frozenset(), repr=False)

    @property
    def exit_code(self) -> int:
        """1 for a violation, 3 otherwise: a simulation never earns ``holds``."""
        return 1 if self.verdict == VIOLATED else 3


def _check_arguments(runs: int, depth: int, fault_weight: float, max_seconds: float | None) -> None:
    if not isinstance(runs, int) or runs <= 0:
        raise InputError(f"runs must be a positive integer, got {runs!r}")
    if not isinstance(depth, int) or depth <= 0:
        raise InputError(f"depth must be a positive integer, got {depth!r}")
    if not math.isfinite(fault_weight) or fault_weight < 0:
        raise InputError(f"fault weight must be a finite number >= 0, got {fault_weight!r}")
    if max_seconds is not None and (not math.isfinite(max_seconds) or max_seconds <= 0):
        raise InputError(f"max seconds must be a finite positive number, got {max_seconds!r}")


def _model_error(spec: Spec, failure: CheckFailure, path: list[tuple[int | None, int]], y: int | None) -> ModelError:
    """Reproduce a failed run-time check on the reference semantics, with the walk that reaches it."""
    unpacked: list[tuple[int | None, State]] = [(a, spec.unpack(x)) for a, x in path]
    state = unpacked[-1][1]
    error: ModelError
    try:
        if failure.prop >= 0:
            holds(spec, spec.properties[failure.prop].name, state, spec.unpack(y) if y is not None else None)
        else:
            fire(spec, spec.bindings[failure.binding], state)
        error = ModelError("the compiled backend reported a failed check that the reference semantics does not confirm (a bug in ordercheck)")
    except ModelError as exc:
        error = exc
    error.model = error.model or spec.name
    error.trace = build_trace(spec, unpacked, None, "model-error", str(error.message))
    return error


Walk = list[tuple[int | None, int]]  # (binding or None for the initial state, packed state)


@dataclass
class _Chunk:
    """What the runs ``first`` .. ``first + runs - 1`` found, up to the first that met a violation or a model error.

    ``error`` is a failed run-time check as plain data (binding, check, property, path, post-state),
    so that it crosses a process boundary; the parent reproduces it on the reference semantics.
    """

    first: int
    runs: int = 0
    steps: int = 0
    fired: list[int] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    violation: tuple[int, str, Walk] | None = None
    error: tuple[int, int, int, Walk, int | None] | None = None
    timed_out: bool = False

    @property
    def stops(self) -> bool:
        return self.violation is not None or self.error is not None


class _Failed(Exception):
    def __init__(self, failure: CheckFailure, path: Walk, y: int | None) -> None:
        super().__init__()
        self.data = (failure.binding, failure.check, failure.prop, list(path), y)


class _Walker:
    """The compiled functions, the weights and the properties to check; :meth:`chunk` runs walks."""

    def __init__(self, spec: Spec, compiled: CompiledSpec, selected: list[int], fault_weight: float, seed: int, depth: int) -> None:
        self.spec = spec
        self.c = compiled
        self.seed = seed
        self.depth = depth
        generated = set(spec.extra.get("generated_actions", ()))
        self.weights = [fault_weight if b.action in generated else 1.0 for b in spec.bindings]
        self.weighted = any(w != 1.0 for w in self.weights)
        chosen = set(selected)
        self.inv_active = sum(1 << b for b, p in enumerate(compiled.invariant_props) if p in chosen)
        self.step_active = sum(1 << b for b, p in enumerate(compiled.step_props) if p in chosen)
        inits: dict[int, None] = {}
        for s0 in spec.init_states:
            inits.setdefault(spec.pack(s0), None)
        self.inits = list(inits)

    def _invariant(self, path: Walk, acc: _Chunk) -> bool:
        x = path[-1][1]
        acc.seen.add(x)
        if not self.inv_active:
            return False
        try:
            bad = self.c.invariants(x) & self.inv_active
        except CheckFailure as failure:
            raise _Failed(failure, path, None) from None
        if bad:
            bit = (bad & -bad).bit_length() - 1  # the first violated invariant, in declared order
            acc.violation = (self.c.invariant_props[bit], "invariant", list(path))
            return True
        return False

    def walk(self, rng: random.Random, acc: _Chunk) -> bool:
        """One run of up to ``depth`` steps, counted in ``acc``; true when it met a violation (then in ``acc.violation``)."""
        if not self.inits:
            return False
        path: Walk = [(None, self.inits[rng.randrange(len(self.inits))])]
        if self._invariant(path, acc):
            return True
        for _ in range(self.depth):
            x = path[-1][1]
            try:
                succ = self.c.successors(x)
            except CheckFailure as failure:
                raise _Failed(failure, path, None) from None
            if self.weighted:
                succ = [t for t in succ if self.weights[t[0]] > 0]
            if not succ:
                return False  # a final state (or only faults, at weight 0): the run ends here
            if self.weighted:
                action, y = rng.choices(succ, weights=[self.weights[a] for a, _ in succ])[0]
            else:
                action, y = succ[rng.randrange(len(succ))]
            acc.steps += 1
            acc.fired[action] += 1
            if self.step_active:
                try:
                    bad = self.c.steps(x, y) & self.step_active
                except CheckFailure as failure:
                    raise _Failed(failure, path, y) from None
                if bad:
                    bit = (bad & -bad).bit_length() - 1
                    acc.violation = (self.c.step_props[bit], "step", [*path, (action, y)])
                    acc.seen.add(y)
                    return True
            path.append((action, y))
            if self._invariant(path, acc):
                return True
        return False

    def chunk(self, first: int, last: int, deadline: float | None,
              progress: Callable[[_Chunk], None] | None = None) -> _Chunk:
        """Runs ``first`` .. ``last - 1``, each from ``Random(f"{seed}:{i}")``, until one meets a violation or an error."""
        acc = _Chunk(first, fired=[0] * len(self.spec.bindings))
        next_report = time.monotonic() + 2.0
        for i in range(first, last):
            if deadline is not None and time.monotonic() > deadline:
                acc.timed_out = True
                break
            acc.runs += 1
            try:
                if self.walk(random.Random(f"{self.seed}:{i}"), acc):
                    break
            except _Failed as failed:
                acc.error = failed.data
                break
            if progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + 2.0
                progress(acc)
        return acc


_WALKER: _Walker | None = None  # set in the parent before forking; the workers inherit it


def _chunk_in_worker(task: tuple[int, int, float | None]) -> _Chunk:
    assert _WALKER is not None, "a worker started without the model (not forked?)"
    return _WALKER.chunk(*task)


def _chunks_in_processes(walker: _Walker, runs: int, workers: int, deadline: float | None,
                         progress: Callable[[_Chunk], None] | None) -> list[_Chunk]:
    """The runs cut into chunks for a pool of forked workers; the chunks in run order up to the first that stops."""
    global _WALKER
    check_workers(workers, "cpu")
    size = max(1, min(1000, -(-runs // (workers * 8))))
    tasks = [(a, min(a + size, runs), deadline) for a in range(0, runs, size)]
    _WALKER = walker
    pool = multiprocessing.get_context("fork").Pool(workers)
    out: list[_Chunk] = []
    next_report = time.monotonic() + 2.0
    try:
        for acc in pool.imap(_chunk_in_worker, tasks):
            out.append(acc)
            if progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + 2.0
                progress(_merge(walker, out))
            if acc.stops or acc.timed_out:
                break
    finally:
        pool.terminate()
        pool.join()
        _WALKER = None
    return out


def _merge(walker: _Walker, chunks: list[_Chunk]) -> _Chunk:
    """The chunks, in run order, as one."""
    total = _Chunk(0, fired=[0] * len(walker.spec.bindings))
    for acc in chunks:
        total.runs += acc.runs
        total.steps += acc.steps
        total.fired = [a + b for a, b in zip(total.fired, acc.fired)]
        total.seen |= acc.seen
        total.violation, total.error, total.timed_out = acc.violation, acc.error, acc.timed_out
    return total


def _coverage(spec: Spec, fired: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {name: 0 for name in spec.extra.get("actions", ())}
    for b, n in zip(spec.bindings, fired):
        counts[b.action] = counts.get(b.action, 0) + n
    return counts


def _shorten(spec: Spec, compiled: CompiledSpec, name: str, found: Trace,
             max_states: int | None, max_seconds: float | None) -> tuple[Trace, bool, str]:
    """A shortest trace violating ``name`` among executions no longer than ``found``, by bounded BFS."""
    result = explore(spec, properties=[name], bounds=Bounds(max_states=max_states, max_seconds=max_seconds, max_depth=len(found)),
                     compiled=compiled)
    short = result.counterexample
    if short is not None and len(short) <= len(found):
        return short, len(short) < len(found), ""
    return found, False, f"not shortened: the bounded breadth-first search stopped ({result.reason or 'no shorter trace'})"


def simulate(spec: Spec, *, runs: int = 1000, depth: int = 100, seed: int = 0, fault_weight: float = 1.0,
             properties: list[str] | None = None, max_seconds: float | None = None, shorten: bool = True,
             shorten_max_states: int | None = 1_000_000, progress: Callable[[SimulationProgress], None] | None = None,
             compiled: CompiledSpec | None = None, workers: int = 1) -> SimulationResult:
    """Random walks over ``spec``, checking every invariant and step invariant, until the first violation.

    Parameters
    ----------
    spec : Spec
        The model's spec (``spec_of(model)``).
    runs : int
        How many walks; each starts afresh in a random initial state.
    depth : int
        The most steps a walk takes (a walk also ends in a state with no enabled step).
    seed : int
        Run ``i`` draws from ``random.Random(f"{seed}:{i}")``: the same seed gives the same result.
    fault_weight : float
        The weight of each enabled generated action (fault, restart, heal) against 1 for each enabled
        protocol step; 0 leaves faults out.  The fault budget still bounds how many happen.
    properties : list of str, optional
        Check only these properties (default: all; ``sometimes`` goals are not judged by walks).
    max_seconds : float, optional
        Stop starting runs after this many seconds; the verdict stays ``inconclusive``.
    shorten : bool
        Shorten a violation by bounded breadth-first search (default), or report the walk as found.
    shorten_max_states : int, optional
        The shortening search's state bound; when it is hit, the walk's own trace is reported.
    progress : callable, optional
        Called about every two seconds, and once when the
        walks end, with a :class:`SimulationProgress`.
    workers : int
        Processes (forked) that run the walks in chunks; the runs are merged in run order up to the
        first violation, so the result is the same for any number (unless ``max_seconds`` cuts it short).

    Returns
    -------
    SimulationResult
        ``violated`` with the replayed and shortened trace, or ``inconclusive``: never ``holds``.

    Raises
    ------
    InputError
        For arguments out of range (``runs`` or ``depth`` not positive, a negative or NaN weight).
    ModelError
        When a walk reaches a model error (an out-of-range assignment), with the walk that reaches it.
    """
    _check_arguments(runs, depth, fault_weight, max_seconds)
    selected = select_properties(spec, properties)
    compiled = compiled or compile_spec(spec)
    walker = _Walker(spec, compiled, selected, fault_weight, seed, depth)
    start = time.monotonic()
    deadline = None if max_seconds is None else start + max_seconds

    def report(acc: _Chunk) -> None:
        if progress is not None:
            progress(SimulationProgress(acc.runs, acc.steps, len(acc.seen), time.monotonic() - start))

    if workers > 1:
        acc = _merge(walker, _chunks_in_processes(walker, runs, workers, deadline, report))
    else:
        acc = walker.chunk(0, runs, deadline, report)
    report(acc)
    if acc.error is not None:
        binding, check, prop, path, y = acc.error
        raise _model_error(spec, CheckFailure(binding, check, prop), path, y)
    result = SimulationResult(INCONCLUSIVE, spec.name, runs=acc.runs, steps=acc.steps, distinct_states=len(acc.seen),
                              coverage=_coverage(spec, acc.fired), seed=seed, depth=depth, fault_weight=fault_weight,
                              seconds=time.monotonic() - start, states=frozenset(acc.seen))
    if acc.violation is None:
        reason = (f"time bound {max_seconds:g} s reached after {acc.runs:,} of {runs:,} runs" if acc.timed_out
                  else f"no violation in {acc.runs:,} runs of up to {depth:,} steps")
        return replace(result, reason=reason)
    prop, kind, path = acc.violation
    name = spec.properties[prop].name
    found = build_trace(spec, [(a, spec.unpack(x)) for a, x in path], name, kind)
    trace, shortened, note = found, False, ""
    if shorten:
        left = None if max_seconds is None else max(max_seconds - (time.monotonic() - start), 1.0)
        trace, shortened, note = _shorten(spec, compiled, name, found, shorten_max_states, left)
    return replace(result, verdict=VIOLATED, seconds=time.monotonic() - start, violated=name, found=found, counterexample=trace,
                   found_length=len(found), shortened=shortened, shorten_note=note)
