"""The durability domain: topologies, media, generated faults, placement, properties and the oracle.

Expectations are derived by hand from DESIGN.md section 4 (the contract) on tiny models, never
copied from a run.  Fault semantics are tested one transition at a time on the reference
interpreter (``ordercheck.lang.interpret``: an action's enabledness and its successor from a
state written out here), and a few whole checks confirm that the explicit engine sees the same.

Tests marked ``xfail(strict=True)`` document problems in ``src/`` described in
``.notes/domain-helper.md``; they start passing (and so fail as XPASS) once fixed.
"""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordercheck import Bool, Const, Elem, Int, MapOf, Model, ModelError, SetOf, Var, action, check, invariant, require, spec_of
from ordercheck.domain import (
    Faults,
    Topology,
    never_lost,
    no_duplicates,
    registered_or_rejected,
    single_primary,
    survives,
    visible_after_failover,
)
from ordercheck.domain.oracle import failure_units, min_failure_set, min_failure_set_brute_force
from ordercheck.lang import interpret

NOTES = "see .notes/domain-helper.md: "

# ----------------------------------------------------------------------------- helpers: one transition at a time


def initial(model):
    """The (only) initial state of ``model``, decoded, with ``changes`` applied."""
    spec = spec_of(model)
    assert len(spec.init_states) == 1
    return spec.decode(spec.init_states[0])


def with_(state, **changes):
    """A copy of ``state`` with some variables replaced; a dict value replaces only the entries it names."""
    out = dict(state)
    for name, value in changes.items():
        out[name] = {**state[name], **value} if isinstance(value, dict) else value
    return out


def labels_enabled(model, state):
    spec = spec_of(model)
    encoded = spec.encode(state)
    return {b.label for b in spec.bindings if interpret.enabled(b, encoded)}


def fire(model, state, label):
    """The successor of ``state`` by the binding labelled ``label``, which must be enabled."""
    spec = spec_of(model)
    encoded = spec.encode(state)
    for b in spec.bindings:
        if b.label == label:
            assert interpret.enabled(b, encoded), f"{label} is not enabled in {state}"
            return spec.decode(interpret.fire(spec, b, encoded))
    raise AssertionError(f"no binding {label}; there are {sorted(b.label for b in spec.bindings)}")


def holds(model, prop, state):
    spec = spec_of(model)
    return interpret.holds(spec, prop, spec.encode(state))


def bindings(model, action_name):
    return {b.label for b in spec_of(model).bindings if b.action == action_name}


O1 = frozenset({"o1"})
EMPTY = frozenset()

# a, b in rack r1; c in rack r2
ABC = Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db", "rack": "r1"}, "c": {"role": "db", "rack": "r2"}})


class Media(Model):
    """One variable per medium, and one disk variable that is not a set (``lost=0``)."""

    NODE = Const(ABC)
    ORDER = Const(("o1",))
    mem = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory")
    cache = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="os-cache")
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    term = Var(MapOf(NODE, Int(0, 3)), init=2, medium="disk", lost=0)
    acked = Var(SetOf(ORDER), init=())
    faults = Faults(budget=2, domain="rack")

    @action(o=ORDER, n=NODE, on="n")
    def store(s, o, n):
        s.mem[n] = s.mem[n].add(o)
        s.cache[n] = s.cache[n].add(o)
        s.disk[n] = s.disk[n].add(o)


MEDIA = Media()


def everywhere():
    """Every node up, with o1 in every medium."""
    full = {n: O1 for n in "abc"}
    return with_(initial(MEDIA), mem=full, cache=full, disk=full)


# ----------------------------------------------------------------------------- topology


def test_topology_from_nodes_and_from_a_graph():
    """Nodes keep their order, roles and failure domains; a table of nodes is fully linked unless links are given."""
    assert ABC.nodes == ("a", "b", "c")
    assert ABC.domain_kinds == ("rack",)
    assert ABC.domain_values("rack") == ("r1", "r2")
    assert ABC.members("rack", "r1") == ("a", "b")
    assert ABC.linked("a", "c") and ABC.role("a") == "db"
    chain = Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}, "c": {"role": "db"}}, links=[("a", "b"), ("b", "c")])
    assert chain.linked("a", "b") and chain.linked("c", "b") and not chain.linked("a", "c")
    g = nx.Graph()
    g.add_node("x", role="app", site="s1")
    g.add_node("y", role="db", site="s2")
    g.add_edge("x", "y")
    t = Topology(g, roles=("app", "db"), require_domains=("site",))
    assert t.nodes == ("x", "y") and t.domain_values("site") == ("s1", "s2") and t.linked("x", "y")


