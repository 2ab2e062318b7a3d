"""Primary-replica replication with one crash: when is an acknowledged order safe from failover?

A first durability model, written by hand in the core language, before the durability domain
(topology, media, fault actions, fault budget) exists: storage media are ordinary variables
(``memory`` and ``disk``), and the crash, restart and failover faults are ordinary actions
guarded by a fault budget counter.

The system: three database nodes (``NODE``), one of them the primary (``db1`` at first), the
others its replicas.  A client submits orders (``ORDER``) to the primary, which writes them to
its log in memory; ``fsync`` makes a node's log durable; the primary ships durable log records to
its replicas, which write them to memory and fsync them in turn.  At some point the client is
told that its order is stored (``acked``): *when* is the difference between the two designs.

Faults, within a budget of ``MAX_CRASHES`` (one) crash:

- a **crash** takes a node down and loses its memory; its disk survives;
- a crashed node may **restart**, with an empty memory and its disk as it was;
- while the primary is down, a live replica may be **promoted** to primary (failover).

The property, ``acked_orders_on_primary``: every acknowledged order is on the current primary's
disk whenever the primary is alive.  It is DOMAIN.md's loss pattern 1, "ack before replication,
then failover to a replica without the write"; PostgreSQL with asynchronous streaming
replication (``synchronous_standby_names`` empty) behaves like :class:`AckBeforeReplication`,
and PostgreSQL's ``synchronous_commit = on`` with every standby listed as synchronous like
:class:`AckAfterReplication` (PostgreSQL documentation, "Synchronous Replication").

Each design also has the reachability goal ``order_acknowledged``, so that a design that can
never acknowledge an order is reported rather than passed.
"""

from ordercheck import Bool, Const, Elem, Int, MapOf, Model, SetOf, Var, action, forall, implies, initial, invariant, require, sometimes


class AckBeforeReplication(Model):
    """The primary acknowledges an order once it is on its own disk, before any replica has it.

    The constants: ``NODE``, the database nodes (the first is the initial primary); ``ORDER``,
    the orders a client submits (one by default; two also make a small model); and
    ``MAX_CRASHES``, the fault budget.

    A crash of the primary after the acknowledgement, then the promotion of a replica that had
    not yet received the order, loses an acknowledged order: ``acked_orders_on_primary`` is
    violated.  The shortest counterexample has 6 states: ``accept``, ``fsync`` on the primary,
    ``ack``, ``crash`` of the primary, ``promote`` of a replica.
    """

    NODE = Const(("db1", "db2", "db3"), doc="the database nodes; the first is the initial primary")
    ORDER = Const(("o1",), doc="the orders a client submits")
    MAX_CRASHES = Const(1, doc="the fault budget: how many crashes may happen in a run")

    primary = Var(Elem(NODE), doc="the node that accepts orders and ships them to the others")
    alive = Var(MapOf(NODE, Bool), init=True, doc="whether each node is running (`up` is a reserved name)")
    memory = Var(MapOf(NODE, SetOf(ORDER)), init=(), doc="the orders in each node's log in memory (lost by a crash)")
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), doc="the orders in each node's log on disk (fsynced; survive a crash)")
    submitted = Var(SetOf(ORDER), init=(), doc="the orders the client has submitted")
    acked = Var(SetOf(ORDER), init=(), doc="the orders the client has been told are stored")
    crashes = Var(Int(0, MAX_CRASHES), init=0, doc="crashes so far, against the fault budget")

    @initial
    def start(s):
        """Every node is up and empty, and the first node of ``NODE`` is the primary."""
        s.primary = s.NODE[0]

    # -- the protocol

    @action(o=ORDER)
    def accept(s, o):
        """The client submits ``o``; the live primary writes it to its log in memory."""
        require(~s.submitted.has(o))
        require(s.alive[s.primary])
        s.submitted = s.submitted.add(o)
        s.memory[s.primary] = s.memory[s.primary].add(o)

    @action(n=NODE)
    def fsync(s, n):
        """Live node ``n`` flushes its log: everything in its memory is now on its disk."""
        require(s.alive[n])
        require(~(s.memory[n] <= s.disk[n]))
        s.disk[n] = s.disk[n] | s.memory[n]

    @action(n=NODE, o=ORDER)
    def replicate(s, n, o):
        """The live primary ships ``o``, durable on its disk, to live replica ``n``, which writes it to memory."""
        require(s.primary != n)
        require(s.alive[s.primary] & s.alive[n])
        require(s.disk[s.primary].has(o))
        require(~(s.memory[n] | s.disk[n]).has(o))
        s.memory[n] = s.memory[n].add(o)

    def ack_allowed(s, o):
        """When the primary may acknowledge ``o``: here, once ``o`` is on its own disk."""
        return s.disk[s.primary].has(o)

    @action(o=ORDER)
    def ack(s, o):
        """The live primary tells the client that ``o`` is stored, once ``ack_allowed(o)``."""
        require(~s.acked.has(o))
        require(s.alive[s.primary])
        require(s.ack_allowed(o))
        s.acked = s.acked.add(o)

    # -- faults

    @action(n=NODE)
    def crash(s, n):
        """Node ``n`` crashes, within the fault budget: it goes down and its memory is lost."""
        require(s.crashes < s.MAX_CRASHES)
        require(s.alive[n])
        s.alive[n] = False
        s.memory[n] = ()
        s.crashes = s.crashes + 1

    @action(n=NODE)
    def restart(s, n):
        """Crashed node ``n`` comes back, with an empty memory and its disk as it was."""
        require(~s.alive[n])
        s.alive[n] = True

    @action(n=NODE)
    def promote(s, n):
        """Failover: while the primary is down, live replica ``n`` becomes the primary."""
        require(~s.alive[s.primary])
        require(s.alive[n])
        s.primary = n

    # -- properties

    @invariant
    def acked_orders_on_primary(s):
        """Every acknowledged order is on the current primary's disk whenever the primary is alive."""
        return implies(s.alive[s.primary], s.acked <= s.disk[s.primary])

    @sometimes
    def order_acknowledged(s):
        """Some order can be acknowledged (the design is not vacuously safe)."""
        return ~s.acked.is_empty()


class AckAfterReplication(AckBeforeReplication):
    """The fixed design: the primary acknowledges an order only once every node has it on disk.

    Everything else is as in :class:`AckBeforeReplication`, failover included: any live
    replica may be promoted.  Since every node holds an acknowledged order durably and disks
    survive crashes, whichever node is primary has it, and ``acked_orders_on_primary`` holds.
    """

    def ack_allowed(s, o):
        """Every node, the primary and each replica, has ``o`` on disk."""
        return forall(s.NODE, lambda n: s.disk[n].has(o))
