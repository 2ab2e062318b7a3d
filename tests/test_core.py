"""One search, many parts: every successor backend, store and worker count with and without symmetry.

Each combination of the level-synchronous search (scalar or vectorized successors, exact or
fingerprint store, one or two workers) and of the scalar search is run with and without the
symmetry reduction, and must give the same verdicts, counts (orbits where reduced), depth and
shortest-trace lengths.  The expected numbers come from independent sources: TLC's published
count for TwoPhase (288 states, 11 levels, 3 RMs), a brute-force orbit count of the unreduced
state set computed by the reference interpreter, and the length of the shortest violating path
found by a plain breadth-first search over the reference interpreter's graph; traces are replayed
step by step on the reference semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import load_model_module
from test_agreement import _check_trace_replays
from test_symmetry import count_orbits, permutations_of, reachable

from ordercheck import Model, action, check, require, spec_of
from ordercheck.explicit import Bounds, explore
from ordercheck.explicit.levels import explore_levels
from ordercheck.explicit.symmetry import build_symmetry
from ordercheck.lang.interpret import holds, successors
from ordercheck.lang.spec import Spec
from ordercheck.report.result import Result

TwoPhase = load_model_module("twophase").TwoPhase


class EagerCommit(TwoPhase):  # commits once any RM is prepared: consistent is violated
    @action
    def tm_commit(s):
        require(s.tm_state == "init")
        require(~s.tm_prepared.is_empty())
        s.tm_state = "committed"
        s.msgs = s.msgs.add(("Commit",))


Search = Callable[..., Result]

SEARCHES: dict[str, Search] = {
    "bfs": lambda spec, **kw: explore(spec, **kw),
    "levels-scalar": lambda spec, **kw: explore_levels(spec, backend="scalar", store="exact", small_level=0, **kw),
    "levels-vectorized": lambda spec, **kw: explore_levels(spec, backend="vectorized", store="exact", small_level=0, **kw),
    "levels-vectorized-fingerprint": lambda spec, **kw: explore_levels(spec, backend="vectorized", store="fingerprint", small_level=0, chunk=64,
                                                                        **kw),
    "workers": lambda spec, **kw: explore_levels(spec, backend="scalar", store="exact", workers=2, small_level=2, chunk=16, **kw),
}


def _run(name: str, spec: Spec, reduced: bool, **kw: Any) -> Result:
    symmetry = build_symmetry(spec, ["RM"]) if reduced else None
    return SEARCHES[name](spec, symmetry=symmetry, **kw)


def _shortest_violation(spec: Spec, prop: str) -> int:
    """States in a shortest path to a state violating ``prop``, by BFS over the reference interpreter."""
    seen = set(spec.init_states)
    level = list(seen)
    depth = 1
    while level:
        if any(not holds(spec, prop, x) for x in level):
            return depth
        nxt = []
        for x in level:
            for _, y in successors(spec, x):
                if y not in seen:
                    seen.add(y)
                    nxt.append(y)
        level = nxt
        depth += 1
    raise AssertionError("no violation")


@pytest.fixture(scope="module")
def twophase3() -> tuple[Model, Spec, int]:
    model = TwoPhase(RM=("r1", "r2", "r3"))
    spec = spec_of(model)
    states = reachable(spec)
    assert len(states) == 288  # TLC
    return model, spec, count_orbits(spec, states, permutations_of([spec.constants["RM"]]))


@pytest.mark.parametrize("reduced", [False, True], ids=["plain", "symmetry"])
@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_every_combination_counts_the_same(twophase3, name, reduced):
    _, spec, orbits = twophase3
    r = _run(name, spec, reduced)
    assert r.verdict == "holds"
    assert r.stats.distinct_states == (orbits if reduced else 288)  # 80 orbits by brute force; 288 states (TLC)
    assert r.stats.depth == 11  # TLC
    if reduced:
        assert r.extra["symmetry"]["group_size"] == 6


@pytest.mark.parametrize("reduced", [False, True], ids=["plain", "symmetry"])
@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_every_combination_finds_a_real_shortest_trace(name, reduced):
    spec = spec_of(EagerCommit(RM=("r1", "r2", "r3")))
    shortest = _shortest_violation(spec, "consistent")
    r = _run(name, spec, reduced)
    assert r.verdict == "violated"
    trace = r.counterexample
    assert trace is not None and trace.property == "consistent"
    assert len(trace.steps) == shortest
    states = _check_trace_replays(spec, trace.steps)  # a real execution of the unreduced model
    assert not holds(spec, "consistent", states[-1])


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_bounds_and_keep_going_agree_across_combinations(name):
    spec = spec_of(TwoPhase(RM=("r1", "r2", "r3", "r4")))
    reference = explore(spec, symmetry=build_symmetry(spec, ["RM"]), keep_going=True, deadlock=True)
    r = _run(name, spec, True, keep_going=True, deadlock=True)
    assert (r.verdict, r.stats.distinct_states, r.stats.depth) == (reference.verdict, reference.stats.distinct_states, reference.stats.depth)
    bounded = _run(name, spec, True, bounds=Bounds(max_states=40))
    assert bounded.verdict == "inconclusive" and bounded.stats.distinct_states == 40


def test_check_runs_symmetry_on_the_vectorized_backend():
    model = TwoPhase(RM=("r1", "r2", "r3", "r4", "r5"))
    plain = check(model, symmetry=["RM"])
    for options in ({"backend": "vectorized"}, {"store": "fingerprint"}, {"workers": 2}):
        r = check(model, symmetry=["RM"], **options)
        assert (r.verdict, r.stats.distinct_states, r.stats.depth) == (plain.verdict, plain.stats.distinct_states, plain.stats.depth)
        assert r.extra["symmetry"]["verified"] == "statically"