@pytest.mark.parametrize("build, message", [
    (lambda: Topology.from_nodes({"a": {"role": "db"}}, roles=("primary", "replica")),
     "node 'a' has the unknown role 'db' (roles: primary, replica)"),
    (lambda: Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db"}}, require_domains=("rack",)),
     "node 'b' is in no rack; every node needs a rack"),
    (lambda: Topology.from_nodes({"a": {"role": "db", "rack": ["r1"]}}), "node 'a': attribute 'rack' must be a name or a number, got ['r1']"),
    (lambda: Topology.from_nodes({"a": {"role": "db", "rack": True}}), "node 'a': attribute 'rack' must be a name or a number, got True"),
    (lambda: Topology.from_nodes({"a": {"role": "db", "power": 1.5}}), "node 'a': attribute 'power' must be a name or a number, got 1.5"),
    (lambda: Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}, links=[("a", "zz")]), "link ('a', 'zz') names an unknown node 'zz'"),
    (lambda: Topology.from_nodes({"a": {"rack": "r1"}}), "node 'a' has no role; give it role=..."),
    (lambda: Topology.from_nodes({}), "a topology needs at least one node"),
], ids=["unknown-role", "required-domain", "list-attribute", "bool-attribute", "float-attribute", "unknown-link-end", "no-role", "empty"])
def test_topology_validation_errors(build, message):
    with pytest.raises(ModelError) as info:
        build()
    assert message in str(info.value)


def test_node_names_are_strings():
    g = nx.Graph()
    g.add_node(1, role="db")
    with pytest.raises(ModelError, match="node names are non-empty strings; got 1"):
        Topology(g)


def test_duplicate_node_names_are_refused():
    """A node listed twice (as a list of (name, attributes) pairs, the shape of a TOML array of tables) is an error naming it."""
    with pytest.raises(ModelError, match="node 'db1' is listed twice"):
        Topology.from_nodes([("db1", {"role": "primary"}), ("db1", {"role": "replica"})])


def test_counting_failures_of_a_domain_needs_every_node_in_one():
    partial = Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db"}})
    with pytest.raises(ModelError, match="node 'b' is in no rack; every node needs one to count rack failures"):
        partial.domain_values("rack")
    with pytest.raises(ModelError, match=r"the topology has no failure domain 'site' \(known: node, rack\)"):
        partial.domain_values("site")


def test_faults_are_validated():
    with pytest.raises(ModelError, match="0 or more; got -1"):
        Faults(budget=-1)

    class NoTopology(Model):
        NODE = Const(("a", "b"))
        x = Var(MapOf(NODE, Bool), init=False)
        faults = Faults()

    with pytest.raises(ModelError, match="Faults needs a topology"):
        NoTopology()

    class UnknownDomain(Model):
        NODE = Const(ABC)
        x = Var(MapOf(NODE, Bool), init=False)
        faults = Faults(domain="site")

    with pytest.raises(ModelError, match="no failure domain 'site'"):
        UnknownDomain()


# ----------------------------------------------------------------------------- media


def test_medium_on_a_variable_that_is_not_a_map_over_the_nodes_is_refused():
    class SetMedium(Model):
        NODE = Const(ABC)
        ORDER = Const(("o1",))
        x = Var(SetOf(ORDER), init=(), medium="disk")
        faults = Faults()

    class MapOverOrders(Model):
        NODE = Const(ABC)
        ORDER = Const(("o1",))
        x = Var(MapOf(ORDER, SetOf(NODE)), init=(), medium="disk")
        faults = Faults()

    for cls in (SetMedium, MapOverOrders):
        with pytest.raises(ModelError, match=r"variable x declares medium='disk' but is not a map over the nodes \(MapOf\(NODE, \.\.\.\)\)"):
            cls()


def test_lost_is_required_for_non_set_media_and_refused_for_sets():
    class NoLost(Model):
        NODE = Const(ABC)
        x = Var(MapOf(NODE, Int(0, 3)), init=0, medium="disk")
        faults = Faults()

    class LostSet(Model):
        NODE = Const(ABC)
        ORDER = Const(("o1",))
        x = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk", lost=())
        faults = Faults()

    class LostOutOfRange(Model):
        NODE = Const(ABC)
        x = Var(MapOf(NODE, Int(0, 3)), init=0, medium="disk", lost=7)
        faults = Faults()

    with pytest.raises(ModelError, match="a medium that is not a set says what a lost entry becomes, with lost="):
        NoLost()
    with pytest.raises(ModelError, match="a lost set is emptied; lost= is only for media that are not sets"):
        LostSet()
    with pytest.raises(ModelError, match="7 is outside Int"):
        LostOutOfRange()
    with pytest.raises(ModelError, match="unknown medium 'ssd'"):
        Var(Bool, medium="ssd")


def test_medium_error_names_the_variable_line():
    """DESIGN.md: a misuse fails at Model() with the source line of the model; here the line of ``x``."""

    class SetMedium(Model):
        NODE = Const(ABC)
        ORDER = Const(("o1",))
        x = Var(SetOf(ORDER), init=(), medium="disk")
        faults = Faults()

    with pytest.raises(ModelError) as info:
        SetMedium()
    assert info.value.location is not None and "medium=" in info.value.location.text


