"""Faults as actions generated from what each variable's medium survives.

Declare ``faults = Faults(...)`` in a model whose node domain is a
:class:`~ordercheck.domain.topology.Topology`.  The model then gets:

- ``up``: a ``MapOf(NODE, Bool)`` the fault actions keep; ``on="n"`` adds the
  guard ``s.up[n]`` and ``via=("a", "b")`` adds "both up, linked and not
  partitioned";
- ``faults_spent`` (the budget used so far) and ``disk_losses`` (disk losses so
  far), which are part of the state; with ``count_copy_losses=True`` also
  ``copy_losses``, for each order the faults so far that removed a copy of it
  (what :func:`~ordercheck.domain.survives` counts against its ``k``);
- the fault actions, which hit only nodes that are up: ``crash(n)`` (memory
  lost), ``power_loss(n)`` (memory and OS cache lost), ``disk_loss(n)`` (every
  medium lost), ``restart(n)`` (free; restores nothing), ``partition(a, b)`` and
  ``heal(a, b)`` (free), and with ``domain="rack"`` (or any failure-domain
  attribute) ``power_loss(rack=r)`` for every up node of ``r`` at once.

Each non-free fault spends one unit of the budget.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..lang import ir
from ..lang.errors import ModelError
from ..lang.model import _MISSING, Bool, ExtensionContext, Int, MapOf, ModelExtension, SetOf, Var, _caller_location
from ..lang.types import FinType, MapType, SetType, ValueType
from ..lang.values import BoolVal, coerce, require, to_bool
from .topology import NodeDomain, Topology

__all__ = ["FAULT_KINDS", "Faults", "node_domain_of"]

FAULT_KINDS = ("crash", "power_loss", "disk_loss", "partition")
_WIPED_BY = {
    "crash": ("memory",),
    "power_loss": ("memory", "os-cache"),
    "disk_loss": ("memory", "os-cache", "disk"),
}


def node_domain_of(constants: dict[str, Any], nodes: Any = None) -> tuple[str, NodeDomain]:
    """The constant holding the model's topology: the one named, or the only topology constant."""
    if nodes is not None:
        name = getattr(nodes, "name", nodes)
        value = constants.get(name)
        if not isinstance(value, NodeDomain):
            raise ModelError(f"Faults(nodes=...) must name a constant holding a Topology; {name!r} does not")
        return name, value
    found = [(n, v) for n, v in constants.items() if isinstance(v, NodeDomain)]
    if not found:
        raise ModelError("Faults needs a topology: declare the node domain as NODE = Const(Topology.from_nodes({...}))")
    if len(found) > 1:
        raise ModelError(f"several constants hold topologies ({', '.join(n for n, _ in found)}); say which with Faults(nodes=NAME)")
    return found[0]


