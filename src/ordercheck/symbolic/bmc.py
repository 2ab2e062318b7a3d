"""Bounded model checking: executions of 1, 2, ... N states, one depth at a time on one solver.

The path ``s0 .. s(k-1)`` stays asserted on a single Z3 solver and grows by one
state per depth; each question about the last state (a model error, a
violated property, a goal reached) is asked inside ``push``/``pop``, so the
solver keeps what it learnt from one depth to the next.  The first depth
with a violation is reported, so traces are shortest, as with breadth-first
search; depth counts states, the initial state being depth 1.

Verdicts:

- ``violated``: a trace, replayed on the reference semantics before it is reported;
- ``inconclusive (no violation up to depth N)`` otherwise: a bound is not a proof
  (use :func:`~ordercheck.symbolic.induction.induction` for one) ...
- ... except when no execution is longer than the bound: when no path of ``k``
  states exists at all, every reachable state has been checked and the
  invariants *hold* (and unreached ``sometimes`` goals are *violated*);
- ``sometimes`` goals: ``holds`` when a state satisfying the goal is reached
  within the bound, ``inconclusive`` otherwise;
- Z3 ``unknown`` or the time bound: ``inconclusive`` with the reason.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, require
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> r = bmc(Up(), depth=10)
>>> r.verdict, len(r.counterexample), r.stats.depth
('violated', 3, 3)
>>> bmc(Up(), depth=2).property("small").reason
'no violation up to depth 2'
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from ..lang.errors import InputError, interruption_in_c
from ..lang.model import Model, spec_of
from ..lang.spec import Spec, select_properties
from ..report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats
from .encode import Encoding
from .path import DEADLOCK, Obligation, Path, TimedSolver, model_error, obligation_of, violation_trace

__all__ = ["DepthStats", "bmc"]

STOPPED_EARLY = "not checked to the end: the search stopped at the first violation (check with keep_going=True / --continue)"


@dataclass
class DepthStats:
    """What one depth of a symbolic search cost: handed to a ``progress`` callback after each depth.

    ``depth`` is the number of states of the paths just checked (the initial
    state is depth 1); ``solver_seconds`` the time Z3 spent on this depth and
    ``checks`` its number of ``check`` calls; ``seconds`` the time since the
    search began; ``open`` how many properties are still undecided.  For
    k-induction (``engine == "induction"``) ``depth`` is ``k``, and the time
    covers both the base case and the induction step.
    """

    engine: str
    depth: int
    solver_seconds: float
    checks: int
    seconds: float
    open: int

    def __str__(self) -> str:
        what = "k" if self.engine == "induction" else "depth"
        return f"{self.engine}: {what} {self.depth}: {self.solver_seconds:.3f} s in Z3 ({self.checks} checks), {self.open} open, {self.seconds:.1f} s in all"


def as_spec(model: Model | Spec) -> Spec:
    """The spec of a model instance (a :class:`Spec` is returned as it is)."""
    return model if isinstance(model, Spec) else spec_of(model)


@dataclass(eq=False)
class Unrolling:
    """Bounded model checking of obligations and goals, advanced one depth at a time (see :func:`bmc`).

    :func:`~ordercheck.symbolic.induction.induction` runs one as its base case.
    """

    spec: Spec
    enc: Encoding
    obligations: list[Obligation]
    goals: list[Obligation]
    keep_going: bool = False
    timeout_s: float | None = None
    timed: TimedSolver = field(init=False)
    path: Path = field(init=False)
    depth: int = 0
    violations: dict[str, PropertyResult] = field(default_factory=dict)
    reached: dict[str, int] = field(default_factory=dict)
    exhausted: bool = False
    stopped_early: bool = False
    unknown: str = ""
    found_at_last_depth: bool = False  # some query had a model at the depth just checked

    def __post_init__(self) -> None:
        self.timed = TimedSolver(self.timeout_s)
        self.path = Path(self.enc, self.timed.solver, "s")
        self.active = list(self.obligations)
        self.open_goals = list(self.goals)
        self.binding_errors = self.enc.binding_errors()

    @property
    def done(self) -> bool:
        """Nothing is left to do: everything decided, the state space exhausted, stopped, or Z3 gave up."""
        # with nothing left to check, the search still goes on while an action may make a model error
        return self.exhausted or self.stopped_early or bool(self.unknown) or not (self.active or self.open_goals or self.binding_errors)

    def _query(self, formula: z3.BoolRef) -> z3.ModelRef | None:
        result, model = self.timed.query(formula)
        if result == z3.unknown:
            self.unknown = f"{self.timed.reason_unknown} at depth {len(self.path)}"
        return model

    def advance(self) -> None:
        """Check the paths of one more state: model errors, then violations, then goals, in the last state.

        Raises :class:`~ordercheck.lang.errors.ModelError` (with a trace) when a model error is reachable.
        """
        self.path.extend()
        k = len(self.path)
        states, enc = self.path.states, self.enc
        self.found_at_last_depth = False
        last = k - 1

        # model errors: an enabled binding fails a check or writes out of range; a property's check fails
        errors: list[tuple[Any, z3.BoolRef]] = [(b, enc.at(cond, states[last])) for b, cond in self.binding_errors]
        for ob in self.active + self.open_goals:
            ok = ob.ok_at(enc, states, last)
            if ok is not None:
                errors.append((ob, z3.Not(ok)))
        if errors:
            model = self._query(z3.Or([c for _, c in errors]))
            if self.unknown:
                return
            if model is not None:
                raw = self.path.decode(model)
                for what, cond in errors:
                    if z3.is_true(model.eval(cond, model_completion=True)):
                        if isinstance(what, Obligation):
                            if what.is_step:
                                raise model_error(self.spec, raw[:-1], prop=what, post=raw[-1][1])
                            raise model_error(self.spec, raw, prop=what)
                        raise model_error(self.spec, raw, binding=what)
                raise AssertionError("a model of the model-error query satisfies none of its disjuncts")

        # violations
        while self.active:
            terms = [(ob, cond) for ob in self.active if (cond := ob.at(enc, states, last)) is not None]
            if not terms:
                break
            model = self._query(z3.Or([z3.Not(c) for _, c in terms]))
            if self.unknown or model is None:
                break
            self.found_at_last_depth = True
            raw = self.path.decode(model)
            broken = [ob for ob, c in terms if z3.is_false(model.eval(c, model_completion=True))]
            assert broken, "a model of the violation query violates nothing"
            for ob in broken:
                self.active.remove(ob)
                self.violations[ob.name] = PropertyResult(ob.name, ob.kind, VIOLATED, violation_trace(self.spec, ob, raw))
                if not self.keep_going:
                    self.stopped_early = True
                    return
        if self.unknown:
            return

        # goals
        while self.open_goals:
            terms = [(ob, enc.at(ob.cond, states[last])) for ob in self.open_goals]
            model = self._query(z3.Or([c for _, c in terms]))
            if self.unknown or model is None:
                break
            self.found_at_last_depth = True
            for ob, c in terms:
                if z3.is_true(model.eval(c, model_completion=True)):
                    self.open_goals.remove(ob)
                    self.reached[ob.name] = k
        if self.unknown:
            return
        if not self.found_at_last_depth:
            # nothing found at this depth: is there a path of k states at all?  If not, every
            # reachable state lies within depth k - 1, and every one of them has been checked
            result = self.timed.check()
            if result == z3.unsat:
                self.exhausted = True
                return
            if result == z3.unknown:
                self.unknown = f"{self.timed.reason_unknown} at depth {k}"
                return
        # What was just shown to hold in every state at this depth is asserted there: it is implied,
        # so sound, and it prunes the search at the depths to come.
        known = [z3.Not(c) for _, c in errors]
        known += [c for ob in self.active if (c := ob.at(enc, states, last)) is not None]
        known += [z3.Not(enc.at(ob.cond, states[last])) for ob in self.open_goals]
        if known:
            self.timed.solver.add(*known)
        self.depth = k

    def verdict(self, ob: Obligation, bound: int) -> PropertyResult:
        """The result for ``ob`` once the search has stopped, ``bound`` being the depth asked for."""
        if ob.name in self.violations:
            return self.violations[ob.name]
        if ob.kind == "sometimes":
            if ob.name in self.reached:
                return PropertyResult(ob.name, ob.kind, HOLDS, reason=f"a state satisfying the goal is reachable (depth {self.reached[ob.name]})")
            if self.exhausted:
                return PropertyResult(ob.name, ob.kind, VIOLATED, reason="no reachable state satisfies the goal")
            return PropertyResult(ob.name, ob.kind, INCONCLUSIVE, reason=self.why_open(bound, "not reached"))
        if self.exhausted:
            return PropertyResult(ob.name, ob.kind, HOLDS, reason=self.exhausted_reason())
        return PropertyResult(ob.name, ob.kind, INCONCLUSIVE, reason=self.why_open(bound, "no violation"))

    def exhausted_reason(self) -> str:
        if self.depth == 0:
            return "the model has no initial state"
        return f"every reachable state was checked: no execution has more than {self.depth} state{'s' if self.depth != 1 else ''}"

    def why_open(self, bound: int, what: str) -> str:
        if self.unknown:
            return self.unknown
        if self.stopped_early:
            return STOPPED_EARLY
        return f"{what} up to depth {self.depth if self.depth < bound else bound}"


def property_obligations(spec: Spec, enc: Encoding, names: list[str] | None, deadlock: bool) -> tuple[list[Obligation], list[Obligation]]:
    """The obligations (invariants, step properties, deadlock) and goals of the selected properties."""
    obligations: list[Obligation] = []
    goals: list[Obligation] = []
    for i in select_properties(spec, names):
        p = spec.properties[i]
        ob = obligation_of(enc, p, in_spec=True)
        (goals if p.kind == "sometimes" else obligations).append(ob)
    if deadlock:
        obligations.append(Obligation(DEADLOCK, DEADLOCK, enc.enabled(), role=DEADLOCK))
    return obligations, goals


def bmc(model: Model | Spec, depth: int, *, properties: list[str] | None = None, keep_going: bool = False, deadlock: bool = False,
        timeout_s: float | None = None, progress: Callable[[DepthStats], None] | None = None) -> Result:
    """Bounded model checking of ``model`` for executions of up to ``depth`` states.

    Parameters
    ----------
    model : Model or Spec
        A model instance (or its traced spec).
    depth : int
        The longest execution checked, in states (the initial state is depth 1), as ``--depth N``.
    properties : list of str, optional
        Check only these properties (all by default).
    keep_going : bool
        Keep going after a violation: every violated property gets its own shortest trace.
    deadlock : bool
        Report a reachable state with no enabled action (a result named ``deadlock``).
    timeout_s : float, optional
        Wall-clock budget for the whole search; when it runs out the open properties are ``inconclusive``.
    progress : callable, optional
        Called after each depth with a :class:`DepthStats` (per-depth solver time).

    Returns
    -------
    Result
        Engine ``"bmc"``.  ``stats.depth`` is the deepest depth checked; ``stats.distinct_states``
        and ``stats.generated_states`` are 0 (BMC does not enumerate states).  ``extra["depth_seconds"]``
        lists the solver time of each depth.

    Raises
    ------
    ModelError
        A model error (a failed check, an integer assigned out of range) is reachable within the
        bound; its ``trace`` leads to the state where it happens.

    Examples
    --------
    >>> from ordercheck.lang import Model, Var, Bool, action, sometimes
    >>> class Flip(Model):
    ...     b = Var(Bool, init=False)
    ...     @action
    ...     def flip(s):
    ...         s.b = ~s.b
    ...     @sometimes
    ...     def on(s):
    ...         return s.b
    >>> bmc(Flip(), depth=3).property("on").reason
    'a state satisfying the goal is reachable (depth 2)'
    """
    if depth <= 0:
        raise InputError(f"the BMC depth must be positive, got {depth}")
    if timeout_s is not None and timeout_s <= 0:
        raise InputError(f"timeout_s must be positive, got {timeout_s}")
    spec = as_spec(model)
    start = time.monotonic()
    enc = Encoding(spec)
    obligations, goals = property_obligations(spec, enc, properties, deadlock)
    run = Unrolling(spec, enc, obligations, goals, keep_going=keep_going, timeout_s=timeout_s)
    depth_seconds: list[float] = []
    try:
        while not run.done and len(run.path) < depth:
            before, checks = run.timed.seconds, run.timed.checks
            run.advance()
            depth_seconds.append(run.timed.seconds - before)
            if progress is not None:
                open_ = len(run.active) + len(run.open_goals)
                progress(DepthStats("bmc", len(run.path), run.timed.seconds - before, run.timed.checks - checks, time.monotonic() - start, open_))
    except (KeyboardInterrupt, ctypes.ArgumentError) as exc:  # Ctrl-C or SIGTERM: what was found so far, inconclusive beyond it
        if not isinstance(exc, KeyboardInterrupt) and not interruption_in_c(exc):
            raise
        run.unknown = f"interrupted at depth {len(run.path)}"
    results = [run.verdict(ob, depth) for ob in obligations + goals]
    order = {p.name: i for i, p in enumerate(spec.properties)}
    results.sort(key=lambda r: order.get(r.name, len(order)))
    longest = max((len(r.counterexample) for r in results if r.counterexample is not None), default=0)
    stats = Stats(0, 0, max(run.depth, longest), time.monotonic() - start)
    # the result's reason, as the explicit engine's: the bound that left something open (a model error
    # beyond the bound stays possible even when there is no property to check)
    open_ = any(r.verdict == INCONCLUSIVE for r in results) or (not results and bool(run.binding_errors))
    reason = run.unknown or ("" if run.exhausted or run.stopped_early or not open_ else f"no violation up to depth {run.depth}")
    extra = {"derived_constants": spec.derived, "depth_seconds": depth_seconds, "solver_checks": run.timed.checks, "exhausted": run.exhausted}
    return Result(spec.name, dict(spec.constants), "bmc", results, stats, reason, extra)