# ----------------------------------------------------------------------------- fault actions


def test_generated_state_and_actions():
    """``up``, ``faults_spent``, ``disk_losses`` are state; the fault actions are ordinary bindings."""
    names = [v.name for v in spec_of(MEDIA).vars]
    assert names[-3:] == ["up", "faults_spent", "disk_losses"]
    assert "partitioned" not in names  # partition is off by default
    start = initial(MEDIA)
    assert start["up"] == {"a": True, "b": True, "c": True} and start["faults_spent"] == 0 and start["disk_losses"] == 0
    assert bindings(MEDIA, "crash") == {"crash(n='a')", "crash(n='b')", "crash(n='c')"}
    assert bindings(MEDIA, "power_loss") == {"power_loss(n='a')", "power_loss(n='b')", "power_loss(n='c')",
                                             "power_loss(rack='r1')", "power_loss(rack='r2')"}
    assert bindings(MEDIA, "partition") == set()


def test_crash_empties_only_the_memory_of_that_node():
    after = fire(MEDIA, everywhere(), "crash(n='a')")
    assert after["mem"] == {"a": EMPTY, "b": O1, "c": O1}
    assert after["cache"] == {"a": O1, "b": O1, "c": O1} and after["disk"] == {"a": O1, "b": O1, "c": O1}
    assert after["term"]["a"] == 2
    assert after["up"] == {"a": False, "b": True, "c": True}
    assert (after["faults_spent"], after["disk_losses"]) == (1, 0)


def test_power_loss_empties_memory_and_os_cache():
    after = fire(MEDIA, everywhere(), "power_loss(n='b')")
    assert after["mem"]["b"] == EMPTY and after["cache"]["b"] == EMPTY
    assert after["disk"]["b"] == O1 and after["term"]["b"] == 2
    assert after["mem"]["a"] == O1 and after["cache"]["c"] == O1
    assert after["up"]["b"] is False and (after["faults_spent"], after["disk_losses"]) == (1, 0)


def test_disk_loss_empties_every_medium_and_is_counted():
    """Sets are emptied; the non-set disk medium takes its ``lost=`` value (0); ``disk_losses`` counts it."""
    after = fire(MEDIA, everywhere(), "disk_loss(n='c')")
    assert (after["mem"]["c"], after["cache"]["c"], after["disk"]["c"], after["term"]["c"]) == (EMPTY, EMPTY, EMPTY, 0)
    assert after["disk"]["a"] == O1 and after["term"]["a"] == 2
    assert after["up"]["c"] is False and (after["faults_spent"], after["disk_losses"]) == (1, 1)
    twice = fire(MEDIA, fire(MEDIA, after, "restart(n='c')"), "disk_loss(n='a')")
    assert (twice["faults_spent"], twice["disk_losses"]) == (2, 2)


def test_restart_restores_nothing_and_is_free():
    lost = fire(MEDIA, everywhere(), "disk_loss(n='a')")
    back = fire(MEDIA, lost, "restart(n='a')")
    assert back == with_(lost, up={"a": True})
    assert back["faults_spent"] == 1
    assert "restart(n='a')" not in labels_enabled(MEDIA, back)  # only a node that is down restarts


def test_faults_hit_only_nodes_that_are_up():
    down = fire(MEDIA, everywhere(), "crash(n='a')")
    enabled = labels_enabled(MEDIA, down)
    assert not {"crash(n='a')", "power_loss(n='a')", "disk_loss(n='a')"} & enabled
    assert {"crash(n='b')", "power_loss(n='b')", "disk_loss(n='b')", "restart(n='a')"} <= enabled
    assert "store(o='o1', n='a')" not in enabled  # on="n": a node that is down takes no steps


def test_the_budget_bounds_the_faults_but_not_restarts():
    """Budget 2: after two faults no fault is enabled anywhere, restarts still are; budget 0: no fault at all."""
    state = fire(MEDIA, fire(MEDIA, everywhere(), "crash(n='a')"), "power_loss(n='b')")
    enabled = labels_enabled(MEDIA, state)
    assert not {label for label in enabled if label.startswith(("crash", "power_loss", "disk_loss"))}
    assert {"restart(n='a')", "restart(n='b')"} <= enabled
    after_restart = fire(MEDIA, state, "restart(n='a')")
    assert "crash(n='a')" not in labels_enabled(MEDIA, after_restart)

    class NoBudget(Media):
        faults = Faults(budget=0, domain="rack")

    none = NoBudget()
    assert labels_enabled(none, initial(none)) == {"store(o='o1', n='a')", "store(o='o1', n='b')", "store(o='o1', n='c')"}


