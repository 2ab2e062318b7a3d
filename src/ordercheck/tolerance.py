"""Fault tolerance as a number: the largest k for which a property holds.

For an invariant that calls :func:`~ordercheck.domain.survives`, k is the
number of failures it must survive, at the model's declared fault budget.
For any other property it is the fault budget itself: the most faults one
execution may contain.  Both are monotone (a larger k or budget can only
break more), and the answer is the trace that breaks k + 1.

Every k is answered by one search instead of one search per k:

- ``survives``'s k changes the invariant, not the states: one search of the
  model checks the invariant for every k from 0 to the cap at once (one
  property per k), and the smallest k it breaks is the answer.
- The fault budget is a shortest-path question over faults spent: the
  number of faults spent never decreases along a step, so the states
  reachable with budget j are the states of the model with the largest
  budget whose ``faults_spent`` is at most j.  One search ordered by faults
  spent (:class:`~ordercheck.explicit.bfs.Layers`: budget layers, each
  reusing the states of the layers before it) finds, for every property,
  the fewest faults that break it, and stops there.

The breaking trace is then taken from a plain search of the model at that k
(which stops at its first violation), so it is the same shortest trace a
search per k finds; ``method="per-budget"`` runs that search per k, the
way it was measured before, and serves as the oracle in the tests.  All
searches of one measurement run under the bounds of the whole run.

Examples
--------
>>> from ordercheck import Model, Const, Var, SetOf, MapOf, action, invariant, require
>>> from ordercheck.domain import Topology, Faults, never_lost
>>> class Mirror(Model):
...     NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
...     ORDER = Const(("o1",))
...     disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
...     acked = Var(SetOf(ORDER), init=())
...     faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)
...     @action(o=ORDER, n=NODE, on="n")
...     def store(s, o, n):
...         s.disk[n] = s.disk[n].add(o)
...     @action(o=ORDER)
...     def ack(s, o):
...         require(s.disk.holders(o).count() == 2)
...         s.acked = s.acked.add(o)
...     @invariant
...     def kept(s):
...         return never_lost(s.acked, copies=s.disk)
>>> t = fault_tolerance(Mirror(), "kept")
>>> t.k, t.measure, len(t.breaking.counterexample)
(1, 'fault budget', 6)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .domain.explain import explain_survives
from .explicit.bfs import Layers
from .explicit.limits import Bounds, validate_bounds
from .lang.errors import InputError
from .lang.model import Model, spec_of
from .lang.spec import Spec
from .report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats

__all__ = ["METHODS", "Tolerance", "fault_tolerance", "fault_tolerances"]

METHODS = ("auto", "budget-layers", "each-budget", "per-budget")


@dataclass
class Tolerance:
    """The largest ``k`` that holds (``None`` if even 0 breaks), and the result that breaks ``k + 1``."""

    property: str
    measure: str
    k: int | None
    breaking: PropertyResult | None
    verdict: str
    reason: str = ""
    failure_set: list[str] = field(default_factory=list)


def _instance(model: Model, option: str, value: int) -> Model:
    options = dict(model._ordercheck_options)
    options[option] = value
    return type(model)(**model._ordercheck_overrides, _ordercheck_options=options)


def _failure_steps(result: PropertyResult) -> list[str]:
    trace = result.counterexample
    if trace is None:
        return []
    faults = ("crash", "power_loss", "disk_loss", "partition")
    return [step.label for step in trace.steps if step.action in faults]


class _Run:
    """The searches of one measurement, under the bounds of the whole run."""

    def __init__(self, bounds: Bounds, progress: Callable[[Stats], None] | None, search: Callable[..., Result], states: int = 0) -> None:
        self.bounds = bounds if bounds.started is not None else bounds.but(started=time.monotonic())
        self.progress = progress
        self.search = search
        self.states = states
        self.interrupted = ""  # Ctrl-C or SIGTERM ended a search: it ends the whole measurement, not only that search

    def left(self) -> str:
        """Why no further search may start (a bound of the whole run is used up), or ``""``."""
        b = self.bounds
        if self.interrupted:
            return self.interrupted
        if b.max_states is not None and self.states >= b.max_states:
            return f"state bound {b.max_states:,} of the whole run reached after {self.states:,} states"
        if b.max_seconds is not None and b.started is not None and time.monotonic() - b.started > b.max_seconds:
            return f"time bound {b.max_seconds:g} s of the whole run reached"
        return ""

    def __call__(self, spec: Spec, properties: list[str], share: float = 1.0, **options: Any) -> Result:
        """Run one search; with ``share`` < 1 it may use only that share of the time left (the rest is kept for the traces)."""
        b = self.bounds
        bounds = b.but(max_states=None if b.max_states is None else b.max_states - self.states)
        if share < 1 and b.max_seconds is not None and b.started is not None:
            spent = time.monotonic() - b.started
            bounds = bounds.but(max_seconds=spent + share * max(0.0, b.max_seconds - spent))
        if "layers" in options:  # the layered order is a mode of the scalar search
            from .explicit.bfs import explore

            result = explore(spec, properties=properties, bounds=bounds, progress=self.progress, **options)
        else:
            result = self.search(spec, properties=properties, bounds=bounds, progress=self.progress, **options)
        self.states += result.stats.distinct_states
        if result.reason.startswith("interrupted"):
            self.interrupted = result.reason
        return result


def _breaking(run: _Run, instance: Model, prop: str, measure: str, k: int, best: int | None, structural: bool,
              found: Result | None = None) -> Tolerance:
    """The result at the first ``k`` that breaks ``prop``: from ``found`` (a search of ``instance`` that checked ``prop``
    to its first violation), else from a plain search at ``k``, which stops at its first violation."""
    spec = spec_of(instance)
    result = found
    if result is None:
        left = run.left()
        if left:
            return Tolerance(prop, measure, best, None, INCONCLUSIVE, _at_least(best, k, left, measure))
        result = run(spec, [prop])
    outcome = result.property(prop)
    if outcome.verdict != VIOLATED:
        why = outcome.reason or result.reason or "the search at this k found no violation (a bug in ordercheck: the measuring search found one)"
        return Tolerance(prop, measure, best, None, INCONCLUSIVE, _at_least(best, k, why, measure))
    failure = _failure_steps(outcome)
    if structural and outcome.counterexample is not None:
        # The failures are quantified inside the invariant, not taken in the trace: name them.
        failure = explain_survives(spec.extra, result.constants, prop, outcome.counterexample.final_state)
    return Tolerance(prop, measure, best, outcome, VIOLATED if best is None else HOLDS,
                     f"holds up to {measure} {best}, breaks at {k}" if best is not None else f"breaks already at {measure} 0", failure)


def _at_least(best: int | None, k: int, why: str, measure: str) -> str:
    return f"at least {best}; at {k}: {why}" if best is not None else why


def _same_states(a: Spec, b: Spec) -> bool:
    """Whether two instances have the same states and transitions' labels (so one search serves both)."""
    return (tuple((s.var, s.keys, s.type, s.offset) for s in a.slots) == tuple((s.var, s.keys, s.type, s.offset) for s in b.slots)
            and tuple(x.label for x in a.bindings) == tuple(x.label for x in b.bindings) and a.init_states == b.init_states)


