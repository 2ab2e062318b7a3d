"""The shipped models in ``model/``, checked against numbers from independent sources.

Every expected number here comes from outside ordercheck, never from a run of our own engine:

- TCommit, TwoPhase, DieHard: TLC's published results for the same TLA+ specifications
  (Lamport's TLA+ video course and the tlaplus/Examples repository, whose manifest records
  TLC's distinct-state counts and depths for these models).  TLC's depth is the number of BFS
  levels with the initial states as level 1, ordercheck's convention too.
- replication: verdicts and shortest-trace lengths derived by hand, written out in each test.

A few tests also run the reference interpreter (``ordercheck.lang.interpret``) directly: to
replay counterexamples independently of the engine that found them, to tell a wrong model from
a wrong engine when a TLC number does not match, and to prove ``TwoPhase.inductive_invariant``
inductive, which no engine checks yet.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import load_model_module

import ordercheck
from ordercheck.lang import invariant, spec_of
from ordercheck.lang.interpret import holds, successors
from ordercheck.lang.types import BoolType, FinType, IntType, SetType

twophase = load_model_module("twophase")
tcommit = load_model_module("tcommit")
diehard = load_model_module("diehard")
replication = load_model_module("replication")

RM3 = ("r1", "r2", "r3")
RM5 = ("r1", "r2", "r3", "r4", "r5")
RM6 = ("r1", "r2", "r3", "r4", "r5", "r6")


# ----------------------------------------------------------------------------- helpers


def assert_replays(model, trace):
    """``trace`` starts in an initial state and each step is a transition of ``model``, by the reference interpreter."""
    spec = spec_of(model)
    states = [spec.encode(step.state) for step in trace.steps]
    assert trace.steps[0].action is None
    assert states[0] in spec.init_states
    for before, after, step in zip(states, states[1:], trace.steps[1:]):
        assert any(
            b.action == step.action and b.params == tuple(step.params) and t == after for i, t in successors(spec, before) for b in [spec.bindings[i]]
        ), f"{step.label} does not lead from {spec.decode(before)} to {step.state}"


def reference_bfs(model):
    """(distinct states, BFS levels) by the reference interpreter: the initial states are level 1."""
    spec = spec_of(model)
    seen = set(spec.init_states)
    frontier = list(seen)
    levels = 1
    while True:
        nxt = []
        for state in frontier:
            for _, t in successors(spec, state):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        if not nxt:
            return len(seen), levels
        frontier = nxt
        levels += 1


def all_states(spec):
    """Every state that the variables' types allow (for proving a property inductive)."""
    ranges = []
    for slot in spec.slots:
        t = slot.type
        if isinstance(t, BoolType):
            ranges.append((False, True))
        elif isinstance(t, FinType):
            ranges.append(range(len(t.values)))
        elif isinstance(t, SetType):
            ranges.append(range(1 << len(t.domain.values)))
        else:
            assert isinstance(t, IntType)
            ranges.append(range(t.lo, t.hi + 1))
    return itertools.product(*ranges)


# ----------------------------------------------------------------------------- TCommit


def test_tcommit_three_rms_matches_tlc():
    """TLC on TCommit.tla with RM = {r1, r2, r3}: 34 distinct states, depth 7, TCConsistent holds."""
    r = ordercheck.check(tcommit.TCommit())
    assert r.verdict == "holds"
    assert r.counterexample is None
    assert r.stats.distinct_states == 34
    assert r.stats.depth == 7
    assert r.stats.generated_states >= r.stats.distinct_states


# ----------------------------------------------------------------------------- TwoPhase


def test_twophase_three_rms_matches_tlc():
    """TLC on TwoPhase.tla with three RMs: 288 distinct states, depth 11, TCConsistent holds."""
    r = ordercheck.check(twophase.TwoPhase())
    assert r.verdict == "holds"
    assert r.counterexample is None
    assert r.stats.distinct_states == 288
    assert r.stats.depth == 11
    assert r.stats.generated_states >= r.stats.distinct_states


def test_twophase_five_rms_matches_tlc():
    """TLC on TwoPhase.tla with five RMs: 8,832 distinct states, depth 17 (DESIGN.md section 2)."""
    r = ordercheck.check(twophase.TwoPhase(RM=RM5))
    assert r.verdict == "holds"
    assert r.stats.distinct_states == 8832
    assert r.stats.depth == 17


def test_twophase_six_rms_matches_tlc():
    """TLC on TwoPhase.tla with six RMs: 50,816 distinct states."""
    r = ordercheck.check(twophase.TwoPhase(RM=RM6))
    assert r.verdict == "holds"
    assert r.stats.distinct_states == 50816


def test_twophase_state_bound_is_inconclusive():
    """A bound below the 288 reachable states (TLC's count) cannot earn "holds" (DESIGN.md section 3)."""
    r = ordercheck.check(twophase.TwoPhase(), max_states=100)
    assert r.verdict == "inconclusive"
    assert r.counterexample is None


def test_twophase_checks_only_the_named_property():
    r = ordercheck.check(twophase.TwoPhase(), properties=["consistent"])
    assert r.verdict == "holds"
    assert r.stats.distinct_states == 288


@pytest.mark.parametrize(
    ("model", "distinct", "depth"),
    [(tcommit.TCommit(), 34, 7), (twophase.TwoPhase(), 288, 11)],
    ids=["TCommit-3", "TwoPhase-3"],
)
def test_reference_interpreter_matches_tlc(model, distinct, depth):
    """The models themselves are right: the reference semantics reach TLC's numbers without any engine."""
    assert reference_bfs(model) == (distinct, depth)