def test_fault_kinds_can_be_switched_off():
    class DiskOnly(Media):
        faults = Faults(crash=False, power_loss=False, disk_loss=True, domain="rack")

    class NoNodeFaults(Media):
        faults = Faults(crash=False, power_loss=False, disk_loss=False)

    assert bindings(DiskOnly(), "crash") == set() and bindings(DiskOnly(), "power_loss") == set()
    assert len(bindings(DiskOnly(), "disk_loss")) == 3 and len(bindings(DiskOnly(), "restart")) == 3
    assert bindings(NoNodeFaults(), "restart") == set()
    assert "disk_losses" not in [v.name for v in spec_of(NoNodeFaults()).vars]


def test_rack_power_loss_hits_every_up_node_of_the_rack_as_one_fault():
    """``power_loss(rack='r1')`` takes a and b down and empties their memory and cache, for one unit; c untouched."""
    after = fire(MEDIA, everywhere(), "power_loss(rack='r1')")
    assert after["up"] == {"a": False, "b": False, "c": True}
    assert after["mem"] == {"a": EMPTY, "b": EMPTY, "c": O1} and after["cache"] == {"a": EMPTY, "b": EMPTY, "c": O1}
    assert after["disk"] == {"a": O1, "b": O1, "c": O1}
    assert (after["faults_spent"], after["disk_losses"]) == (1, 0)
    assert "power_loss(rack='r1')" not in labels_enabled(MEDIA, after)  # every node of r1 is down


def test_rack_power_loss_leaves_nodes_that_are_already_down_alone():
    """A node of the rack that is down is not hit (faults hit only up nodes): its cache survives; one up node suffices."""
    b_crashed = fire(MEDIA, everywhere(), "crash(n='b')")
    after = fire(MEDIA, b_crashed, "power_loss(rack='r1')")
    assert after["cache"] == {"a": EMPTY, "b": O1, "c": O1}
    assert after["up"] == {"a": False, "b": False, "c": True} and after["faults_spent"] == 2


def test_a_rack_power_loss_downs_more_nodes_for_the_same_budget():
    """Three nodes down at once takes three per-node faults, but two with ``domain="rack"`` (r1, then c): 3 states.

    With ``domain="node"`` and budget 2, at most two nodes are down at any time (each down node
    cost one fault since its last restart), so ``not_all_down`` holds.  With ``domain="rack"``,
    ``power_loss(rack='r1')`` and a fault of c, in either order, do it: 2 steps, 3 states.
    """

    class AllDown(Model):
        NODE = Const(ABC)
        faults = Faults(budget=2, domain="rack")

        @invariant
        def not_all_down(s):
            return ~(~s.up["a"] & ~s.up["b"] & ~s.up["c"])

    class AllDownNodes(AllDown):
        faults = Faults(budget=2, domain="node")

    assert check(AllDownNodes()).verdict == "holds"
    result = check(AllDown())
    assert result.verdict == "violated" and len(result.counterexample) == 3
    assert {step.label for step in result.counterexample.steps} >= {"power_loss(rack='r1')"}


# ----------------------------------------------------------------------------- partitions, on= and via=

CHAIN = Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}, "c": {"role": "db"}}, links=[("a", "b"), ("b", "c")])


class Net(Model):
    """A message from ``src`` to ``dst`` via their link; ``leader`` sends via a link named by a function."""

    NODE = Const(CHAIN)
    got = Var(MapOf(NODE, Bool), init=False)
    leader = Var(Elem(NODE), init="a")
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=2)

    @action(src=NODE, dst=NODE, via=("src", "dst"))
    def send(s, src, dst):
        require(src != dst)
        s.got[dst] = True

    @action(dst=NODE, via=(lambda s, dst: s.leader, "dst"))
    def broadcast(s, dst):
        require(s.leader != dst)
        s.got[dst] = True

    @action(n=NODE, on=lambda s, n: s.leader)
    def hand_over(s, n):
        s.leader = n


NET = Net()


def test_via_needs_a_link_and_both_ends_up():
    """No binding for a pair that is not linked (a, c); a link with a down end is disabled."""
    assert bindings(NET, "send") == {"send(src='a', dst='b')", "send(src='b', dst='a')", "send(src='b', dst='c')", "send(src='c', dst='b')"}
    start = initial(NET)
    assert {"send(src='a', dst='b')", "broadcast(dst='b')"} <= labels_enabled(NET, start)
    assert "broadcast(dst='c')" not in labels_enabled(NET, start)  # leader a is not linked to c
    b_down = fire(NET, start, "crash(n='b')")
    assert not {"send(src='a', dst='b')", "send(src='b', dst='c')", "broadcast(dst='b')"} & labels_enabled(NET, b_down)


def test_on_with_a_function_of_the_state():
    """``on=lambda s, n: s.leader``: enabled only while the current leader is up, whatever ``n`` is."""
    start = initial(NET)
    assert "hand_over(n='c')" in labels_enabled(NET, start)
    leader_down = fire(NET, start, "crash(n='a')")
    assert not {label for label in labels_enabled(NET, leader_down) if label.startswith("hand_over")}
    moved = fire(NET, start, "hand_over(n='c')")
    assert "broadcast(dst='b')" in labels_enabled(NET, moved) and "broadcast(dst='a')" not in labels_enabled(NET, moved)


