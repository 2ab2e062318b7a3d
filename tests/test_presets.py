"""Product presets: the fault tolerance each product's documentation implies.

Every test states, in its docstring, what the product's documentation says, the mechanics that
follow from it, and the number (or verdict) those mechanics imply.  The numbers are derived by
hand from the documentation and the preset's docstring (``src/ordercheck/protocols/presets.py``),
never by running the engine and pasting.  Instances are small: three servers, and every design
test runs with one order and with two (the ``orders`` fixture): products that ship a log
replicate it in order, so the documented verdicts do not depend on the number of orders.

Vocabulary (see ``tests/test_designs.py`` for the family's steps): *fault tolerance* is
:func:`ordercheck.tolerance.fault_tolerance`: for ``never_lost`` and ``visible_after_failover``
the largest fault budget (number of crashes / power losses / disk losses in one execution) at
which the property still holds; for ``survives`` the largest k it holds for.  ``breaks at k+1``
comes with the failures of the shortest trace that breaks it.

Sources (paraphrased; the test docstrings quote the relevant part):

* PostgreSQL documentation, "Write Ahead Log" settings (``synchronous_commit``) and "Replication"
  settings (``synchronous_standby_names``), and "High Availability, Load Balancing, and
  Replication", section "Synchronous Replication".
* Apache Kafka documentation: producer config ``acks``; topic config ``min.insync.replicas`` and
  ``unclean.leader.election.enable``; design section "Replication" and operations section
  "Application vs. OS Flush Management" (no fsync by default: durability comes from replication).
* Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm" (USENIX ATC 2014):
  persistent state is updated on stable storage before responding to RPCs; an entry is committed
  once the leader has replicated it on a majority; the election restriction (section 5.4.1) and
  the Leader Completeness property.  etcd's documentation: the WAL is fsynced before a member
  acknowledges.
* van Renesse and Schneider, "Chain Replication for Supporting High Throughput and
  Availability" (OSDI 2004): updates enter at the head, pass every server in order, the tail
  replies; servers are fail-stop; a failed head is replaced by its successor; t+1 servers
  tolerate t failures.
* InterSystems IRIS: the SynchCommit setting (RCPF_SYNCHCOMMIT) and the High Availability Guide
  (Mirroring: failover members, Mirror Synchronization, Backup Status and Automatic Failover).
* MySQL 8.0 Reference Manual, "Semisynchronous Replication"; MongoDB manual, "Write Concern" and
  "Rollbacks During Replica Set Failover"; Redis documentation, "Replication", "WAIT" and
  "Persistence".

Tests marked ``xfail(strict=True)`` are expectations the presets do not meet today; the
reproducers and diagnoses are in ``.notes/designs-helper.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ordercheck import check
from ordercheck.design import load_design
from ordercheck.protocols.presets import apply_preset
from ordercheck.tolerance import fault_tolerance

DESIGNS = Path(__file__).resolve().parent / "data" / "designs"
NOTES = "see .notes/designs-helper.md: "

PG = ["db1", "db2", "db3"]
KAFKA = ["b1", "b2", "b3"]
RAFT = ["n1", "n2", "n3"]
CHAIN = ["c1", "c2", "c3"]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def preset_design(tmp_path: Path, preset: str, settings: dict[str, Any], names: list[str], kinds: list[str], prop: dict[str, Any], *,
                  budget: int = 1, racks: dict[str, str] | None = None, domain: str = "node", orders: int = 1) -> Any:
    """A design of ``names`` (the first is the primary / leader / head) with ``preset`` and ``settings``, and ``orders`` orders."""
    lines = [f'name = "{preset}"', f"orders = {orders}"]
    for i, name in enumerate(names):
        lines += ["", "[[node]]", f'name = "{name}"', f'role = "{"primary" if i == 0 else "replica"}"']
        if racks:
            lines.append(f'rack = "{racks[name]}"')
    lines += ["", "[protocol]", f'preset = "{preset}"']
    # Kafka's names contain dots: quote every key (TOML would read a bare dotted key as nested tables).
    lines += [f'"{k}" = {toml_value(v)}' for k, v in settings.items()]
    lines += ["", "[check]", f"faults = {toml_value({'kinds': kinds, 'budget': budget, 'domain': domain})}", "", "[[check.property]]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in prop.items()]
    path = tmp_path / f"{preset}.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_design(path)


def tolerance(design: Any, prop: str, max_k: int) -> Any:
    return fault_tolerance(design.model(), prop, max_k=max_k)


def breaking_steps(t: Any) -> list[str]:
    return [step.label for step in t.breaking.counterexample.steps[1:]]


@pytest.fixture(params=[1, 2], ids=["1 order", "2 orders"])
def orders(request: pytest.FixtureRequest) -> int:
    """Every preset test runs with one order and with two: products that ship a log replicate it in
    order, so a second order changes no documented verdict."""
    return int(request.param)


NEVER_LOST = {"kind": "never_lost"}
VISIBLE = {"kind": "visible_after_failover"}


# ----------------------------------------------------------------------------- the mappings

def test_postgresql_settings_map_to_ack_rules() -> None:
    """synchronous_commit, in PostgreSQL's words: ``off`` reports success before the WAL is flushed
    (the commit is in the WAL buffers, memory); ``local`` waits for the local flush only;
    ``remote_write`` also for the synchronous standbys to have "written it out to their operating
    system" (OS cache); ``on`` for them to have "flushed it to disk"; ``remote_apply`` for them to
    have applied it (after flushing).  ``FIRST n (...)``/``ANY n (...)`` wait for n of the listed
    standbys; a plain list is ``FIRST 1``; an empty list means no synchronous standby, and the
    remote levels then behave as ``local``."""
    def ack(level: str, names: str = "FIRST 1 (db2)") -> str:
        protocol, _ = apply_preset("postgresql", {"synchronous_commit": level, "synchronous_standby_names": names}, PG, "db1")
        return protocol.ack

    assert ack("off") == "primary.memory"
    assert ack("local") == "primary.disk"
    assert ack("remote_write") == "primary.disk and 1 of sync.os-cache"
    assert ack("on") == "primary.disk and 1 of sync.disk"
    assert ack("remote_apply") == "primary.disk and 1 of sync.disk"
    assert ack("on", "") == "primary.disk"
    assert ack("on", "ANY 2 (db2, db3)") == "primary.disk and 2 of sync.disk"
    _, replication = apply_preset("postgresql", {"synchronous_standby_names": "db3, db2"}, PG, "db1")
    assert replication == {"db2": "sync", "db3": "sync"}


def test_kafka_settings_map_to_ack_rules() -> None:
    """Kafka's producer ``acks``: 0 does not wait, 1 waits for the leader's log, all (or -1) for the
    full in-sync replica set.  The log is written to the page cache and not fsynced unless
    ``flush.messages``/``flush.ms`` ask for it.  Followers are in the ISR until they lag."""
    protocol, replication = apply_preset("kafka", {"acks": "all"}, KAFKA, "b1")
    assert protocol.ack == "primary.os-cache and all of isr.os-cache"
    assert protocol.fsync == "never" and protocol.degrade_sync_after_timeout and protocol.promote == "sync"
    assert replication == {"b2": "sync", "b3": "sync"}
    assert apply_preset("kafka", {"acks": "1"}, KAFKA, "b1")[0].ack == "primary.os-cache"
    assert apply_preset("kafka", {"acks": -1, "flush": True}, KAFKA, "b1")[0].ack == "primary.disk and all of isr.disk"
    assert apply_preset("kafka", {"unclean.leader.election.enable": True}, KAFKA, "b1")[0].promote == "any"


def test_raft_and_chain_map_to_ack_rules() -> None:
    """Raft commits an entry of the leader's own log once a majority stores it (each fsyncs before
    replying) and elects by majority vote with log comparison; a restarted leader is a follower until
    elected again. Chain replication replies from the tail, and a failed head is replaced by its successor."""
    raft, _ = apply_preset("raft", {}, RAFT, "n1")
    assert (raft.ack, raft.promote) == ("primary.disk and majority.disk", "majority")
    assert raft.restarted_primary_needs_election and not raft.rejoin_authoritative
    chain, replication = apply_preset("chain", {}, CHAIN, "c1")
    assert (chain.ack, chain.promote) == ("tail.disk", "successor")
    assert replication == {"c2": "chain", "c3": "chain"}


# ----------------------------------------------------------------------------- PostgreSQL

def test_postgresql_on_survives_any_single_disk_loss(tmp_path: Path, orders: int) -> None:
    """``synchronous_commit = on``, ``synchronous_standby_names = 'FIRST 1 (db2)'``, three servers.

    PostgreSQL: with ``on``, "commits will wait until replies from the current synchronous
    standby(s) indicate they have received the commit record of the transaction and flushed it to
    disk.  This ensures the transaction will not be lost unless both the primary and all
    synchronous standbys suffer corruption of their database storage."

    So an acknowledged commit is on db1's and db2's disks (db3 is asynchronous and may have
    nothing): any one disk loss leaves a copy (tolerance >= 1); losing the storage of both db1 and
    db2 loses it, exactly the documented exception (tolerance 1, broken by those two losses)."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "on", "synchronous_standby_names": "FIRST 1 (db2)",
                                                    "failover": "confirmed-standby"}, PG, ["disk-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=3)
    assert t.k == 1
    assert sorted(t.failure_set) == ["disk_loss(n='db1')", "disk_loss(n='db2')"]


def test_postgresql_failover_to_the_confirmed_standby_keeps_commits_visible(tmp_path: Path, orders: int) -> None:
    """``on``, ``FIRST 1 (db2)``, failover only to the confirmed (synchronous) standby.

    PostgreSQL's high-availability chapter: after a failover, only a synchronous standby that
    confirmed a commit is sure to have it.  Here every acknowledged commit is flushed on db1 and
    db2, crashes and power losses do not touch disks, and only db2 may be promoted: whichever of
    the two is primary holds every acknowledged commit, for any number of crashes and power losses
    (checked up to 3, one per server)."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "on", "synchronous_standby_names": "FIRST 1 (db2)",
                                                    "failover": "confirmed-standby"}, PG, ["crash", "power-loss"], VISIBLE, orders=orders)
    assert tolerance(design, "visible_after_failover", max_k=3).k == 3


def test_postgresql_failover_to_any_standby_loses_commits_with_one_failure(tmp_path: Path, orders: int) -> None:
    """``on``, ``FIRST 1 (db2)``, failover to any standby.

    Only db2 confirmed the commit; db3 streams asynchronously and may lag.  One crash of the
    primary followed by promoting db3 serves a database without the acknowledged commit:
    tolerance 0, broken by crash(db1) and then promote(db3)."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "on", "synchronous_standby_names": "FIRST 1 (db2)",
                                                    "failover": "any-standby"}, PG, ["crash"], VISIBLE, orders=orders)
    t = tolerance(design, "visible_after_failover", max_k=2)
    assert t.k == 0
    assert t.failure_set == ["crash(n='db1')"]
    assert breaking_steps(t)[-1] == "promote(n='db3')"


