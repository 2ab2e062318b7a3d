"""The Z3 engines agree with the reference semantics and the explicit engine on random models.

* successors: from every reachable state, the models of one Z3 step (enumerated with blocking
  clauses) are exactly the reference successors ``interpret.successors``, binding by binding;
  a binding that makes a model error in the reference semantics is one in Z3 too; every
  property evaluates alike;
* BMC vs BFS: a property is violated at depth ``d`` by BMC exactly when breadth-first search
  reaches its first violation at depth ``d`` (the explicit engine's trace length; the
  reference state graph for goals, model errors and exhaustion);
* induction never proves what breadth-first search refutes, and what it refutes is refuted.

The random models come from ``strategies.random_models`` (all IR constructs, and models that may
make model errors); a failing example prints as the Python source of the model.
"""

from __future__ import annotations

import math

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_models

from ordercheck import ModelError, check, spec_of
from ordercheck.lang import interpret
from ordercheck.lang.interpret import CheckFailed
from ordercheck.lang.spec import Spec, State
from ordercheck.symbolic import Encoding, bmc, induction

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEPTH = 6
STATE_CAP = 400
INF = math.inf


# ----------------------------------------------------------------------------- the reference state graph


class Reference:
    """Breadth-first search on the reference interpreter, with what BMC should find at each depth.

    ``first[name]``: the depth of the first violation of an invariant / step property (states in the
    shortest trace), of the first deadlock (``"deadlock"``) or of the first state satisfying a goal.
    ``error_depth``: the first depth at which BMC (keep going) meets a model error: a binding that
    fails from a state of that depth, or a run-time check of a property still open there.
    ``longest``: the most states on any execution (``inf`` when there is a cycle).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.depth: dict[State, int] = {}
        self.succ: dict[State, list[tuple[int, State]]] = {}
        self.first: dict[str, float] = {p.name: INF for p in spec.properties}
        self.first["deadlock"] = INF
        errors: list[tuple[int, str | None]] = []  # (depth, property whose check fails or None for a binding)
        frontier = list(dict.fromkeys(spec.init_states))
        for s in frontier:
            self.depth[s] = 1
        d = 1
        while frontier:
            nxt = []
            for x in frontier:
                out = []
                enabled = False
                for i, b in enumerate(spec.bindings):
                    if interpret.enabled(b, x):
                        enabled = True
                        try:
                            out.append((i, interpret.fire(spec, b, x)))
                        except ModelError:
                            errors.append((d, None))
                self.succ[x] = out
                if not enabled:
                    self.first["deadlock"] = min(self.first["deadlock"], d)
                for p in spec.properties:
                    if p.kind == "step":
                        continue
                    try:
                        ok = interpret.holds(spec, p.name, x)
                    except CheckFailed:
                        errors.append((d, p.name))
                        continue
                    if (p.kind == "invariant") != ok:
                        self.first[p.name] = min(self.first[p.name], d)
                for _, y in out:
                    for p in spec.properties:
                        if p.kind != "step":
                            continue
                        try:
                            ok = interpret.holds(spec, p.name, x, y)
                        except CheckFailed:
                            errors.append((d + 1, p.name))
                            continue
                        if not ok:
                            self.first[p.name] = min(self.first[p.name], d + 1)
                    if y not in self.depth:
                        self.depth[y] = d + 1
                        nxt.append(y)
            frontier = nxt
            d += 1
        # a property's checks are evaluated while it is open: up to and including its first violation (or goal reached)
        relevant = [e for e, name in errors if name is None or e <= self.first[name]]
        self.error_depth = min(relevant, default=INF)
        self.any_error = bool(errors)
        self.longest = self._longest()

    def _longest(self) -> float:
        memo: dict[State, float] = {}
        on_stack: set[State] = set()

        def visit(x: State) -> float:
            if x in memo:
                return memo[x]
            if x in on_stack:
                return INF
            on_stack.add(x)
            best = 1 + max((visit(y) for _, y in self.succ.get(x, [])), default=0)
            on_stack.discard(x)
            memo[x] = best
            return best

        return max((visit(s) for s in dict.fromkeys(self.spec.init_states)), default=0)


# ----------------------------------------------------------------------------- successors, state by state


def z3_successors(enc: Encoding, state: State) -> list[tuple[int, object]]:
    """Every (binding, successor) of one Z3 step from the concrete ``state``; ``"error"`` for a model error."""
    solver = z3.Solver()
    x, y, fire = enc.new_state("x0"), enc.new_state("x1"), enc.new_fire("f")
    solver.add(enc.state_equals(x, state), enc.at(enc.valid, y), enc.at(enc.trans_ok, x, y, fire))
    out: list[tuple[int, object]] = []
    concrete = [enc.raw_value(i, v) for i, v in enumerate(state)]
    for b, cond in enc.binding_errors():
        value = z3.simplify(enc.at(cond, concrete))
        assert z3.is_true(value) or z3.is_false(value)
        if z3.is_true(value):
            out.append((b, "error"))
    while solver.check() == z3.sat:
        m = solver.model()
        b = enc.fired(m, fire)
        t = enc.decode(m, y)
        out.append((b, t))
        solver.add(z3.Not(z3.And(fire[b], enc.state_equals(y, t))))
    return sorted(out, key=repr)


def reference_successors(spec: Spec, state: State) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    for i, b in enumerate(spec.bindings):
        if interpret.enabled(b, state):
            try:
                out.append((i, interpret.fire(spec, b, state)))
            except ModelError:
                out.append((i, "error"))
    return sorted(out, key=repr)


@SETTINGS
@given(random_models())
def test_successor_relations_agree_state_by_state(gm):
    spec = spec_of(gm.model)
    enc = Encoding(spec)
    seen = dict.fromkeys(spec.init_states)
    frontier = list(seen)
    while frontier and len(seen) < STATE_CAP // 2:
        nxt = []
        for x in frontier:
            expected = reference_successors(spec, x)
            assert z3_successors(enc, x) == expected, f"from {spec.decode(x)}"
            concrete = [enc.raw_value(i, v) for i, v in enumerate(x)]
            for p in spec.properties:
                if p.kind == "step":
                    for _, y in expected:
                        if y == "error":
                            continue
                        post = [enc.raw_value(i, v) for i, v in enumerate(y)]  # type: ignore[arg-type]
                        _agree(enc, spec, p, x, y, enc.at(enc.prop(p), concrete, post), enc.at(enc.prop_ok(p), concrete, post))  # type: ignore[arg-type]
                    continue
                _agree(enc, spec, p, x, None, enc.at(enc.prop(p), concrete), enc.at(enc.prop_ok(p), concrete))
            for _, y in expected:
                if y != "error" and y not in seen:
                    seen[y] = None  # type: ignore[index]
                    nxt.append(y)
        frontier = nxt  # type: ignore[assignment]


def _agree(enc: Encoding, spec: Spec, p, x: State, y: State | None, cond: z3.BoolRef, ok: z3.BoolRef) -> None:
    value, checks = z3.simplify(cond), z3.simplify(ok)
    assert z3.is_bool(value) and (z3.is_true(value) or z3.is_false(value))
    try:
        expected = interpret.holds(spec, p.name, x, y)
    except CheckFailed:
        assert z3.is_false(checks), f"{p.name}: a check fails in the reference semantics, not in Z3"
        return
    assert z3.is_true(checks), f"{p.name}: a check fails in Z3, not in the reference semantics"
    assert z3.is_true(value) == expected, f"{p.name} in {spec.decode(x)}"


# ----------------------------------------------------------------------------- BMC vs BFS, depth by depth


@SETTINGS
@given(random_models(), st.integers(1, DEPTH))
def test_bmc_finds_a_violation_at_depth_d_exactly_when_bfs_does(gm, bound):
    spec = spec_of(gm.model)
    ref = Reference(spec)
    for depth in sorted({bound, DEPTH}):
        if ref.error_depth <= depth:
            try:
                bmc(spec, depth, keep_going=True, deadlock=True)
            except ModelError as exc:
                assert exc.trace is not None and exc.trace.kind == "model-error"
                assert len(exc.trace) in (ref.error_depth, ref.error_depth - 1)
            else:
                raise AssertionError(f"BFS meets a model error at depth {ref.error_depth}; BMC to depth {depth} does not")
            continue
        r = bmc(spec, depth, keep_going=True, deadlock=True)
        if r.extra["exhausted"]:
            assert ref.longest < depth and r.stats.depth == ref.longest
        elif ref.longest < depth:
            assert all(p.verdict != "inconclusive" for p in r.properties), "BMC misses that no execution is longer than the bound"
        for p in r.properties:
            first = ref.first[p.name]
            if p.kind == "sometimes":
                if first <= depth:
                    assert p.verdict == "holds" and p.reason.endswith(f"(depth {first})"), (p, first)
                else:
                    assert p.verdict == ("violated" if r.extra["exhausted"] else "inconclusive"), (p, first)
                continue
            if first <= depth:
                assert p.verdict == "violated" and len(p.counterexample) == first, (p.name, first, p)
            else:
                assert p.verdict == ("holds" if r.extra["exhausted"] else "inconclusive"), (p, first)
        if not ref.any_error:
            # the explicit engine's shortest traces give the same depths
            e = check(gm.model, keep_going=True, deadlock=True)
            for pe in e.properties:
                if pe.verdict == "violated" and pe.counterexample is not None:
                    assert len(pe.counterexample) == ref.first[pe.name]
                    pb = r.property(pe.name)
                    assert (pb.verdict == "violated") == (len(pe.counterexample) <= depth)
                if r.extra["exhausted"]:
                    assert r.property(pe.name).verdict == pe.verdict


# ----------------------------------------------------------------------------- induction is sound


@SETTINGS
@given(random_models())
def test_induction_never_proves_what_bfs_refutes(gm):
    spec = spec_of(gm.model)
    ref = Reference(spec)
    try:
        r = induction(spec, max_k=3, deadlock=True)
    except ModelError:
        assert ref.any_error, "induction reports a model error that the reference semantics never makes"
        return
    for p in r.properties:
        first = ref.first[p.name]
        if p.verdict == "holds" and p.kind != "sometimes":
            assert first == INF, f"induction proves {p.name}, which BFS violates at depth {first}"
            assert not ref.any_error, f"induction proves {p.name} in a model that reaches a model error"
        if p.verdict == "violated" and p.kind != "sometimes":
            assert len(p.counterexample) == first  # the base case is BMC: shortest traces
        if p.counterexample is not None and p.counterexample.kind == "induction":
            states = [spec.encode(step.state) for step in p.counterexample.steps]
            assert all(any(t == b for _, t in interpret.successors(spec, a)) for a, b in zip(states, states[1:]))
