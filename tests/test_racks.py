"""The reference models of ``model/racks.py``: a primary with two replicas in two racks.

Every expected verdict, tolerance and trace length here is derived by hand from the mechanics of
the model, and the derivation is written in the test's docstring; none is copied from a run.

The facts the derivations use, all from the model and DESIGN.md section 4:

- The write path of an order on one node takes three steps: ``accept`` (primary) or
  ``replicate`` (replica) puts it in memory, ``write`` in the OS cache, ``fsync`` on disk.  ``ack``
  is one more step, and the initial state is state 1: an order acknowledged after ``d`` disks
  is acknowledged, on the shortest path, in state ``3d + 2``.
- ``ack_allowed`` guarantees the order is on at least ``d`` disks when it is acknowledged (``d``
  = 1, 2, 3 for the primary-only, one-replica and both-replica rules), and the shortest path
  acknowledges with exactly ``d``.
- Only ``disk_loss`` removes a disk copy, one node's per fault, and it adds one to
  ``disk_losses``: the number ``disk_losses + (disk holders)`` that ``survives`` compares with
  ``k`` never goes below its value at the acknowledgement.  Crashes, power losses (of a node or a
  rack) and restarts never touch a disk.
- ``survives(k, domain="node")`` holds for an order on ``d`` disks iff ``d > k``;
  ``survives(k, domain="rack")`` iff the number of racks among its holders exceeds ``k``.
  Racks: db1, db2 in r1; db3 in r2.
"""

from __future__ import annotations

import pytest
from conftest import load_model_module

from ordercheck import check, spec_of
from ordercheck.domain import Faults
from ordercheck.domain.oracle import FailureSet, min_failure_set
from ordercheck.tolerance import fault_tolerance

racks = load_model_module("racks")

VARIANTS = (
    racks.AckOnPrimaryDisk,
    racks.AckOnOneReplicaDisk,
    racks.AckOnBothReplicasDisk,
    racks.AckOnSameRackReplicaDisk,
    racks.AckOnOtherRackReplicaDisk,
)
# disks that hold an order when the rule first allows its acknowledgement
DISKS_AT_ACK = {racks.AckOnPrimaryDisk: 1, racks.AckOnOneReplicaDisk: 2, racks.AckOnBothReplicasDisk: 3}


def disk_holders(state, order="o1"):
    return {n for n, orders in state["synced"].items() if order in orders}


def actions(trace):
    return [step.action for step in trace.steps]


# ----------------------------------------------------------------------------- the models themselves


def test_variants_differ_only_in_the_acknowledgement_rule():
    """Each variant defines ``ack_allowed`` and nothing else; the write path, faults and properties are shared."""
    for cls in VARIANTS:
        own = {name for name in vars(cls) if not name.startswith("__")}
        assert own == {"ack_allowed"}, cls.__name__
        assert cls.__bases__ == (racks._PrimaryTwoReplicas,)


@pytest.mark.parametrize("cls", VARIANTS, ids=lambda c: c.__name__)
def test_every_variant_acknowledges_and_stays_small(cls):
    """``order_acknowledged`` holds (no design is vacuously safe); the state space stays small.

    One order, three nodes, one fault: well under 2,000 states (a bound chosen so each check runs
    in a fraction of a second, not a count).
    """
    result = check(cls(), keep_going=True)
    assert result.property("order_acknowledged").verdict == "holds"
    assert result.stats.distinct_states < 2000


# ----------------------------------------------------------------------------- tolerance against disk loss


@pytest.mark.parametrize("cls, k", [(racks.AckOnPrimaryDisk, 0), (racks.AckOnOneReplicaDisk, 1), (racks.AckOnBothReplicasDisk, 2)],
                         ids=["primary-disk", "one-replica", "both-replicas"])