class Faults(ModelExtension):
    """The faults a model is checked against, and how many may happen in one execution.

    Parameters
    ----------
    crash, power_loss, disk_loss, partition : bool
        Which fault kinds happen (partition is off by default).
    budget : int
        How many non-free faults one execution may contain.
    domain : str
        ``"node"``, or a failure-domain attribute of the topology (``"rack"``):
        then a power loss of a whole domain is one fault too.
    nodes : Const, optional
        The node domain, when a model has several topologies.
    after : dict, optional
        What else happens in the model when a fault strikes node ``n``: ``{"disk_loss": f}`` runs
        ``f(s, n)`` inside the generated ``disk_loss(n)`` action (keys: crash, power_loss,
        disk_loss, restart).  A protocol uses it to remember that a node lost its state.
    count_copy_losses : bool
        Keep ``copy_losses``: for each element of the sets the media hold (each order), how many
        faults so far removed a copy of it from some medium of some node.  ``survives`` then
        counts, per order, exactly the spent faults that removed one of its copies (otherwise
        it counts every disk loss).  The media's sets must share one element domain.
    """

    def __init__(self, *, crash: bool = True, power_loss: bool = True, disk_loss: bool = True, partition: bool = False,
                 budget: int = 1, domain: str = "node", nodes: Any = None, after: dict[str, Any] | None = None,
                 count_copy_losses: bool = False) -> None:
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
            raise ModelError(f"Faults(budget=...) is a number of faults, 0 or more; got {budget!r}")
        if not isinstance(domain, str):
            raise ModelError(f"Faults(domain=...) names a failure-domain attribute such as 'node' or 'rack'; got {domain!r}")
        self.kinds = {"crash": crash, "power_loss": power_loss, "disk_loss": disk_loss, "partition": partition}
        self.budget = budget
        self.domain = domain
        self.nodes = nodes
        self.after = dict(after or {})
        self.count_copy_losses = bool(count_copy_losses)
        self.location = _caller_location()
        unknown = [k for k in self.after if k not in ("crash", "power_loss", "disk_loss", "restart")]
        if unknown:
            raise ModelError(f"Faults(after=...) has no fault {unknown[0]!r} (crash, power_loss, disk_loss, restart)")

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(k for k in FAULT_KINDS if self.kinds[k])

    def extend(self, ctx: ExtensionContext) -> None:
        node_const, nodes = node_domain_of(ctx.constants, self.nodes)
        topology: Topology = nodes.topology
        budget = int(ctx.options.get("fault_budget", self.budget))
        if self.domain != "node":
            topology.domain_values(self.domain)  # validates the attribute
        media = self._media(ctx, nodes)
        ctx.add_var("up", Var(MapOf(nodes, Bool), init=True))
        ctx.add_var("faults_spent", Var(Int(0, budget), init=0))
        if self.kinds["disk_loss"]:
            ctx.add_var("disk_losses", Var(Int(0, budget), init=0))
        copies: tuple[tuple[Any, ...], list[str]] = ((), [])
        if self.count_copy_losses:
            domain_name, elements, set_media = self._elements(ctx, media)
            copies = (elements, set_media)
            ctx.add_var("copy_losses", Var(MapOf(ctx.constants[domain_name], Int(0, budget)), init=0))
        links = tuple((a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:] if topology.linked(a, b))
        if self.kinds["partition"] and links:
            # Symmetric by construction (b in partitioned[a] exactly when a in partitioned[b]), so that
            # renaming interchangeable nodes maps a partition onto a partition.
            ctx.add_var("partitioned", Var(MapOf(nodes, SetOf(nodes)), init=()))
        ctx.extra["faults"] = {"kinds": list(self.enabled), "budget": budget, "domain": self.domain, "nodes": node_const}
        ctx.extra["media"] = {name: medium for name, (medium, _) in media.items()}

        for kind in ("crash", "power_loss", "disk_loss"):
            if self.kinds[kind]:
                ctx.add_action(kind, _node_fault(kind, media, budget, self.after.get(kind), copies), n=nodes)
        if any(self.kinds[k] for k in ("crash", "power_loss", "disk_loss")):
            ctx.add_action("restart", _restart(self.after.get("restart")), n=nodes)
        if self.domain != "node" and self.kinds["power_loss"]:
            groups = {value: topology.members(self.domain, value) for value in topology.domain_values(self.domain)}
            ctx.add_action("power_loss", _domain_power_loss(self.domain, groups, media, budget, copies, self.after.get("power_loss")),
                           **{self.domain: tuple(groups)})
        if self.kinds["partition"] and links:
            ctx.add_action("partition", _partition(links, budget), a=nodes, b=nodes)
            ctx.add_action("heal", _heal(links), a=nodes, b=nodes)

        def on_guard(s: Any, node: Any) -> Any:
            return s.up[node]

        def via_guard(s: Any, a: Any, b: Any) -> Any:
            cond = s.up[a] & s.up[b]
            if isinstance(a, str) and isinstance(b, str):
                if a == b:
                    return s.up[a]
                if not topology.linked(a, b):
                    return BoolVal(ir.FALSE)
            elif len(links) != len(nodes) * (len(nodes) - 1) // 2:
                pairs = list(links) + [(y, x) for x, y in links] + [(x, x) for x in nodes]
                linked = BoolVal(ir.or_(*(to_bool((a == x) & (b == y)) for x, y in pairs)))
                cond = cond & linked
            if self.kinds["partition"] and links:
                cond = cond & ~s.partitioned[a].has(b)
            return cond

        ctx.on_guard = on_guard
        ctx.via_guard = via_guard

    def _elements(self, ctx: ExtensionContext, media: dict[str, tuple[str, Any]]) -> tuple[str, tuple[Any, ...], list[str]]:
        """The one element domain of the media's sets (the orders), its values, and the media holding such sets."""
        found: dict[str, FinType] = {}
        for v in ctx.user_vars:
            if v.name in media:
                t = ctx.resolve_type(v.type)
                if isinstance(t, MapType) and isinstance(t.value, SetType):
                    found[v.name] = t.value.domain
        names = {d.name for d in found.values()}
        if len(names) != 1 or next(iter(names)) not in ctx.constants:
            raise ModelError("Faults(count_copy_losses=True) needs media that are maps from the nodes to sets of one "
                             f"declared domain (found: {', '.join(sorted(f'{k}: {d.name or d.values}' for k, d in found.items())) or 'none'})")
        return next(iter(names)), next(iter(found.values())).values, list(found)

    def _media(self, ctx: ExtensionContext, nodes: NodeDomain) -> dict[str, tuple[str, Any]]:
        """Each node-indexed variable with a medium, and the value its entry takes when lost."""
        media: dict[str, tuple[str, Any]] = {}
        for v in ctx.user_vars:
            if v.medium is None:
                continue
            try:
                media[v.name] = self._medium_of(ctx, v, nodes)
            except ModelError as exc:
                exc.location = exc.location or v.location
                exc.context = exc.context or f"variable {v.name}"
                raise
        return media

    def _medium_of(self, ctx: ExtensionContext, v: Var, nodes: NodeDomain) -> tuple[str, Any]:
        t = ctx.resolve_type(v.type)
        if not (isinstance(t, MapType) and t.domain.values == tuple(nodes)):
            raise ModelError(f"variable {v.name} declares medium={v.medium!r} but is not a map over the nodes (MapOf({nodes.name}, ...))")
        entry = t.value
        lost = v.lost
        if lost is _MISSING or lost is None:
            if not _all_sets(entry):
                raise ModelError(f"variable {v.name}: a medium that is not a set says what a lost entry becomes, with lost=...")
            lost = ()
        elif isinstance(entry, SetType):
            raise ModelError(f"variable {v.name}: a lost set is emptied; lost= is only for media that are not sets")
        else:
            coerce(lost, entry, f"lost value of {v.name}")
        return (v.medium or "", lost)