@pytest.mark.parametrize("rms", [("r1", "r2"), RM3], ids=["2-RMs", "3-RMs"])
def test_twophase_inductive_invariant_is_inductive(rms):
    """``inductive_invariant`` holds initially, is preserved by every action from every typed state
    (not only reachable ones) that satisfies it, and implies ``consistent``: so it proves TCConsistent."""

    class Probe(twophase.TwoPhase):
        @invariant
        def ind(s):
            return s.inductive_invariant()

    spec = spec_of(Probe(RM=rms))
    assert all(holds(spec, "ind", s) for s in spec.init_states)
    satisfying = 0
    for state in all_states(spec):
        if not holds(spec, "ind", state):
            continue
        satisfying += 1
        assert holds(spec, "consistent", state), spec.decode(state)
        for i, nxt in successors(spec, state):
            assert holds(spec, "ind", nxt), (spec.decode(state), spec.bindings[i].label)
    assert satisfying > 0


# ----------------------------------------------------------------------------- DieHard


def test_diehard_shortest_solution_has_seven_states():
    """TLC's shortest counterexample to NotSolved in DieHard.tla has 7 states, ending with big = 4.

    By hand: fill big (5,0), big to small (2,3), empty small (2,0), big to small (0,2),
    fill big (5,2), big to small (4,3): 6 moves after the initial (0,0).
    """
    model = diehard.DieHard()
    r = ordercheck.check(model)
    assert r.verdict == "violated"
    cex = r.counterexample
    assert cex is not None
    assert cex.property == "not_solved"
    assert cex.kind == "invariant"
    assert len(cex.steps) == 7
    assert r.stats.depth == 7
    assert cex.steps[0].state == {"big": 0, "small": 0}
    assert cex.steps[-1].state["big"] == 4
    assert all(step.state["big"] != 4 for step in cex.steps[:-1])
    assert_replays(model, cex)


def test_diehard_named_property():
    r = ordercheck.check(diehard.DieHard(), properties=["not_solved"])
    assert r.verdict == "violated"
    assert len(r.counterexample.steps) == 7


# ----------------------------------------------------------------------------- replication


@pytest.mark.parametrize("orders", [("o1",), ("o1", "o2")], ids=["one-order", "two-orders"])
def test_ack_before_replication_loses_an_acknowledged_order(orders):
    """Acknowledging after the primary's own fsync, before replication, loses an order on failover.

    The shortest counterexample has 6 states (5 steps), by hand from the model's actions:

    1. the initial state: db1 primary, every node alive and empty, nothing submitted;
    2. ``accept(o1)``: o1 in db1's memory;
    3. ``fsync(db1)``: o1 on db1's disk;
    4. ``ack(o1)``: the client is told o1 is stored (allowed: o1 is on the primary's disk);
    5. ``crash(db1)``: the primary goes down (the whole crash budget);
    6. ``promote(db2)`` (or db3): a replica without o1 becomes the live primary: violated.

    None is shorter: ``ack`` needs the order on the primary's disk, so ``accept`` and ``fsync``
    before it; disks never lose data, so the violation needs a new primary, and ``promote``
    needs the old one down, which only ``crash`` does.  A crash before the ack leaves no budget
    to take down the primary that acknowledges.  With two orders the same five steps, on either
    order, are shortest.
    """
    model = replication.AckBeforeReplication(ORDER=orders)
    r = ordercheck.check(model)
    assert r.verdict == "violated"
    cex = r.counterexample
    assert cex is not None
    assert cex.property == "acked_orders_on_primary"
    assert cex.kind == "invariant"
    assert len(cex.steps) == 6
    assert r.stats.depth == 6
    assert [step.action for step in cex.steps] == [None, "accept", "fsync", "ack", "crash", "promote"]
    order = dict(cex.steps[1].params)["o"]
    assert dict(cex.steps[2].params) == {"n": "db1"}
    assert dict(cex.steps[4].params) == {"n": "db1"}
    last = cex.steps[-1].state
    assert last["primary"] in ("db2", "db3")
    assert order in last["acked"]
    assert order not in last["disk"][last["primary"]]
    assert_replays(model, cex)


@pytest.mark.parametrize("orders", [("o1",), ("o1", "o2")], ids=["one-order", "two-orders"])
def test_ack_after_replication_keeps_every_acknowledged_order(orders):
    """Acknowledging only once every node has the order on disk: the invariant holds.

    By hand: when ``o`` is acknowledged, every node has it on disk; ``fsync`` only adds to a
    disk and no action removes from one (a crash clears memory only), so whichever node is or
    becomes primary has every acknowledged order on its disk.  The goal ``order_acknowledged``
    is met: accept, fsync(db1), replicate and fsync to db2 and db3, ack.
    """
    r = ordercheck.check(replication.AckAfterReplication(ORDER=orders))
    assert r.verdict == "holds"
    assert r.counterexample is None


@pytest.mark.parametrize("cls", ["AckBeforeReplication", "AckAfterReplication"])
def test_replication_orders_can_be_acknowledged(cls):
    """Neither design is vacuous: an acknowledgement is reachable (accept, fsync, ... , ack)."""
    r = ordercheck.check(getattr(replication, cls)(), properties=["order_acknowledged"])
    assert r.verdict == "holds"


def test_replication_models_stay_small():
    """The replication models are meant to be small: thousands of states at most (by the reference interpreter)."""
    for cls in (replication.AckBeforeReplication, replication.AckAfterReplication):
        distinct, _ = reference_bfs(cls(ORDER=("o1", "o2")))
        assert distinct < 10_000