def test_on_errors_are_clear():
    class NoFaults(Model):
        NODE = Const(ABC)
        x = Var(MapOf(NODE, Bool), init=False)

        @action(n=NODE, on="n")
        def f(s, n):
            s.x[n] = True

    class WrongName(Model):
        NODE = Const(ABC)
        x = Var(MapOf(NODE, Bool), init=False)
        faults = Faults()

        @action(n=NODE, on="m")
        def f(s, n):
            s.x[n] = True

    with pytest.raises(ModelError, match=r"on= and via= need the durability domain: declare faults = Faults\(\.\.\.\)"):
        NoFaults()
    with pytest.raises(ModelError, match="on='m' names no parameter of f"):
        WrongName()


class Partitions(Model):
    NODE = Const(CHAIN)
    x = Var(MapOf(NODE, Bool), init=False)
    faults = Faults(crash=False, power_loss=False, disk_loss=False, partition=True, budget=1)


def test_partition_spends_budget_and_heal_is_free():
    """Partitions exist only for links (a-b, b-c), named in either order; one unit each; heal is free and needs a partition.

    ``partitioned`` is symmetric (b in partitioned[a] exactly when a in partitioned[b]), so that
    renaming interchangeable nodes maps a partition onto a partition.
    """
    model = Partitions()
    assert bindings(model, "partition") == {"partition(a='a', b='b')", "partition(a='b', b='a')",
                                            "partition(a='b', b='c')", "partition(a='c', b='b')"}
    start = initial(model)
    nobody = {"a": frozenset(), "b": frozenset(), "c": frozenset()}
    assert start["partitioned"] == nobody and "heal(a='a', b='b')" not in labels_enabled(model, start)
    cut = fire(model, start, "partition(a='a', b='b')")
    assert cut["partitioned"] == {"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()} and cut["faults_spent"] == 1
    assert fire(model, start, "partition(a='b', b='a')") == cut
    assert labels_enabled(model, cut) == {"heal(a='a', b='b')", "heal(a='b', b='a')"}  # the budget is spent
    healed = fire(model, cut, "heal(a='a', b='b')")
    assert healed["partitioned"] == nobody and healed["faults_spent"] == 1


def test_an_action_via_a_partitioned_link_is_disabled():
    """With a-b partitioned, ``send`` between a and b is disabled in both directions; b-c still works."""

    class PartitionedNet(Net):
        faults = Faults(crash=True, power_loss=False, disk_loss=False, partition=True, budget=2)

    model = PartitionedNet()
    cut = fire(model, initial(model), "partition(a='a', b='b')")
    enabled = labels_enabled(model, cut)
    assert not {"send(src='a', dst='b')", "send(src='b', dst='a')", "broadcast(dst='b')"} & enabled
    assert {"send(src='b', dst='c')", "send(src='c', dst='b')"} <= enabled


# ----------------------------------------------------------------------------- durability properties

# a: rack r1, power p1;  b: rack r1, power p2;  c: rack r2, power p2
RP = Topology.from_nodes({"a": {"role": "db", "rack": "r1", "power": "p1"},
                          "b": {"role": "db", "rack": "r1", "power": "p2"},
                          "c": {"role": "db", "rack": "r2", "power": "p2"}})


class Props(Model):
    NODE = Const(RP)
    ORDER = Const(("o1", "o2"))
    mem = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory")
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    acked = Var(SetOf(ORDER), init=())
    primary = Var(Elem(NODE), init="a")
    registered = Var(MapOf(ORDER, Int(0, 2)), init=0)
    registered_set = Var(SetOf(ORDER), init=())
    rejected = Var(SetOf(ORDER), init=())
    acting = Var(MapOf(NODE, Bool), init=False)
    acting_set = Var(SetOf(NODE), init=())
    faults = Faults(budget=2)

    @invariant
    def node_1(s):
        return survives(s.acked, copies=s.disk, k=1)

    @invariant
    def rack_1(s):
        return survives(s.acked, copies=s.disk, k=1, domain="rack")

    @invariant
    def rack_or_power_1(s):
        return survives(s.acked, copies=s.disk, k=1, domain=("rack", "power"))

    @invariant
    def node_1_any_medium(s):
        return survives(s.acked, copies=(s.mem, s.disk), k=1)

    @invariant
    def kept(s):
        return never_lost(s.acked, copies=(s.mem, s.disk))

    @invariant
    def visible(s):
        return visible_after_failover(s.acked, primary=s.primary, copies=s.disk)

    @invariant
    def once(s):
        return no_duplicates(s.registered)

    @invariant
    def one_primary(s):
        return single_primary(s.acting)

    @invariant
    def one_primary_set(s):
        return single_primary(s.acting_set)

    @invariant
    def answered(s):
        return registered_or_rejected(s.acked, s.registered_set, s.rejected)


PROPS = Props()


def props_state(**changes):
    return with_(initial(PROPS), **changes)


@pytest.mark.parametrize("holders, node_1, rack_1, rack_or_power_1", [
    ("", False, False, False),
    ("a", False, False, False),
    ("ab", True, False, False),   # one rack (r1) covers a and b
    ("ac", True, True, True),     # r1/p1 and r2/p2: no single rack or power feed covers both
    ("bc", True, True, False),    # two racks, but one power feed (p2) covers both
    ("abc", True, True, True),    # racks r1, r2; powers p1, p2; a rack and a feed (r1 + p2) are two
], ids=lambda v: v if isinstance(v, str) else None)
def test_survives_counts_failure_domains_of_the_holders(holders, node_1, rack_1, rack_or_power_1):
    """``survives(k=1)``: the fewest failures of the domain that cover the disk holders must exceed 1."""
    state = props_state(acked=O1, disk={n: O1 for n in holders})
    assert (holds(PROPS, "node_1", state), holds(PROPS, "rack_1", state), holds(PROPS, "rack_or_power_1", state)) == (node_1, rack_1, rack_or_power_1)


def test_survives_holds_for_orders_not_acknowledged_and_reads_every_copy_map():
    """Only acknowledged orders count; ``copies=(mem, disk)`` counts a node holding the order in either."""
    assert holds(PROPS, "node_1", props_state(disk={"a": frozenset({"o2"})}))
    state = props_state(acked=O1, disk={"a": O1}, mem={"b": O1})
    assert not holds(PROPS, "node_1", state) and holds(PROPS, "node_1_any_medium", state)


def test_survives_counts_disk_losses_so_far():
    """After one disk loss, one holder is enough for k=1 (1 + 1 > 1); none is not (1 + 0); two losses hold trivially."""
    assert holds(PROPS, "node_1", props_state(acked=O1, disk={"a": O1}, disk_losses=1))
    assert not holds(PROPS, "node_1", props_state(acked=O1, disk_losses=1))
    assert holds(PROPS, "rack_or_power_1", props_state(acked=O1, disk={"b": O1, "c": O1}, disk_losses=1))
    gone = props_state(acked=O1, disk_losses=2)
    assert holds(PROPS, "node_1", gone) and holds(PROPS, "rack_1", gone) and holds(PROPS, "rack_or_power_1", gone)
    assert not holds(PROPS, "kept", gone)  # never_lost is what reports it


def test_survives_trivially_after_more_than_k_disk_losses_while_never_lost_reports_the_loss():
    """One disk copy, ``k=0``, one disk loss allowed.

    ``survives(k=0)``: before the loss the holder is there (``0 + 1 > 0``), after it the loss
    itself counts (``1 + 0 > 0``): it holds in every state.  ``never_lost`` is violated by store,
    ack, disk_loss: 4 states.
    """

    class OneCopy(Model):
        NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
        ORDER = Const(("o1",))
        disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
        acked = Var(SetOf(ORDER), init=())
        faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)

        @action(o=ORDER, n=NODE, on="n")
        def store(s, o, n):
            s.disk[n] = s.disk[n].add(o)

        @action(o=ORDER)
        def ack(s, o):
            require(~s.disk.holders(o).is_empty())
            s.acked = s.acked.add(o)

        @invariant
        def survives_0(s):
            return survives(s.acked, copies=s.disk, k=0)

        @invariant
        def kept(s):
            return never_lost(s.acked, copies=s.disk)

    result = check(OneCopy(), keep_going=True)
    assert result.property("survives_0").verdict == "holds"
    trace = result.property("kept").counterexample
    assert [step.action for step in trace.steps] == [None, "store", "ack", "disk_loss"]
    assert trace.final_state["disk_losses"] == 1