def _all_sets(t: ValueType) -> bool:
    if isinstance(t, MapType):
        return _all_sets(t.value)
    return isinstance(t, SetType)


def _wipe(s: Any, node: Any, kind: str, media: dict[str, tuple[str, Any]], only_if: Any = None) -> None:
    from ..lang.values import ite

    for name, (medium, lost) in media.items():
        if medium in _WIPED_BY[kind]:
            entry = getattr(s, name)
            entry[node] = lost if only_if is None else ite(only_if, lost, entry[node])


def _count_copy_losses(s: Any, kind: str, media: dict[str, tuple[str, Any]], copies: tuple[tuple[Any, ...], list[str]],
                       hit: list[tuple[Any, Any]]) -> None:
    """Before a fault of ``kind`` wipes the nodes in ``hit`` (``(node, condition)``), count it for each element it removes a copy of."""
    from ..lang.values import ite

    elements, set_media = copies
    wiped = [name for name in set_media if media[name][0] in _WIPED_BY[kind]]
    for x in elements:
        removed = [to_bool(cond & getattr(s, name)[node].has(x)) for node, cond in hit for name in wiped]
        if removed:
            s.copy_losses[x] = ite(BoolVal(ir.or_(*removed)), s.copy_losses[x] + 1, s.copy_losses[x])


def _node_fault(kind: str, media: dict[str, tuple[str, Any]], budget: int, after: Any,
                copies: tuple[tuple[Any, ...], list[str]] = ((), [])) -> Any:
    def fault(s: Any, n: Any) -> None:
        require(s.up[n])
        require(s.faults_spent < budget)
        if copies[0]:
            _count_copy_losses(s, kind, media, copies, [(n, BoolVal(ir.TRUE))])
        s.up[n] = False
        _wipe(s, n, kind, media)
        s.faults_spent = s.faults_spent + 1
        if kind == "disk_loss":
            s.disk_losses = s.disk_losses + 1
        if after is not None:
            after(s, n)

    fault.__name__ = kind
    return fault


def _restart(after: Any) -> Any:
    def restart(s: Any, n: Any) -> None:
        require(~s.up[n])
        s.up[n] = True
        if after is not None:
            after(s, n)

    return restart


def _domain_power_loss(kind: str, groups: dict[Any, tuple[str, ...]], media: dict[str, tuple[str, Any]], budget: int,
                       copies: tuple[tuple[Any, ...], list[str]] = ((), []), after: Any = None) -> Any:
    def power_loss(s: Any, **params: Any) -> None:
        members = groups[params[kind]]
        require(BoolVal(ir.or_(*(s.up[m].expr for m in members))))
        require(s.faults_spent < budget)
        if copies[0]:
            _count_copy_losses(s, "power_loss", media, copies, [(m, s.up[m]) for m in members])
        for m in members:
            _wipe(s, m, "power_loss", media, only_if=s.up[m])
        for m in members:
            s.up[m] = False
        s.faults_spent = s.faults_spent + 1
        if after is not None:
            # Every member is down afterwards: what happens to a node that goes down happens to each.
            for m in members:
                after(s, m)

    # The tracer passes parameters by keyword and reads their names from the signature.
    power_loss.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("s", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(kind, inspect.Parameter.KEYWORD_ONLY),
    ])
    return power_loss


def _partition(links: tuple[tuple[str, str], ...], budget: int) -> Any:
    # Either order of the ends names the same link (both bindings lead to the same state), so that
    # the actions are closed under renaming nodes.
    def partition(s: Any, a: Any, b: Any) -> None:
        require((a, b) in links or (b, a) in links)
        require(~s.partitioned[a].has(b))
        require(s.faults_spent < budget)
        s.partitioned[a] = s.partitioned[a].add(b)
        s.partitioned[b] = s.partitioned[b].add(a)
        s.faults_spent = s.faults_spent + 1

    return partition


def _heal(links: tuple[tuple[str, str], ...]) -> Any:
    def heal(s: Any, a: Any, b: Any) -> None:
        require((a, b) in links or (b, a) in links)
        require(s.partitioned[a].has(b))
        s.partitioned[a] = s.partitioned[a].remove(b)
        s.partitioned[b] = s.partitioned[b].remove(a)

    return heal
