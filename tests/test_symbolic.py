"""The Z3 engines on fixed cases: BMC, k-induction, vacuity, and the encoding of arithmetic.

Expected numbers come from outside the engine under test:

- DieHard: the shortest solution of the jugs puzzle has 6 moves, 7 states (TLC on DieHard.tla;
  Lamport's TLA+ course, lecture 4);
- the replication models: trace lengths derived by hand in ``model/replication.py`` (6 states
  for the lost order; 8 states to acknowledge an order once every node has fsynced it) and the
  explicit engine's breadth-first search;
- TwoPhase: ``inductive_invariant`` is Apalache's ``IndInv`` for TwoPhase (tlaplus/Examples),
  inductive by construction (``tests/test_models.py`` checks it over every typed state);
- everything else: small models whose answers are worked out in the comments.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import z3
from conftest import load_model_module

import ordercheck
from ordercheck import (
    Bool,
    Const,
    Enum,
    Int,
    MapOf,
    Model,
    ModelError,
    Var,
    action,
    implies,
    initial,
    invariant,
    require,
    sometimes,
    spec_of,
    step_invariant,
)
from ordercheck.lang import InputError, interpret, ir
from ordercheck.lang.spec import Slot, Spec
from ordercheck.lang.types import BoolType, FinType, IntType, SetType
from ordercheck.symbolic import DepthStats, Encoding, bmc, induction, vacuity
from ordercheck.symbolic.bmc import STOPPED_EARLY

diehard = load_model_module("diehard")
replication = load_model_module("replication")
twophase = load_model_module("twophase")


def encoded(spec, trace):
    return [spec.encode(step.state) for step in trace.steps]


def assert_execution(spec, trace, from_initial=True):
    """Each step of ``trace`` is a transition of ``spec`` by the reference interpreter."""
    states = encoded(spec, trace)
    if from_initial:
        assert states[0] in spec.init_states
    for before, after, step in zip(states, states[1:], trace.steps[1:]):
        assert any(spec.bindings[i].action == step.action and spec.bindings[i].params == step.params and t == after
                   for i, t in interpret.successors(spec, before)), step.label


# ----------------------------------------------------------------------------- BMC on the shipped models


def test_diehard_is_solved_by_bmc_in_seven_states():
    model = diehard.DieHard()
    r = bmc(model, depth=10)
    assert r.engine == "bmc"
    assert r.verdict == "violated"
    trace = r.counterexample
    assert trace.property == "not_solved" and trace.kind == "invariant"
    assert len(trace) == 7 and r.stats.depth == 7
    assert trace.final_state["big"] == 4
    assert_execution(spec_of(model), trace)
    assert len(ordercheck.check(model).counterexample) == 7  # the explicit engine agrees


def test_diehard_below_its_solution_depth_is_inconclusive():
    r = bmc(diehard.DieHard(), depth=6)
    assert r.verdict == "inconclusive"
    assert r.property("not_solved").reason == "no violation up to depth 6"
    assert r.reason == "no violation up to depth 6"
    assert r.stats.depth == 6 and len(r.extra["depth_seconds"]) == 6


def test_replication_lost_order_found_by_both_engines_with_the_same_length():
    model = replication.AckBeforeReplication()
    explicit = ordercheck.check(model)
    symbolic = bmc(model, depth=10)
    assert explicit.verdict == symbolic.verdict == "violated"
    assert len(explicit.counterexample) == len(symbolic.counterexample) == 6  # accept, fsync, ack, crash, promote
    trace = symbolic.counterexample
    assert [s.action for s in trace.steps[1:]] == ["accept", "fsync", "ack", "crash", "promote"]
    assert_execution(spec_of(model), trace)


def test_replication_fixed_design_acknowledges_at_depth_eight():
    # accept, fsync(db1), replicate to db2 and db3, fsync both, ack: 8 states
    r = bmc(replication.AckAfterReplication(), depth=8)
    assert r.property("order_acknowledged").verdict == "holds"
    assert r.property("order_acknowledged").reason.endswith("(depth 8)")
    assert r.property("acked_orders_on_primary").verdict == "inconclusive"
    r7 = bmc(replication.AckAfterReplication(), depth=7)
    assert r7.property("order_acknowledged").verdict == "inconclusive"
    assert r7.property("order_acknowledged").reason == "not reached up to depth 7"


def test_progress_reports_solver_time_per_depth():
    seen: list[DepthStats] = []
    bmc(diehard.DieHard(), depth=4, progress=seen.append)
    assert [d.depth for d in seen] == [1, 2, 3, 4]
    assert all(d.engine == "bmc" and d.solver_seconds >= 0 and d.checks >= 1 for d in seen)
    assert "depth 4" in str(seen[-1])


# ----------------------------------------------------------------------------- BMC semantics on small models


class TwoBugs(Model):
    """``x`` counts up; ``low`` fails at x = 2 (3 states), ``lower`` at x = 4 (5 states)."""

    x = Var(Int(0, 5), init=0)

    @action
    def inc(s):
        require(s.x < 5)
        s.x = s.x + 1

    @invariant
    def low(s):
        return s.x < 2

    @invariant
    def lower(s):
        return s.x < 4

    @step_invariant
    def small_steps(s, t):
        return t.x <= s.x + 1


def test_bmc_stops_at_the_first_violation_unless_keep_going():
    r = bmc(TwoBugs(), depth=10)
    assert r.property("low").verdict == "violated" and len(r.property("low").counterexample) == 3
    assert r.property("lower").verdict == "inconclusive" and r.property("lower").reason == STOPPED_EARLY
    r = bmc(TwoBugs(), depth=10, keep_going=True)
    assert len(r.property("low").counterexample) == 3 and len(r.property("lower").counterexample) == 5
    e = ordercheck.check(TwoBugs(), keep_going=True)
    assert [len(p.counterexample) for p in e.properties if p.counterexample] == [3, 5]


def test_bmc_exhausts_a_terminating_model_and_then_holds():
    # x goes 0..5 and stops: no execution has more than 6 states, so depth 7 has no path at all
    r = bmc(TwoBugs(), depth=20, properties=["small_steps"], deadlock=True, keep_going=True)
    assert r.property("small_steps").verdict == "holds"
    assert r.property("small_steps").reason == "every reachable state was checked: no execution has more than 6 states"
    assert r.property("deadlock").verdict == "violated" and len(r.property("deadlock").counterexample) == 6
    assert r.extra["exhausted"] and r.stats.depth == 6


class Goal(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        require(s.x < 2)
        s.x = s.x + 1

    @sometimes
    def three(s):
        return s.x == 3

    @sometimes
    def two(s):
        return s.x == 2


def test_goals_reached_hold_and_unreachable_ones_are_violated_only_when_exhausted():
    r = bmc(Goal(), depth=2)
    assert r.property("two").verdict == "inconclusive" and r.property("three").verdict == "inconclusive"
    r = bmc(Goal(), depth=10)
    assert r.property("two").verdict == "holds"
    assert r.property("three").verdict == "violated" and r.property("three").reason == "no reachable state satisfies the goal"
    assert ordercheck.check(Goal()).property("three").verdict == "violated"


class Overflow(Model):
    """``inc`` has no guard: at x = 3 it assigns 4, outside Int(0, 3): a model error from the 4th state."""

    x = Var(Int(0, 3), init=0)
    y = Var(Bool, init=False)

    @action
    def inc(s):
        s.x = s.x + 1

    @action
    def flip(s):
        s.y = ~s.y

    @invariant
    def fine(s):
        return s.x < 10


def test_a_reachable_model_error_is_raised_with_its_trace():
    with pytest.raises(ModelError) as explicit:
        ordercheck.check(Overflow())
    with pytest.raises(ModelError) as symbolic:
        bmc(Overflow(), depth=10)
    trace = symbolic.value.trace
    assert trace.kind == "model-error" and len(trace) == len(explicit.value.trace) == 4
    assert trace.final_state["x"] == 3
    assert "outside" in str(symbolic.value)
    # below the error's depth, BMC has nothing to report
    assert bmc(Overflow(), depth=3).verdict == "inconclusive"


def test_bmc_input_errors():
    with pytest.raises(InputError):
        bmc(TwoBugs(), depth=0)
    with pytest.raises(InputError):
        bmc(TwoBugs(), depth=3, properties=["nope"])


class PropertyCheck(Model):
    """``chosen_a`` indexes a map over ``SMALL`` by ``big``: a run-time check that fails once big == 'c'.

    ``big`` becomes 'c' only after ``x`` has counted to 3: the check fails first in the 5th state.
    """

    SMALL = Const(("a", "b"))
    x = Var(Int(0, 3), init=0)
    flag = Var(Bool, init=True)
    small = Var(Enum("a", "b"), init="a")
    big = Var(Enum("a", "b", "c"), init="a")
    seen = Var(MapOf(SMALL, Bool), init=True)

    @action
    def count(s):
        require(s.x < 3)
        s.x = s.x + 1

    @action
    def to_c(s):
        require(s.x == 3)
        s.big = "c"

    @invariant
    def chosen_a(s):
        return s.seen[s.big] & (s.small == "a")

    @step_invariant
    def steady(s, t):
        return t.seen[t.big] & (t.small == s.small)


def test_failed_property_checks_are_model_errors_in_every_engine():
    # an invariant's check fails in the 5th state; a step property's on the step into it, and
    # its trace ends in the state before that step (the explicit engine's convention)
    for prop, length in (("chosen_a", 5), ("steady", 4)):
        with pytest.raises(ModelError) as explicit:
            ordercheck.check(PropertyCheck(), properties=[prop])
        with pytest.raises(ModelError) as symbolic:
            bmc(PropertyCheck(), depth=8, properties=[prop])
        assert "is not one of" in str(symbolic.value) and f"property {prop}" in str(symbolic.value)
        assert len(symbolic.value.trace) == len(explicit.value.trace) == length
    assert bmc(PropertyCheck(), depth=4).verdict == "inconclusive"


def test_induction_proves_a_property_only_with_its_checks():
    # the condition of chosen_a is 1-inductive (small never changes), but its check is not:
    # a state with x = 3 leads to big = 'c'.  Up to k = 2 the base case meets no error, so the
    # property stays unproved (a counterexample to induction ends in the failed check) ...
    r = induction(PropertyCheck(), properties=["chosen_a"], max_k=2)
    p = r.property("chosen_a")
    assert p.verdict == "inconclusive" and p.counterexample.kind == "induction"
    assert p.counterexample.final_state["big"] == "c"
    # ... and with a deeper base case the error itself is found
    with pytest.raises(ModelError):
        induction(PropertyCheck(), properties=["chosen_a"], max_k=6)


# ----------------------------------------------------------------------------- solver unknown and timeouts


def test_time_bound_makes_open_properties_inconclusive():
    r = bmc(twophase.TwoPhase(), depth=30, timeout_s=1e-9)
    assert r.verdict == "inconclusive"
    assert r.property("consistent").reason.startswith("time bound 1e-09 s reached at depth")
    r = induction(twophase.TwoPhase(), timeout_s=1e-9)
    assert r.verdict == "inconclusive" and "time bound" in r.property("consistent").reason


def test_solver_unknown_is_inconclusive_with_the_reason(monkeypatch):
    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "incomplete quantifiers")
    r = bmc(diehard.DieHard(), depth=10)
    assert r.verdict == "inconclusive"
    assert r.property("not_solved").reason == "Z3 returned unknown (incomplete quantifiers) at depth 1"
    r = induction(diehard.DieHard())
    assert r.verdict == "inconclusive" and "Z3 returned unknown" in r.property("not_solved").reason


# ----------------------------------------------------------------------------- k-induction


class TwoPhaseWithLemma(twophase.TwoPhase):
    @invariant
    def ind(s):
        return s.inductive_invariant()


def test_twophase_consistency_is_proved_with_its_inductive_invariant_as_lemma():
    r = induction(TwoPhaseWithLemma(), properties=["consistent"], lemmas=["ind"])
    assert r.engine == "induction"
    assert r.verdict == "holds"
    assert r.property("consistent").reason == "proved by 1-induction (lemmas: ind)"
    assert r.extra["lemmas"] == {"ind": "holds"}
    assert [p.name for p in r.properties] == ["consistent"]


def test_twophase_five_rms_is_proved_too():
    model = TwoPhaseWithLemma(RM=("r1", "r2", "r3", "r4", "r5"))
    r = induction(model, properties=["consistent"], lemmas=["ind"])
    assert r.verdict == "holds"


def test_twophase_without_the_lemma_gives_a_counterexample_to_induction():
    model = twophase.TwoPhase()
    spec = spec_of(model)
    r = induction(model, max_k=2)
    assert r.verdict == "inconclusive"
    p = r.property("consistent")
    assert "counterexample to induction" in p.reason
    cti = p.counterexample
    assert cti.kind == "induction" and cti.property == "consistent" and len(cti) == 3  # k + 1 states
    states = encoded(spec, cti)
    assert [interpret.holds(spec, "consistent", s) for s in states] == [True, True, False]
    assert_execution(spec, cti, from_initial=False)
    # the first state is not reachable: the explicit engine proves consistent
    assert ordercheck.check(model).verdict == "holds"


def test_lemma_as_property_object():
    spec = spec_of(TwoPhaseWithLemma())
    lemma = dataclasses.replace(spec.property("ind"), name="strengthening")
    r = induction(twophase.TwoPhase(), lemmas=[lemma])
    assert r.verdict == "holds" and r.extra["lemmas"] == {"strengthening": "holds"}


class Even(Model):
    x = Var(Int(0, 10), init=0)

    @action
    def add2(s):
        require(s.x <= 8)
        s.x = s.x + 2

    @invariant
    def not_seven(s):
        return s.x != 7

    @invariant
    def even(s):
        return s.x % 2 == 0

    @invariant
    def below_eight(s):
        return s.x < 8


def test_induction_finds_real_violations_in_its_base_case():
    r = induction(Even(), max_k=6)
    # below_eight fails at x = 8, after 4 steps: a real counterexample of 5 states, not a CTI
    assert r.property("below_eight").verdict == "violated"
    assert len(r.property("below_eight").counterexample) == 5
    assert r.property("below_eight").counterexample.kind == "invariant"
    # even is 1-inductive; not_seven is proved together with it (Houdini keeps the pair)
    assert r.property("even").verdict == "holds" and r.property("not_seven").verdict == "holds"


def test_induction_deepens_until_the_step_holds():
    # not_seven alone: 7 is reached only from 5, 3, 1, and a simple path of those from a
    # state satisfying x != 7 exists for k <= 3 (1, 3, 5 -> 7); at k = 4 the fifth state
    # would need x = -1.  So 4-induction proves it without a lemma.
    r = induction(Even(), properties=["not_seven"], max_k=4)
    assert r.property("not_seven").verdict == "holds"
    assert r.property("not_seven").reason == "proved by 4-induction"
    r = induction(Even(), properties=["not_seven"], max_k=3)
    cti = r.property("not_seven").counterexample
    assert [step.state["x"] for step in cti.steps] == [1, 3, 5, 7]


class GuardedCounter(Model):
    """``y`` follows ``x``; y + 1 is in range only because y == x < 5 (not inductive alone for k < 6)."""

    x = Var(Int(0, 10), init=0)
    y = Var(Int(0, 10), init=0)

    @action
    def inc(s):
        require(s.x < 5)
        s.x = s.x + 1
        s.y = s.y + 5

    @invariant
    def bounded(s):
        return s.x <= 5


def test_unproved_run_time_checks_keep_induction_from_saying_holds():
    r = induction(GuardedCounter(), max_k=1)
    p = r.property("bounded")
    assert p.verdict == "inconclusive" and "model error" in p.reason
    assert p.counterexample.kind == "induction"
    assert r.extra["model_errors_proved_impossible"] is False
    # reachable: y = 5x, so y + 5 > 10 once x = 2: the base case finds the model error
    with pytest.raises(ModelError):
        induction(GuardedCounter(), max_k=4)


def test_step_invariants_are_proved_and_refuted():
    r = induction(TwoBugs(), properties=["small_steps"])
    assert r.property("small_steps").verdict == "holds"


def test_lemma_errors():
    with pytest.raises(InputError, match="no property 'nope'"):
        induction(Even(), lemmas=["nope"])
    with pytest.raises(InputError, match="lemma"):
        induction(Goal(), lemmas=["two"])
    with pytest.raises(InputError):
        induction(Even(), max_k=0)


# ----------------------------------------------------------------------------- vacuity


class Stuck(Model):
    x = Var(Int(0, 3), init=0)
    lamp = Var(Bool, init=False)

    @action
    def inc(s):
        require((s.x >= 1) & (s.x < 3))
        s.x = s.x + 1

    @action
    def toggle(s):
        s.lamp = ~s.lamp

    @invariant
    def safe(s):
        return implies(s.x == 3, s.x > 2)


class NoStart(Model):
    x = Var(Int(0, 3))

    @initial
    def start(s):
        require(False)
        s.x = 0

    @invariant
    def fine(s):
        return s.x < 3


def test_vacuity_findings():
    findings = vacuity(Stuck())
    assert "action inc is never enabled in a reachable state (proved by 1-induction)" in findings
    assert any(f.startswith("invariant safe holds vacuously") for f in findings)
    assert not any("toggle" in f for f in findings)
    assert vacuity(diehard.DieHard()) == []


def test_vacuity_no_initial_state():
    spec = spec_of(NoStart())
    assert spec.init_states == ()
    assert vacuity(NoStart()) == ["the initial condition is unsatisfiable: the model has no initial state, so every property holds vacuously"]
    r = bmc(NoStart(), depth=5)
    assert r.verdict == "holds" and r.property("fine").reason == "the model has no initial state"


def test_vacuity_bounded_finding_on_replication():
    # promote(db1) needs db1 alive while the primary is down; with one crash allowed that never happens
    findings = vacuity(replication.AckBeforeReplication(), depth=6)
    assert findings == ["promote(n='db1') is never enabled in a reachable state (within 6 states; not proved beyond)"]


# ----------------------------------------------------------------------------- the encoding of arithmetic


def probe_encoding(*types):
    """The encoding of a spec with one slot per type and nothing else, to evaluate expressions over."""
    slots = tuple(Slot(f"v{i}", (), t, 0) for i, t in enumerate(types))
    return Encoding(Spec("Probe", {}, (), slots, (), (), ()))


def evaluate_z3(enc, expr, state):
    """The value of ``expr`` in the concrete ``state`` through the Z3 encoding (by substitution and simplification)."""
    term = enc.at(enc.expr(expr), [enc.raw_value(i, v) for i, v in enumerate(state)])
    got = z3.simplify(term)
    if isinstance(expr.type, BoolType):
        assert z3.is_true(got) or z3.is_false(got)
        return z3.is_true(got)
    if isinstance(expr.type, IntType):
        return got.as_signed_long()
    return got.as_long()


@pytest.mark.parametrize("op", ["add", "sub", "mul", "floordiv", "mod", "neg", "lt", "le", "eq"])
def test_integer_operators_agree_with_python_on_every_pair(op):
    # every pair a in -7..7, b in -4..4: negative operands and zero divisors (x // 0 == 0, x % 0 == x)
    ta, tb = IntType(-7, 7), IntType(-4, 4)
    a, b = ir.var(0, ta), ir.var(1, tb)
    build = {"add": ir.add, "sub": ir.sub, "mul": ir.mul, "floordiv": ir.floordiv, "mod": ir.mod,
             "lt": ir.lt, "le": ir.le, "eq": ir.eq, "neg": lambda x, _: ir.neg(x)}[op]
    e = build(a, b)
    nested = ir.mod(ir.mul(e, b), ir.sub(a, b)) if isinstance(e.type, IntType) else e
    enc = probe_encoding(ta, tb)
    for state in itertools.product(range(-7, 8), range(-4, 5)):
        assert evaluate_z3(enc, e, state) == interpret.evaluate(e, state), (op, state)
        assert evaluate_z3(enc, nested, state) == interpret.evaluate(nested, state), (op, state)


def test_set_and_table_operators_agree_with_python():
    d = FinType(("a", "b", "c"))
    st = SetType(d)
    s, e = ir.var(0, st), ir.var(1, d)
    exprs = [ir.has(s, e), ir.with_(s, e), ir.without(s, e), ir.count(s), ir.union(s, ir.const(st, 5)), ir.diff(s, ir.const(st, 1)),
             ir.inter(s, ir.const(st, 6)), ir.subset(ir.const(st, 2), s), ir.eq(s, ir.const(st, 3)),
             ir.table(e, (3, -1, 0), IntType(-1, 3)), ir.table(e, (True, False, True), ir.BOOL), ir.table(e, (2, 0, 1), d),
             ir.bits(st, [ir.has(s, ir.const(d, 2)), ir.eq(e, ir.const(d, 0)), ir.TRUE]),
             ir.ite(ir.has(s, ir.const(d, 0)), e, ir.const(d, 2)), ir.add(ir.count(s), ir.table(e, (3, -1, 0), IntType(-1, 3)))]
    enc = probe_encoding(st, d)
    for state in itertools.product(range(8), range(3)):
        for x in exprs:
            assert evaluate_z3(enc, x, state) == interpret.evaluate(x, state), (x, state)