def test_never_lost_counts_surviving_media_of_nodes_that_are_down():
    """A crash leaves the disk copy (on a node that is down: it counts); a memory-only copy dies with the crash."""
    on_disk = props_state(acked=O1, disk={"a": O1}, mem={"a": O1})
    crashed = fire(PROPS, on_disk, "crash(n='a')")
    assert crashed["up"]["a"] is False and holds(PROPS, "kept", crashed)
    in_memory = props_state(acked=O1, mem={"b": O1})
    assert holds(PROPS, "kept", in_memory)
    assert not holds(PROPS, "kept", fire(PROPS, in_memory, "crash(n='b')"))


def test_visible_after_failover():
    """A live primary must hold every acknowledged order; a primary that is down is not asked."""
    assert holds(PROPS, "visible", props_state(acked=O1, disk={"a": O1}))
    assert not holds(PROPS, "visible", props_state(acked=O1, disk={"b": O1}))
    assert holds(PROPS, "visible", props_state(acked=O1, disk={"b": O1}, up={"a": False}))
    assert not holds(PROPS, "visible", props_state(acked=O1, disk={"a": O1}, primary="b"))
    # a primary that loses its disk and restarts, keeping its role, breaks it without any failover
    lost = fire(PROPS, props_state(acked=O1, disk={"a": O1, "b": O1}), "disk_loss(n='a')")
    assert holds(PROPS, "visible", lost) and not holds(PROPS, "visible", fire(PROPS, lost, "restart(n='a')"))