def test_postgresql_local_loses_commits_with_the_primary_disk(tmp_path: Path, orders: int) -> None:
    """``synchronous_commit = local``: PostgreSQL "causes commits to wait for local flush to disk,
    but not for replication".  The commit may be acknowledged while only db1's disk has it: one
    disk loss of db1 loses it (tolerance 0)."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "local", "synchronous_standby_names": "FIRST 1 (db2)"},
                           PG, ["disk-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=3)
    assert t.k == 0
    assert t.failure_set == ["disk_loss(n='db1')"]


def test_postgresql_empty_standby_names_is_asynchronous(tmp_path: Path, orders: int) -> None:
    """``synchronous_standby_names = ''``: "synchronous replication is not enabled", so ``on`` waits
    only for the local flush; as with ``local``, one disk loss of the primary loses a commit."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "on", "synchronous_standby_names": ""}, PG, ["disk-loss"], NEVER_LOST, orders=orders)
    assert tolerance(design, "never_lost", max_k=3).k == 0


def test_postgresql_off_loses_commits_in_a_crash(tmp_path: Path, orders: int) -> None:
    """``synchronous_commit = off``: "there can be a delay between when success is reported to the
    client and when the transaction is really guaranteed to be safe against a server crash"; the
    commit record is still in the WAL buffers (memory).  One crash of db1 loses it (tolerance 0);
    with ``local`` the same crash cannot (the WAL was flushed), for any number of crashes."""
    off = preset_design(tmp_path, "postgresql", {"synchronous_commit": "off", "synchronous_standby_names": "FIRST 1 (db2)"},
                        PG, ["crash"], NEVER_LOST, orders=orders)
    t = tolerance(off, "never_lost", max_k=3)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"]
    local = preset_design(tmp_path, "postgresql", {"synchronous_commit": "local"}, PG, ["crash"], NEVER_LOST, orders=orders)
    assert tolerance(local, "never_lost", max_k=3).k == 3