def test_survives_tolerance_against_disk_loss(cls, k):
    """Tolerance 0 / 1 / 2: the largest k with ``survives(k, domain="node")`` on the disk copies.

    An order acknowledged after ``d`` disks (1, 2, 3) has ``disk_losses + holders >= d`` from the
    acknowledgement on (only a disk loss removes a disk copy, and it counts itself), so
    ``survives(k)`` holds for every ``k < d``.  At ``k = d`` the shortest acknowledgement, on
    exactly ``d`` disks and with no fault, gives ``0 + d = k``: violated.  So the tolerance is
    ``d - 1``, and the trace that breaks ``k + 1`` ends with the ``ack``, in state ``3d + 2``
    (5, 8, 11), its order on exactly ``d`` disks.
    """
    d = DISKS_AT_ACK[cls]
    tolerance = fault_tolerance(cls(), "survive_one_disk_loss")
    assert (tolerance.k, tolerance.measure, tolerance.verdict) == (k, "k of survives", "holds")
    trace = tolerance.breaking.counterexample
    assert len(trace) == 3 * d + 2
    assert trace.steps[-1].action == "ack"
    assert len(disk_holders(trace.final_state)) == d
    # the explanation names the failure set: the d holders
    assert any(f"({d} failure" in line for line in tolerance.failure_set), tolerance.failure_set


@pytest.mark.parametrize("cls, k", [(racks.AckOnPrimaryDisk, 0), (racks.AckOnOneReplicaDisk, 1), (racks.AckOnBothReplicasDisk, 2)],
                         ids=["primary-disk", "one-replica", "both-replicas"])
def test_never_lost_tolerance_is_the_same_number_in_executions(cls, k):
    """``check(..., tolerance=True)``: ``acked_never_lost`` tolerates a fault budget of 0 / 1 / 2.

    With a budget of ``b`` faults, the ``d`` disk copies present at the acknowledgement need
    ``d`` disk losses to vanish (nothing else touches a disk), so the order is never lost while
    ``b < d``.  With ``b = d``: acknowledge on exactly ``d`` disks (``3d + 1`` steps), then lose
    each of those ``d`` disks (a disk loss empties every medium of its node, so no memory or
    cache copy is left either): ``4d + 2`` states, whose faults are ``d`` disk losses on the
    ``d`` holders.  So the execution tolerance is ``d - 1`` too.
    """
    d = DISKS_AT_ACK[cls]
    result = check(cls(), tolerance=True)
    tolerance = result.extra["tolerance"]["acked_never_lost"]
    assert (tolerance.k, tolerance.measure) == (k, "fault budget")
    trace = tolerance.breaking.counterexample
    assert len(trace) == 4 * d + 2
    ack = actions(trace).index("ack")
    faults = [step for step in trace.steps if step.action in ("crash", "power_loss", "disk_loss")]
    assert [step.action for step in faults] == ["disk_loss"] * d
    assert {dict(step.params)["n"] for step in faults} == disk_holders(trace.steps[ack].state)
    # and the structural measure agrees (checked in the same call)
    assert result.extra["tolerance"]["survive_one_disk_loss"].k == k


# ----------------------------------------------------------------------------- crash plus failover


class _CrashOnly:
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=1)


class CrashOnlyPrimaryDisk(_CrashOnly, racks.AckOnPrimaryDisk):
    """AckOnPrimaryDisk with process crashes as the only fault."""


class CrashOnlyOneReplica(_CrashOnly, racks.AckOnOneReplicaDisk):
    """AckOnOneReplicaDisk with process crashes as the only fault."""


class CrashOnlyBothReplicas(_CrashOnly, racks.AckOnBothReplicasDisk):
    """AckOnBothReplicasDisk with process crashes as the only fault."""


