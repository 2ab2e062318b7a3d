"""The configurable commit-protocol family ("replicated-log"), written in the modelling language.

An order travels client → (application tier) → primary → replicas, and
optionally from the database to an outbound interface queue that registers it
downstream.  At each hop the node keeps it in a medium (memory, OS cache,
disk); the acknowledgement rule says when the client is told "ok"; the
promotion rule says which replica takes over when the primary is gone.  The
knobs map onto real products' settings (see :mod:`ordercheck.protocols.presets`).

:func:`design_model` turns a topology, a :class:`Protocol` and the checks to
run into an ordinary :class:`~ordercheck.lang.model.Model` class: everything
the engines do with hand-written models applies.

Examples
--------
>>> from ordercheck import check
>>> from ordercheck.domain import Topology
>>> topo = Topology.from_nodes({"db1": {"role": "primary"}, "db2": {"role": "replica", "replication": "sync"}})
>>> M = design_model("demo", topo, Protocol(ack="primary.disk"), orders=1,
...                  faults=FaultSettings(kinds=("disk-loss",), budget=1),
...                  properties=[PropertySpec("never_lost")])
>>> check(M()).verdict
'violated'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import Faults, Topology, never_lost, no_duplicates, single_primary, survives, visible_after_failover
from ..domain.properties import note_property
from ..lang import ir
from ..lang.errors import ModelError
from ..lang.model import Const, Elem, Int, MapOf, Model, SetOf, Var, action, invariant, sometimes
from ..lang.values import BoolVal, forall, require
from .rules import MEDIA_ORDER, Clause, RuleError, parse_rule

__all__ = [
    "BUILTIN_PROPERTY_NAMES",
    "FAULT_KIND_NAMES",
    "FSYNC_POLICIES",
    "PROMOTE_RULES",
    "PROPERTY_KINDS",
    "REPLICATION_MODES",
    "FaultSettings",
    "PropertySpec",
    "Protocol",
    "design_model",
]

PROMOTE_RULES = ("any", "sync", "most-up-to-date", "majority", "successor", "none")
FSYNC_POLICIES = ("before-ack", "periodic", "never")
REPLICATION_MODES = ("sync", "async", "quorum", "chain")
# The properties every design model adds to those its file lists (a file's property may not take these names).
BUILTIN_PROPERTY_NAMES = ("an order can be acknowledged",)
PROPERTY_KINDS = ("survives", "never_lost", "visible_after_failover", "no_duplicates", "single_primary", "registered_or_rejected")
FAULT_KIND_NAMES = {"crash": "crash", "power-loss": "power_loss", "disk-loss": "disk_loss", "partition": "partition"}


@dataclass(frozen=True)
class Protocol:
    """The knobs of the write path.  See the module docstring and ``docs/designs.md``."""

    stores: dict[str, str] = field(default_factory=lambda: {"app": "memory", "primary": "disk", "replica": "disk", "interface": "memory"})
    fsync: str = "before-ack"
    ack: str = "primary.disk"
    promote: str = "any"
    degrade_sync_after_timeout: bool = False
    old_primary_acks_during_partition: bool = False
    client_retries: bool = False
    idempotency_keys: bool = True
    min_sync_replicas: int = 0
    outbox_until_delivered: bool = False
    rejoin_authoritative: bool = True
    restarted_primary_needs_election: bool = False
    log_order: bool = True


@dataclass(frozen=True)
class FaultSettings:
    """Which faults happen, how many, and the failure-domain kind a power loss may take out at once."""

    kinds: tuple[str, ...] = ("crash", "power-loss", "disk-loss")
    budget: int = 1
    domain: str = "node"


@dataclass(frozen=True)
class PropertySpec:
    """One property to check: its kind, its parameters and the name it is reported under."""

    kind: str
    name: str = ""
    k: int = 1
    domain: str | tuple[str, ...] = "node"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "survives":
            return f"survives {self.k} {self.domain if isinstance(self.domain, str) else '+'.join(self.domain)} failure{'s' if self.k != 1 else ''}"
        return self.kind


def _problem(key: tuple[Any, ...], message: str) -> ModelError:
    """A mistake in the design, with the key of the design file it comes from (``("protocol", "ack")``)."""
    error = ModelError(message)
    error.key = key  # type: ignore[attr-defined]
    return error


def _level(medium: str) -> int:
    return MEDIA_ORDER.index(medium)


def design_model(name: str, topology: Topology, protocol: Protocol, *, orders: int, faults: FaultSettings,
                 properties: list[PropertySpec], replication: dict[str, str] | None = None) -> type[Model]:
    """A Model class for a design: its topology, its protocol knobs, its faults and its properties.

    ``replication`` gives each replica's mode (``sync``, ``async``, ``quorum``, ``chain``), overriding
    the nodes' ``replication`` attributes (a preset derives it from the product's settings).
    """
    modes = dict(replication or {})
    nodes = topology.nodes
    role = {n: topology.role(n) for n in nodes}
    primaries = [n for n in nodes if role[n] == "primary"]
    if len(primaries) != 1:
        key: tuple[Any, ...] = ("node", primaries[1], "role") if primaries else ("node",)
        raise _problem(key, f"a design has exactly one node with role = \"primary\" (found {len(primaries)})")
    primary0 = primaries[0]
    data = [n for n in nodes if role[n] in ("primary", "replica")]
    apps = [n for n in nodes if role[n] == "app"]
    interfaces = [n for n in nodes if role[n] == "interface"]
    replication = {n: str(modes.get(n) or topology.attribute(n, "replication") or "async") for n in data if n != primary0}
    for n, mode in replication.items():
        if mode not in REPLICATION_MODES:
            raise _problem(("node", n, "replication"), f"node {n!r}: replication = {mode!r} is not one of {', '.join(REPLICATION_MODES)}")
    sync_static = tuple(n for n in data if replication.get(n) == "sync")
    chain = [primary0] + [n for n in data if n != primary0]
    stores = dict(protocol.stores)
    known_roles = set(role.values()) | {"app", "primary", "replica", "interface"}
    for r, medium in stores.items():
        if medium not in MEDIA_ORDER:
            raise _problem(("protocol", "stores", r), f"stores.{r} = {medium!r} is not one of {', '.join(MEDIA_ORDER)}")
        if r not in known_roles:
            raise _problem(("protocol", "stores", r), f"stores names the role {r!r}, which no node has (roles: {', '.join(sorted(set(role.values())))})")

    def store(n: str) -> str:
        return stores.get(role[n], "memory")

    try:
        clauses = parse_rule(protocol.ack)
    except RuleError as exc:
        raise _problem(("protocol", "ack"), f"ack = {protocol.ack!r}: {exc}") from None
    _validate_rule(clauses, protocol, apps, interfaces, sync_static, replication, stores)
    kinds = set()
    for kind in faults.kinds:
        if kind not in FAULT_KIND_NAMES:
            raise _problem(("check", "faults", "kinds"), f"fault kind {kind!r} is not one of {', '.join(FAULT_KIND_NAMES)}")
        kinds.add(FAULT_KIND_NAMES[kind])
    split_brain = protocol.old_primary_acks_during_partition
    if split_brain and "partition" not in kinds:
        raise _problem(("protocol", "old_primary_acks_during_partition"),
                       "old_primary_acks_during_partition = true only matters with partitions: add \"partition\" to the fault kinds")
    majority = len(data) // 2 + 1
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:] if a in data and b in data and topology.linked(a, b)]
    order_names = tuple(f"o{i}" for i in range(1, orders + 1))
    ns: dict[str, Any] = {"__doc__": f"Design {name!r} in the replicated-log protocol family.", "__module__": __name__}
    ns["NODE"] = NODE = Const(topology)
    ns["ORDER"] = ORDER = Const(order_names)
    ns["mem"] = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory")
    ns["cache"] = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="os-cache")
    ns["disk"] = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    ns["primary"] = Var(Elem(NODE), init=primary0)
    ns["submitted"] = Var(SetOf(ORDER), init=())
    ns["acked"] = Var(SetOf(ORDER), init=())
    if interfaces:
        ns["dispatched"] = Var(SetOf(ORDER), init=())
        ns["registered"] = Var(SetOf(ORDER), init=())
    if protocol.degrade_sync_after_timeout:
        ns["sync_set"] = Var(SetOf(NODE), init=sync_static)
    if protocol.client_retries:
        ns["retried"] = Var(SetOf(ORDER), init=())
    ns["registrations"] = Var(MapOf(ORDER, Int(0, 2)), init=0)
    in_log_order = protocol.log_order and orders > 1
    if in_log_order:
        # The log's order: (a, b) when a precedes b.  A primary appends an order after everything it
        # holds; nodes receive, write and fsync a prefix of their source's log (WAL, binlog, Kafka
        # partition, Raft log, oplog), so "most up to date" compares positions.
        ns["ORDER_PAIR"] = ORDER_PAIR = Const(tuple((a, b) for a in order_names for b in order_names if a != b))
        ns["log_before"] = Var(SetOf(ORDER_PAIR), init=())
    if split_brain:
        ns["acting"] = Var(SetOf(NODE), init=(primary0,))
    hooks: dict[str, list[Any]] = {"crash": [], "power_loss": [], "disk_loss": []}
    if protocol.degrade_sync_after_timeout:
        # A member that goes down is no longer synchronous (IRIS: the backup is no longer active;
        # Kafka: the follower leaves the ISR); it is again once it has caught up (rejoin_sync).
        def leave_sync(s: Any, n: Any) -> None:
            s.sync_set = s.sync_set.remove(n)

        for kind in hooks:
            hooks[kind].append(leave_sync)
    if protocol.restarted_primary_needs_election:
        # A node that went down lost its leadership (Raft: it restarts as a follower; Kafka: the
        # controller moves leadership): it leads again only if elected again.
        ns["deposed"] = Var(SetOf(NODE), init=())

        def depose(s: Any, n: Any) -> None:
            s.deposed = s.deposed.add(n)

        for kind in hooks:
            hooks[kind].append(depose)
    if not protocol.rejoin_authoritative:
        # A node that lost its disk comes back empty and must rebuild from the primary before it serves.
        ns["rebuilding"] = Var(SetOf(NODE), init=())

        def lost_state(s: Any, n: Any) -> None:
            s.rebuilding = s.rebuilding.add(n)

        hooks["disk_loss"].append(lost_state)
    after = {kind: _all_of(fns) for kind, fns in hooks.items() if fns}
    ns["faults"] = Faults(crash="crash" in kinds, power_loss="power_loss" in kinds, disk_loss="disk_loss" in kinds,
                          partition="partition" in kinds, budget=faults.budget, domain=faults.domain, after=after,
                          count_copy_losses=any(spec.kind == "survives" for spec in properties))

    def available(s: Any, n: Any) -> Any:
        """Up, and not rebuilding after a disk loss: a node that can take part."""
        if protocol.rejoin_authoritative:
            return s.up[n]
        return s.up[n] & ~s.rebuilding.has(n)

    def serving(s: Any, n: Any) -> Any:
        """Available and, where leadership is lost by going down, still (or again) elected."""
        if protocol.restarted_primary_needs_election:
            return available(s, n) & ~s.deposed.has(n)
        return available(s, n)

    def last_up(s: Any, i: int) -> Any:
        """Chain position ``i`` is the last live node of the chain (the current tail)."""
        return BoolVal(ir.and_(_bool(available(s, chain[i])), *(_bool(~available(s, chain[j])) for j in range(i + 1, len(chain)))))

    def holds(s: Any, n: Any, o: Any, medium: str) -> Any:
        level = _level(medium)
        media = [s.disk, s.cache, s.mem][: 3 - level]
        result = media[0][n].has(o)
        for m in media[1:]:
            result = result | m[n].has(o)
        return result

    def durable_log(s: Any, n: Any) -> Any:
        """The log node ``n`` has, as elections compare it: what survives a process crash (OS cache and
        disk), or, for a node that keeps orders in memory only (Redis without an AOF), its memory."""
        if store(n) == "memory":
            return s.mem[n] | s.cache[n] | s.disk[n]
        return s.cache[n] | s.disk[n]

    def sync_members(s: Any) -> list[tuple[str, Any]]:
        """Each replica that may count as synchronous, with the condition that it does."""
        if protocol.degrade_sync_after_timeout:
            return [(n, s.sync_set.has(n)) for n in data]
        return [(n, BoolVal(ir.TRUE)) for n in sync_static]

    def earlier(s: Any, o: Any) -> list[tuple[str, Any]]:
        """Each other order, with the condition that it precedes ``o`` in the log."""
        if not in_log_order:
            return []
        return [(x, s.log_before.has((x, o))) for x in order_names if x != o]

    def in_order(s: Any, o: Any, has_earlier: Any, needs: Any) -> Any:
        """Every order before ``o`` for which ``has_earlier(x)`` holds also satisfies ``needs(x)``: a step on ``o`` keeps a prefix."""
        return BoolVal(ir.and_(*(_bool(~(before & has_earlier(x)) | needs(x)) for x, before in earlier(s, o))))

    def register(s: Any, o: Any, at: Any) -> None:
        # A request reaching the primary registers the order, once with idempotency keys.
        already = holds(s, at, o, "memory")
        if in_log_order:
            # Appended to the primary's log after every order it holds.
            log = s.log_before
            for x in order_names:
                if x != o:
                    held = holds(s, at, x, "memory")
                    log = _ite(held, log.add((x, o)).remove((o, x)), log.remove((x, o)))
            s.log_before = _ite(already, s.log_before, log)
        count = s.registrations[o]
        if protocol.idempotency_keys:
            s.registrations[o] = _ite(already | (count >= 1), count, count + 1)
        else:
            s.registrations[o] = _ite(count >= 2, count, count + 1)
        s.mem[at] = s.mem[at].add(o)

    def group_members(s: Any, group: str, acker: Any) -> list[tuple[str, Any]]:
        if group == "sync":
            return [(n, c & (acker != n)) for n, c in sync_members(s)]
        if group == "isr":
            return [(n, c & (acker != n)) for n, c in sync_members(s)] if protocol.degrade_sync_after_timeout else \
                   [(n, acker != n) for n in data]
        if group == "replica":
            return [(n, acker != n) for n in data]
        if group in ("async", "quorum", "chain"):
            return [(n, acker != n) for n in data if replication.get(n) == group]
        if group == "data":
            return [(n, BoolVal(ir.TRUE)) for n in data]
        if group == "app":
            return [(n, s.up[n]) for n in apps]
        if group == "interface":
            return [(n, s.up[n]) for n in interfaces]
        raise ModelError(f"unknown group {group!r}")

    def clause_holds(s: Any, clause: Clause, o: Any, acker: Any) -> Any:
        if clause.group == "primary":
            return holds(s, acker, o, clause.medium)
        if clause.group == "tail":
            # When the tail fails its predecessor becomes the tail (van Renesse and Schneider).
            return BoolVal(ir.or_(*(_bool(last_up(s, i) & holds(s, chain[i], o, clause.medium)) for i in range(len(chain)))))
        members = group_members(s, clause.group, acker)
        having = [cond & holds(s, n, o, clause.medium) for n, cond in members]
        count = _count(having)
        if clause.quantifier == "majority":
            return count >= majority
        if clause.quantifier == "all":
            return _count([c for _, c in members]) == count
        if clause.quantifier == "one":
            return count >= 1
        needed = clause.count
        if protocol.degrade_sync_after_timeout and clause.group in ("sync", "isr"):
            # A degraded synchronous set asks only for the members it still has (IRIS, PostgreSQL with a shrunk list).
            available = _count([c for _, c in members])
            return count >= _min(available, needed)
        return count >= needed

    def rule_holds(s: Any, o: Any, acker: Any) -> Any:
        result = BoolVal(ir.TRUE)
        if protocol.min_sync_replicas:
            # Kafka's min.insync.replicas: refuse to acknowledge while the in-sync set is too small.
            result = result & (_count([c for _, c in group_members(s, "sync", acker)]) >= protocol.min_sync_replicas)
        for clause in clauses:
            result = result & clause_holds(s, clause, o, acker)
        return result

    app_only = all(c.group == "app" for c in clauses)

    if apps:
        @action(o=ORDER, a=tuple(apps), on="a")
        def submit(s: Any, o: Any, a: Any) -> None:
            require(~s.submitted.has(o))
            s.submitted = s.submitted.add(o)
            s.mem[a] = s.mem[a].add(o)

        @action(o=ORDER, a=tuple(apps), on="a", via=("a", lambda s, o, a: s.primary))
        def forward(s: Any, o: Any, a: Any) -> None:
            require(holds(s, a, o, "memory"))
            s.mem[a] = s.mem[a].remove(o)
            s.cache[a] = s.cache[a].remove(o)
            s.disk[a] = s.disk[a].remove(o)
            register(s, o, s.primary)

        ns["submit"], ns["forward"] = submit, forward
        if protocol.client_retries:
            @action(o=ORDER, a=tuple(apps), on="a")
            def retry(s: Any, o: Any, a: Any) -> None:
                require(s.submitted.has(o) & ~s.acked.has(o) & ~s.retried.has(o))
                s.retried = s.retried.add(o)
                s.mem[a] = s.mem[a].add(o)

            ns["retry"] = retry
    else:
        @action(o=ORDER, on=lambda s, o: s.primary)
        def submit(s: Any, o: Any) -> None:
            require(~s.submitted.has(o))
            s.submitted = s.submitted.add(o)
            register(s, o, s.primary)

        ns["submit"] = submit
        if protocol.client_retries:
            @action(o=ORDER, on=lambda s, o: s.primary)
            def retry(s: Any, o: Any) -> None:
                require(s.submitted.has(o) & ~s.acked.has(o) & ~s.retried.has(o))
                s.retried = s.retried.add(o)
                register(s, o, s.primary)

            ns["retry"] = retry

    writers = tuple(n for n in nodes if _level(store(n)) >= 1)
    if writers:
        @action(o=ORDER, n=writers, on="n")
        def write(s: Any, o: Any, n: Any) -> None:
            require(s.mem[n].has(o) & ~s.cache[n].has(o))
            require(in_order(s, o, lambda x: s.mem[n].has(x), lambda x: s.cache[n].has(x)))
            s.cache[n] = s.cache[n].add(o)
            if store(n) == "disk" and protocol.fsync == "before-ack":
                s.disk[n] = s.disk[n].add(o)

        ns["write"] = write
    syncers = tuple(n for n in nodes if store(n) == "disk")
    if syncers and protocol.fsync == "periodic":
        @action(o=ORDER, n=syncers, on="n")
        def fsync(s: Any, o: Any, n: Any) -> None:
            require(s.cache[n].has(o) & ~s.disk[n].has(o))
            require(in_order(s, o, lambda x: s.cache[n].has(x), lambda x: s.disk[n].has(x)))
            s.disk[n] = s.disk[n].add(o)

        ns["fsync"] = fsync

    replicas = tuple(n for n in data if n != primary0)
    if replicas:
        @action(o=ORDER, src=tuple(data), dst=tuple(data), on="dst", via=("src", "dst"))
        def replicate(s: Any, o: Any, src: Any, dst: Any) -> None:
            require(src != dst)
            if replication.get(dst) == "chain":
                # Writes pass down the chain; a failed server is skipped (its predecessor feeds its successor).
                index, at = chain.index(dst), chain.index(src)
                require(at < index)
                require(BoolVal(ir.and_(*(_bool(~available(s, chain[j])) for j in range(at + 1, index)))))
                require(available(s, src))
            else:
                require(s.primary == src)
            require(s.primary != dst)
            ship = "os-cache" if _level(store(src)) >= 1 else "memory"
            require(holds(s, src, o, ship) & ~holds(s, dst, o, "memory"))
            # The source streams its log in order: dst already has what precedes o there.
            require(in_order(s, o, lambda x: holds(s, src, x, ship), lambda x: holds(s, dst, x, "memory")))
            s.mem[dst] = s.mem[dst].add(o)

        ns["replicate"] = replicate

    if app_only:
        @action(o=ORDER)
        def ack(s: Any, o: Any) -> None:
            require(s.submitted.has(o) & ~s.acked.has(o))
            require(rule_holds(s, o, s.primary))
            s.acked = s.acked.add(o)

        ns["ack"] = ack
    elif split_brain:
        @action(o=ORDER, p=tuple(data), on="p")
        def ack(s: Any, o: Any, p: Any) -> None:
            require(s.acting.has(p) & s.submitted.has(o) & ~s.acked.has(o) & serving(s, p))
            require(rule_holds(s, o, p))
            s.acked = s.acked.add(o)

        ns["ack"] = ack
    else:
        @action(o=ORDER, on=lambda s, o: s.primary)
        def ack(s: Any, o: Any) -> None:
            require(s.submitted.has(o) & ~s.acked.has(o) & serving(s, s.primary))
            require(rule_holds(s, o, s.primary))
            s.acked = s.acked.add(o)

        ns["ack"] = ack

    if interfaces:
        @action(o=ORDER, i=tuple(interfaces), on="i", via=(lambda s, o, i: s.primary, "i"))
        def dispatch(s: Any, o: Any, i: Any) -> None:
            require(~s.dispatched.has(o) & holds(s, s.primary, o, "os-cache") & ~holds(s, i, o, "memory"))
            if not protocol.outbox_until_delivered:
                # The database forgets the outbox entry once an interface has taken it.
                s.dispatched = s.dispatched.add(o)
            s.mem[i] = s.mem[i].add(o)

        @action(o=ORDER, i=tuple(interfaces), on="i")
        def deliver(s: Any, o: Any, i: Any) -> None:
            require(holds(s, i, o, "memory") & ~s.registered.has(o))
            s.registered = s.registered.add(o)
            s.dispatched = s.dispatched.add(o)

        ns["dispatch"], ns["deliver"] = dispatch, deliver

    if protocol.promote != "none" and replicas:
        def most_up_to_date(s: Any, n: Any, among: list[tuple[str, Any]]) -> Any:
            return BoolVal(ir.and_(*(_bool(~(available(s, m) & c) | (durable_log(s, m).count() <= durable_log(s, n).count()))
                                     for m, c in among if m != n)))

        def eligible(s: Any, n: Any) -> Any:
            if protocol.promote == "sync":
                # A synchronous replica, and the most up to date of the live ones: with "ANY 1 (a, b)" only
                # one of them confirmed a commit, and a careful failover picks the one that has it.
                members = dict(sync_members(s))
                if n not in members:
                    return BoolVal(ir.FALSE)
                return members[n] & most_up_to_date(s, n, sync_members(s))
            if protocol.promote == "most-up-to-date":
                return most_up_to_date(s, n, [(m, BoolVal(ir.TRUE)) for m in data])
            if protocol.promote == "majority":
                # Raft's vote: a majority of live nodes whose logs (what they hold across a process crash:
                # OS cache and disk) are no more up to date than the candidate's.
                votes = [available(s, m) & (durable_log(s, m) <= durable_log(s, n)) for m in data]
                return _count(votes) >= majority
            if protocol.promote == "successor":
                # The head's successor in the chain (skipping failed servers) takes over.
                at = chain.index(n)
                return BoolVal(ir.or_(*(_bool((s.primary == chain[p]) & BoolVal(ir.and_(*(_bool(~available(s, chain[j])) for j in range(p + 1, at)))))
                                        for p in range(at))))
            return BoolVal(ir.TRUE)

        @action(n=tuple(data), on="n")
        def promote(s: Any, n: Any) -> None:
            if protocol.restarted_primary_needs_election:
                # A deposed leader that is back may be elected again, like any other node.
                require(((s.primary != n) | s.deposed.has(n)) & available(s, n))
                s.deposed = s.deposed.remove(n)
            else:
                require((s.primary != n) & serving(s, n))
            gone = ~serving(s, s.primary)
            if split_brain:
                gone = gone | _cut_off(s, n, pairs)
            require(gone)
            require(eligible(s, n))
            if split_brain:
                s.acting = s.acting.add(n)
            s.primary = n

        ns["promote"] = promote
        ns["_eligible"] = eligible

    if not protocol.rejoin_authoritative and replicas and "disk_loss" in kinds:  # a rebuild follows a disk loss only
        @action(n=tuple(data), on="n", via=(lambda s, n: s.primary, "n"))
        def rebuild(s: Any, n: Any) -> None:
            require(s.rebuilding.has(n) & (s.primary != n) & serving(s, s.primary))
            if replication.get(n) == "chain":
                # van Renesse and Schneider: a new server joins at the tail and copies the current tail.
                # A rebuilt server keeps its place here, so it copies the server before it (for the
                # last place, the current tail; for the first, the tail): then every server still has
                # all that its successors have, the chain's invariant, and never the head's newer state.
                at = chain.index(n)
                sources = chain[at - 1::-1] + chain[:at:-1] if at else chain[:0:-1]
                for i, m in enumerate(sources):
                    first = BoolVal(ir.and_(_bool(available(s, m)), *(_bool(~available(s, e)) for e in sources[:i])))
                    s.cache[n] = _ite(first, s.cache[n] | s.cache[m] | s.disk[m], s.cache[n])
                    s.disk[n] = _ite(first, s.disk[n] | s.disk[m], s.disk[n])
            else:
                s.cache[n] = s.cache[n] | s.cache[s.primary] | s.disk[s.primary]
                s.disk[n] = s.disk[n] | s.disk[s.primary]
            s.rebuilding = s.rebuilding.remove(n)

        ns["rebuild"] = rebuild

    if split_brain:
        @action(n=tuple(data), on="n", via=("n", lambda s, n: s.primary))
        def step_down(s: Any, n: Any) -> None:
            # The old primary hears of the new one, stops acknowledging and rewinds to its log.
            require(s.acting.has(n) & (s.primary != n))
            s.acting = s.acting.remove(n)
            keep = s.mem[s.primary] | s.cache[s.primary] | s.disk[s.primary]
            s.mem[n] = s.mem[n] & keep
            s.cache[n] = s.cache[n] & keep
            s.disk[n] = s.disk[n] & keep

        ns["step_down"] = step_down

    if protocol.degrade_sync_after_timeout and sync_static:
        @action(r=sync_static)
        def drop_from_sync(s: Any, r: Any) -> None:
            # A synchronous replica that misses the timeout loses its synchronous status (no fault needed).
            require(s.sync_set.has(r))
            s.sync_set = s.sync_set.remove(r)

        rejoinable = tuple(n for n in data if n in sync_static or n == primary0)

        @action(r=rejoinable, on="r", via=(lambda s, r: s.primary, "r"))
        def rejoin_sync(s: Any, r: Any) -> None:
            # A member that is not synchronous becomes so again once it holds everything the serving
            # primary has written (IRIS: the backup caught up and is active; Kafka: back in the ISR).
            require(~s.sync_set.has(r) & (s.primary != r) & available(s, r) & serving(s, s.primary))
            require(BoolVal(ir.and_(*(_bool(~holds(s, s.primary, o, "os-cache") | holds(s, r, o, "memory")) for o in order_names))))
            s.sync_set = s.sync_set.add(r)

        ns["drop_from_sync"], ns["rejoin_sync"] = drop_from_sync, rejoin_sync

    for spec in properties:
        ns[_identifier(spec.label, ns)] = _property(spec, interfaces, data, split_brain, serving)

    @sometimes
    def an_order_can_be_acknowledged(s: Any) -> Any:
        """A design that can never acknowledge an order is reported, not passed."""
        return ~s.acked.is_empty()

    an_order_can_be_acknowledged.label = BUILTIN_PROPERTY_NAMES[0]
    ns["an_order_can_be_acknowledged"] = an_order_can_be_acknowledged
    cls = type(_class_name(name), (Model,), ns)
    return cls


def _all_of(fns: list[Any]) -> Any:
    """One fault hook that runs each of ``fns`` in turn."""
    def run(s: Any, n: Any) -> None:
        for fn in fns:
            fn(s, n)

    return run


def _cut_off(s: Any, n: Any, pairs: list[tuple[str, str]]) -> Any:
    """Whether node ``n`` is partitioned from the current primary."""
    conds = [_bool((((s.primary == a) & (n == b)) | ((s.primary == b) & (n == a))) & s.partitioned[a].has(b)) for a, b in pairs]
    return BoolVal(ir.or_(*conds))


def _property(spec: PropertySpec, interfaces: list[str], data: list[str], split_brain: bool, serving: Any) -> Any:
    kind = spec.kind

    def body(s: Any) -> Any:
        copies = (s.mem, s.cache, s.disk)
        if kind == "survives":
            # Every copy counts, in every medium (DESIGN.md section 4): each is removed by one failure.
            return survives(s.acked, copies=copies, k=spec.k, domain=spec.domain)
        if kind == "never_lost":
            lost_check = never_lost(s.acked, copies=copies)
            if interfaces:
                note_property("never_lost", registered="registered")  # for the explanation of a violation
                return forall(s.acked, lambda o: s.registered.has(o) | ~_holders(s, o).is_empty())
            return lost_check
        if kind == "visible_after_failover":
            return visible_after_failover(s.acked, primary=s.primary, copies=copies, serving=serving(s, s.primary))
        if kind == "no_duplicates":
            return no_duplicates(s.registrations)
        if kind == "single_primary":
            if split_brain:
                return single_primary(s.acting)
            from ..lang.types import SetType
            from ..lang.values import SetVal

            node_type = s.primary.fin_type
            return single_primary(SetVal(ir.bits(SetType(node_type), [_bool(s.primary == n) for n in node_type.values])))
        if kind == "registered_or_rejected":
            note_property("registered_or_rejected", orders="acked", data=list(data), interfaces=list(interfaces),
                          registered="registered" if interfaces else None, dispatched="dispatched" if interfaces else None)
            if interfaces:
                def pending(o: Any) -> Any:
                    in_db = BoolVal(ir.or_(*(_bool(s.disk[n].has(o) | s.cache[n].has(o)) for n in data)))
                    queued = BoolVal(ir.or_(*(_bool(s.mem[i].has(o) | s.cache[i].has(o) | s.disk[i].has(o)) for i in interfaces)))
                    return s.registered.has(o) | (~s.dispatched.has(o) & in_db) | queued
                return forall(s.acked, pending)
            return forall(s.acked, lambda o: BoolVal(ir.or_(*(_bool(s.mem[n].has(o) | s.cache[n].has(o) | s.disk[n].has(o)) for n in data))))
        raise ModelError(f"unknown property kind {kind!r}")

    body.__name__ = spec.label
    body.__doc__ = f"{spec.label} ({kind})"
    decl = invariant(body)
    decl.label = spec.label
    return decl


def _holders(s: Any, o: Any) -> Any:
    return s.mem.holders(o) | s.cache.holders(o) | s.disk.holders(o)


def _identifier(label: str, ns: dict[str, Any]) -> str:
    # Property names may be sentences; the class attribute only needs to be unique. The reported name is the label.
    base = "prop_" + "".join(c if c.isalnum() else "_" for c in label)
    name, i = base, 2
    while name in ns:
        name, i = f"{base}_{i}", i + 1
    return name


def _class_name(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or "Design"


def _bool(value: Any) -> ir.Expr:
    from ..lang.values import to_bool

    return to_bool(value)


def _count(conds: list[Any]) -> Any:
    from ..lang.types import FinType, SetType
    from ..lang.values import IntVal

    if not conds:
        return IntVal(ir.const(ir.IntType(0, 0), 0))
    t = SetType(FinType(tuple(range(len(conds)))))
    return IntVal(ir.count(ir.bits(t, [_bool(c) for c in conds])))


def _min(a: Any, b: int) -> Any:
    from ..lang.values import ite

    return ite(a <= b, a, b)


def _ite(cond: Any, a: Any, b: Any) -> Any:
    from ..lang.values import ite

    return ite(cond, a, b)


def _validate_rule(clauses: tuple[Clause, ...], protocol: Protocol, apps: list[str], interfaces: list[str],
                   sync_static: tuple[str, ...], replication: dict[str, str], stores: dict[str, str]) -> None:
    for clause in clauses:
        text = f"{clause.group}.{clause.medium}"
        if clause.group == "app" and not apps:
            raise _problem(("protocol", "ack"), f"ack rule names {text} but the topology has no node with role \"app\"")
        if clause.group == "interface" and not interfaces:
            raise _problem(("protocol", "ack"), f"ack rule names {text} but the topology has no node with role \"interface\"")
        if clause.group == "sync" and not sync_static:
            raise _problem(("protocol", "ack"), f"ack rule names {text} but no replica has replication = \"sync\"")
        if clause.group in ("async", "quorum", "chain") and clause.group not in replication.values():
            raise _problem(("protocol", "ack"), f"ack rule names {text} but no replica has replication = {clause.group!r}")
        if clause.group not in ("primary", "app", "replica", "sync", "async", "quorum", "chain", "isr", "data", "tail", "interface"):
            raise _problem(("protocol", "ack"), f"ack rule names the unknown group {clause.group!r}")
        if clause.quantifier == "at-least" and clause.group in ("sync",) and clause.count > len(sync_static):
            raise _problem(("protocol", "ack"),
                           f"ack rule asks for {clause.count} of sync but only {len(sync_static)} replica(s) are synchronous: it can never hold")
        if clause.group == "primary" and clause.quantifier != "one":
            raise _problem(("protocol", "ack"), f"{text}: primary is one node; write primary.{clause.medium}")
    if protocol.promote not in PROMOTE_RULES:
        raise _problem(("protocol", "promote"), f"promote = {protocol.promote!r} is not one of {', '.join(PROMOTE_RULES)}")
    if protocol.fsync not in FSYNC_POLICIES:
        raise _problem(("protocol", "fsync"), f"fsync = {protocol.fsync!r} is not one of {', '.join(FSYNC_POLICIES)}")
    if protocol.promote == "sync" and not sync_static:
        raise _problem(("protocol", "promote"), "promote = \"sync\" needs a replica with replication = \"sync\"")
    del stores