def test_no_duplicates():
    assert holds(PROPS, "once", props_state(registered={"o1": 1, "o2": 1}))
    assert not holds(PROPS, "once", props_state(registered={"o2": 2}))


def test_single_primary_counts_only_nodes_that_are_up():
    assert holds(PROPS, "one_primary", props_state(acting={"a": True}))
    assert not holds(PROPS, "one_primary", props_state(acting={"a": True, "c": True}))
    assert holds(PROPS, "one_primary", props_state(acting={"a": True, "c": True}, up={"c": False}))
    assert not holds(PROPS, "one_primary_set", props_state(acting_set=frozenset({"a", "b"})))
    assert holds(PROPS, "one_primary_set", props_state(acting_set=frozenset({"a", "b"}), up={"b": False}))


def test_registered_or_rejected():
    assert holds(PROPS, "answered", props_state(acked=O1, registered_set=frozenset({"o1", "o2"})))
    assert not holds(PROPS, "answered", props_state(acked=O1))
    assert not holds(PROPS, "answered", props_state(acked=O1, registered_set=O1, rejected=O1))
    assert holds(PROPS, "answered", props_state(rejected=O1))


def test_property_misuse_is_reported():
    class BadCopies(Model):
        NODE = Const(ABC)
        ORDER = Const(("o1",))
        acked = Var(SetOf(ORDER), init=())
        faults = Faults()

        @invariant
        def bad(s):
            return survives(s.acked, copies=s.acked, k=1)

    with pytest.raises(ModelError, match="copies= takes maps from nodes to sets of orders"):
        BadCopies()


# ----------------------------------------------------------------------------- the failure-set oracle

DOMAINS = ("node", "rack", "power", ("rack", "power"), ("power", "rack"), ("node", "rack"), ("node", "rack", "power"))


@st.composite
def small_topologies(draw):
    """1 to 7 nodes, each in one of up to 4 racks and one of up to 3 power feeds; holders any subset."""
    n = draw(st.integers(1, 7))
    racks = draw(st.integers(1, 4))
    powers = draw(st.integers(1, 3))
    nodes = {f"n{i}": {"role": "db", "rack": f"r{draw(st.integers(0, racks - 1))}", "power": f"p{draw(st.integers(0, powers - 1))}"}
             for i in range(n)}
    holders = draw(st.sets(st.sampled_from(sorted(nodes))))
    return Topology.from_nodes(nodes), holders


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_topologies(), st.sampled_from(DOMAINS))
def test_oracle_agrees_with_brute_force(topology_holders, domain):
    """Sizes equal; the oracle's units are distinct units of the domain whose nodes cover every holder."""
    topology, holders = topology_holders
    answer = min_failure_set(topology, holders, domain)
    brute = min_failure_set_brute_force(topology, holders, domain)
    assert answer.size == brute.size == len(answer.units) == len(set(answer.units))
    units = dict(failure_units(topology, domain))
    assert all(unit in units for unit in answer.units)
    covered = set().union(*(units[u] for u in answer.units)) if answer.units else set()
    assert set(holders) <= covered
    # and by hand for the single kinds: distinct values among the holders
    if domain in ("rack", "power"):
        assert answer.size == len({topology.attribute(n, domain) for n in holders})
    if domain == "node":
        assert answer.size == len(holders)


def test_oracle_examples_by_hand():
    """a (r1, p1), b (r1, p2), c (r2, p2): {b, c} is two racks but one power feed; {a, c} needs two of anything."""
    assert min_failure_set(RP, ["b", "c"], "rack").size == 2
    assert min_failure_set(RP, ["b", "c"], ("rack", "power")).units == (("power", "p2"),)
    assert min_failure_set(RP, ["a", "c"], ("rack", "power")).size == 2
    assert min_failure_set(RP, [], ("rack", "power")).size == 0
    assert min_failure_set(RP, ["a", "b", "c"], ("rack", "power")).size == 2
    with pytest.raises(ModelError, match="unknown node 'z' among the holders"):
        min_failure_set(RP, ["z"], "rack")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_topologies(), st.sampled_from(("node", "rack", ("rack", "power"))), st.integers(0, 2), st.integers(0, 2))
def test_survives_in_a_model_agrees_with_the_oracle(topology_holders, domain, k, lost):
    """``survives(k)`` evaluated in a state equals ``lost + oracle size > k`` for the same holders."""
    topology, holders = topology_holders

    class Holders(Model):
        NODE = Const(topology)
        ORDER = Const(("o1",))
        disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
        acked = Var(SetOf(ORDER), init=("o1",))
        faults = Faults(crash=False, power_loss=False, budget=2)

        @invariant
        def kept(s):
            return survives(s.acked, copies=s.disk, k=k, domain=domain)

    model = Holders()
    state = with_(initial(model), disk={n: O1 for n in holders}, disk_losses=lost)
    assert holds(model, "kept", state) == (lost + min_failure_set(topology, holders, domain).size > k)


