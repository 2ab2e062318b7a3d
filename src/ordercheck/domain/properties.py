"""Durability properties, usable inside ``@invariant`` functions.

Each function builds a condition from state values, the way a TLA+ operator
would; the engines see only the IR it expands to.

``survives(orders, copies, k, domain)`` is structural: every order in
``orders`` must have its copies (in every medium passed) on nodes that no
``k`` failures of the given domain kind can all take out, counting the
faults already suffered in this execution that removed a copy of it.  ``never_lost`` is about what happened: some copy of each
order still exists.

Examples
--------
>>> from ordercheck import Model, Const, Var, SetOf, MapOf, action, invariant, require, check
>>> from ordercheck.domain import Topology, Faults
>>> class OneCopy(Model):
...     NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
...     ORDER = Const(("o1",))
...     disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
...     acked = Var(SetOf(ORDER), init=())
...     faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)
...     @action(o=ORDER, n=NODE, on="n")
...     def store(s, o, n):
...         s.disk[n] = s.disk[n].add(o)
...     @action(o=ORDER)
...     def ack(s, o):
...         require(s.disk.holders(o).count() >= 1)
...         s.acked = s.acked.add(o)
...     @invariant
...     def one_failure(s):
...         return survives(s.acked, copies=s.disk, k=1)
>>> r = check(OneCopy())
>>> r.verdict, [step.action for step in r.counterexample.steps]
('violated', [None, 'store', 'ack'])
"""

from __future__ import annotations

import itertools
from typing import Any

from ..lang import ir
from ..lang.errors import ModelError
from ..lang.types import FinType, MapType, SetType
from ..lang.values import ACTIVE_SINK, BoolVal, IntVal, MapVal, SetVal, forall, to_bool
from .topology import NodeDomain, Topology

__all__ = [
    "failures_to_lose",
    "holders_of",
    "never_lost",
    "no_duplicates",
    "note_property",
    "registered_or_rejected",
    "single_primary",
    "survives",
    "visible_after_failover",
]


def _builder() -> Any:
    sink = ACTIVE_SINK.get()
    if sink is None or not hasattr(sink, "builder"):
        raise ModelError("durability properties are used inside @invariant functions of a model")
    return sink


def _var_name(value: Any) -> str | None:
    """The state variable a value reads as a whole (``s.acked`` -> ``"acked"``), else None."""
    if isinstance(value, MapVal):
        return value.loc[0] if value.loc is not None and value.loc[1] == () else None
    expr = getattr(value, "expr", None)
    if expr is not None and expr.op == "var":
        return str(_builder().builder.slots[expr.data].var)
    return None


def note_property(kind: str, **details: Any) -> None:
    """Record what the invariant being traced checks, for the explanation of its counterexamples.

    ``spec.extra["property_calls"][property]`` is a list of ``{"kind": kind, **details}``, one per
    durability property the invariant calls; a note of the same kind as the last one adds to it
    (a protocol that widens a library property says so).  Details name state variables
    (``orders="acked"``) or list nodes.  Outside an invariant it does nothing.
    """
    sink = _builder()
    if getattr(sink, "property_name", None) is None:
        return
    calls = sink.builder.extra.setdefault("property_calls", {}).setdefault(sink.property_name, [])
    if calls and calls[-1]["kind"] == kind:
        calls[-1].update(details)
    else:
        calls.append({"kind": kind, **details})


def _framework_var(name: str) -> Any:
    sink = _builder()
    if name in sink.builder.var_info:
        return sink.read(name)
    return None


def _copies(copies: Any) -> list[MapVal]:
    maps = list(copies) if isinstance(copies, (tuple, list)) else [copies]
    if not maps:
        raise ModelError("copies= names at least one map from nodes to sets of orders")
    for m in maps:
        if not (isinstance(m, MapVal) and isinstance(m.type.value, SetType)):
            raise ModelError("copies= takes maps from nodes to sets of orders, like s.synced (a MapOf(NODE, SetOf(ORDER)))")
        if m.type.domain != maps[0].type.domain:
            raise ModelError("every map in copies= must be over the same nodes")
    return maps


def _orders(orders: Any) -> SetVal:
    if not isinstance(orders, SetVal):
        raise ModelError("the orders are a set of orders, like s.acked (a SetOf(ORDER))")
    return orders


def holders_of(copies: Any, order: Any) -> SetVal:
    """The nodes holding ``order`` in any of the ``copies`` maps."""
    maps = _copies(copies)
    result = maps[0].holders(order)
    for m in maps[1:]:
        result = result | m.holders(order)
    return result