def test_postgresql_remote_write_loses_the_standby_copy_in_a_power_loss(tmp_path: Path, orders: int) -> None:
    """``synchronous_commit = remote_write``, ``FIRST 1 (db2)``, failover to the confirmed standby.

    PostgreSQL: remote_write waits until the standby has "written it out to their operating
    system.  This setting is sufficient to ensure data preservation even if a standby instance of
    PostgreSQL were to crash, but not if the standby suffers an operating-system-level crash,
    since the data has not necessarily reached stable storage on the standby."  The primary has
    still flushed it locally first.

    Hence, against power losses only:

    * never_lost holds for any number of them: db1's disk keeps the commit (so a simultaneous
      power loss of db1 and db2 does *not* lose it outright);
    * visible_after_failover breaks at 2: one power loss empties db2's OS cache, a second takes
      out db1, and db2 is promoted without the commit (tolerance 1).  With ``on`` the standby
      flushed it, so the same two power losses keep it visible (holds at 2)."""
    settings = {"synchronous_standby_names": "FIRST 1 (db2)", "failover": "confirmed-standby"}
    write = preset_design(tmp_path, "postgresql", dict(settings, synchronous_commit="remote_write"), PG, ["power-loss"], NEVER_LOST, orders=orders)
    assert tolerance(write, "never_lost", max_k=3).k == 3
    write = preset_design(tmp_path, "postgresql", dict(settings, synchronous_commit="remote_write"), PG, ["power-loss"], VISIBLE, orders=orders)
    t = tolerance(write, "visible_after_failover", max_k=3)
    assert t.k == 1
    assert sorted(t.failure_set) == ["power_loss(n='db1')", "power_loss(n='db2')"]
    on = preset_design(tmp_path, "postgresql", dict(settings, synchronous_commit="on"), PG, ["power-loss"], VISIBLE, orders=orders)
    assert tolerance(on, "visible_after_failover", max_k=2).k == 2


PG_ON = {"synchronous_commit": "on", "synchronous_standby_names": "FIRST 1 (db2)", "failover": "confirmed-standby"}


def test_postgresql_a_primary_that_lost_its_data_directory_does_not_serve_empty(tmp_path: Path, orders: int) -> None:
    """``on``, ``FIRST 1 (db2)``, failover to the confirmed standby, one disk loss.

    PostgreSQL keeps its data and WAL in the data directory; a server whose data directory is
    lost cannot start, and is re-created from a base backup of the current primary
    (``pg_basebackup``) as a standby.  It never comes back as a primary with an empty database.
    Both db1 and db2 flushed every acknowledged commit, so after any one disk loss the serving
    primary (db1, or db2 promoted) has it: visible_after_failover holds at budget 1."""
    design = preset_design(tmp_path, "postgresql", PG_ON, PG, ["disk-loss"], VISIBLE, orders=orders)
    assert check(design.model()).property("visible_after_failover").verdict == "holds"


def test_postgresql_rebuilding_after_a_disk_loss_keeps_commits_visible(tmp_path: Path, orders: int) -> None:
    """The same design with the knob ``rejoin_authoritative = false`` written next to the preset:
    a server that lost its disk rebuilds from a serving primary before it serves again (what
    ``pg_basebackup`` does), and only db2 can be promoted.  Every server that serves has
    therefore every acknowledged commit, for any number of disk losses (checked to 3).  (Losing
    db1's and db2's disks does lose the commit — never_lost, above — but then no server serves.)"""
    design = preset_design(tmp_path, "postgresql", dict(PG_ON, rejoin_authoritative=False), PG, ["disk-loss"], VISIBLE, orders=orders)
    assert tolerance(design, "visible_after_failover", max_k=3).k == 3


@pytest.mark.parametrize("names", ["ANY 1 (db2, db3)", "FIRST 1 (db2, db3)"])
def test_postgresql_quorum_failover_promotes_a_standby_that_confirmed(tmp_path: Path, orders: int, names: str) -> None:
    """``on`` with ``ANY 1 (db2, db3)`` (or ``FIRST 1 (db2, db3)``, where db3 is a potential
    synchronous standby), failover to a confirmed standby.

    PostgreSQL waits for *one* of the listed standbys; the other may lag.  "Only the standbys
    that confirmed are sure to hold an acknowledged commit" (the preset's own docstring, and
    PostgreSQL's high-availability chapter: choose the standby that received the most WAL).
    Failing over to a standby that confirmed keeps every acknowledged commit visible through one
    crash of the primary: visible_after_failover holds at budget 1."""
    design = preset_design(tmp_path, "postgresql", {"synchronous_commit": "on", "synchronous_standby_names": names,
                                                    "failover": "confirmed-standby"}, PG, ["crash"], VISIBLE, orders=orders)
    assert tolerance(design, "visible_after_failover", max_k=1).k == 1


# ----------------------------------------------------------------------------- Kafka

MIN2 = {"acks": "all", "min.insync.replicas": 2}


