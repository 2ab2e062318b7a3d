"""Symmetry reduction (``ordercheck.explicit.symmetry``) against brute force.

The expected numbers come from code in this file that does not use the module under test: the
full reachable set is built with the reference interpreter (``lang.interpret.successors``), a
permutation acts on *decoded* states (Python values: labels, tuples, frozensets, dicts), and
the orbits are counted by trying every permutation.  Every verdict, and every counterexample
length, is compared with the unreduced search.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pytest
from conftest import load_model_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_models

from ordercheck import (
    Bool,
    Const,
    Elem,
    Enum,
    InputError,
    Int,
    MapOf,
    Model,
    ModelError,
    OneOf,
    SetOf,
    Var,
    action,
    check,
    exists,
    forall,
    invariant,
    ite,
    require,
    sometimes,
    spec_of,
    step_invariant,
)
from ordercheck.cli import main
from ordercheck.domain import Faults, Topology, never_lost, survives
from ordercheck.explicit.symmetry import MAX_GROUP_SIZE, build_symmetry, generators, prove_symmetric
from ordercheck.lang.interpret import CheckFailed, holds, successors
from ordercheck.lang.spec import Spec, State

# ----------------------------------------------------------------------------- brute force


def reachable(spec: Spec) -> set[State]:
    """Every reachable state of the unreduced model, by the reference interpreter."""
    seen = set(spec.init_states)
    frontier = list(seen)
    while frontier:
        nxt = []
        for x in frontier:
            for _, y in successors(spec, x):
                if y not in seen:
                    seen.add(y)
                    nxt.append(y)
        frontier = nxt
    return seen


def rename(value: Any, perm: dict[Any, Any]) -> Any:
    """A decoded value with every element of a symmetric domain renamed, inside tuples, sets and maps."""
    if isinstance(value, dict):
        return {rename(k, perm): rename(v, perm) for k, v in value.items()}
    if isinstance(value, frozenset):
        return frozenset(rename(v, perm) for v in value)
    if isinstance(value, (str, int)) and not isinstance(value, bool) and (type(value), value) in perm:
        return perm[(type(value), value)]
    if isinstance(value, tuple):
        return tuple(rename(v, perm) for v in value)
    return value


def permutations_of(domains: Iterable[tuple[Any, ...]]) -> list[dict[Any, Any]]:
    """Every element of the product of the full permutation groups of ``domains``."""
    factors = [[dict(((type(a), a), b) for a, b in zip(d, p)) for p in itertools.permutations(d)] for d in domains]
    out = []
    for combo in itertools.product(*factors):
        merged: dict[Any, Any] = {}
        for part in combo:
            merged.update(part)
        out.append(merged)
    return out


def act(spec: Spec, perm: dict[Any, Any], state: State) -> State:
    return spec.encode(rename(spec.decode(state), perm))


def count_orbits(spec: Spec, states: set[State], perms: list[dict[Any, Any]]) -> int:
    return len({min(act(spec, p, x) for p in perms) for x in states})


def automorphism_perms(topology: Topology) -> list[dict[Any, Any]]:
    return [{(str, a): b for a, b in auto.items()} for auto in topology.automorphisms()]


def _prop(spec: Spec, name: str, x: State, y: State | None = None) -> Any:
    try:
        return holds(spec, name, x, y)
    except CheckFailed:
        return "error"


def _succ(spec: Spec, x: State) -> Any:
    try:
        return {y for _, y in successors(spec, x)}
    except ModelError:
        return "error"


def asymmetry(spec: Spec, states: set[State], perms: list[dict[Any, Any]]) -> str | None:
    """A reason why the model is not symmetric on the orbits of ``states``, or None."""
    for x in states:
        sx = _succ(spec, x)
        for p in perms:
            gx = act(spec, p, x)
            for prop in spec.properties:
                if prop.kind != "step" and _prop(spec, prop.name, x) != _prop(spec, prop.name, gx):
                    return f"{prop.name} differs"
            sg = _succ(spec, gx)
            if sx == "error" or sg == "error":
                if sx != sg:
                    return "a check fails in one state only"
                continue
            if {act(spec, p, y) for y in sx} != sg:
                return "successors differ"
            for prop in spec.properties:
                if prop.kind == "step":
                    for y in sx:
                        if _prop(spec, prop.name, x, y) != _prop(spec, prop.name, gx, act(spec, p, y)):
                            return f"{prop.name} differs"
    return None


def verdicts(result: Any) -> dict[str, tuple[str, int | None]]:
    return {p.name: (p.verdict, None if p.counterexample is None else len(p.counterexample.steps)) for p in result.properties}


def assert_agrees(model: Model, symmetry: Any, perms: list[dict[Any, Any]], **options: Any) -> Any:
    """Reduced and unreduced searches agree; the reduced count is the brute-force orbit count.

    The reduced search runs twice: after the static proof (when it succeeds) and with every state checked."""
    spec = spec_of(model)
    plain = check(model, keep_going=True, **options)
    states = reachable(spec)
    assert len(states) == plain.stats.distinct_states
    orbits = count_orbits(spec, states, perms)
    for prove in (True, False):
        group = build_symmetry(spec, symmetry, prove=prove)
        reduced = check(model, keep_going=True, symmetry=group, **options)
        assert verdicts(reduced) == verdicts(plain)
        assert reduced.stats.distinct_states == orbits
        if reduced.extra["symmetry"]["initial_states_closed"]:
            assert reduced.stats.depth == plain.stats.depth
        else:  # an orbit is first reached by its nearest member; a farther one may set the unreduced depth
            assert reduced.stats.depth <= plain.stats.depth
        first = check(model, symmetry=group, **options)
        alone = check(model, **options)
        assert first.verdict == alone.verdict
        if alone.counterexample is not None:
            assert first.counterexample is not None and len(first.counterexample.steps) == len(alone.counterexample.steps)
        # the same reduction on every backend and store: the same orbits, depth, verdicts and trace lengths
        for combo in COMBOS:
            other = check(model, keep_going=True, symmetry=group, **combo, **options)
            assert (verdicts(other), other.stats.distinct_states, other.stats.depth) == (verdicts(reduced), orbits, reduced.stats.depth), combo
            assert [len(p.counterexample.steps) if p.counterexample else 0 for p in other.properties] == \
                [len(p.counterexample.steps) if p.counterexample else 0 for p in reduced.properties], combo
    return check(model, keep_going=True, symmetry=symmetry, **options)


COMBOS = [{"backend": "vectorized"}, {"backend": "scalar", "store": "fingerprint"}]


# ----------------------------------------------------------------------------- TwoPhase and other shipped models


def twophase(n: int) -> Model:
    return load_model_module("twophase").TwoPhase(RM=tuple(f"r{i}" for i in range(1, n + 1)))


def test_twophase_three_rms_counts_orbits():
    model = twophase(3)
    spec = spec_of(model)
    states = reachable(spec)
    assert len(states) == 288  # TLC
    orbits = count_orbits(spec, states, permutations_of([spec.constants["RM"]]))
    r = check(model, symmetry=["RM"])
    assert r.verdict == "holds" and r.stats.depth == 11
    assert r.stats.distinct_states == orbits == 80
    assert r.extra["symmetry"]["group_size"] == 6


def test_twophase_broken_gives_a_real_counterexample_of_the_same_length():
    tp = load_model_module("twophase").TwoPhase

    class EagerCommit(tp):  # commits once any RM is prepared: consistent is violated
        @action
        def tm_commit(s):
            require(s.tm_state == "init")
            require(~s.tm_prepared.is_empty())
            s.tm_state = "committed"
            s.msgs = s.msgs.add(("Commit",))

    broken = EagerCommit()
    reduced = assert_agrees(broken, ["RM"], permutations_of([spec_of(broken).constants["RM"]]))
    assert reduced.verdict == "violated"


def test_replication_models_reduce_over_nodes_and_orders():
    rep = load_model_module("replication")
    for cls, orders in ((rep.AckBeforeReplication, ("o1",)), (rep.AckAfterReplication, ("o1", "o2"))):
        model = cls(ORDER=orders)
        spec = spec_of(model)
        perms = permutations_of([spec.constants["NODE"], spec.constants["ORDER"]])
        r = assert_agrees(model, ["NODE", "ORDER"], perms)
        # The first node starts as primary, so the initial states are not closed under the group;
        # the model is symmetric all the same and the reduction stays exact.
        assert r.extra["symmetry"]["initial_states_closed"] is False
        assert r.stats.distinct_states < check(model, keep_going=True).stats.distinct_states


# ----------------------------------------------------------------------------- hand-written models


class Tokens(Model):
    """A token passed among processes; a step property, a goal and a deadlock."""

    P = Const(("p1", "p2", "p3"))
    MSG = Const(lambda m: [("token", p) for p in m.P] + [("stop",)])

    holder = Var(Elem(P), init=OneOf("p1", "p2", "p3"))
    count = Var(MapOf(P, Int(0, 2)), init=0)
    done = Var(SetOf(P), init=())
    sent = Var(SetOf(MSG), init=())

    @action(p=P, q=P)
    def pass_token(s, p, q):
        require(p != q)
        require((s.holder == p) & (s.count[p] < 2))
        s.count[p] = s.count[p] + 1
        s.holder = q
        s.sent = s.sent.add(("token", q))

    @action(p=P)
    def finish(s, p):
        require((s.holder == p) & ~s.done.has(p))
        s.done = s.done.add(p)

    @action
    def stop(s):
        require(s.done == s.P)
        require(~s.sent.has(("stop",)))
        s.sent = s.sent.add(("stop",))

    @invariant
    def few_passes(s):
        return exists(s.P, lambda p: s.count[p] < 2)

    @invariant
    def not_all_done(s):
        return s.done.count() < 3

    @step_invariant
    def holder_moves_on_sends(s, t):
        return (s.holder == t.holder) | t.sent.has(("token", t.holder))

    @sometimes
    def everyone_passed(s):
        return forall(s.P, lambda p: s.count[p] >= 1)


def test_hand_written_model_with_step_property_goal_and_deadlock():
    model = Tokens()
    r = assert_agrees(model, ["P"], permutations_of([Tokens.P.default]), deadlock=True)
    assert r.stats.distinct_states < check(model, keep_going=True).stats.distinct_states
    assert r.extra["symmetry"]["initial_states_closed"] is True
    assert {p.verdict for p in r.properties} == {"violated", "holds"}


class Counter(Model):
    """An out-of-range assignment, reached symmetrically: a model error either way."""

    P = Const(("p1", "p2"))
    n = Var(MapOf(P, Int(0, 2)), init=0)

    @action(p=P)
    def bump(s, p):
        s.n[p] = s.n[p] + 1


def test_model_error_is_reported_with_a_real_trace_under_symmetry():
    with pytest.raises(ModelError) as plain:
        check(Counter())
    with pytest.raises(ModelError) as reduced:
        check(Counter(), symmetry=["P"])
    assert "outside" in str(reduced.value)
    assert len(reduced.value.trace.steps) == len(plain.value.trace.steps)


class StepCheck(Model):
    P = Const(("p1", "p2", "p3"))
    lit = Var(SetOf(P), init=())

    @action(p=P)
    def turn_on(s, p):
        require(~s.lit.has(p))
        s.lit = s.lit.add(p)

    @step_invariant
    def at_most_two(s, t):
        return t.lit.count() <= 2


def test_step_property_counterexample_is_a_real_execution():
    model = StepCheck()
    r = check(model, symmetry=["P"])
    assert r.verdict == "violated"
    trace = r.counterexample
    assert trace is not None and trace.kind == "step" and len(trace.steps) == 4
    assert [s.action for s in trace.steps] == [None, "turn_on", "turn_on", "turn_on"]
    turned = [dict(s.params)["p"] for s in trace.steps[1:]]
    assert len(set(turned)) == 3


# ----------------------------------------------------------------------------- refusals


class NotSymmetricAction(Model):
    N = Const(("r1", "r2", "r3"))
    done = Var(SetOf(N), init=())

    @action(n=N)
    def go(s, n):
        require(n != "r1")
        s.done = s.done.add(n)


class NotSymmetricInvariant(Model):
    N = Const(("r1", "r2", "r3"))
    done = Var(SetOf(N), init=())

    @action(n=N)
    def go(s, n):
        s.done = s.done.add(n)

    @invariant
    def r2_never(s):
        return ~s.done.has("r2")


class NotSymmetricUpdate(Model):
    N = Const(("r1", "r2"))
    x = Var(MapOf(N, Bool), init=False)

    @action(n=N)
    def go(s, n):
        require(~s.x[n])
        s.x[n] = True
        s.x["r1"] = True


class NotSymmetricStep(Model):
    N = Const(("r1", "r2"))
    x = Var(Elem(N), init="r1")

    @action(n=N)
    def go(s, n):
        s.x = n

    @step_invariant
    def never_to_r2(s, t):
        return t.x != "r2"


class NotSymmetricGoal(Model):
    N = Const(("r1", "r2"))
    x = Var(Elem(N), init=OneOf("r1", "r2"))

    @action
    def stay(s):
        s.x = s.x

    @sometimes
    def at_r1(s):
        return s.x == "r1"


class OrderedPairs(Model):
    N = Const(("r1", "r2", "r3"))
    PAIR = Const(lambda m: [(a, b) for i, a in enumerate(m.N) for b in m.N[i + 1:]])
    cut = Var(SetOf(PAIR), init=())


@pytest.mark.parametrize("cls, words", [
    (NotSymmetricAction, ["action go", "go(n='r2')", "'r1' -> 'r2'", "no counterpart"]),
    (NotSymmetricInvariant, ["invariant r2_never", "not symmetric"]),
    (NotSymmetricUpdate, ["action go", "not symmetric"]),
    (NotSymmetricStep, ["step property never_to_r2", "not symmetric"]),
    (NotSymmetricGoal, ["goal at_r1", "not symmetric"]),
])
def test_a_model_that_is_not_symmetric_is_refused(cls, words):
    plain = check(cls())
    with pytest.raises(ModelError) as info:
        check(cls(), symmetry=["N"])
    text = str(info.value)
    for word in words:
        assert word in text, text
    assert "refused" in text
    assert info.value.trace is not None  # the trace reaching the state where it shows
    spec = spec_of(cls())
    assert asymmetry(spec, reachable(spec), permutations_of([spec.constants["N"]])) is not None
    assert plain.verdict in ("holds", "violated")


def test_a_derived_domain_that_is_not_closed_is_refused():
    with pytest.raises(ModelError, match=r"maps \('r2', 'r3'\), a value of variable cut .* to \('r3', 'r2'\), which is not one of its values"):
        check(OrderedPairs(), symmetry=["N"])


def test_bad_symmetry_options_are_input_errors():
    model = twophase(3)
    with pytest.raises(InputError, match="no constant 'XX'"):
        check(model, symmetry=["XX"])
    with pytest.raises(InputError, match="stands alone"):
        check(model, symmetry=["auto", "RM"])

    class Scalar(Model):
        K = Const(3)
        x = Var(Int(0, K), init=0)

    with pytest.raises(InputError, match="scalar"):
        check(Scalar(), symmetry=["K"])

    class Shared(Model):
        A = Const(("a", "b"))
        B = Const(("b", "c"))
        x = Var(Elem(A), init="a")

    with pytest.raises(InputError, match="share the element 'b'"):
        check(Shared(), symmetry=["A", "B"])


def test_a_group_over_the_limit_is_refused_with_advice():
    eight = twophase(8)
    with pytest.raises(InputError, match=r"40,320 permutations, more than the limit of 5,040.*fewer symmetric elements"):
        check(eight, symmetry="RM")
    assert MAX_GROUP_SIZE == 5040
    assert build_symmetry(spec_of(twophase(3)), "RM", max_group=6).size == 6
    with pytest.raises(InputError):
        build_symmetry(spec_of(twophase(3)), "RM", max_group=5)


def test_a_symmetry_built_for_another_instance_is_refused():
    sym = build_symmetry(spec_of(twophase(3)), ["RM"])
    with pytest.raises(InputError, match="another model instance"):
        check(twophase(3), symmetry=sym)
    model = twophase(3)
    assert check(model, symmetry=build_symmetry(spec_of(model), ["RM"])).stats.distinct_states == 80


# ----------------------------------------------------------------------------- topologies


def replicated(nodes: dict[str, dict[str, Any]], domain: str = "node") -> type[Model]:
    class Replicated(Model):
        NODE = Const(Topology.from_nodes(nodes))
        ORDER = Const(("o1",))
        stored = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
        acked = Var(SetOf(ORDER), init=())
        faults = Faults(crash=True, power_loss=True, disk_loss=True, budget=1, domain=domain)

        @action(o=ORDER, n=NODE, on="n")
        def store(s, o, n):
            require(~s.stored[n].has(o))
            s.stored[n] = s.stored[n].add(o)

        @action(o=ORDER)
        def ack(s, o):
            require(s.stored.holders(o).count() >= 2)
            s.acked = s.acked.add(o)

        @invariant
        def survives_one(s):
            return survives(s.acked, copies=s.stored, k=1, domain=domain)

        @invariant
        def not_lost(s):
            return never_lost(s.acked, copies=(s.stored,))

    return Replicated


INTERCHANGEABLE = {"db1": {"role": "primary", "rack": "r1"}, "db2": {"role": "replica", "rack": "r2"}, "db3": {"role": "replica", "rack": "r2"}}
RACKED = {"db1": {"role": "primary", "rack": "r1"}, "db2": {"role": "replica", "rack": "r1"}, "db3": {"role": "replica", "rack": "r2"}}


@pytest.mark.parametrize("domain", ["node", "rack"])
def test_interchangeable_replicas_reduce(domain):
    model = replicated(INTERCHANGEABLE, domain)()
    topology = spec_of(model).constants["NODE"].topology
    perms = automorphism_perms(topology)
    assert len(perms) == 2  # db2 <-> db3
    r = assert_agrees(model, "auto", perms)
    assert r.extra["symmetry"]["group_size"] == 2
    assert r.stats.distinct_states < check(model, keep_going=True).stats.distinct_states
    assert check(model, symmetry=["NODE"], keep_going=True).stats.distinct_states == r.stats.distinct_states


def test_replicas_in_different_racks_are_not_interchangeable():
    model = replicated(RACKED, "rack")()
    r = check(model, symmetry="auto", keep_going=True)
    assert r.extra["symmetry"]["group_size"] == 1
    assert r.stats.distinct_states == check(model, keep_going=True).stats.distinct_states
    assert "1 topology automorphism" in r.extra["symmetry"]["description"]


def test_lazy_automorphisms_agree_with_the_topology():
    """One enumeration serves the topology and the reduction; ``limit`` stops it early."""
    for nodes in (INTERCHANGEABLE, RACKED, {f"n{i}": {"role": "db"} for i in range(4)}):
        t = Topology.from_nodes(nodes)
        assert sorted(map(sorted, (d.items() for d in t.automorphisms(10_000)))) == sorted(map(sorted, (d.items() for d in t.automorphisms())))
    ring = Topology.from_nodes({f"n{i}": {"role": "db"} for i in range(4)}, links=[("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n3", "n0")])
    assert len(ring.automorphisms(100)) == 8  # the dihedral group of the square, not all 24 permutations
    assert len(Topology.from_nodes({f"n{i}": {"role": "db"} for i in range(6)}).automorphisms(5)) == 5  # 720 exist; 5 listed


def test_auto_without_a_topology_does_not_reduce():
    r = check(twophase(3), symmetry="auto")
    assert r.stats.distinct_states == 288 and r.extra["symmetry"]["group_size"] == 1


# ----------------------------------------------------------------------------- random symmetric models

LABELS = ("i", "w", "d")
ELEM_ATOMS = ("st", "cnt", "flag", "inS", "lead", "msg")
UPDATES = ("st", "cnt", "flag", "addS", "delS", "lead", "msg", "n", "done", "st_q", "clear_flags")


def _elem_atom(s: Any, kind: str, arg: int, x: Any) -> Any:
    if kind == "st":
        return s.st[x] == LABELS[arg % 3]
    if kind == "cnt":
        return s.cnt[x] < 1 + arg % 2
    if kind == "flag":
        return s.flag[x]
    if kind == "inS":
        return s.S.has(x)
    if kind == "lead":
        return s.lead == x
    return s.msgs.has(("m", x))


def _atom(s: Any, a: tuple[Any, ...], p: Any, q: Any) -> Any:
    form, kind, arg, neg = a
    if form == "p":
        e = _elem_atom(s, kind, arg, p)
    elif form == "q":
        e = _elem_atom(s, kind, arg, q)
    elif form == "forall":
        e = forall(s.P, lambda r: _elem_atom(s, kind, arg, r))
    elif form == "exists":
        e = exists(s.P, lambda r: _elem_atom(s, kind, arg, r))
    elif form == "lead_state":
        e = _elem_atom(s, kind, arg, s.lead) if kind != "lead" else s.lead == s.lead
    elif form == "count":
        e = s.S.count() >= arg % 3
    elif form == "n":
        e = s.n < 1 + arg % 3
    else:  # a literal element: breaks symmetry (drawn only when asymmetry is wanted)
        e = _elem_atom(s, kind, arg, "p1")
    return ~e if neg else e


def _update(s: Any, u: tuple[str, int], p: Any, q: Any) -> None:
    kind, arg = u
    if kind == "st":
        s.st[p] = LABELS[arg % 3]
    elif kind == "cnt":
        s.cnt[p] = ite(s.cnt[p] < 2, s.cnt[p] + 1, 0)
    elif kind == "flag":
        s.flag[p] = ~s.flag[p]
    elif kind == "addS":
        s.S = s.S.add(p)
    elif kind == "delS":
        s.S = s.S.remove(p)
    elif kind == "lead":
        s.lead = p
    elif kind == "msg":
        s.msgs = s.msgs.add(("m", p))
    elif kind == "n":
        s.n = ite(s.n < 3, s.n + 1, s.n)
    elif kind == "done":
        s.msgs = s.msgs.add(("done",))
    elif kind == "st_q":
        s.st[q] = LABELS[arg % 3]
    else:
        for r in s.P:
            s.flag[r] = False


@st.composite
def symmetric_models(draw: Any, asymmetric: bool = False) -> tuple[type[Model], dict[str, Any]]:
    """A small model over a domain P whose actions and properties treat the elements of P alike
    (unless ``asymmetric``, when some atoms name the literal element 'p1')."""
    n = draw(st.integers(2, 3))
    forms = ["p", "q", "forall", "exists", "lead_state", "count", "n"] + (["literal"] if asymmetric else [])
    atom = st.tuples(st.sampled_from(forms), st.sampled_from(ELEM_ATOMS), st.integers(0, 5), st.booleans())
    update = st.tuples(st.sampled_from(UPDATES), st.integers(0, 5))
    actions = draw(st.lists(st.tuples(st.integers(0, 2), st.lists(atom, max_size=2), st.lists(update, min_size=1, max_size=2)), min_size=1, max_size=4))
    invariants = draw(st.lists(st.lists(atom, min_size=1, max_size=2), max_size=2))
    steps = draw(st.lists(st.tuples(st.sampled_from(ELEM_ATOMS), st.integers(0, 5)), max_size=1))
    goals = draw(st.lists(st.lists(atom, min_size=1, max_size=2), max_size=1))
    lead_init = draw(st.sampled_from(["p1", "oneof"]))
    ns: dict[str, Any] = {
        "P": Const(("p1", "p2", "p3")),
        "MSG": Const(lambda m: [("m", p) for p in m.P] + [("done",)]),
    }
    ns["st"] = Var(MapOf(ns["P"], Enum(*LABELS)), init="i")
    ns["cnt"] = Var(MapOf(ns["P"], Int(0, 2)), init=0)
    ns["flag"] = Var(MapOf(ns["P"], Bool), init=False)
    ns["S"] = Var(SetOf(ns["P"]), init=())
    ns["lead"] = Var(Elem(ns["P"]), init="p1" if lead_init == "p1" else OneOf(*[f"p{i}" for i in range(1, n + 1)]))
    ns["msgs"] = Var(SetOf(ns["MSG"]), init=())
    ns["n"] = Var(Int(0, 3), init=0)

    def make_action(params: int, guard: list[Any], updates: list[Any]) -> Any:
        def body(s: Any, p: Any = None, q: Any = None) -> None:
            if params == 2 and p == q:
                require(False)
            for a in guard:
                require(_atom(s, a, p, q if params == 2 else p))
            for u in updates:
                _update(s, u, p, q if params == 2 else p)

        if params == 0:
            return action(lambda s: body(s, None, None)) if not any(a[0] in ("p", "q") for a in guard) and all(
                u[0] in ("n", "done", "clear_flags") for u in updates) else None
        if params == 1:
            return action(p=ns["P"])(lambda s, p: body(s, p, p))
        return action(p=ns["P"], q=ns["P"])(lambda s, p, q: body(s, p, q))

    count = 0
    for params, guard, updates in actions:
        decl = make_action(params, guard, updates)
        if decl is not None:
            ns[f"a{count}"] = decl
            count += 1
    if not count:
        ns["a0"] = action(p=ns["P"])(lambda s, p: _update(s, ("addS", 0), p, p))
    for i, atoms in enumerate(invariants):
        ns[f"inv{i}"] = invariant(_disjunction([a if a[0] not in ("p", "q") else ("forall",) + a[1:] for a in atoms]))
    for i, (kind, arg) in enumerate(steps):
        ns[f"step{i}"] = step_invariant(_monotone(kind, arg))
    for i, atoms in enumerate(goals):
        ns[f"goal{i}"] = sometimes(_disjunction([a if a[0] not in ("p", "q") else ("exists",) + a[1:] for a in atoms]))
    cls = type("Sym", (Model,), ns)
    return cls, {"P": tuple(f"p{i}" for i in range(1, n + 1))}


def _disjunction(atoms: list[Any]) -> Any:
    def prop(s: Any) -> Any:
        e = _atom(s, atoms[0], None, None)
        for a in atoms[1:]:
            e = e | _atom(s, a, None, None)
        return e

    return prop


def _monotone(kind: str, arg: int) -> Any:
    def prop(s: Any, t: Any) -> Any:
        return forall(s.P, lambda r: ~_elem_atom(s, kind, arg, r) | _elem_atom(t, kind, arg, r) | (t.n != s.n))

    return prop


FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(symmetric_models())
def test_random_symmetric_models_match_brute_force(drawn):
    cls, constants = drawn
    model = cls(**constants)
    spec = spec_of(model)
    perms = permutations_of([spec.constants["P"]])
    assert_agrees(model, ["P"], perms, deadlock=True)


@FAST
@given(symmetric_models(asymmetric=True))
def test_random_models_with_literals_are_refused_or_exact(drawn):
    cls, constants = drawn
    model = cls(**constants)
    spec = spec_of(model)
    perms = permutations_of([spec.constants["P"]])
    try:
        check(model, symmetry=["P"], keep_going=True)
    except ModelError:
        assert asymmetry(spec, reachable(spec), perms) is not None  # a refusal is always justified
        return
    assert_agrees(model, ["P"], perms)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(random_models(may_error=False))
def test_generated_models_are_refused_or_exact(gm):
    """The shared random models, symmetric in D or (mostly) not: never a wrong answer."""
    model = gm.instantiate()
    spec = spec_of(model)
    perms = permutations_of([spec.constants["D"]])
    try:
        plain = check(model, keep_going=True)
    except ModelError:
        with pytest.raises(ModelError):
            check(model, keep_going=True, symmetry=["D"])
        return
    try:
        reduced = check(model, keep_going=True, symmetry=["D"])
    except ModelError:
        assert asymmetry(spec, reachable(spec), perms) is not None
        return
    assert verdicts(reduced) == verdicts(plain)
    assert reduced.stats.distinct_states == count_orbits(spec, reachable(spec), perms)


def _proof_is_sound(spec: Spec, name: str) -> None:
    try:
        sym = build_symmetry(spec, [name])
    except ModelError:
        return  # a type that a permutation does not preserve: refused before any proof
    if prove_symmetric(sym, range(len(spec.properties))) is None:
        assert asymmetry(spec, reachable(spec), permutations_of([spec.constants[name]])) is None


@FAST
@given(symmetric_models(asymmetric=True))
def test_the_static_proof_is_sound_on_models_with_literals(drawn):
    cls, constants = drawn
    _proof_is_sound(spec_of(cls(**constants)), "P")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(random_models(may_error=False))
def test_the_static_proof_is_sound_on_generated_models(gm):
    _proof_is_sound(spec_of(gm.instantiate()), "D")


class Least(Model):
    """Symmetric, but its invariant computes a minimum in the order of the domain, which the static proof cannot reorder."""

    P = Const(("p1", "p2", "p3"))
    cnt = Var(MapOf(P, Int(0, 2)), init=0)

    @action(p=P)
    def bump(s, p):
        require(s.cnt[p] < 2)
        s.cnt[p] = s.cnt[p] + 1

    @invariant
    def someone_lags(s):
        least = s.cnt[s.P[0]]
        for p in s.P[1:]:
            least = ite(s.cnt[p] < least, s.cnt[p], least)
        return least <= 1


def test_how_the_model_was_shown_symmetric_is_recorded():
    assert check(twophase(3), symmetry="RM").extra["symmetry"]["verified"] == "statically"
    assert check(replicated(INTERCHANGEABLE, "rack")(), symmetry="auto").extra["symmetry"]["verified"] == "statically"
    least = Least()
    assert "someone_lags" in prove_symmetric(build_symmetry(spec_of(least), "P"), [0])
    assert prove_symmetric(build_symmetry(spec_of(least), "P"), []) is None  # the actions alone are proved
    r = assert_agrees(least, "P", permutations_of([Least.P.default]))
    assert r.extra["symmetry"]["verified"].startswith("on every state explored")
    assert r.verdict == "violated"


def test_generators_generate_the_group():
    sym = build_symmetry(spec_of(twophase(4)), "RM")
    assert len(generators(sym)) == 2
    ring = Topology.from_nodes({f"n{i}": {"role": "db"} for i in range(5)}, links=[(f"n{i}", f"n{(i + 1) % 5}") for i in range(5)])

    class Ring(Model):
        NODE = Const(ring)
        on_ = Var(SetOf(NODE), init=())

    sym = build_symmetry(spec_of(Ring()), "auto")
    assert sym.size == 10  # the dihedral group of the pentagon
    gens = [tuple(sym.rename(k, n) for n in ring.nodes) for k in generators(sym)]
    group = {tuple(ring.nodes)}
    frontier = list(group)
    while frontier:
        frontier = [h for g in frontier for p in gens for h in [tuple(p[ring.nodes.index(e)] for e in g)] if h not in group and not group.add(h)]
    assert len(group) == 10


def test_numpy_and_python_images_agree():
    spec = spec_of(twophase(4))
    fast = build_symmetry(spec, "RM", vectorize=True)
    slow = build_symmetry(spec, "RM", vectorize=False)
    assert fast.vectorized and not slow.vectorized
    for state in list(reachable(spec))[::7]:
        x = spec.pack(state)
        assert fast.images(x) == slow.images(x)
        assert fast.canonical(x) == slow.canonical(x) == min(slow.images(x))
        assert sorted(map(spec.pack, (act(spec, p, state) for p in permutations_of([spec.constants["RM"]])))) == sorted(slow.images(x))
    tokens = spec_of(Tokens())  # an Elem slot, a map of ints and sets over a derived domain of tuples
    fast, slow = build_symmetry(tokens, "P", vectorize=True), build_symmetry(tokens, "P", vectorize=False)
    for state in list(reachable(tokens))[::5]:
        x = tokens.pack(state)
        assert fast.images(x) == slow.images(x)


# ----------------------------------------------------------------------------- command line


def test_cli_symmetry_flag(tmp_path, capsys):
    path = str(load_model_module("twophase").__file__)
    assert main(["check", path, "--symmetry", "RM", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "80 distinct states" in out and "symmetry: RM: all 6 permutations; distinct states are orbits" in out
    assert main(["check", path, "--symmetry", "NOPE", "--quiet"]) == 2
    assert "no constant 'NOPE'" in capsys.readouterr().err


class WideCounters(Model):
    """States of 3 x 31 + 3 + 2 = 98 bits: slots straddle the 64-bit word boundary."""

    P = Const(("p1", "p2", "p3"))
    big = Var(MapOf(P, Int(0, 2**31 - 1)), init=0)
    seen = Var(SetOf(P), init=())
    lead = Var(Elem(P), init=OneOf("p1", "p2", "p3"))

    @action(p=P)
    def bump(s, p):
        require(s.big[p] < 3)
        s.big[p] = s.big[p] + 1
        s.seen = s.seen.add(p)

    @action(p=P)
    def lead_to(s, p):
        require(s.seen.has(p))
        s.lead = p


def test_wide_states_are_canonicalised_as_arrays():
    """The array canonical form of multi-word states is the scalar one (least packed integer of the orbit)."""
    import random

    from ordercheck.explicit.vectorized import from_words, to_words

    spec = spec_of(WideCounters())
    assert spec.width > 64
    sym = build_symmetry(spec, ["P"])
    rng = random.Random(7)
    values = []
    for _ in range(500):
        state = {"big": {p: rng.choice([0, 1, 2**30, 2**31 - 1, rng.randrange(2**31)]) for p in ("p1", "p2", "p3")},
                 "seen": frozenset(p for p in ("p1", "p2", "p3") if rng.random() < 0.5), "lead": rng.choice(["p1", "p2", "p3"])}
        values.append(spec.pack(spec.encode(state)))
    words = -(-spec.width // 64)
    assert from_words(sym.canonical_rows(to_words(values, words))) == [sym.canonical(v) for v in values]
    # and a whole search: the same orbits on the vectorized backend as on the scalar one, and as brute force
    model = WideCounters()
    orbits = count_orbits(spec, reachable(spec), permutations_of([spec.constants["P"]]))
    for options in ({}, {"backend": "vectorized"}, {"backend": "scalar", "store": "fingerprint"}):
        assert check(model, symmetry=["P"], **options).stats.distinct_states == orbits