class CopyLosses(Model):
    """Three nodes; an order stored in a's memory, b's OS cache or c's disk; faults counted per order."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db", "rack": "r1"}, "c": {"role": "db", "rack": "r2"}}))
    ORDER = Const(("o1", "o2"))
    mem = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory")
    cache = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="os-cache")
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    acked = Var(SetOf(ORDER), init=())
    faults = Faults(budget=2, domain="rack", count_copy_losses=True)

    @action(o=ORDER, n=NODE, on="n")
    def keep_in_memory(s, o, n):
        s.mem[n] = s.mem[n].add(o)

    @action(o=ORDER, n=NODE, on="n")
    def write(s, o, n):
        s.cache[n] = s.cache[n].add(o)

    @action(o=ORDER)
    def ack(s, o):
        s.acked = s.acked.add(o)

    @invariant
    def one_failure(s):
        return survives(s.acked, copies=(s.mem, s.cache, s.disk), k=1)


def test_copy_losses_count_only_the_faults_that_removed_a_copy_of_each_order():
    """``Faults(count_copy_losses=True)``, DESIGN.md section 4: "the faults so far in this execution
    that removed a copy of it (each counts one)".  By hand, from one state where o1 is in a's memory
    and in b's OS cache, and o2 only in c's memory:

    * crash(a) removes a's memory copy of o1: copy_losses = {o1: 1, o2: 0};
    * crash(c) then removes o2's only copy: {o1: 1, o2: 1};
    * from the start, power_loss(rack='r1') (a and b at once) removes both copies of o1 but is one
      fault: {o1: 1, o2: 0}; a crash of b removes nothing (its copy is in the OS cache): {0, 0}."""
    model = CopyLosses()
    start = with_(initial(model), mem={"a": frozenset({"o1"}), "c": frozenset({"o2"})}, cache={"b": frozenset({"o1"})})
    after = fire(model, start, "crash(n='a')")
    assert after["copy_losses"] == {"o1": 1, "o2": 0}
    assert fire(model, after, "crash(n='c')")["copy_losses"] == {"o1": 1, "o2": 1}
    assert fire(model, start, "power_loss(rack='r1')")["copy_losses"] == {"o1": 1, "o2": 0}
    assert fire(model, start, "crash(n='b')")["copy_losses"] == {"o1": 0, "o2": 0}


def test_survives_counts_memory_and_cache_copies_and_only_the_faults_that_removed_one():
    """``survives(k=1)`` over every medium, by hand: o1 acknowledged in a's memory and b's OS cache is
    held by two nodes (0 + 2 > 1: holds).  With one copy left after a fault that removed another
    (copy_losses 1 + 1 holder > 1) it holds; with one copy and copy_losses 0 — a fault struck, but
    no copy of o1 — it does not (0 + 1), though the old rule (every disk loss counts) would have
    counted an unrelated disk loss and held."""
    model = CopyLosses()
    two = with_(initial(model), acked=frozenset({"o1"}), mem={"a": frozenset({"o1"})}, cache={"b": frozenset({"o1"})})
    assert holds(model, "one_failure", two)
    one_after_a_hit = with_(initial(model), acked=frozenset({"o1"}), cache={"b": frozenset({"o1"})}, copy_losses={"o1": 1, "o2": 0})
    assert holds(model, "one_failure", one_after_a_hit)
    unrelated = with_(initial(model), acked=frozenset({"o1"}), cache={"b": frozenset({"o1"})}, disk_losses=1, faults_spent=1)
    assert not holds(model, "one_failure", unrelated)


def test_the_survives_explanation_says_no_copy_only_when_none_remains():
    """By hand, k=1 over (mem, cache, disk) of CopyLosses: o1 acknowledged and held nowhere after a
    crash that removed its copy reads "no copy of it remains after 1 fault that removed a copy of
    it"; o1 in b's OS cache only (nothing spent) names b and the medium, and one failure."""
    from ordercheck.domain.explain import explain_survives

    model = CopyLosses()
    spec = spec_of(model)
    constants = model._ordercheck_constants
    gone = with_(initial(model), acked=frozenset({"o1"}), copy_losses={"o1": 1, "o2": 0})
    assert explain_survives(spec.extra, constants, "one_failure", gone) == [
        "'o1' is acknowledged but no copy of it remains after 1 fault that removed a copy of it"]
    one = with_(initial(model), acked=frozenset({"o1"}), cache={"b": frozenset({"o1"})})
    assert explain_survives(spec.extra, constants, "one_failure", one) == [
        "'o1' is held only by b (os-cache); losing b (1 failure) removes every copy, and the property asks to survive 1"]
