"""A primary with two replicas in two racks: how many failures does an acknowledged order survive?

The reference models of the durability domain, written in its language (a topology with roles
and racks, node-indexed variables with a storage medium, generated fault actions within a fault
budget, ``on=`` / ``via=`` placement, durability properties).  Every design here has the same
write path, the same failover and the same properties; they differ only in **when the client is
told that its order is stored**, the one method ``ack_allowed``.

The topology::

    rack r1: db1 (primary), db2 (replica)        rack r2: db3 (replica)

The write path of an order ``o``: ``accept`` (the primary takes it into memory, ``received``),
``write`` (a node copies what it received to its OS cache, ``written``), ``fsync`` (to its disk,
``synced``), ``replicate`` (the primary ships what it has written to a replica's memory; both up
and linked).  ``ack`` tells the client (``acked``, which belongs to no node and survives every
fault) once ``ack_allowed`` says so.  ``promote`` is the failover: while the primary is down, any
live node may take over.  The faults: process crash, power loss (of one node, or of a whole rack
as one fault), disk loss, restart; one fault per execution (``budget=1``); one order.

The variants, and what each shows (``synced`` copies; "tolerance" is the largest ``k`` for which
``survives(k)`` holds, ``ordercheck check model/racks.py --tolerance``):

``AckOnPrimaryDisk``
    After the primary's own fsync (PostgreSQL ``synchronous_commit = local``, or asynchronous
    replication).  One disk holds the order when it is acknowledged: tolerance **0** against
    disk loss (``disk_loss(db1)`` loses it: ``acked_never_lost`` is violated too).  A crash of
    the primary followed by a failover loses it without any disk failing: the promoted replica
    never got it (``primary_has_acked``, 7 states).
``AckOnOneReplicaDisk``
    After the primary's disk and the disk of one replica, either (``ANY 1 (db2, db3)`` with
    ``synchronous_commit = on``): tolerance **1** against disk loss.  Against rack loss only
    **0**: the replica may be db2, in the primary's rack.
``AckOnBothReplicasDisk``
    After every node's disk: tolerance **2** against disk loss (three disks), and 1 against rack
    loss (two racks).  Every node holds the order on disk, so no crash and failover loses it.
``AckOnSameRackReplicaDisk`` and ``AckOnOtherRackReplicaDisk``
    After the primary's disk and a replica's disk in the primary's rack (db2) or in another rack
    (db3): both survive one disk loss, but a rack fails as one unit, so with the replica in the
    primary's rack one rack failure (``survives(k=1, domain="rack")``) removes every copy;
    with the replica in the other rack it does not.

The properties (DESIGN.md section 4 gives their exact meaning):

- ``survive_one_disk_loss``: ``survives(k=1, domain="node")`` on the disk copies;
- ``survive_one_rack_loss``: ``survives(k=1, domain="rack")`` on the disk copies;
- ``acked_never_lost``: ``never_lost`` over memory, OS cache and disk copies, in the explored
  executions;
- ``primary_has_acked``: ``visible_after_failover``: a live primary holds every acknowledged
  order on disk.  Violated by every variant (with ``disk_loss`` enabled a primary can restart
  with an empty disk and keep its role, DOMAIN.md's pattern 12); with crashes as the only
  fault, only the variants whose promoted replica may lack the order violate it.
- ``order_acknowledged`` (``@sometimes``): no design passes by never acknowledging.

Each check explores fewer than 2,000 states and takes well under a second.
"""

from ordercheck import Const, Elem, MapOf, Model, SetOf, Var, action, exists, invariant, require, sometimes
from ordercheck.domain import Faults, Topology, never_lost, survives, visible_after_failover

RACKS = Topology.from_nodes(
    {
        "db1": {"role": "primary", "rack": "r1"},
        "db2": {"role": "replica", "rack": "r1"},
        "db3": {"role": "replica", "rack": "r2"},
    },
    roles=("primary", "replica"),
    require_domains=("rack",),
)


