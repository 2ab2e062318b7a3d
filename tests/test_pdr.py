"""--engine pdr: Z3's Spacer (IC3/PDR) agrees with the explicit engine, and its answers are earned.

The expected verdicts and trace lengths come from the explicit engine (breadth-first search over
every reachable state), never from PDR's own output.  Every invariant PDR reports is also
evaluated on every state breadth-first search reaches: an inductive invariant holds in all of them.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
import z3
from conftest import load_model_module
from hypothesis import HealthCheck, given, settings
from strategies import random_models
from test_cli import run_cli
from test_symbolic_agreement import INF, Reference

from ordercheck import Int, Model, ModelError, Var, action, check, invariant, require, sometimes, spec_of
from ordercheck.lang.spec import Spec, State
from ordercheck.symbolic import Encoding, induction, pdr
from ordercheck.symbolic.bmc import property_obligations
from ordercheck.symbolic.pdr import recheck_invariant


def reachable(spec: Spec) -> list[State]:
    return list(Reference(spec).depth)


def holds_in(enc: Encoding, formula: z3.BoolRef, state: State) -> bool:
    """The Z3 formula over the template pre-state, evaluated on one concrete state."""
    pairs = [(x, enc.raw_value(i, v)) for i, (x, v) in enumerate(zip(enc.x, state))]
    return z3.is_true(z3.simplify(z3.substitute(formula, *pairs)))


def assert_agrees_with_explicit(model: Model) -> None:
    explicit = check(model, engine="explicit", keep_going=True)
    r = pdr(model, keep_going=True, timeout_s=60)
    for e in explicit.properties:
        p = r.property(e.name)
        assert p.verdict == e.verdict, (e.name, p.verdict, p.reason)
        if e.verdict == "violated" and e.kind != "sometimes":
            assert len(p.counterexample) == len(e.counterexample)  # both shortest


class Lockstep(Model):
    """Two counters that move together; ``y`` reaches 20 only with ``x``.

    k-induction without lemmas fails at every k <= 20: from the unreachable state x = 20 - k, y = 0
    there is a simple path of k states with x < 20 (so the property holds on them) whose next step
    reaches x = 20 with y = k != 20.  The reachable states are x = y = 0..20 (21 states, by hand),
    where the property holds; the inductive invariant x == y proves it.
    """

    x = Var(Int(0, 20), init=0)
    y = Var(Int(0, 20), init=0)

    @action
    def tick(s):
        require(s.x < 20)
        s.x = s.x + 1
        s.y = s.y + 1

    @action
    def reset(s):
        s.x = 0
        s.y = 0

    @invariant
    def top_together(s):
        return (s.x != 20) | (s.y == 20)


class Up(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        require(s.x < 3)
        s.x = s.x + 1

    @invariant
    def small(s):
        return s.x < 2

    @sometimes
    def two(s):
        return s.x == 2

    @sometimes
    def never_high(s):
        return s.x > 3


class Overflow(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        s.x = s.x + 1


def test_pdr_proves_what_k_induction_cannot_without_lemmas():
    model = Lockstep()
    assert check(model, engine="explicit").verdict == "holds"
    assert check(model, engine="explicit").stats.distinct_states == 21
    k_ind = induction(model, max_k=10)
    assert k_ind.verdict == "inconclusive"
    assert k_ind.property("top_together").counterexample.kind == "induction"
    r = check(model, engine="pdr")
    assert r.verdict == "holds" and r.engine == "pdr"
    assert r.property("top_together").reason.startswith("proved by PDR")
    assert r.extra["invariant_clauses"] and r.extra["invariant"]


def test_the_re_check_accepts_the_invariant_a_person_writes():
    spec = spec_of(Lockstep())
    enc = Encoding(spec)
    targets, _ = property_obligations(spec, enc, None, False)
    assert recheck_invariant(enc, enc.x[0] == enc.x[1], targets) == ""  # x == y, by hand


def test_a_wrong_invariant_does_not_re_check():
    spec = spec_of(Lockstep())
    enc = Encoding(spec)
    targets, _ = property_obligations(spec, enc, None, False)
    assert "initial states" in recheck_invariant(enc, enc.x[0] == 5, targets)
    assert "preserved" in recheck_invariant(enc, z3.ULE(enc.x[0], 3), targets)  # x <= 3 is not closed under tick
    assert "implies top_together" in recheck_invariant(enc, z3.BoolVal(True), targets)


@pytest.mark.parametrize("name, cls, constants", [
    ("twophase", "TwoPhase", {"RM": ("r1", "r2")}),
    ("diehard", "DieHard", {}),
    ("tcommit", "TCommit", {}),
    ("replication", "AckBeforeReplication", {}),
    ("replication", "AckAfterReplication", {}),
])
def test_shipped_models_agree_with_the_explicit_engine(name, cls, constants):
    model = getattr(load_model_module(name), cls)(**constants)
    assert_agrees_with_explicit(model)


def test_the_invariant_found_holds_in_every_state_bfs_reaches():
    model = load_model_module("tcommit").TCommit()
    spec = spec_of(model)
    r = pdr(model)
    assert r.verdict == "holds"
    # re-derive Spacer's invariant on a fresh encoding through the public result: every clause is over rm_state
    assert all("rm_state" in c for c in r.extra["invariant_clauses"])
    from ordercheck.symbolic.pdr import _Horn, _obligation_parts

    enc = Encoding(spec)
    targets, _ = property_obligations(spec, enc, None, False)
    horn = _Horn(enc, None)
    horn.add_goal(*_obligation_parts(enc, targets))
    assert horn.query() == z3.unsat
    inv = horn.invariant()
    states = reachable(spec)
    assert len(states) == check(model, engine="explicit").stats.distinct_states
    assert all(holds_in(enc, inv, s) for s in states)


def test_violations_are_shortest_and_goals_are_decided():
    r = pdr(Up(), keep_going=True)
    assert r.property("small").verdict == "violated"
    assert len(r.property("small").counterexample) == 3  # x = 0, 1, 2: by hand
    assert r.property("two").verdict == "holds"
    assert r.property("never_high").verdict == "violated"  # x never exceeds 3: Int(0, 3)
    assert r.property("never_high").counterexample is None


def test_stopping_at_the_first_violation_leaves_the_rest_open():
    r = pdr(Up())
    assert r.property("small").verdict == "violated"
    assert r.property("two").verdict == "inconclusive"
    assert "not checked to the end" in r.property("two").reason


def test_a_reachable_model_error_is_raised_with_its_trace():
    with pytest.raises(ModelError) as caught:
        pdr(Overflow())
    assert caught.value.trace.kind == "model-error" and len(caught.value.trace) == 4


def test_the_time_bound_gives_inconclusive():
    model = load_model_module("twophase").TwoPhase(RM=("r1", "r2", "r3", "r4", "r5"))
    r = check(model, engine="pdr", max_seconds=0.5)
    assert r.verdict == "inconclusive"
    assert "time bound" in r.reason and r.property("consistent").verdict == "inconclusive"


def test_ctrl_c_gives_inconclusive():
    model = load_model_module("twophase").TwoPhase(RM=("r1", "r2", "r3", "r4", "r5"))
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        r = check(model, engine="pdr", max_seconds=60)
    finally:
        timer.cancel()
    assert r.verdict == "inconclusive"
    assert r.reason == "interrupted"


def test_pdr_refuses_bmc_and_induction_options():
    with pytest.raises(Exception, match="finds its own invariant"):
        check(Lockstep(), engine="pdr", depth=3)


def test_cli_engine_pdr_prints_the_invariant(tmp_path):
    source = tmp_path / "lock.py"
    source.write_text(
        "from ordercheck import Int, Model, Var, action, invariant, require\n"
        "class Lockstep(Model):\n"
        "    x = Var(Int(0, 20), init=0)\n"
        "    y = Var(Int(0, 20), init=0)\n"
        "    @action\n"
        "    def tick(s):\n"
        "        require(s.x < 20)\n"
        "        s.x = s.x + 1\n"
        "        s.y = s.y + 1\n"
        "    @action\n"
        "    def reset(s):\n"
        "        s.x = 0\n"
        "        s.y = 0\n"
        "    @invariant\n"
        "    def top_together(s):\n"
        "        return (s.x != 20) | (s.y == 20)\n"
    )
    code, out, _ = run_cli("check", source, "--engine", "pdr")
    assert code == 0, out
    assert "inductive invariant for top_together (Spacer, re-checked)" in out
    code, _, err = run_cli("check", source, "--engine", "pdr", "--lemma", "top_together")
    assert code == 2 and "finds its own invariant" in err


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_models())
def test_pdr_never_proves_what_bfs_refutes(gm):
    spec = spec_of(gm.model)
    ref = Reference(spec)
    try:
        r = pdr(spec, keep_going=True, deadlock=True, timeout_s=20)
    except ModelError:
        assert ref.any_error, "PDR reports a model error that the reference semantics never makes"
        return
    assert not ref.any_error or all(p.verdict != "holds" or p.kind == "sometimes" for p in r.properties)
    for p in r.properties:
        first = ref.first[p.name]
        if p.verdict == "inconclusive":
            continue  # the time bound: no answer, no claim
        if p.kind == "sometimes":
            assert (p.verdict == "holds") == (first < INF), p.name
        else:
            assert (p.verdict == "holds") == (first == INF), f"PDR says {p.verdict} for {p.name}; BFS: first violation at {first}"
            if p.verdict == "violated":
                assert len(p.counterexample) == first  # BMC to the depth: shortest traces


# ----------------------------------------------------------------------------- design lemmas ([[check.lemma]])

LEMMA_DESIGN = """\
name = "two copies"
orders = 1
[[node]]
name = "db1"
role = "primary"
[[node]]
name = "db2"
role = "replica"
replication = "sync"
[protocol]
family = "replicated-log"
ack = "primary.disk and 1 of sync.disk"
[check]
faults = { kinds = ["crash", "disk-loss"], budget = 1 }
[[check.property]]
kind = "never_lost"
"""

LEMMA = """[[check.lemma]]
name = "two disks unless one was lost"
expr = "forall(ORDER, lambda o: implies(acked.has(o), disk.holders(o).count() + disk_losses >= 2))"
"""


def _lemma_design(tmp_path, lemma=LEMMA):
    from ordercheck.design import load_design

    path = tmp_path / "d.toml"
    path.write_text(LEMMA_DESIGN + lemma)
    return load_design(path)


def test_a_design_lemma_makes_k_induction_prove_what_it_cannot_alone(tmp_path):
    design = _lemma_design(tmp_path)
    # the lemma is true: the explicit engine checks it as an invariant of every reachable state
    assert check(design.model(), engine="explicit").property("two disks unless one was lost").verdict == "holds"
    alone = check(design.model(), engine="induction", depth=3, lemmas=[], properties=["never_lost"])
    assert alone.property("never_lost").verdict == "inconclusive"
    assert alone.property("never_lost").counterexample.kind == "induction"
    helped = check(design.model(), engine="induction", depth=3, properties=["never_lost"])  # the design's lemmas by default
    assert helped.property("never_lost").verdict == "holds"
    assert helped.property("never_lost").reason == "proved by 1-induction (lemmas: two disks unless one was lost)"
    # PDR needs no lemma (the design without one)
    assert pdr(_lemma_design(tmp_path, "").model(), properties=["never_lost"]).verdict == "holds"


@pytest.mark.parametrize("expr, message", [
    ("acked <=", "check.lemma[0].expr: not an expression"),
    ("acked <= nowhere", "check.lemma[0].expr: lemma 'l': NameError: name 'nowhere' is not defined"),
    ("acked.is_empty() and submitted.is_empty()", "check.lemma[0].expr: use &, | and ~"),
    ("acked.__class__", "check.lemma[0].expr: '__class__': names starting with _"),
    ("acked", "check.lemma[0].expr: lemma 'l': "),
])
def test_a_bad_lemma_expression_is_located(tmp_path, expr, message):
    from ordercheck.design import DesignError

    with pytest.raises(DesignError) as caught:
        _lemma_design(tmp_path, f'[[check.lemma]]\nname = "l"\nexpr = "{expr}"\n')
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'd.toml'}:{LEMMA_DESIGN.count(chr(10)) + 3}:")


def test_an_invariant_that_does_not_re_check_is_asked_for_again_then_inconclusive(monkeypatch):
    import sys

    module = sys.modules["ordercheck.symbolic.pdr"]

    real = module.recheck_invariant
    calls: list[int] = []

    def first_fails(*args, **kwargs):
        calls.append(1)
        return "bogus" if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(module, "recheck_invariant", first_fails)
    r = pdr(Lockstep())
    assert r.verdict == "holds" and r.extra["spacer_retries"] == ["bogus"] and r.extra["queries"] == 2
    monkeypatch.setattr(module, "recheck_invariant", lambda *args, **kwargs: "always bogus")
    r = pdr(Lockstep())
    assert r.verdict == "inconclusive" and r.reason == "always bogus"


def test_a_hard_property_does_not_keep_an_easy_one_from_its_proof():
    base = load_model_module("twophase").TwoPhase

    class TwoPhaseEasy(base):
        @invariant
        def commit_announced(s):
            """Inductive by itself: tm_commit sets both, and messages are never taken back."""
            return (s.tm_state != "committed") | s.msgs.has(("Commit",))

    model = TwoPhaseEasy(RM=("r1", "r2", "r3", "r4", "r5"))  # consistent takes Spacer about 100 s here
    r = check(model, engine="pdr", max_seconds=8)
    assert r.property("commit_announced").verdict == "holds"
    assert r.property("consistent").verdict == "inconclusive" and "time bound" in r.property("consistent").reason
    assert list(r.extra["invariants"]) == ["commit_announced"]
    small = TwoPhaseEasy(RM=("r1", "r2"))
    assert check(small, engine="explicit").property("commit_announced").verdict == "holds"