def test_kafka_acks_all_without_fsync_loses_to_a_correlated_power_loss(tmp_path: Path, orders: int) -> None:
    """``acks = all``, ``min.insync.replicas = 2``, ``replication.factor = 3``, no fsync (the default).

    Kafka: acks=all "guarantees that the record will not be lost as long as at least one in-sync
    replica remains alive"; min.insync.replicas=2 makes the leader refuse writes unless two
    replicas (itself included) are in sync; and Kafka does not fsync by default ("durability in
    Kafka does not require syncing data to disk, as a failed node will always recover from its
    replicas").  So an acknowledged message is in the page cache of at least two brokers, and on
    no disk.

    * Process crashes keep the page cache: never_lost holds for any number of them.
    * Power losses empty it: two power losses (the leader and the one follower left in the ISR)
      lose the message; one cannot.  Tolerance 1.
    * All three brokers in one rack: a single rack power loss is one correlated fault that takes
      every copy (violated at budget 1).  With ``flush = true`` (fsync before acknowledging) the
      same rack power loss loses nothing."""
    crash = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["crash"], NEVER_LOST, orders=orders)
    assert tolerance(crash, "never_lost", max_k=3).k == 3
    power = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["power-loss"], NEVER_LOST, orders=orders)
    t = tolerance(power, "never_lost", max_k=3)
    assert t.k == 1
    assert len(t.failure_set) == 2 and all(f.startswith("power_loss(n=") for f in t.failure_set)
    racks = dict.fromkeys(KAFKA, "r1")
    rack = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["power-loss"], NEVER_LOST, racks=racks, domain="rack", orders=orders)
    result = check(rack.model()).property("never_lost")
    assert result.verdict == "violated"
    assert [s.label for s in result.counterexample.steps if s.action == "power_loss"] == ["power_loss(rack='r1')"]
    flushed = preset_design(tmp_path, "kafka", dict(MIN2, flush=True), KAFKA, ["power-loss"], NEVER_LOST, racks=racks, domain="rack", orders=orders)
    assert check(flushed.model()).property("never_lost").verdict == "holds"


