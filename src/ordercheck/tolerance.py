"""Fault tolerance as a number: the largest k for which a property holds.

For an invariant that calls :func:`~ordercheck.domain.survives`, k is the
number of failures it must survive, at the model's declared fault budget.
For any other property it is the fault budget itself: the most faults one
execution may contain.  Both are monotone (a larger k or budget can only
break more), so the search raises k from 0 until the property breaks, and
reports the trace that breaks it at k + 1.

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

from dataclasses import dataclass, field
from typing import Any

from .api import check
from .domain.explain import explain_survives
from .lang.errors import InputError
from .lang.model import Model, spec_of
from .report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult

__all__ = ["Tolerance", "fault_tolerance"]


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


def fault_tolerance(model: Model, prop: str, *, max_k: int | None = None, **check_options: Any) -> Tolerance:
    """The fault tolerance of ``model`` for property ``prop``.

    ``max_k`` caps the search (default: the number of nodes); reaching it
    without a violation reports ``k = max_k`` with verdict ``holds`` and
    says so in ``reason``.  An inconclusive check along the way makes the
    answer inconclusive ("at least k").
    """
    spec = spec_of(model)
    if prop not in {p.name for p in spec.properties}:
        raise InputError(f"model {spec.name} has no property {prop!r}")
    faults = spec.extra.get("faults")
    structural = prop in spec.extra.get("survives_properties", [])
    if faults is None and not structural:
        raise InputError(f"model {spec.name} declares no faults (faults = Faults(...)), so it has no fault tolerance to measure")
    measure, option = ("k of survives", "survives_k") if structural else ("fault budget", "fault_budget")
    nodes = spec.constants.get(faults["nodes"]) if faults else None
    cap = max_k if max_k is not None else (len(nodes) if nodes is not None else 8)
    best: int | None = None
    for k in range(cap + 1):
        instance = _instance(model, option, k)
        result = check(instance, properties=[prop], **check_options)
        outcome = result.property(prop)
        if outcome.verdict == VIOLATED:
            failure = _failure_steps(outcome)
            if structural and outcome.counterexample is not None:
                # The failures are quantified inside the invariant, not taken in the trace: name them.
                failure = explain_survives(spec_of(instance).extra, result.constants, prop, outcome.counterexample.final_state)
            return Tolerance(prop, measure, best, outcome, VIOLATED if best is None else HOLDS,
                             f"holds up to {measure} {best}, breaks at {k}" if best is not None else f"breaks already at {measure} 0",
                             failure)
        if outcome.verdict == INCONCLUSIVE:
            return Tolerance(prop, measure, best, None, INCONCLUSIVE,
                             f"at least {best}; at {k}: {outcome.reason or result.reason}" if best is not None else outcome.reason)
        best = k
    return Tolerance(prop, measure, best, None, HOLDS, f"holds for every {measure} up to the cap {cap}")