def _topology(nodes: FinType) -> Topology | None:
    value = _builder().builder.constants.get(nodes.name)
    if isinstance(value, NodeDomain) and tuple(value) == nodes.values:
        return value.topology
    return None


def _mask(nodes: FinType, members: tuple[str, ...]) -> int:
    return sum(1 << nodes.values.index(m) for m in members)


def failures_to_lose(holders: SetVal, domain: str | tuple[str, ...] = "node") -> IntVal | None:
    """The fewest failures of ``domain`` that take out every node in ``holders``, as an expression.

    For one failure-domain attribute this is the number of distinct values
    among the holders (each node sits in exactly one).  For several kinds at
    once (``("rack", "power")``) there is no closed form; :func:`survives`
    then asks the cover question for each budget directly, and this returns
    ``None``.
    """
    nodes = holders.set_type.domain
    if domain == "node":
        return holders.count()
    if not isinstance(domain, str):
        return None
    topology = _topology(nodes)
    if topology is None:
        raise ModelError(f"survives(domain={domain!r}) needs copies indexed by a topology (NODE = Const(Topology...))")
    values = topology.domain_values(domain)
    units = FinType(tuple(values), domain)
    hit = [ir.not_(ir.eq(ir.inter(holders.expr, ir.const(holders.set_type, _mask(nodes, topology.members(domain, v)))),
                         ir.const(holders.set_type, 0))) for v in values]
    return IntVal(ir.count(ir.bits(SetType(units), hit)))


def _units(nodes: FinType, domain: tuple[str, ...]) -> list[int]:
    topology = _topology(nodes)
    if topology is None:
        raise ModelError(f"survives(domain={domain!r}) needs copies indexed by a topology (NODE = Const(Topology...))")
    masks: list[int] = []
    for kind in domain:
        for value in topology.domain_values(kind):
            mask = _mask(nodes, topology.members(kind, value))
            if mask not in masks:
                masks.append(mask)
    return masks


def survives(orders: Any, copies: Any, k: int, domain: str | tuple[str, ...] = "node") -> BoolVal:
    """Every order in ``orders`` survives any ``k`` failures of ``domain`` (structurally).

    For each order: the faults so far in this execution that removed a copy of
    it (with ``Faults(count_copy_losses=True)``; otherwise the disk losses so
    far) plus the fewest further failures of ``domain`` that would remove every
    copy in ``copies`` exceed ``k``.  Every map in ``copies`` counts, whatever
    its medium: a copy in memory or in an OS cache is removed by one failure of
    its node, as a disk copy is.  ``domain`` is ``"node"``, a failure-domain attribute of
    the topology (``"rack"``), or several (``("rack", "power")``: any mix of
    racks and power domains).
    """
    order_set = _orders(orders)
    maps = _copies(copies)
    sink = _builder()
    k = int(sink.builder.options.get("survives_k", k))
    if sink.property_name is not None:
        # The tolerance search varies k for the invariants that call survives, and explains a
        # violation with the failure set of the order's holders: record where the copies live.
        sink.builder.extra.setdefault("survives_properties", []).append(sink.property_name)
        sink.builder.extra.setdefault("survives_calls", {})[sink.property_name] = {
            "orders": sink.builder.slots[order_set.expr.data].var if order_set.expr.op == "var" else None,
            "copies": [m.loc[0] if m.loc is not None and m.loc[1] == () else None for m in maps],
            "domain": list(domain) if isinstance(domain, tuple) else domain,
            "k": k,
        }
    if not isinstance(k, int) or k < 0:
        raise ModelError(f"survives(k=...) is a number of failures, 0 or more; got {k!r}")
    note_property("survives", orders=_var_name(order_set), copies=[_var_name(m) for m in maps], k=k,
                  domain=list(domain) if isinstance(domain, tuple) else domain)
    per_order = _framework_var("copy_losses")
    lost = _framework_var("disk_losses")
    nodes = maps[0].type.domain
    domains = domain if isinstance(domain, tuple) else (domain,)
    units = _units(nodes, domains) if isinstance(domain, tuple) and len(domain) > 1 else None

    def spent_on(o: Any) -> ir.Expr:
        # The faults so far that removed a copy of o (Faults(count_copy_losses=True)); without that
        # count, every disk loss so far (the contract before copies in every medium counted).
        if per_order is not None and per_order.type.domain == order_set.set_type.domain:
            return per_order[o].expr
        return lost.expr if lost is not None else ir.const(ir.IntType(0, 0), 0)

    def order_survives(o: Any) -> Any:
        holders = holders_of(maps, o)
        lost_expr = spent_on(o)
        if units is None:
            cover = failures_to_lose(holders, domains[0])
            assert cover is not None
            return BoolVal(ir.lt(ir.const(ir.IntType(k, k), k), ir.add(lost_expr, cover.expr)))
        # Fewest covering units > k - lost, for each possible number of disk losses.
        cases = [ir.lt(ir.const(ir.IntType(k, k), k), lost_expr)]
        for spent in range(0, k + 1):
            budget = k - spent
            coverable = [ir.subset(holders.expr, ir.const(holders.set_type, sum_mask))
                         for combo in itertools.combinations(units, min(budget, len(units))) for sum_mask in [_or_all(combo)]]
            cases.append(ir.and_(ir.eq(lost_expr, ir.const(ir.IntType(spent, spent), spent)), ir.not_(ir.or_(*coverable))))
        return BoolVal(ir.or_(*cases))

    return forall(order_set, order_survives)