def _structural(run: _Run, model: Model, props: list[str], cap: int) -> dict[str, Tolerance]:
    """``survives`` properties: every k from 0 to ``cap`` checked in one search of the model."""
    measure = "k of survives"
    instances = [_instance(model, "survives_k", k) for k in range(cap + 1)]
    specs = [spec_of(m) for m in instances]
    if not all(_same_states(specs[0], s) for s in specs[1:]):  # pragma: no cover - k changes only the invariant
        return {p: _per_budget(run, model, p, cap, True) for p in props}
    names = {(p, k): f"{p} [k={k}]" for p in props for k in range(cap + 1)}
    extra = tuple(dataclasses.replace(specs[k].property(p), name=names[p, k]) for p in props for k in range(cap + 1))
    combined = dataclasses.replace(specs[0], properties=specs[0].properties + extra)
    left = run.left()
    result = run(combined, list(names.values()), share=0.5, keep_going=True) if not left else None
    out: dict[str, Tolerance] = {}
    for p in props:
        best: int | None = None
        for k in range(cap + 1):
            if result is None:
                out[p] = Tolerance(p, measure, None, None, INCONCLUSIVE, left)
                break
            outcome = result.property(names[p, k])
            if outcome.verdict == VIOLATED:
                out[p] = _breaking(run, instances[k], p, measure, k, best, True)
                break
            if outcome.verdict == INCONCLUSIVE:
                out[p] = Tolerance(p, measure, best, None, INCONCLUSIVE, _at_least(best, k, outcome.reason or result.reason, measure))
                break
            best = k
        else:
            out[p] = Tolerance(p, measure, best, None, HOLDS, f"holds for every {measure} up to the cap {cap}")
    return out