def test_primary_disk_only_loses_an_order_to_a_crash_and_failover():
    """accept, write, fsync on db1, ack, crash(db1), promote: 7 states, no disk lost.

    ``primary_has_acked`` needs an acknowledged order (accept, write, fsync on the primary, ack:
    4 steps, each enabled only by the one before) and then a live primary without it on disk.
    With crashes only, db1's disk keeps it, so the primary must change: ``promote`` needs the
    primary down, so a crash of db1 comes first.  That is 6 steps, 7 states, and no shorter
    trace exists.  Either replica may be promoted: neither got the order.  ``acked_never_lost``
    holds all along (db1's disk still has the order: the loss is of visibility, by failover).
    """
    result = check(CrashOnlyPrimaryDisk(), keep_going=True)
    trace = result.property("primary_has_acked").counterexample
    assert result.property("primary_has_acked").verdict == "violated"
    assert actions(trace) == [None, "accept", "write", "fsync", "ack", "crash", "promote"]
    assert dict(trace.steps[5].params) == {"n": "db1"}
    assert trace.final_state["primary"] in ("db2", "db3")
    assert trace.final_state["synced"]["db1"] == {"o1"}
    assert result.property("acked_never_lost").verdict == "holds"


def test_primary_disk_only_with_every_fault_breaks_in_seven_states_too():
    """With every fault kind on, the shortest ``primary_has_acked`` violation still has 7 states.

    The same 4 steps to an acknowledgement, then 2 more: either a crash or power loss of db1
    and a promotion, or a disk loss of db1 and its restart (it comes back empty, still primary).
    Fewer is impossible: a fault alone leaves the primary down (the property asks nothing then).
    """
    result = check(racks.AckOnPrimaryDisk(), properties=["primary_has_acked"])
    trace = result.counterexample
    assert result.verdict == "violated"
    assert len(trace) == 7
    assert actions(trace)[-2:] in (["crash", "promote"], ["power_loss", "promote"], ["disk_loss", "restart"])


def test_one_replica_loses_visibility_by_failover_to_the_other_replica():
    """Acknowledged on db1 and one replica's disk; crash(db1); promote the replica that lacks it: 10 states.

    Acknowledging after 2 disks takes 7 steps (3 per node, then ack), then crash(db1) and
    promote the replica the order never reached: 9 steps, 10 states.  The ack rule says nothing
    about which node the failover picks (DOMAIN.md pattern 5, failover to the wrong replica).
    """
    result = check(CrashOnlyOneReplica(), properties=["primary_has_acked"])
    trace = result.counterexample
    assert len(trace) == 10
    assert actions(trace)[-2:] == ["crash", "promote"]
    assert trace.final_state["primary"] not in disk_holders(trace.final_state)


def test_both_replicas_survive_any_number_of_crashes_and_failovers():
    """An order on every node's disk is on whichever node is promoted: ``primary_has_acked`` holds.

    Crashes empty memory only, so after the acknowledgement every node keeps the order on disk
    forever, whatever the number of crashes; the tolerance search reaches its cap (the number of
    nodes, 3) without a violation.
    """
    tolerance = fault_tolerance(CrashOnlyBothReplicas(), "primary_has_acked")
    assert (tolerance.k, tolerance.verdict, tolerance.breaking) == (3, "holds", None)


# ----------------------------------------------------------------------------- a rack counts as one failure


def test_the_oracle_counts_a_shared_rack_once():
    """db1 and db2 share rack r1: one rack failure covers both; db1 and db3 need two."""
    assert min_failure_set(racks.RACKS, ["db1", "db2"], "rack") == FailureSet(1, (("rack", "r1"),))
    assert min_failure_set(racks.RACKS, ["db1", "db3"], "rack").size == 2
    assert min_failure_set(racks.RACKS, ["db1", "db2"], "node").size == 2


def test_replica_in_the_primary_rack_does_not_survive_one_rack_failure():
    """Acknowledged after the disks of db1 and db2 (both r1): ``survives(k=1, domain="rack")`` is violated.

    Right after the acknowledgement (state 8: 3 steps on db1, 3 on db2, ack) the holders are
    db1 and db2, in one rack: one rack failure takes out every copy, and no disk was lost yet,
    so ``0 + 1 > 1`` is false.  Counted per node the same state is fine (``0 + 2 > 1``):
    ``survive_one_disk_loss`` holds.  Rack tolerance 0, node tolerance 1.
    """
    model = racks.AckOnSameRackReplicaDisk()
    result = check(model, keep_going=True)
    trace = result.property("survive_one_rack_loss").counterexample
    assert len(trace) == 8
    assert trace.steps[-1].action == "ack"
    assert disk_holders(trace.final_state) == {"db1", "db2"}
    assert result.property("survive_one_disk_loss").verdict == "holds"
    assert fault_tolerance(model, "survive_one_rack_loss").k == 0
    assert fault_tolerance(model, "survive_one_disk_loss").k == 1