class _PrimaryTwoReplicas(Model):
    """The write path, failover, faults and properties that every variant shares.

    Not checked itself (its name starts with ``_``): a variant supplies ``ack_allowed(s, o)``.
    """

    NODE = Const(RACKS, doc="the database nodes, their roles and racks")
    ORDER = Const(("o1",), doc="the orders a client submits")

    received = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory", doc="orders in each node's memory")
    written = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="os-cache", doc="orders written, not fsynced")
    synced = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk", doc="orders fsynced to each node's disk")
    primary = Var(Elem(NODE), init="db1", doc="cluster metadata: the node serving as primary")
    acked = Var(SetOf(ORDER), init=(), doc="the client's view: orders it was told are stored")

    faults = Faults(crash=True, power_loss=True, disk_loss=True, budget=1, domain="rack")

    # -- the write path

    @action(o=ORDER, on=lambda s, o: s.primary)
    def accept(s, o):
        """The live primary takes ``o`` from the client into memory (again, if it lost it before the ack)."""
        require(~s.received[s.primary].has(o) & ~s.acked.has(o))
        s.received[s.primary] = s.received[s.primary].add(o)

    @action(o=ORDER, n=NODE, on="n")
    def write(s, o, n):
        """Node ``n`` writes ``o`` from memory to its OS cache."""
        require(s.received[n].has(o) & ~s.written[n].has(o))
        s.written[n] = s.written[n].add(o)

    @action(o=ORDER, n=NODE, on="n")
    def fsync(s, o, n):
        """Node ``n`` flushes ``o`` from its OS cache to disk."""
        require(s.written[n].has(o) & ~s.synced[n].has(o))
        s.synced[n] = s.synced[n].add(o)

    @action(o=ORDER, src=NODE, dst=NODE, on="dst", via=("src", "dst"))
    def replicate(s, o, src, dst):
        """The primary ``src`` ships ``o``, once written, to ``dst``'s memory."""
        require((s.primary == src) & (src != dst) & s.written[src].has(o) & ~s.received[dst].has(o))
        s.received[dst] = s.received[dst].add(o)

    # -- the acknowledgement rule: the one place the variants differ

    def on_disk(s, o, replicas=0, rack=None):
        """``o`` is on the primary's disk and on the disks of at least ``replicas`` other nodes.

        ``rack="same"`` counts only nodes in the primary's rack, ``rack="other"`` only nodes in
        other racks.  The primary is state; the rule is unrolled over each node it may be.
        """
        topology = s.NODE.topology

        def counted(p, n):
            same = topology.attribute(n, "rack") == topology.attribute(p, "rack")
            return n != p and (rack is None or same == (rack == "same"))

        def with_primary(p):
            others = {n for n in s.NODE if counted(p, n)}
            enough = (s.synced.holders(o) & others).count() >= replicas if others else replicas == 0
            return (s.primary == p) & s.synced[p].has(o) & enough

        return exists(s.NODE, with_primary)

    @action(o=ORDER, on=lambda s, o: s.primary)
    def ack(s, o):
        """The live primary tells the client that ``o`` is stored, once ``ack_allowed(o)``."""
        require(~s.acked.has(o) & s.ack_allowed(o))
        s.acked = s.acked.add(o)

    # -- failover

    @action(n=NODE, on="n")
    def promote(s, n):
        """While the primary is down, live node ``n`` takes over."""
        require(~s.up[s.primary] & (n != s.primary))
        s.primary = n

    # -- properties

    @invariant
    def survive_one_disk_loss(s):
        """Every acknowledged order is on the disks of nodes that no single node failure takes out."""
        return survives(s.acked, copies=s.synced, k=1, domain="node")

    @invariant
    def survive_one_rack_loss(s):
        """Every acknowledged order is on the disks of nodes that no single rack failure takes out."""
        return survives(s.acked, copies=s.synced, k=1, domain="rack")

    @invariant
    def acked_never_lost(s):
        """Some copy (memory, OS cache or disk, on a node up or down) of every acknowledged order remains."""
        return never_lost(s.acked, copies=(s.received, s.written, s.synced))

    @invariant
    def primary_has_acked(s):
        """Whenever the primary is up, it has every acknowledged order on disk."""
        return visible_after_failover(s.acked, primary=s.primary, copies=s.synced)

    @sometimes
    def order_acknowledged(s):
        """Some order can be acknowledged (the design is not vacuously safe)."""
        return ~s.acked.is_empty()


class AckOnPrimaryDisk(_PrimaryTwoReplicas):
    """Acknowledged once on the primary's disk: tolerance 0 against disk loss; crash plus failover loses it."""

    def ack_allowed(s, o):
        return s.on_disk(o)


class AckOnOneReplicaDisk(_PrimaryTwoReplicas):
    """Acknowledged once on the primary's disk and one replica's disk, either: tolerance 1 against disk loss."""

    def ack_allowed(s, o):
        return s.on_disk(o, replicas=1)


class AckOnBothReplicasDisk(_PrimaryTwoReplicas):
    """Acknowledged once on the primary's disk and both replicas' disks: tolerance 2 against disk loss."""

    def ack_allowed(s, o):
        return s.on_disk(o, replicas=2)


class AckOnSameRackReplicaDisk(_PrimaryTwoReplicas):
    """Acknowledged once on the primary's disk and a disk in the primary's rack: one rack failure loses it."""

    def ack_allowed(s, o):
        return s.on_disk(o, replicas=1, rack="same")


class AckOnOtherRackReplicaDisk(_PrimaryTwoReplicas):
    """Acknowledged once on the primary's disk and a disk in another rack: survives one rack failure."""

    def ack_allowed(s, o):
        return s.on_disk(o, replicas=1, rack="other")