def _budgets(run: _Run, model: Model, props: list[str], cap: int) -> dict[str, Tolerance]:
    """Other properties: one search of the model with budget ``cap``, ordered by faults spent."""
    measure = "fault budget"
    top = _instance(model, "fault_budget", cap)
    spec = spec_of(top)
    slot = next(s for s in spec.slots if s.var == "faults_spent" and not s.keys)
    left = run.left()
    if left:
        return {p: Tolerance(p, measure, None, None, INCONCLUSIVE, left) for p in props}
    # Three quarters of the time left: the plain searches that give the breaking traces run after it.
    result = run(spec, list(props), share=0.75, keep_going=True, layers=Layers(slot.offset, slot.width, cap))
    info = result.extra["layers"]
    complete: int = info["complete"]
    out: dict[str, Tolerance] = {}
    for p in props:
        b = info["violated"].get(p)
        if b is not None and b <= complete + 1:
            best = b - 1 if b > 0 else None
            out[p] = _breaking(run, _instance(model, "fault_budget", b), p, measure, b, best, False)
        elif complete >= cap or not result.reason:
            out[p] = Tolerance(p, measure, cap, None, HOLDS, f"holds for every {measure} up to the cap {cap}")
        else:
            best = complete if complete >= 0 else None
            out[p] = Tolerance(p, measure, best, None, INCONCLUSIVE, _at_least(best, complete + 1, result.reason, measure))
    return out


def _per_budget(run: _Run, model: Model, prop: str, cap: int, structural: bool) -> Tolerance:
    """One search per k, from 0 up (the way tolerance was first measured; the tests' oracle)."""
    measure, option = ("k of survives", "survives_k") if structural else ("fault budget", "fault_budget")
    best: int | None = None
    for k in range(cap + 1):
        left = run.left()
        if left:
            return Tolerance(prop, measure, best, None, INCONCLUSIVE, _at_least(best, k, left, measure))
        instance = _instance(model, option, k)
        result = run(spec_of(instance), [prop])
        outcome = result.property(prop)
        if outcome.verdict == VIOLATED:
            return _breaking(run, instance, prop, measure, k, best, structural)
        if outcome.verdict == INCONCLUSIVE:
            return Tolerance(prop, measure, best, None, INCONCLUSIVE, _at_least(best, k, outcome.reason or result.reason, measure))
        best = k
    return Tolerance(prop, measure, best, None, HOLDS, f"holds for every {measure} up to the cap {cap}")


def _each_budget(run: _Run, model: Model, props: list[str], cap: int) -> dict[str, Tolerance]:
    """Other properties, on a backend that expands whole levels at once: one search per budget for all the properties
    still open (each keeps its own shortest trace), stopping at the budget where the last of them breaks."""
    measure = "fault budget"
    out: dict[str, Tolerance] = {}
    open_ = list(props)
    for k in range(cap + 1):
        left = run.left()
        if left:
            for p in open_:
                best = k - 1 if k else None
                out[p] = Tolerance(p, measure, best, None, INCONCLUSIVE, _at_least(best, k, left, measure))
            return out
        instance = _instance(model, "fault_budget", k)
        result = run(spec_of(instance), open_, keep_going=True)
        still: list[str] = []
        for p in open_:
            best = k - 1 if k else None
            outcome = result.property(p)
            if outcome.verdict == VIOLATED:
                out[p] = _breaking(run, instance, p, measure, k, best, False, found=result)
            elif outcome.verdict == INCONCLUSIVE:
                out[p] = Tolerance(p, measure, best, None, INCONCLUSIVE, _at_least(best, k, outcome.reason or result.reason, measure))
            else:
                still.append(p)
        open_ = still
        if not open_:
            return out
    for p in open_:
        out[p] = Tolerance(p, measure, cap, None, HOLDS, f"holds for every {measure} up to the cap {cap}")
    return out


