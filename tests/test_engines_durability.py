"""The explicit and Z3 engines agree on the durability models (issue: "the same properties checked by
both engines, with the same verdicts").

For every property of the rack reference models and of the first two incident designs: where breadth-
first search finds a violation, bounded model checking finds it at the same depth (both give shortest
traces); where BFS explores every reachable state without one, BMC finds none up to the depth at which
BFS saw its last new state (the diameter), so the two verdicts cannot disagree within that bound.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_model_module

from ordercheck import check
from ordercheck.design import load_design
from ordercheck.symbolic import bmc

ROOT = Path(__file__).resolve().parent.parent
racks = load_model_module("racks")
RACK_MODELS = [racks.AckOnPrimaryDisk, racks.AckOnOneReplicaDisk, racks.AckOnBothReplicasDisk,
               racks.AckOnSameRackReplicaDisk, racks.AckOnOtherRackReplicaDisk]


def _agree(model: object) -> None:
    explicit = check(model, keep_going=True)  # type: ignore[arg-type]
    for p in explicit.properties:
        if p.kind == "sometimes":
            continue
        if p.counterexample is not None:
            symbolic = bmc(model, len(p.counterexample), properties=[p.name])  # type: ignore[arg-type]
            found = symbolic.property(p.name)
            assert found.verdict == "violated", (p.name, found.reason)
            assert len(found.counterexample) == len(p.counterexample), p.name
        else:
            assert p.verdict == "holds", (p.name, p.reason)
            symbolic = bmc(model, min(explicit.stats.depth, 12), properties=[p.name])  # type: ignore[arg-type]
            assert symbolic.property(p.name).verdict in ("holds", "inconclusive"), p.name
            assert symbolic.property(p.name).counterexample is None, p.name


@pytest.mark.parametrize("cls", RACK_MODELS, ids=lambda c: c.__name__)
def test_rack_models_same_verdicts_in_both_engines(cls: type) -> None:
    _agree(cls())


@pytest.mark.parametrize("design", ["hospital-1-app-tier-acks-from-memory.toml", "hospital-2-interface-queue-in-memory.toml"])
def test_incident_designs_same_violations_in_both_engines(design: str) -> None:
    d = load_design(ROOT / "model" / design)
    explicit = check(d.model(), keep_going=True)
    for p in explicit.properties:
        if p.counterexample is None:
            continue
        symbolic = bmc(d.model(), len(p.counterexample), properties=[p.name])
        found = symbolic.property(p.name)
        assert found.verdict == "violated" and len(found.counterexample) == len(p.counterexample), p.name