def test_kafka_min_insync_replicas_1_lets_the_isr_shrink_to_the_leader(tmp_path: Path, orders: int) -> None:
    """``acks = all`` with the default ``min.insync.replicas = 1``.

    Kafka: acks=all waits for the *current* in-sync replica set, and followers that lag leave it;
    with min.insync.replicas=1 "a lone leader can acknowledge alone" (pattern 4 of DOMAIN.md).
    Both followers drop out (no fault needed), the leader acknowledges from its page cache, and
    one power loss of the leader loses the message: tolerance 0, and the breaking trace drops both
    followers from the ISR before the acknowledgement."""
    design = preset_design(tmp_path, "kafka", {"acks": "all"}, KAFKA, ["power-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=3)
    assert t.k == 0 and t.failure_set == ["power_loss(n='b1')"]
    steps = breaking_steps(t)
    assert sorted(s for s in steps if s.startswith("drop_from_sync")) == ["drop_from_sync(r='b2')", "drop_from_sync(r='b3')"]
    assert steps.index("ack(o='o1')") > max(steps.index("drop_from_sync(r='b2')"), steps.index("drop_from_sync(r='b3')"))


def test_kafka_acks_1_loses_messages_on_leader_failover(tmp_path: Path, orders: int) -> None:
    """``acks = 1``: "the leader will write the record to its local log but will respond without
    awaiting full acknowledgement from all followers.  In this case should the leader fail
    immediately after acknowledging the record but before the followers have replicated it then
    the record will be lost."  One crash of the leader and a clean election of a follower (still
    in the ISR, but without the message) serves a log without it: tolerance 0.  With acks=all
    (min.insync.replicas=2) the new leader comes from the ISR, which has the message: holds at 2."""
    one = preset_design(tmp_path, "kafka", {"acks": "1"}, KAFKA, ["crash"], VISIBLE, orders=orders)
    t = tolerance(one, "visible_after_failover", max_k=2)
    assert t.k == 0 and t.failure_set == ["crash(n='b1')"]
    assert breaking_steps(t)[-1].startswith("promote(")
    every = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["crash"], VISIBLE, orders=orders)
    assert tolerance(every, "visible_after_failover", max_k=2).k == 2


def test_kafka_unclean_leader_election_loses_acknowledged_messages(tmp_path: Path, orders: int) -> None:
    """``unclean.leader.election.enable = true``: "Indicates whether to enable replicas not in the
    ISR set to be elected as leader as a last resort, even though doing so may result in data
    loss."  With acks=all and min.insync.replicas=2, a follower that fell out of the ISR (no
    fault) lacks a message the other two acknowledged; one crash of the leader and its unclean
    election serve a log without it: tolerance 0, and the promoted broker is the one that was
    dropped.  With the default ``false`` the same settings hold at budget 2."""
    unclean = preset_design(tmp_path, "kafka", dict(MIN2, **{"unclean.leader.election.enable": True}), KAFKA, ["crash"], VISIBLE, orders=orders)
    t = tolerance(unclean, "visible_after_failover", max_k=2)
    assert t.k == 0 and t.failure_set == ["crash(n='b1')"]
    steps = breaking_steps(t)
    dropped = [s.split("'")[1] for s in steps if s.startswith("drop_from_sync")]
    assert steps[-1] == f"promote(n='{dropped[0]}')"
    clean = preset_design(tmp_path, "kafka", dict(MIN2, **{"unclean.leader.election.enable": False}), KAFKA, ["crash"], VISIBLE, orders=orders)
    assert tolerance(clean, "visible_after_failover", max_k=2).k == 2


def test_kafka_min_insync_replicas_holds_after_a_leader_failover(tmp_path: Path, orders: int) -> None:
    """``acks = all``, ``min.insync.replicas = 2``, ``flush = true``, crashes only.

    Kafka: "min.insync.replicas specifies the minimum number of replicas that must acknowledge a
    write for the write to be considered successful.  If this minimum cannot be met, then the
    producer will raise an exception (either NotEnoughReplicas or NotEnoughReplicasAfterAppend)."
    The leader counts as one of them.  So every acknowledged message is on two brokers' disks
    (flush), and crashes remove no disk copy: survives k=1 (at least two disk copies) holds, also
    after a leader crash and the election of a new leader whose ISR is just itself (which must
    refuse writes)."""
    design = preset_design(tmp_path, "kafka", dict(MIN2, flush=True), KAFKA, ["crash"], {"kind": "survives", "k": 1}, orders=orders)
    assert check(design.model()).property("survives 1 node failure").verdict == "holds"


def test_kafka_settings_may_be_written_as_kafka_spells_them() -> None:
    """The design format promises presets "whose knobs use the product's own names": Kafka's are
    ``min.insync.replicas`` and the like, which TOML reads, unquoted, as nested tables.  A design
    that writes ``min.insync.replicas = 2`` means min.insync.replicas = 2."""
    design = load_design(DESIGNS / "presets" / "kafka-dotted-key.toml")
    assert design.protocol.min_sync_replicas == 1  # the followers the leader needs besides itself


# ----------------------------------------------------------------------------- Raft

def test_raft_majority_on_disk_survives_one_disk_loss_not_two(tmp_path: Path, orders: int) -> None:
    """Raft, three servers: an entry is committed (and the client answered) once a majority, two
    of three, has it in its log, and each server writes its log to stable storage before
    replying.  Two disks hold every acknowledged entry: one disk loss leaves a copy, two can take
    both (never_lost tolerance 1); structurally, survives holds for k = 1 and not for k = 2."""
    design = preset_design(tmp_path, "raft", {}, RAFT, ["disk-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=3)
    assert t.k == 1 and len(t.failure_set) == 2
    design = preset_design(tmp_path, "raft", {}, RAFT, ["disk-loss"], {"kind": "survives", "k": 1}, orders=orders)
    t = tolerance(design, "survives 1 node failure", max_k=3)
    assert t.k == 1 and t.measure == "k of survives"


def test_raft_entries_survive_any_crash_and_power_loss(tmp_path: Path, orders: int) -> None:
    """Raft persists before replying, so crashes and power losses, which leave disks alone,
    cannot remove a committed entry: never_lost holds for any number of them (checked to 3)."""
    design = preset_design(tmp_path, "raft", {}, RAFT, ["crash", "power-loss"], NEVER_LOST, orders=orders)
    assert tolerance(design, "never_lost", max_k=3).k == 3


def test_raft_a_new_leader_has_every_committed_entry(tmp_path: Path, orders: int) -> None:
    """Raft's Leader Completeness property (section 5.4): "if a log entry is committed in a given
    term, then that entry will be present in the logs of the leaders for all higher-numbered
    terms".  It rests on the election restriction (a voter refuses a candidate whose log is less
    up to date than its own) and on the leader committing only entries in its own log.  With
    persistent logs, crashes and power losses cannot break it: visible_after_failover holds at
    any budget (checked to 2)."""
    design = preset_design(tmp_path, "raft", {}, RAFT, ["crash", "power-loss"], VISIBLE, orders=orders)
    assert tolerance(design, "visible_after_failover", max_k=2).k == 2


# ----------------------------------------------------------------------------- chain replication

def test_chain_tail_ack_means_every_server_has_it(tmp_path: Path, orders: int) -> None:
    """Chain replication: an update "is processed by the head", forwarded along the chain, and the
    reply "is generated and sent by the tail"; so when the tail answers, every server of the
    chain has processed the update.  With three servers, an acknowledged update has three copies
    and only three failures can remove them all: never_lost against disk losses has tolerance 2.

    (Promotion is switched off here, ``promote = "none"``, to look at the acknowledgement alone;
    the failover case is the next test.)"""
    design = preset_design(tmp_path, "chain", {"promote": "none"}, CHAIN, ["disk-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=3)
    assert t.k == 2
    assert sorted(t.failure_set) == ["disk_loss(n='c1')", "disk_loss(n='c2')", "disk_loss(n='c3')"]


def test_chain_tolerates_t_failures_with_t_plus_1_servers(tmp_path: Path, orders: int) -> None:
    """van Renesse and Schneider: servers are fail-stop; "Failure of the head is handled by
    removing H from the chain and making the successor to H the new head"; a chain of t+1
    servers tolerates t failures.  Three servers, disk losses (fail-stop: nothing survives):
    never_lost has tolerance 2 with the preset's own promotion, as without promotion."""
    design = preset_design(tmp_path, "chain", {}, CHAIN, ["disk-loss"], NEVER_LOST, orders=orders)
    assert tolerance(design, "never_lost", max_k=3).k == 2


def test_chain_a_rebuilt_server_copies_the_tail_not_the_head(tmp_path: Path, orders: int) -> None:
    """van Renesse and Schneider (OSDI 2004), section 3 ("Coping with Server Failures"): a new
    server is added at the *tail*: the current tail T sends it its state (Hist_T) and then forwards
    what it receives; the chain keeps Hist_j being a prefix of Hist_i for every i before j (the
    Update Propagation Invariant), and t+1 servers tolerate t failures.

    Copying the head instead gives the new tail an update the middle server never received; the
    tail acknowledges it, and when the head fails its successor lacks it.  So with three servers,
    disk losses (fail-stop) and rebuilding: whichever server serves as head has every acknowledged
    update after any two failures (visible_after_failover tolerance 2, checked to 2)."""
    design = preset_design(tmp_path, "chain", {}, CHAIN, ["disk-loss"], VISIBLE, budget=2, orders=orders)
    assert tolerance(design, "visible_after_failover", max_k=2).k == 2


# ----------------------------------------------------------------------------- the survives contract

SURVIVES_1 = {"kind": "survives", "k": 1}


def test_kafka_acks_all_rf3_min_insync_2_survives_one_failure(tmp_path: Path, orders: int) -> None:
    """``acks = all``, ``replication.factor = 3``, ``min.insync.replicas = 2``, no fsync (Kafka's default).

    Kafka's topic configuration (https://kafka.apache.org/documentation/#topicconfigs_min.insync.replicas):
    "A typical scenario would be to create a topic with a replication factor of 3, set
    min.insync.replicas to 2, and produce with an acks of "all". This will ensure that a majority
    of replicas must persist a write before it's considered successful by the producer."  The
    copies are in the brokers' page caches (DESIGN.md section 4: every copy counts, in every
    medium, each removed by one failure of its broker).  So every acknowledged message is held by
    at least two brokers: survives k = 1 holds, and k = 2 breaks (two brokers hold it once the
    third left the ISR) — tolerance 1, against crashes, power losses and disk losses."""
    design = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["crash", "power-loss", "disk-loss"], SURVIVES_1, orders=orders)
    t = tolerance(design, "survives 1 node failure", max_k=3)
    assert (t.k, t.measure) == (1, "k of survives")


def test_survives_explains_which_copies_remain_and_what_removes_them(tmp_path: Path, orders: int) -> None:
    """The same Kafka design, asked to survive two failures: the shortest violation acknowledges a
    message held by the leader b1 and one follower (the other left the ISR), in memory and page
    cache.  The explanation names those copies and the two broker failures that remove them; it
    does not say that no copy remains (two do)."""
    from ordercheck.domain.explain import explain_survives

    design = preset_design(tmp_path, "kafka", MIN2, KAFKA, ["crash", "power-loss", "disk-loss"], {"kind": "survives", "k": 2}, orders=orders)
    model = design.model()
    result = check(model)
    prop = result.property("survives 2 node failures")
    assert prop.verdict == "violated"
    final = prop.counterexample.final_state
    [sentence] = explain_survives(model._ordercheck_spec.extra, result.constants, "survives 2 node failures", final)
    holders = sorted(n for n in KAFKA if "o1" in final["cache"][n])
    assert len(holders) == 2 and "b1" in holders
    assert "no copy" not in sentence
    assert f"{holders[0]} (memory, os-cache), {holders[1]} (memory, os-cache)" in sentence
    assert "(2 failures) removes every copy" in sentence and "survive 2" in sentence


def test_postgresql_any_1_replicates_the_wal_in_order(tmp_path: Path, orders: int) -> None:
    """``on``, ``ANY 1 (db2, db3)``, failover to the standby that confirmed, one crash.

    PostgreSQL streams the WAL in order (https://www.postgresql.org/docs/current/warm-standby.html,
    "Streaming Replication": WAL records are streamed to the standby as they are generated), so a
    standby that has a later commit has every earlier one, and "most up to date" compares WAL
    positions.  With two orders the model once let replicate(o2, db1 -> db3) overtake o1, so that
    db3 was promoted without the acknowledged o1.  In log order, visible_after_failover holds at
    budget 1 with either number of orders; the knob ``log_order = false`` (orders may overtake
    one another) brings the loss back with two orders, which shows the knob is what does it."""
    settings = {"synchronous_commit": "on", "synchronous_standby_names": "ANY 1 (db2, db3)", "failover": "confirmed-standby"}
    design = preset_design(tmp_path, "postgresql", settings, PG, ["crash"], VISIBLE, orders=orders)
    assert check(design.model()).property("visible_after_failover").verdict == "holds"
    if orders == 2:
        unordered = preset_design(tmp_path, "postgresql", dict(settings, log_order=False), PG, ["crash"], VISIBLE, orders=orders)
        result = check(unordered.model()).property("visible_after_failover")
        assert result.verdict == "violated"
        steps = [s.label for s in result.counterexample.steps]
        assert steps.index("replicate(o='o2', src='db1', dst='db3')") < len(steps) and steps[-1] == "promote(n='db3')"


RAFT_WITHOUT_FSYNC = """name = "raft without fsync"
orders = {orders}

[[node]]
name = "n1"
role = "primary"

[[node]]
name = "n2"
role = "replica"
replication = "quorum"

[[node]]
name = "n3"
role = "replica"
replication = "quorum"

[protocol]
fsync = "never"
ack = "primary.os-cache and majority.os-cache"
promote = "majority"
restarted_primary_needs_election = true

[check]
faults = {{ kinds = ["crash"], budget = 2 }}

[[check.property]]
kind = "visible_after_failover"
"""


def test_majority_votes_compare_the_logs_the_voters_have(tmp_path: Path, orders: int) -> None:
    """``promote = "majority"`` with no fsync: every disk is empty, every log is in the page cache.

    Raft (Ongaro and Ousterhout, USENIX ATC 2014, section 5.4.1): "the voter denies its vote if its
    own log is more up-to-date than that of the candidate"; the log compared is the one the voter
    has, and a process crash keeps what is in the page cache.  An entry acknowledged once the
    leader and a majority have it in the page cache is therefore in the log of some voter of every
    majority, and no candidate lacking it wins: visible_after_failover holds for any number of
    process crashes (checked to 2).  Comparing disk logs only (all empty) let a voter holding the
    entry vote for a candidate without it."""
    path = tmp_path / "raft-without-fsync.toml"
    path.write_text(RAFT_WITHOUT_FSYNC.format(orders=orders))
    assert tolerance(load_design(path), "visible_after_failover", max_k=2).k == 2


# ----------------------------------------------------------------------------- InterSystems IRIS mirroring

IRIS = ["db1", "db2", "db3"]   # db1 primary, db2 the backup failover member, db3 a DR async member


def test_iris_settings_map_to_ack_rules() -> None:
    """IRIS: SynchCommit ("Every TCOMMIT command requests a flush of the journal data involved in that
    transaction to disk. When 1 (true) TCOMMIT does not complete until the journal data write
    operation completes. When 0 (false) TCOMMIT does not wait for the write operation to complete";
    https://docs.intersystems.com/latest/csp/docbook/DocBook.UI.Page.cls?KEY=RCPF_SYNCHCOMMIT), and
    mirroring ("Transfer of journal records from the primary to the backup is synchronous, with the
    primary waiting for acknowledgement from the backup at key points"; an async member "receives
    journal data from the primary asynchronously"; High Availability Guide, Mirror Synchronization)."""
    protocol, replication = apply_preset("iris", {}, IRIS, "db1")
    assert (protocol.ack, protocol.promote, replication) == ("primary.memory", "sync", {"db2": "sync", "db3": "async"})
    assert protocol.degrade_sync_after_timeout
    protocol, replication = apply_preset("iris", {"SynchCommit": 1, "Backup": "db3", "DRPromotion": True}, IRIS, "db1")
    assert (protocol.ack, protocol.promote, replication) == ("primary.disk and 1 of sync.memory", "any", {"db2": "async", "db3": "sync"})


def test_iris_synchcommit_0_loses_a_commit_in_a_crash_of_the_primary(tmp_path: Path, orders: int) -> None:
    """``SynchCommit = 0`` (the default): TCOMMIT "does not wait for the write operation to complete"
    (RCPF_SYNCHCOMMIT): the committed journal data may be only in the primary's journal buffer, in
    memory.  One crash of the primary loses an acknowledged commit: never_lost tolerance 0, broken
    by crash(db1).  With ``SynchCommit = 1`` the journal is on disk first, and crashes cannot lose it
    (holds for any number, checked to 2)."""
    t = tolerance(preset_design(tmp_path, "iris", {}, IRIS, ["crash"], NEVER_LOST, orders=orders), "never_lost", max_k=2)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"]
    synch = preset_design(tmp_path, "iris", {"SynchCommit": 1}, IRIS, ["crash"], NEVER_LOST, orders=orders)
    assert tolerance(synch, "never_lost", max_k=2).k == 2


def test_iris_failover_to_the_active_backup_keeps_commits(tmp_path: Path, orders: int) -> None:
    """``SynchCommit = 1``, one crash.  IRIS High Availability Guide, Failover Mirror Members: "When the
    primary InterSystems IRIS instance becomes unavailable, the backup takes over, providing
    uninterrupted access to the databases without risk of data loss"; automatic failover goes only
    to an *active* backup, which has acknowledged every journal record the primary counted durable.
    So after one crash the serving primary has every acknowledged commit (visible_after_failover
    holds at budget 1).  Promoting the DR async member instead (``DRPromotion = true``) "may lose
    data" (DOMAIN.md): one crash of the primary and db3's promotion serve a database without the
    commit (tolerance 0, broken by crash(db1) and promote(db3))."""
    synch = preset_design(tmp_path, "iris", {"SynchCommit": 1}, IRIS, ["crash"], VISIBLE, orders=orders)
    assert check(synch.model()).property("visible_after_failover").verdict == "holds"
    dr = preset_design(tmp_path, "iris", {"SynchCommit": 1, "DRPromotion": True}, IRIS, ["crash"], VISIBLE, orders=orders)
    t = tolerance(dr, "visible_after_failover", max_k=1)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"] and breaking_steps(t)[-1] == "promote(n='db3')"


def test_iris_a_backup_that_misses_the_qos_timeout_leaves_the_primary_alone(tmp_path: Path, orders: int) -> None:
    """``SynchCommit = 1``, disk losses.  IRIS: a backup that does not acknowledge within the QoS
    timeout is no longer active, and the primary carries on alone (DOMAIN.md; High Availability
    Guide, "Backup Status and Automatic Failover" and "Quality of Service Timeout Setting").  The
    primary then acknowledges with its own journal only: the backup is demoted (no fault), a commit
    is acknowledged, and one disk loss of the primary loses it (never_lost tolerance 0, the backup's
    demotion before the acknowledgement in the trace)."""
    design = preset_design(tmp_path, "iris", {"SynchCommit": 1}, IRIS, ["disk-loss"], NEVER_LOST, orders=orders)
    t = tolerance(design, "never_lost", max_k=1)
    assert t.k == 0 and t.failure_set == ["disk_loss(n='db1')"]
    steps = breaking_steps(t)
    assert steps.index("drop_from_sync(r='db2')") < steps.index("ack(o='o1')")


# ----------------------------------------------------------------------------- MySQL, MongoDB, Redis

MY = ["db1", "db2", "db3"]


def test_mysql_asynchronous_replication_loses_commits_on_failover(tmp_path: Path, orders: int) -> None:
    """MySQL's default asynchronous replication (MySQL 8.0 Reference Manual, "Semisynchronous
    Replication", https://dev.mysql.com/doc/refman/8.0/en/replication-semisync.html): "With
    asynchronous replication, if the source crashes, transactions that it has committed might not
    have been transmitted to any replica. Failover from source to replica in this case might result
    in failover to a server that is missing transactions relative to the source."  One crash of the
    source and the promotion of a replica lose a commit: visible_after_failover tolerance 0."""
    design = preset_design(tmp_path, "mysql", {}, MY, ["crash"], VISIBLE, orders=orders)
    t = tolerance(design, "visible_after_failover", max_k=1)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"] and breaking_steps(t)[-1].startswith("promote(")


def test_mysql_semisync_keeps_commits_until_it_falls_back(tmp_path: Path, orders: int) -> None:
    """Semisynchronous replication, one replica to wait for, failover to the most up-to-date replica.

    The same page: "The replica acknowledges receipt of a transaction's events only after the
    events have been written to its relay log and flushed to disk", and the source answers the
    client only after one replica acknowledged.  So a commit is on db1's and on some replica's disk,
    and failing over to the replica with the most of the binary log after one crash keeps it
    (visible_after_failover holds at budget 1) — provided no replica misses the timeout, written as
    the knob ``degrade_sync_after_timeout = false``.  With the product's behaviour, "If no replica
    acknowledges the transaction during the timeout period, the source reverts to asynchronous
    replication": the fallback (drop_from_sync, no fault), a commit, one crash and a promotion lose
    it (tolerance 0)."""
    settings = {"rpl_semi_sync_source_enabled": True, "failover": "most-up-to-date"}
    steady = preset_design(tmp_path, "mysql", dict(settings, degrade_sync_after_timeout=False), MY, ["crash"], VISIBLE, orders=orders)
    assert check(steady.model()).property("visible_after_failover").verdict == "holds"
    t = tolerance(preset_design(tmp_path, "mysql", settings, MY, ["crash"], VISIBLE, orders=orders), "visible_after_failover", max_k=1)
    assert t.k == 0 and any(s.startswith("drop_from_sync(") for s in breaking_steps(t))


def test_mongodb_w1_is_rolled_back_and_majority_is_not(tmp_path: Path, orders: int) -> None:
    """MongoDB, three members.  Write concern (https://www.mongodb.com/docs/manual/reference/write-concern/)
    and "Rollbacks During Replica Set Failover"
    (https://www.mongodb.com/docs/manual/core/replica-set-rollbacks/): with ``w: 1`` a write
    acknowledged by the primary alone "can be rolled back if the primary steps down before the
    write operations have replicated" — one crash of the primary and an election lose it
    (visible_after_failover tolerance 0).  With ``w: "majority"`` (and, by
    writeConcernMajorityJournalDefault, the journal on disk) a majority holds every acknowledged
    write and an election needs a majority whose oplogs are no newer than the winner's, so the new
    primary has it: "write operations that use majority write concern" are not rolled back —
    holds for any number of crashes and power losses (checked to 2)."""
    one = preset_design(tmp_path, "mongodb", {"w": 1}, MY, ["crash"], VISIBLE, orders=orders)
    t = tolerance(one, "visible_after_failover", max_k=1)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"]
    majority = preset_design(tmp_path, "mongodb", {}, MY, ["crash", "power-loss"], VISIBLE, orders=orders)
    assert tolerance(majority, "visible_after_failover", max_k=2).k == 2


def test_redis_without_persistence_loses_writes_even_with_wait(tmp_path: Path, orders: int) -> None:
    """Redis without persistence (``appendonly no``), Sentinel failover.  Replication is asynchronous
    (https://redis.io/docs/latest/operate/oss_and_stack/management/replication/): a write
    acknowledged by the master alone is lost with one crash of the master (tolerance 0).  ``WAIT 1``
    (https://redis.io/docs/latest/commands/wait/) waits for one replica, but "does not make Redis a
    strongly consistent store", and the replication page, "Safety of replication when master has
    persistence turned off", describes the loss: a master without persistence that restarts
    quickly comes back with an empty data set and carries on as master.  One crash and a restart of
    db1: visible_after_failover tolerance 0 with ``WAIT 1`` too."""
    plain = preset_design(tmp_path, "redis", {}, MY, ["crash"], VISIBLE, orders=orders)
    assert tolerance(plain, "visible_after_failover", max_k=1).k == 0
    wait = preset_design(tmp_path, "redis", {"WAIT": 1}, MY, ["crash"], VISIBLE, orders=orders)
    t = tolerance(wait, "visible_after_failover", max_k=1)
    assert t.k == 0 and t.failure_set == ["crash(n='db1')"] and breaking_steps(t)[-2:] == ["crash(n='db1')", "restart(n='db1')"]


def test_redis_appendfsync_always_keeps_writes_through_power_losses(tmp_path: Path, orders: int) -> None:
    """Redis persistence (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/):
    ``appendfsync always`` fsyncs the AOF "every time new commands are appended": an acknowledged
    write is on the master's disk, and power losses cannot remove it (never_lost holds, checked to
    2).  ``everysec`` fsyncs once a second ("you may lose 1 second of data if there is a
    disaster"): one power loss of the master loses an acknowledged write (tolerance 0)."""
    always = preset_design(tmp_path, "redis", {"appendonly": "yes", "appendfsync": "always"}, MY, ["power-loss"], NEVER_LOST, orders=orders)
    assert tolerance(always, "never_lost", max_k=2).k == 2
    everysec = preset_design(tmp_path, "redis", {"appendonly": "yes"}, MY, ["power-loss"], NEVER_LOST, orders=orders)
    t = tolerance(everysec, "never_lost", max_k=1)
    assert t.k == 0 and t.failure_set == ["power_loss(n='db1')"]


# ----------------------------------------------------------------------------- the designs in model/

MODEL = Path(__file__).resolve().parent.parent / "model"
PRESET_DESIGNS = sorted(p.name for p in MODEL.glob("*.toml") if "# expect:" in p.read_text())


def expected_verdicts(text: str) -> dict[str, str]:
    """The ``# expect: PROPERTY = VERDICT`` lines of a design's header."""
    import re

    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"(?m)^# expect: (.+?) = (holds|violated)\s*$", text)}


def test_every_preset_has_a_design_in_model() -> None:
    """At least one shipped design per preset, beside the incident designs."""
    import tomllib

    used = {tomllib.loads((MODEL / name).read_text())["protocol"].get("preset") for name in PRESET_DESIGNS}
    from ordercheck.protocols.presets import PRESETS

    assert set(PRESETS) <= used


@pytest.mark.parametrize("name", PRESET_DESIGNS)
def test_model_designs_have_the_verdicts_in_their_header(name: str, orders: int, tmp_path: Path) -> None:
    """Each design in model/ states, in its header, the verdict of every property it checks, derived
    there from the product's documentation; the check gives exactly those, with one order as
    shipped and with two."""
    if orders == 2 and name.startswith("hospital-"):
        pytest.skip("ten servers with two orders: millions of states (the iris preset is tested with two orders above)")
    text = (MODEL / name).read_text()
    expected = expected_verdicts(text)
    path = MODEL / name
    if orders != 1:
        path = tmp_path / name
        path.write_text(text.replace("orders = 1\n", f"orders = {orders}\n"))
    result = check(load_design(path).model(), keep_going=True)
    got = {p.name: p.verdict for p in result.properties if p.name in expected}
    assert got == expected


# ----------------------------------------------------------------------------- the documentation

def test_the_preset_tables_in_the_docs_are_the_codes() -> None:
    """docs/designs.md section 8 shows every preset setting (values, default, what it changes) and
    what each preset sets; both tables are generated from the code, and must not drift from it."""
    from ordercheck.protocols.presets import knobs_table, settings_table

    text = (Path(__file__).resolve().parent.parent / "docs" / "designs.md").read_text()

    def between(tag: str) -> str:
        start = text.index(f"<!-- {tag}: generated by")
        body = text[text.index("\n", start) + 1:text.index(f"<!-- end {tag} -->")]
        return body.strip("\n")

    assert between("preset-settings") == settings_table()
    assert between("preset-knobs") == knobs_table()


def test_every_setting_in_the_table_is_read_by_its_preset() -> None:
    """The table lists exactly the settings each preset accepts: a setting outside it is refused
    with the list, and each listed setting is accepted with its default."""
    from ordercheck.lang.errors import ModelError
    from ordercheck.protocols.presets import SETTINGS

    for preset, settings in SETTINGS.items():
        for setting in settings:
            if setting.default is not None:
                apply_preset(preset, {setting.name: setting.default}, ["n1", "n2", "n3"], "n1")
        with pytest.raises(ModelError, match=f"preset '{preset}' has no setting 'no_such_setting'"):
            apply_preset(preset, {"no_such_setting": 1}, ["n1", "n2", "n3"], "n1")