def _or_all(masks: tuple[int, ...]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


def never_lost(orders: Any, copies: Any) -> BoolVal:
    """Every order in ``orders`` is still in some copy on some node (down nodes count while their medium survives)."""
    order_set = _orders(orders)
    maps = _copies(copies)
    note_property("never_lost", orders=_var_name(order_set), copies=[_var_name(m) for m in maps])
    return forall(order_set, lambda o: ~holders_of(maps, o).is_empty())


def visible_after_failover(orders: Any, primary: Any, copies: Any, serving: Any = None) -> BoolVal:
    """Whenever the node recorded as ``primary`` is up, it holds every order in ``orders`` in ``copies``.

    ``serving`` narrows "up" for protocols in which a node can be up without serving (one
    rebuilding after a disk loss): a condition that is true while the primary serves reads.
    """
    order_set = _orders(orders)
    maps = _copies(copies)
    up = _framework_var("up")
    note_property("visible_after_failover", orders=_var_name(order_set), copies=[_var_name(m) for m in maps],
                  primary=_var_name(primary), serving=serving is not None)
    holds = forall(order_set, lambda o: BoolVal(ir.or_(*(to_bool(m[primary].has(o)) for m in maps))))
    if serving is not None:
        return ~serving | holds
    if up is None:
        return holds
    return ~up[primary] | holds


def no_duplicates(registrations: Any) -> BoolVal:
    """No order is registered twice: ``registrations`` maps each order to how often it was registered."""
    if not (isinstance(registrations, MapVal) and isinstance(registrations.type, MapType)):
        raise ModelError("no_duplicates takes a map from orders to registration counts, like s.registered (MapOf(ORDER, Int(0, 2)))")
    note_property("no_duplicates", registrations=_var_name(registrations))
    return BoolVal(ir.and_(*(to_bool(entry <= 1) for entry in registrations.entries)))


def single_primary(acting: Any) -> BoolVal:
    """At most one node that is up acts as primary (no split brain).

    ``acting`` is a set of nodes, or a map from nodes to Bool.
    """
    if isinstance(acting, MapVal):
        members = [to_bool(e) for e in acting.entries]
        nodes = acting.type.domain
    elif isinstance(acting, SetVal):
        nodes = acting.set_type.domain
        members = [to_bool(acting.has(n)) for n in nodes.values]
    else:
        raise ModelError("single_primary takes the nodes acting as primary: a SetOf(NODE) or a MapOf(NODE, Bool)")
    note_property("single_primary", acting=_var_name(acting))
    up = _framework_var("up")
    if up is not None:
        members = [ir.and_(m, to_bool(up[n])) for m, n in zip(members, nodes.values)]
    count = ir.count(ir.bits(SetType(nodes), members))
    return BoolVal(ir.le(count, ir.const(ir.IntType(1, 1), 1)))


def registered_or_rejected(acked: Any, registered: Any, rejected: Any = None) -> BoolVal:
    """A client told "ok" has its order registered, and is never also told "rejected"."""
    acked_set, registered_set = _orders(acked), _orders(registered)
    note_property("registered_or_rejected", orders=_var_name(acked_set), registered=_var_name(registered_set),
                  rejected=None if rejected is None else _var_name(rejected))
    cond = acked_set <= registered_set
    if rejected is not None:
        cond = cond & (acked_set & _orders(rejected)).is_empty()
    return cond