def test_replica_in_another_rack_survives_one_rack_failure():
    """Acknowledged after the primary's disk and a disk in another rack: ``survives(k=1, domain="rack")`` holds.

    Whichever node is primary (db1 or db2 in r1, or db3 in r2 after a failover), the rule adds a
    holder in the other rack, so the holders span both racks: two rack failures are needed, and
    disk losses only add to the count.  At ``k = 2``, ``0 + 2 > 2`` is false: rack tolerance 1.
    """
    model = racks.AckOnOtherRackReplicaDisk()
    result = check(model, properties=["survive_one_rack_loss", "survive_one_disk_loss"])
    assert result.verdict == "holds"
    assert fault_tolerance(model, "survive_one_rack_loss").k == 1


@pytest.mark.parametrize("cls, k", [(racks.AckOnOneReplicaDisk, 0), (racks.AckOnBothReplicasDisk, 1)], ids=["one-replica", "both-replicas"])
def test_rack_tolerance_of_the_other_variants(cls, k):
    """Either replica may be db2 (rack 0); every disk spans r1 and r2 only, so two racks (rack 1, not 2)."""
    assert fault_tolerance(cls(), "survive_one_rack_loss").k == k


class AckOnSameRackPageCache(racks._PrimaryTwoReplicas):
    """Acknowledged once db1 and db2 have the order in their OS cache, not fsynced (Kafka's acks=all with the page cache)."""

    def ack_allowed(s, o):
        return s.written["db1"].has(o) & s.written["db2"].has(o)


class AckOnSameRackPageCacheNodeFaults(AckOnSameRackPageCache):
    """The same design, with power lost one node at a time only."""

    faults = Faults(crash=True, power_loss=True, disk_loss=True, budget=1, domain="node")


def test_rack_power_loss_is_one_fault_in_executions():
    """With ``domain="rack"``, ``power_loss(rack=r1)`` empties both OS caches for one unit of budget: 7 states.

    accept, write(db1), replicate to db2, write(db2), ack: the order is in memory and cache on
    db1 and db2 only (6 states).  A power loss of r1 takes both down and empties memory and OS
    cache on both, and spends one unit: ``acked_never_lost`` is violated at budget 1.
    """
    result = check(AckOnSameRackPageCache(), properties=["acked_never_lost"])
    trace = result.counterexample
    assert actions(trace) == [None, "accept", "write", "replicate", "write", "ack", "power_loss"]
    assert dict(trace.steps[-1].params) == {"rack": "r1"}
    assert trace.final_state["faults_spent"] == 1
    assert trace.final_state["up"] == {"db1": False, "db2": False, "db3": True}


def test_node_power_losses_need_two_faults_for_the_same_loss():
    """Power lost node by node: one fault leaves the other cache copy, so the budget tolerance is 1.

    At budget 1 a power loss (or disk loss) of db1 or db2 empties one of the two caches, and
    crashes empty memory only: some copy remains.  At budget 2, one such fault on each: lost.
    """
    tolerance = fault_tolerance(AckOnSameRackPageCacheNodeFaults(), "acked_never_lost")
    assert tolerance.k == 1
    faults = [step for step in tolerance.breaking.counterexample.steps if step.action in ("crash", "power_loss", "disk_loss")]
    assert sorted(dict(step.params)["n"] for step in faults) == ["db1", "db2"]
    assert {step.action for step in faults} <= {"power_loss", "disk_loss"}
    assert "power_loss" in {b.action for b in spec_of(AckOnSameRackPageCacheNodeFaults()).bindings}
    assert not any(dict(b.params).get("rack") for b in spec_of(AckOnSameRackPageCacheNodeFaults()).bindings)
