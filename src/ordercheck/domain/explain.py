"""Explaining a durability violation: which orders, where their copies were, which failures remove them.

Examples
--------
>>> from ordercheck.domain import Topology
>>> from ordercheck.domain.oracle import FailureSet
>>> t = Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db", "rack": "r1"}})
>>> state = {"acked": frozenset({"o1"}), "disk": {"a": frozenset({"o1"}), "b": frozenset({"o1"})}, "disk_losses": 0}
>>> call = {"orders": "acked", "copies": ["disk"], "domain": "rack", "k": 1}
>>> endangered_orders(t, state, call)
[('o1', ('a', 'b'), FailureSet(size=1, units=(('rack', 'r1'),)))]
"""

from __future__ import annotations

from typing import Any

from .oracle import FailureSet, min_failure_set
from .topology import Topology

__all__ = ["endangered_orders"]


def endangered_orders(topology: Topology, state: dict[str, Any], call: dict[str, Any]) -> list[tuple[Any, tuple[str, ...], FailureSet]]:
    """The orders of a ``survives`` call that ``k`` failures could remove in ``state``, each with its holders and failure set.

    ``call`` is what :func:`~ordercheck.domain.survives` recorded:
    ``{"orders": var, "copies": [var, ...], "domain": ..., "k": k}``.
    """
    if call.get("orders") is None or None in call.get("copies", [None]):
        return []
    domain = call["domain"]
    domain = tuple(domain) if isinstance(domain, list) else domain
    lost = int(state.get("disk_losses", 0))
    out = []
    for order in sorted(state[call["orders"]], key=repr):
        holders = tuple(n for n in topology.nodes if any(order in state[c][n] for c in call["copies"]))
        failures = min_failure_set(topology, holders, domain)
        if lost + failures.size <= call["k"]:
            out.append((order, holders, failures))
    return out


def explain_survives(spec_extra: dict[str, Any], constants: dict[str, Any], property: str, state: dict[str, Any]) -> list[str]:
    """Sentences saying why ``property`` (an invariant calling ``survives``) fails in ``state``."""
    call = spec_extra.get("survives_calls", {}).get(property)
    faults = spec_extra.get("faults") or {}
    topology = None
    node_constant = faults.get("nodes")
    candidates = [constants[node_constant]] if node_constant in constants else list(constants.values())
    for value in candidates:
        if hasattr(value, "topology"):
            topology = value.topology
            break
    if call is None or topology is None:
        return []
    lines = []
    for order, holders, failures in endangered_orders(topology, state, call):
        where = ", ".join(holders) if holders else "no node"
        units = ", ".join(f"{kind} {value}" if kind != "node" else str(value) for kind, value in failures.units)
        lost = int(state.get("disk_losses", 0))
        already = f" after {lost} disk loss{'es' if lost != 1 else ''}" if lost else ""
        if not holders:
            lines.append(f"{order!r} is acknowledged but no copy of it remains{already}")
        else:
            lines.append(f"{order!r} is held only by {where}{already}; losing {units} ({failures.size} failure"
                         f"{'s' if failures.size != 1 else ''}) removes every copy, and the property asks to survive {call['k']}")
    return lines
