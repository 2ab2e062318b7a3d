"""The vectorized backend agrees with the compiled scalar backend, state by state and search by search.

* on random models (``strategies.random_models``), over every reachable state at once: the same
  successors as a multiset of (binding, successor) per state, the same rows failing a run-time check,
  the same invariant / goal / step-property masks;
* the level-synchronous search with the vectorized backend (forced onto arrays for every level)
  finds what the scalar search finds: verdicts, distinct and generated counts, depth, the length of
  each shortest counterexample and the model error with its trace, also with ``keep_going``,
  ``deadlock`` and state or depth bounds;
* the semantics corners by hand: simultaneous assignment, flooring ``//`` and ``%`` (by zero too),
  states wider than 64 bits (several words, slots across a word boundary), a model error found by
  a mask and reported by the scalar backend, and the ``device`` and ``backend`` choices.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import random_models

from ordercheck import Bool, Const, Elem, Int, MapOf, Model, ModelError, SetOf, Var, action, check, invariant, ite, require, sometimes, spec_of
from ordercheck.explicit.bfs import Bounds, explore
from ordercheck.explicit.compile import CheckFailure, compile_spec
from ordercheck.explicit.levels import explore_levels, plan_search
from ordercheck.explicit.vectorized import array_module, compile_vectorized, from_words, not_vectorizable, to_words
from ordercheck.lang.errors import InputError
from ordercheck.lang.spec import Spec

EXAMPLES = int(os.environ.get("ORDERCHECK_VECTORIZED_EXAMPLES", "100"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def reachable(spec: Spec) -> list[int]:
    """Every packed state reachable with the compiled backend (states whose expansion fails are kept, not expanded)."""
    c = compile_spec(spec)
    seen = dict.fromkeys(spec.pack(s) for s in spec.init_states)
    frontier = list(seen)
    while frontier:
        nxt = []
        for x in frontier:
            try:
                succ = c.successors(x)
            except CheckFailure:
                continue
            for _, y in succ:
                if y not in seen:
                    seen[y] = None
                    nxt.append(y)
        frontier = nxt
    return list(seen)


def assert_vectorized_agrees(spec: Spec) -> None:
    """Successors, check failures and property masks over every reachable state, as one batch."""
    c = compile_spec(spec)
    v = compile_vectorized(spec)
    states = reachable(spec)
    rows = to_words(states, v.words)
    out, bad = v.expand(*rows)
    got: dict[int, Counter[tuple[int, int]]] = {x: Counter() for x in states}
    for b, idx, ys in out:
        for i, y in zip(idx.tolist(), from_words(ys)):
            got[states[i]][(b, y)] += 1
    failing = {states[i] for arr in bad for i in arr.tolist()}
    for x in states:
        try:
            expected = c.successors(x)
        except CheckFailure:
            assert x in failing, f"a check fails in {spec.decode(spec.unpack(x))} on the scalar backend, not in the array code"
            continue
        assert got[x] == Counter(expected), f"successors of {spec.decode(spec.unpack(x))} differ"
    # properties: a failed check, else the same mark
    for kind, fn, props in (("invariants", c.invariants, c.invariant_props), ("goals", c.goals, c.goal_props)):
        fails, marks = getattr(v, kind)(*rows)
        for i, x in enumerate(states):
            try:
                m = fn(x)
            except CheckFailure:
                assert any(f is not None and bool(f[i]) for f in fails), f"{kind}: a check fails in {spec.decode(spec.unpack(x))}"
                continue
            for bit in range(len(props)):
                assert bool(marks[bit][i]) == bool(m >> bit & 1), f"{kind} {spec.properties[props[bit]].name} in {spec.decode(spec.unpack(x))}"
    if c.step_props:
        pairs = [(x, y) for x in states if x not in failing for _, y in c.successors(x)]
        if pairs:
            pre = to_words([x for x, _ in pairs], v.words)
            post = to_words([y for _, y in pairs], v.words)
            fails, marks = v.steps(*pre, *post)
            for i, (x, y) in enumerate(pairs):
                try:
                    m = c.steps(x, y)
                except CheckFailure:
                    assert any(f is not None and bool(f[i]) for f in fails)
                    continue
                for bit in range(len(c.step_props)):
                    assert bool(marks[bit][i]) == bool(m >> bit & 1)


def outcome(run: Any) -> tuple[Any, ...]:
    """What a search found, for comparing searches: a model error's trace, or the result's numbers and traces."""
    try:
        r = run()
    except ModelError as exc:
        assert exc.trace is not None
        return ("model-error", str(exc.message), exc.trace.steps)
    # the searches add states in the same order, so even the counterexamples are the same
    props = tuple((p.name, p.verdict, p.reason, None if p.counterexample is None else p.counterexample.steps) for p in r.properties)
    return (r.verdict, r.stats.distinct_states, r.stats.generated_states, r.stats.depth, r.reason, props)


def scalar_run(spec: Spec, **kw: Any) -> Any:
    return lambda: explore(spec, **kw)


def vector_run(spec: Spec, **kw: Any) -> Any:
    return lambda: explore_levels(spec, backend="vectorized", store="exact", small_level=0, chunk=64, **kw)


@SETTINGS
@given(random_models())
def test_vectorized_successors_and_masks_agree_on_random_models(gm):
    spec = spec_of(gm.model)
    assert not_vectorizable(spec) is None
    assert_vectorized_agrees(spec)


@SETTINGS
@given(random_models())
def test_vectorized_search_agrees_with_scalar_search(gm):
    spec = spec_of(gm.model)
    for kw in ({}, {"keep_going": True, "deadlock": True}, {"bounds": Bounds(max_states=17)}, {"bounds": Bounds(max_depth=3)}):
        assert outcome(vector_run(spec, **kw)) == outcome(scalar_run(spec, **kw)), kw


# ----------------------------------------------------------------------------- by hand


class Arith(Model):
    """Flooring division and remainder, by zero too, over negative values."""

    a = Var(Int(-3, 3), init=-3)
    b = Var(Int(-2, 2), init=-2)
    q = Var(Int(-4, 4), init=0)
    r = Var(Int(-3, 3), init=0)

    @action
    def step_a(s):
        s.a = ite(s.a < 3, s.a + 1, -3)

    @action
    def step_b(s):
        s.b = ite(s.b < 2, s.b + 1, -2)

    @action
    def divide(s):
        s.q = s.a // s.b
        s.r = s.a % s.b


def test_floor_division_and_remainder_like_python():
    spec = spec_of(Arith())
    assert_vectorized_agrees(spec)
    v = compile_vectorized(spec)
    states = [spec.pack(spec.encode({"a": a, "b": b, "q": 0, "r": 0})) for a in range(-3, 4) for b in range(-2, 3)]
    out, _ = v.expand(*to_words(states, 1))
    [(_, idx, ys)] = [o for o in out if spec.bindings[o[0]].action == "divide"]
    assert len(idx) == len(states)
    for y in from_words(ys):
        got = spec.decode(spec.unpack(y))
        a, b = got["a"], got["b"]
        assert (got["q"], got["r"]) == ((a // b, a % b) if b else (0, a))


class Wide(Model):
    """More than 64 bits of state (three words), with a set and an integer across word boundaries."""

    N = Const(tuple(f"n{i}" for i in range(9)))
    level = Var(MapOf(N, Int(0, 2)), init=0)  # 2 bits an entry
    big = Var(Int(0, 2**52), init=0)  # 53 bits
    seen = Var(SetOf(N), init=())  # with 5 nodes: bits 63..67, across bit 64
    big2 = Var(Int(0, 2**60), init=0)  # 61 bits: 68..128, across bit 128
    owner = Var(Elem(N), init="n0")

    @action(n=N)
    def bump(s, n):
        require(s.level[n] < 2)
        s.level[n] = s.level[n] + 1
        s.seen = s.seen.add(n)
        s.big = ite(s.big < 2**52 - 7, s.big + 7, 0)
        s.big2 = ite(s.big2 < 2**60 - 3, s.big2 + 3, 1)

    @action(n=N)
    def take(s, n):
        require(s.seen.has(n))
        require(s.owner != n)
        s.owner = n

    @action(n=N)
    def forget(s, n):
        require(s.seen.has(n) & (s.owner != n))
        s.seen = s.seen.remove(n)

    @invariant
    def few(s):
        return s.seen.count() < 4


def test_states_wider_than_64_bits():
    spec = spec_of(Wide(N=("n0", "n1", "n2", "n3", "n4")))
    assert spec.width > 64
    seen = next(s for s in spec.slots if s.var == "seen")
    big2 = next(s for s in spec.slots if s.var == "big2")
    assert seen.offset < 64 < seen.offset + seen.width and big2.offset < 128 < big2.offset + big2.width
    assert_vectorized_agrees(spec)
    for store in ("exact", "fingerprint"):
        assert outcome(vector_run(spec)) == outcome(scalar_run(spec))
        r = explore_levels(spec, store=store, small_level=0)
        assert r.extra["store"]["kind"] == store
    fp = explore_levels(spec, store="fingerprint", keep_going=True)
    assert 0 < fp.extra["store"]["collision_probability"] < 1e-9
    assert fp.stats.distinct_states == explore(spec, keep_going=True).stats.distinct_states


class Fails(Model):
    """A reachable out-of-range assignment: a model error, found by a mask and reported with the scalar trace."""

    x = Var(Int(0, 5), init=0)
    y = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        require(s.x < 5)
        s.x = s.x + 1

    @action
    def jump(s):
        require(s.x == 4)
        s.y = s.x  # 4 is outside 0..3


def test_model_error_found_by_the_array_code():
    spec = spec_of(Fails())
    with pytest.raises(ModelError) as scalar:
        explore(spec)
    with pytest.raises(ModelError) as vector:
        explore_levels(spec, small_level=0)
    assert str(vector.value) == str(scalar.value)
    assert vector.value.trace is not None and scalar.value.trace is not None
    assert len(vector.value.trace.steps) == len(scalar.value.trace.steps) == 5


class Goals(Model):
    x = Var(Int(0, 4), init=0)
    b = Var(Bool, init=False)

    @action
    def inc(s):
        require(s.x < 4)
        s.x = s.x + 1

    @action
    def flip(s):
        s.b = ~s.b

    @sometimes
    def reaches_three(s):
        return s.x == 3

    @sometimes
    def never(s):
        return (s.x == 4) & (s.x == 3)


def test_goals_and_deadlock():
    spec = spec_of(Goals())
    for kw in ({}, {"deadlock": True}, {"keep_going": True, "deadlock": True}):
        assert outcome(vector_run(spec, **kw)) == outcome(scalar_run(spec, **kw))


def test_check_picks_and_reports_the_backend():
    from conftest import load_model_module

    TwoPhase = load_model_module("twophase").TwoPhase
    small = check(TwoPhase())
    assert small.extra["backend"] == "scalar"
    model = TwoPhase(RM=("a", "b", "c", "d", "e"))
    big = check(model)
    assert big.extra["backend"] == "vectorized"
    assert (big.stats.distinct_states, big.stats.depth) == (8832, 17)
    forced = check(TwoPhase(), backend="vectorized")
    assert forced.extra["backend"] == "vectorized" and forced.stats.distinct_states == small.stats.distinct_states == 288
    assert check(model, backend="scalar").stats.generated_states == big.stats.generated_states


def test_device_and_backend_errors():
    assert array_module("cpu") is np
    try:
        import cupy  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="needs CuPy"):
            array_module("gpu")
    spec = spec_of(Fails())
    with pytest.raises(InputError, match="unknown backend"):
        plan_search(spec, backend="fast")
    with pytest.raises(InputError, match="gpu runs the vectorized backend"):
        plan_search(spec, backend="scalar", device="gpu")
    # symmetry reduction runs on every backend: auto keeps the scalar search, any other choice the level search
    assert not plan_search(spec, symmetry=True).levels
    assert plan_search(spec, backend="vectorized", symmetry=True).levels


class Huge(Model):
    x = Var(Int(0, 2**61), init=0)

    @action
    def double(s):
        require(s.x < 2**60)
        s.x = s.x * 4 // 2


def test_a_model_beyond_int64_falls_back_to_scalar():
    spec = spec_of(Huge())
    assert "beyond 64-bit" in (not_vectorizable(spec) or "")
    r = check(Huge(), backend="vectorized", max_states=50)
    assert r.extra["backend"] == "scalar" and "backend_note" in r.extra


def _gpu() -> bool:
    try:
        array_module("gpu")
    except InputError:
        return False
    return True


@pytest.mark.skipif(not _gpu(), reason="needs CuPy and a CUDA GPU")
def test_gpu_search_agrees_with_cpu():
    """The same array code on CuPy (run by benchmarks/gpu_check.sh on a GPU machine)."""
    from conftest import load_model_module

    TwoPhase = load_model_module("twophase").TwoPhase
    for spec in (spec_of(TwoPhase(RM=("a", "b", "c", "d", "e"))), spec_of(Goals()), spec_of(Arith())):
        for kw in ({}, {"keep_going": True, "deadlock": True}):
            assert outcome(lambda kw=kw, spec=spec: explore_levels(spec, device="gpu", small_level=0, chunk=1024, **kw)) == outcome(scalar_run(spec, **kw))
    wide = spec_of(Wide(N=("n0", "n1", "n2", "n3", "n4")))
    assert outcome(lambda: explore_levels(wide, device="gpu", store="fingerprint", small_level=0)) == outcome(scalar_run(wide))
    fails = spec_of(Fails())
    assert outcome(lambda: explore_levels(fails, device="gpu", small_level=0)) == outcome(scalar_run(fails))


def test_time_bound_makes_the_result_inconclusive():
    from conftest import load_model_module

    TwoPhase = load_model_module("twophase").TwoPhase
    spec = spec_of(TwoPhase(RM=("a", "b", "c", "d", "e", "f")))
    r = explore_levels(spec, bounds=Bounds(max_seconds=1e-9), small_level=0, chunk=256)
    assert r.verdict == "inconclusive" and r.reason.startswith("time bound")
    assert 0 < r.stats.distinct_states < 50816