def fault_tolerances(model: Model, props: Sequence[str], *, max_k: int | None = None, bounds: Bounds | None = None,
                     progress: Callable[[Stats], None] | None = None, method: str = "auto",
                     search: Callable[..., Result] | None = None, states_before: int = 0) -> dict[str, Tolerance]:
    """The fault tolerance of ``model`` for each property in ``props`` (see the module docstring).

    Parameters
    ----------
    model : Model
        The model instance, at its declared fault budget.
    props : sequence of str
        Invariant or step properties.
    max_k : int, optional
        The cap (default: the number of nodes); reaching it without a violation reports
        ``k = max_k`` with verdict ``holds`` and says so in ``reason``.
    bounds : Bounds, optional
        The bounds of the whole measurement (every search in it counts against them);
        a bound reached makes the answer inconclusive ("at least k").
    progress : callable, optional
        Called every couple of seconds by each search with its :class:`Stats`.
    method : str
        For the fault budget: ``"budget-layers"`` (one search ordered by faults spent), ``"each-budget"`` (one search
        per budget for every property still open: faster where the search expands whole levels on arrays), ``"auto"``
        (the default: ``each-budget`` when ``search`` is a level search, ``budget-layers`` otherwise) or
        ``"per-budget"`` (one search per property and budget, the oracle).  ``survives`` is always measured in one search.
    search : callable, optional
        The explicit search, ``search(spec, properties=..., bounds=..., progress=..., keep_going=...)``
        (default: the scalar breadth-first search; the layered search is always the scalar one).
    states_before : int
        States the run explored before this measurement (they count against ``bounds.max_states``).
    """
    if method not in METHODS:
        raise InputError(f"unknown tolerance method {method!r}; choose one of {', '.join(METHODS)}")
    spec = spec_of(model)
    known = {p.name for p in spec.properties}
    for prop in props:
        if prop not in known:
            raise InputError(f"model {spec.name} has no property {prop!r}")
    faults = spec.extra.get("faults")
    structural = [p for p in props if p in spec.extra.get("survives_properties", [])]
    budget = [p for p in props if p not in structural]
    if budget and faults is None:
        raise InputError(f"model {spec.name} declares no faults (faults = Faults(...)), so it has no fault tolerance to measure")
    nodes = spec.constants.get(faults["nodes"]) if faults else None
    cap = max_k if max_k is not None else (len(nodes) if nodes is not None else 8)
    if search is None:
        from .explicit.bfs import explore

        search = explore
    run = _Run(bounds or Bounds(), progress, search, states_before)
    out: dict[str, Tolerance] = {}
    if method == "per-budget" or run.bounds.max_depth is not None:  # a depth bound is per search: the layered order has other depths
        for p in props:
            out[p] = _per_budget(run, model, p, cap, p in structural)
        return out
    if structural:
        out.update(_structural(run, model, structural, cap))
    if budget:
        # Budget layers in one search are the scalar search's mode; where whole levels are expanded at once (the
        # vectorized backend) one search per budget for every open property is faster on the shipped designs.
        each = method == "each-budget" or (method == "auto" and getattr(search, "levels", False))
        out.update(_each_budget(run, model, budget, cap) if each else _budgets(run, model, budget, cap))
    return {p: out[p] for p in props}


def fault_tolerance(model: Model, prop: str, *, max_k: int | None = None, max_states: int | None = None, max_seconds: float | None = None,
                    max_depth: int | None = None, max_memory: int | None = None, method: str = "auto",
                    progress: Callable[[Stats], None] | None = None) -> Tolerance:
    """The fault tolerance of ``model`` for property ``prop`` (:func:`fault_tolerances` for one property).

    ``max_k`` caps the search (default: the number of nodes); reaching it
    without a violation reports ``k = max_k`` with verdict ``holds`` and
    says so in ``reason``.  An inconclusive search along the way (a bound of
    the whole measurement reached) makes the answer inconclusive ("at least k").
    """
    validate_bounds(max_states=max_states, max_seconds=max_seconds, max_depth=max_depth, max_memory=max_memory)
    bounds = Bounds(max_states, max_seconds, max_depth, max_memory)
    return fault_tolerances(model, [prop], max_k=max_k, bounds=bounds, method=method, progress=progress)[prop]
