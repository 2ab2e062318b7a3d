"""Tolerance in one search gives what one search per k gives.

The oracle is ``method="per-budget"``: one plain search per ``k`` from 0 up, the way the
tolerance was measured before (an independent path through the engine: separate model
instances at each budget, each searched on its own).  The one-search method must give the
same ``k``, verdict, reason, failure set and breaking trace for every property of the
reference models, and the layered search must visit exactly the states of the model at each
budget (counted by separate searches of those models).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_model_module

from ordercheck import Const, Model, check, forall, spec_of, step_invariant
from ordercheck.design import load_design
from ordercheck.domain import Faults, Topology
from ordercheck.explicit import explore
from ordercheck.explicit.bfs import Layers
from ordercheck.tolerance import _instance, fault_tolerance, fault_tolerances

racks = load_model_module("racks")
replication = load_model_module("replication")

DESIGNS = Path(__file__).resolve().parent / "data" / "designs" / "ok"


def _models() -> list[object]:
    out: list[object] = []
    for module in (racks, replication):
        for name in dir(module):
            cls = getattr(module, name)
            if isinstance(cls, type) and cls.__module__ == module.__name__ and not name.startswith("_") and hasattr(cls, "__mro__"):
                try:
                    spec = spec_of(cls())
                except Exception:  # not a model class, or needs constants
                    continue
                if spec.extra.get("faults"):
                    out.append(pytest.param(cls, id=name))
    return out


def _same(a, b) -> None:
    assert (a.property, a.measure, a.k, a.verdict, a.reason, a.failure_set) == (b.property, b.measure, b.k, b.verdict, b.reason, b.failure_set)
    if a.breaking is None or b.breaking is None:
        assert a.breaking is None and b.breaking is None
        return
    ta, tb = a.breaking.counterexample, b.breaking.counterexample
    assert [(s.label, s.state) for s in ta.steps] == [(s.label, s.state) for s in tb.steps]


def _measurable(model) -> list[str]:
    result = check(model, keep_going=True)
    spec = spec_of(model)
    return [p.name for p in result.properties if p.kind in ("invariant", "step")
            and (spec.extra.get("faults") or p.name in spec.extra.get("survives_properties", []))]


@pytest.mark.parametrize("cls", _models())
def test_one_search_agrees_with_one_search_per_budget(cls):
    model = cls()
    props = _measurable(model)
    oracle = fault_tolerances(model, props, max_k=3, method="per-budget")
    for method in ("budget-layers", "each-budget"):
        one = fault_tolerances(model, props, max_k=3, method=method)
        for p in props:
            _same(one[p], oracle[p])


@pytest.mark.parametrize("path", sorted(DESIGNS.glob("*.toml")), ids=lambda p: p.stem)
def test_one_search_agrees_on_designs(path):
    model = load_design(path).model()
    props = _measurable(model)
    oracle = fault_tolerances(model, props, method="per-budget")
    for method in ("budget-layers", "each-budget"):
        one = fault_tolerances(model, props, method=method)
        for p in props:
            _same(one[p], oracle[p])


@pytest.mark.parametrize("cls", [racks.AckOnBothReplicasDisk, racks.AckOnOneReplicaDisk])
def test_layers_hold_exactly_the_states_of_each_budget(cls):
    """Layers 0..j of the search at budget 3 are the reachable states of the model at budget j.

    The counts at each budget come from separate plain searches of the models with that budget;
    the layered search packs ``faults_spent`` in the wider slot of budget 3, so the states are
    compared after unpacking (as values).
    """
    top = _instance(cls(), "fault_budget", 3)
    spec = spec_of(top)
    slot = next(s for s in spec.slots if s.var == "faults_spent")
    for j in range(4):
        layered = explore(spec, properties=[], layers=Layers(slot.offset, slot.width, j))
        plain = check(_instance(cls(), "fault_budget", j), properties=[])
        assert layered.stats.distinct_states == plain.stats.distinct_states
        assert layered.extra["layers"]["complete"] == j or layered.extra["layers"]["complete"] < j  # stops early when nothing is left


class SecondFaultStep(Model):
    """A step property broken only by a step that spends a fault while another node is down."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}, "c": {"role": "db"}}))
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=1)

    @step_invariant
    def one_down_at_a_time(s, t):
        return (t.faults_spent == s.faults_spent) | forall(s.NODE, lambda n: s.up[n])


def test_a_step_into_the_next_layer_counts_for_that_layer():
    """The violating step goes from a state with one fault spent into one with two: it belongs to budget 2.

    By hand: crash a (1 fault), then crash b while a is down (2 faults): the shortest breaking
    trace has 3 states, at budget 2, and every budget-1 execution has at most one node down
    when a fault happens, so the tolerance is 1.
    """
    t = fault_tolerance(SecondFaultStep(), "one_down_at_a_time", method="budget-layers")
    oracle = fault_tolerance(SecondFaultStep(), "one_down_at_a_time", method="per-budget")
    _same(t, oracle)
    assert t.k == 1 and len(t.breaking.counterexample.steps) == 3


def test_unknown_method_is_an_input_error():
    from ordercheck.lang.errors import InputError

    with pytest.raises(InputError, match="method"):
        fault_tolerance(racks.AckOnPrimaryDisk(), "acked_never_lost", method="fast")


@pytest.mark.parametrize("method", ["per-budget", "each-budget"])
def test_an_interrupted_search_ends_the_whole_measurement(method):
    # Ctrl-C or SIGTERM during one of the measurement's searches (the engines then return a partial result whose
    # reason starts with "interrupted") must not let the next search start: one search is made, every answer is
    # inconclusive and names the interruption.
    import dataclasses

    model = racks.AckOnBothReplicasDisk()
    props = _measurable(model)
    assert len(props) > 1
    calls = []

    def interrupted_search(spec, **options):
        calls.append(spec.name)
        result = explore(spec, **options)
        return dataclasses.replace(result, reason="interrupted after 3 states at depth 1")

    interrupted_search.levels = method == "each-budget"  # type: ignore[attr-defined]
    out = fault_tolerances(model, props, max_k=3, method=method, search=interrupted_search)
    assert len(calls) == 1
    for p in props:
        assert out[p].verdict == "inconclusive"
