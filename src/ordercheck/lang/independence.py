"""Data independence in orders: when does one order's verdict hold for any number of orders?

A protocol that treats orders independently, where no action reads two orders'
data together, behaves for each order as it does with that order alone: the
argument of Wolper's data independence (POPL 1986), specialised to the way
models store orders.  Each order ``o`` has a *lane* of the state: bit ``o`` of
every set of orders (``mem[n]``, ``acked``) and every map entry keyed by ``o``
(``registrations[o]``); the rest is *shared* (``primary``, ``up``, the fault
budget).  This module shows from the IR, without exploring anything, that

1. an action with an order parameter ``o`` reads only shared state and lane
   ``o``, and writes only lane ``o`` (every other lane is left as it is);
2. an action without one (faults, failover, rebuilds) reads only shared state
   in its guard and writes each lane with the same function of that lane and
   the shared state (``crash`` empties ``mem[n]`` for every order alike);
3. the bindings for different orders are the same up to renaming the order
   (no literal order in an action), and every initial state gives every lane
   the same value;
4. a property is a conjunction, over orders, of one per-order condition (an
   invariant; ``forall`` over a set of orders unrolls into one), or for a
   ``sometimes`` goal a disjunction.

Then the projection of any execution with ``n`` orders onto one lane and the
shared state is an execution with one order (steps of other orders leave
that lane and the shared state unchanged), and every execution with one order
is the projection of one with ``n``.  So each property in 4 has the same
verdict for one order as for any number, and a counterexample for one order
is one for ``n``.  Where a condition fails the result says which action or
property reads which orders together: ``promote`` comparing how many orders
each replica holds (``count``) is the usual one.

Examples
--------
>>> from ordercheck.lang import Model, Const, Var, SetOf, action, invariant, require, spec_of
>>> class Queue(Model):
...     ORDER = Const(("o1", "o2"))
...     sent = Var(SetOf(ORDER), init=())
...     got = Var(SetOf(ORDER), init=())
...     @action(o=ORDER)
...     def send(s, o):
...         require(~s.sent.has(o))
...         s.sent = s.sent.add(o)
...     @action(o=ORDER)
...     def receive(s, o):
...         require(s.sent.has(o))
...         s.got = s.got.add(o)
...     @invariant
...     def only_sent(s):
...         return s.got <= s.sent
>>> r = order_independence(spec_of(Queue()))
>>> r.independent, r.properties
(True, ('only_sent',))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import ir
from .spec import Binding, Property, Spec
from .types import FinType, SetType

__all__ = ["Independence", "order_independence"]


@dataclass(frozen=True)
class Independence:
    """What :func:`order_independence` found.

    ``independent``: conditions 1 to 3 of the module docstring hold; ``properties``: the selected
    properties whose verdict carries over to any number of orders (empty unless ``independent``);
    ``reasons``: why not, one sentence each, naming the action or property and what it reads.
    """

    domain: str
    independent: bool
    properties: tuple[str, ...]
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        if self.independent and not self.reasons:
            return (f"{self.domain}: no action reads two orders together, so each property's verdict for one order "
                    f"holds for any number of orders (data independence)")
        if self.independent:
            return (f"{self.domain}: no action reads two orders together; the verdicts of {', '.join(self.properties) or 'no property'} "
                    f"hold for any number of orders, not the others: {'; '.join(self.reasons)}")
        return f"{self.domain}: not shown independent: {'; '.join(self.reasons)}"


# abstract value of an IR node: (lanes read, or for a set of orders the lanes besides its own that each bit reads;
# is it a set of orders whose bit i depends on lane i only (plus those lanes); why it mixes orders, or "")
_Value = tuple[frozenset[int], bool, str]


class _Lanes:
    """Which slots are whose lane, and for each IR node the lanes it reads (memoised over the shared IR graph)."""

    def __init__(self, spec: Spec, domain: str) -> None:
        self.spec = spec
        self.domain = domain
        self.orders = tuple(spec.constants[domain])
        self.memo: dict[ir.Expr, _Value] = {}
        self.lane_of: dict[int, int] = {}  # slot -> order, for entries of maps keyed by an order
        self.order_valued: set[int] = set()
        for i, slot in enumerate(spec.slots):
            keyed = [k for k in slot.keys if self.is_order_key(slot, k)]
            if keyed:
                self.lane_of[i] = self.orders.index(keyed[0])
            if isinstance(slot.type, FinType) and self.is_order_type(slot.type):
                self.order_valued.add(i)

    def is_order_key(self, slot: Any, key: Any) -> bool:
        info = next(v for v in self.spec.vars if v.name == slot.var)
        t = info.type
        while hasattr(t, "domain") and hasattr(t, "value"):  # MapOf(D, T): keys come from D, outermost first
            if isinstance(t.domain, FinType) and self.is_order_type(t.domain) and key in t.domain.values:
                return True
            t = t.value
        return False

    def is_order_type(self, t: FinType) -> bool:
        return t.name == self.domain or (not t.name and tuple(t.values) == self.orders)

    def is_oset(self, t: Any) -> bool:
        return isinstance(t, SetType) and self.is_order_type(t.domain)

    def value(self, e: ir.Expr) -> _Value:
        found = self.memo.get(e)
        if found is not None:
            return found
        for node in ir.walk([e]):
            if node not in self.memo:
                self.memo[node] = self._node(node)
        return self.memo[e]

    def _names(self, e: ir.Expr) -> str:
        names = sorted({self.spec.slots[n.data].var for n in ir.walk([e]) if n.op in ("var", "post") and self.is_oset(n.type)})
        return ", ".join(names) or "a set of orders"

    def _node(self, e: ir.Expr) -> _Value:
        op, a, t = e.op, e.args, e.type
        m = self.memo
        none: frozenset[int] = frozenset()
        if op == "const":
            return (none, self.is_oset(t), "")
        if op in ("var", "post"):
            slot = e.data
            if self.is_oset(t):
                return (none, True, "")
            if slot in self.order_valued:
                return (none, False, f"the variable {self.spec.slots[slot].name} holds an order")
            if slot in self.lane_of:
                return (frozenset({self.lane_of[slot]}), False, "")
            return (none, False, "")
        mix = next((m[x][2] for x in a if m[x][2]), "")
        if op == "has" and self.is_oset(a[0].type):
            lanes = m[a[0]][0]
            if mix:
                return (none, False, mix)
            if not a[1].is_const:
                return (none, False, f"it looks up an order chosen by the state in {self._names(a[0])}")
            return (lanes | {a[1].data}, False, "")
        if op in ("with", "without") and self.is_oset(t):
            if mix:
                return (none, False, mix)
            if not a[1].is_const:
                return (none, False, f"it adds or removes an order chosen by the state in {self._names(a[0])}")
            return (m[a[0]][0] | m[a[1]][0], True, "")
        if op in ("union", "inter", "diff") and self.is_oset(t):
            return (m[a[0]][0] | m[a[1]][0], True, mix)
        if op == "ite" and self.is_oset(t):
            return (m[a[0]][0] | m[a[1]][0] | m[a[2]][0], True, mix)
        if op == "bits" and self.is_oset(t):
            extra = frozenset(j for i, x in enumerate(a) for j in m[x][0] if j != i)
            return (extra, True, mix)
        if op == "count" and self.is_oset(a[0].type):
            return (none, False, mix or f"it counts the orders in {self._names(a[0])}")
        if op in ("eq", "subset") and self.is_oset(a[0].type):
            return (none, False, mix or f"it compares sets of orders ({self._names(e)})")
        if any(self.is_oset(x.type) for x in a):
            return (none, False, mix or f"it reads {self._names(e)} as a whole ({op})")
        lanes = frozenset(j for x in a for j in m[x][0])
        return (lanes, False, mix)

    # -- renaming an order to a placeholder, to compare what two orders' bindings do

    def normal(self, e: ir.Expr, own: int | None, memo: dict[ir.Expr, Any]) -> Any:
        for node in ir.walk([e]):
            if node in memo:
                continue
            if node.op == "const" and isinstance(node.type, FinType) and self.is_order_type(node.type):
                memo[node] = ("order", "OWN" if node.data == own else node.data)
            elif node.op == "const" and self.is_oset(node.type):
                full = (1 << len(self.orders)) - 1
                memo[node] = ("orders", "none" if node.data == 0 else "all" if node.data == full
                              else "OWN" if own is not None and node.data == 1 << own else node.data)
            elif node.op in ("var", "post") and node.data in self.lane_of:
                slot = self.spec.slots[node.data]
                lane = self.lane_of[node.data]
                keys = tuple("OWN" if lane == own and k == self.orders[lane] else k for k in slot.keys)
                memo[node] = (node.op, slot.var, keys)
            else:
                memo[node] = (node.op, repr(node.type) if not self.is_oset(node.type) else "orders",
                              node.data, tuple(memo[x] for x in node.args))
        return memo[e]


def _frame(e: ir.Expr, slot: int, facts: dict[int, Any] | None = None) -> frozenset[int] | None:
    """The lanes where a set-of-orders expression may differ from ``var(slot)``: ``None`` if not known.

    ``facts`` are the values of slots that the enclosing ``ite`` conditions fix (``s.mem[s.primary]``
    traces into one ``ite`` per node on ``primary``; inside the branch for ``primary == n`` only ``mem[n]``
    is read).
    """
    facts = facts or {}
    if e.op == "var" and e.data == slot:
        return frozenset()
    if e.op in ("with", "without") and e.args[1].is_const:
        inner = _frame(e.args[0], slot, facts)
        return None if inner is None else inner | {e.args[1].data}
    if e.op == "ite":
        c = e.args[0]
        if c.op == "eq" and c.args[0].op == "var" and c.args[1].is_const:
            known = facts.get(c.args[0].data)
            if known is not None:
                return _frame(e.args[1] if known == c.args[1].data else e.args[2], slot, facts)
            a = _frame(e.args[1], slot, {**facts, c.args[0].data: c.args[1].data})
        else:
            a = _frame(e.args[1], slot, facts)
        b = _frame(e.args[2], slot, facts)
        return None if a is None or b is None else a | b
    return None


def _own(lanes: _Lanes, b: Binding) -> tuple[list[int], list[str]]:
    names = [k for k, v in b.params if v in lanes.orders and not isinstance(v, bool)]
    return [lanes.orders.index(dict(b.params)[k]) for k in names], names


def _binding_reasons(lanes: _Lanes, b: Binding) -> list[str]:
    owns, names = _own(lanes, b)
    if len(owns) > 1:
        return [f"{b.label} takes two orders ({', '.join(names)})"]
    own = owns[0] if owns else None
    reads = [b.guard, *(c.cond for c in b.checks)]
    out: list[str] = []
    for e in reads:
        read, _, mix = lanes.value(e)
        if mix:
            return [f"{b.label} reads several orders together: {mix}"]
        other = sorted(read - ({own} if own is not None else set()))
        if other:
            what = f"while acting on {lanes.orders[own]}" if own is not None else "though it acts on no order"
            return [f"{b.label} reads the data of {', '.join(str(lanes.orders[i]) for i in other)} {what}"]
    for slot, e in b.updates:
        info = lanes.spec.slots[slot]
        read, _, mix = lanes.value(e)
        if mix:
            return [f"{b.label} reads several orders together in what it writes to {info.name}: {mix}"]
        if lanes.is_oset(info.type):
            if own is not None:
                frame = _frame(e, slot)
                if frame is None or frame - {own} or read - {own}:
                    return [f"{b.label} may change other orders' entries of {info.name} while acting on {lanes.orders[own]}"]
            elif read:
                return [f"{b.label} writes {info.name} from the data of particular orders"]
        elif slot in lanes.lane_of:
            lane = lanes.lane_of[slot]
            if own is not None and lane != own:
                return [f"{b.label} writes {info.name}, the data of another order than {lanes.orders[own]}"]
            if read - {lane}:
                return [f"{b.label} writes {info.name} from the data of other orders"]
        else:
            if own is not None:
                return [f"{b.label} changes the shared {info.name} while acting on order {lanes.orders[own]}: the other orders see it"]
            if read:
                return [f"{b.label} writes the shared {info.name} from the data of particular orders"]
    return out


def _uniform(lanes: _Lanes, spec: Spec) -> list[str]:
    """Bindings that differ only in their order are the same up to renaming it; faults and failover treat every order alike."""
    groups: dict[Any, dict[int, Any]] = {}
    for b in spec.bindings:
        owns, names = _own(lanes, b)
        own = owns[0] if owns else None
        memo: dict[ir.Expr, Any] = {}
        shape_updates = []
        for slot, e in b.updates:
            info = spec.slots[slot]
            key = (info.var, tuple("OWN" if own is not None and slot in lanes.lane_of and lanes.lane_of[slot] == own
                                   and k == lanes.orders[own] else k for k in info.keys))
            if own is None and slot in lanes.lane_of:
                # a fault writing map entries keyed by orders: each entry by the same function of its own lane
                lane = lanes.lane_of[slot]
                form = lanes.normal(e, lane, {})
                key = (info.var, tuple("OWN" if k == lanes.orders[lane] else k for k in info.keys))
                groups.setdefault(("entry", b.label, key), {})[lane] = form
                continue
            shape_updates.append((key, lanes.normal(e, own, memo)))
        shape = (lanes.normal(b.guard, own, memo), tuple(lanes.normal(c.cond, own, memo) for c in b.checks), tuple(sorted(shape_updates, key=repr)))
        if own is None:
            # a literal order, or a literal set holding some orders and not others
            if any(isinstance(n, tuple) and len(n) == 2 and (n[0] == "order" or (n[0] == "orders" and isinstance(n[1], int)))
                   for n in _flatten(shape)):
                return [f"{b.label} names a particular order"]
            continue
        rest = tuple((k, v) for k, v in b.params if k not in names)
        groups.setdefault((b.action, rest), {})[own] = shape
    for key, by_order in groups.items():
        if key[0] != "entry" and len(by_order) < len(lanes.orders):
            missing = [str(o) for i, o in enumerate(lanes.orders) if i not in by_order]
            return [f"{key[0]} has no step for {', '.join(missing)} where it has one for other orders"]
        if len(by_order) > 1 and len(set(map(repr, by_order.values()))) > 1:
            what = key[1] if key[0] == "entry" else key[0]
            return [f"{what} does not treat every order alike (its bindings differ beyond the order they act on)"]
    return []


def _flatten(x: Any) -> Iterable[Any]:
    stack = [x]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, tuple):
            stack.extend(item)


def _initial(lanes: _Lanes, spec: Spec) -> list[str]:
    n = len(lanes.orders)
    full = (1 << n) - 1
    for state in spec.init_states:
        for i, slot in enumerate(spec.slots):
            if lanes.is_oset(slot.type) and state[i] not in (0, full):
                return [f"the initial value of {slot.name} holds some orders and not others"]
        by_var: dict[Any, set[Any]] = {}
        for i, lane in lanes.lane_of.items():
            slot = spec.slots[i]
            key = (slot.var, tuple(k for k in slot.keys if k != lanes.orders[lane]))
            by_var.setdefault(key, set()).add(state[i])
        for (var, _), values in by_var.items():
            if len(values) > 1:
                return [f"the initial values of {var} differ between orders"]
    return []


def _property_reason(lanes: _Lanes, p: Property) -> str:
    if p.kind not in ("invariant", "sometimes"):
        return f"{p.name} is a {p.kind} property (only invariants and sometimes goals are analysed)"
    per_lane: dict[int, list[str]] = {i: [] for i in range(len(lanes.orders))}
    why = _decompose(lanes, p.expr, p.kind == "invariant", per_lane)
    if why:
        return f"{p.name} {why}"
    if len({tuple(sorted(v)) for v in per_lane.values()}) > 1:
        return f"{p.name} does not ask the same of every order"
    return ""


def _decompose(lanes: _Lanes, e: ir.Expr, conj: bool, per_lane: dict[int, list[str]]) -> str:
    """Whether ``e`` is a conjunction (``conj``) or a disjunction over orders of per-order conditions; ``""`` if so.

    A condition on shared state may be distributed over the orders (``p or (A1 and A2)`` is
    ``(p or A1) and (p or A2)``).  The per-order conditions are collected in ``per_lane``.
    """
    read, _, mix = lanes.value(e)
    if not mix and len(read) <= 1:
        if read:
            lane = next(iter(read))
            per_lane[lane].append(repr(lanes.normal(e, lane, {})))
        return ""
    if e.op == "not":
        return _decompose(lanes, e.args[0], not conj, per_lane)
    if e.op in ("and", "or"):
        if (e.op == "and") == conj:
            return next((why for x in e.args if (why := _decompose(lanes, x, conj, per_lane))), "")
        mixed = [x for x in e.args if lanes.value(x)[0] or lanes.value(x)[2]]
        if len(mixed) == 1:
            return _decompose(lanes, mixed[0], conj, per_lane)
    if conj and e.op in ("eq", "subset") and lanes.is_oset(e.args[0].type):
        # S == T and S <= T (S.is_empty()) compare lane by lane: one condition per order, the same for every
        # order when no literal set names some orders
        values = [lanes.value(x) for x in e.args]
        literal = any(n.op == "const" and lanes.is_oset(n.type) and n.data not in (0, (1 << len(lanes.orders)) - 1)
                      for n in ir.walk(e.args))
        if all(pointwise and not r and not m for r, pointwise, m in values) and not literal:
            return ""
    if mix:
        return f"reads several orders together: {mix}"
    return f"relates the data of {', '.join(str(lanes.orders[i]) for i in sorted(read))} in one condition"


def order_independence(spec: Spec, domain: str = "ORDER", properties: Iterable[str] | None = None) -> Independence:
    """Whether the protocol of ``spec`` treats the orders of constant ``domain`` independently (see the module docstring).

    Parameters
    ----------
    spec : Spec
        A traced model.
    domain : str
        The constant whose elements are the orders (``ORDER`` in the design family).
    properties : iterable of str, optional
        The properties to report on (all by default).

    Returns
    -------
    Independence
        ``independent`` with the properties whose verdict holds for any number of orders, or the reasons
        it could not be shown.
    """
    if domain not in spec.constants:
        return Independence(domain, False, (), (f"model {spec.name} has no constant {domain}",))
    lanes = _Lanes(spec, domain)
    reasons: list[str] = []
    for b in spec.bindings:
        reasons += _binding_reasons(lanes, b)
        if reasons:
            break
    reasons = reasons or _uniform(lanes, spec) or _initial(lanes, spec)
    if reasons:
        return Independence(domain, False, (), tuple(reasons))
    names = set(properties) if properties is not None else None
    covered: list[str] = []
    left: list[str] = []
    for p in spec.properties:
        if names is not None and p.name not in names:
            continue
        why = _property_reason(lanes, p)
        if why:
            left.append(why)
        else:
            covered.append(p.name)
    return Independence(domain, True, tuple(covered), tuple(left))
