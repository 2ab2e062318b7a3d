"""Explaining a durability violation: which orders, where their copies are, which failures remove them.

A ``survives`` property fails for an order when the faults already spent that
removed a copy of it, plus the fewest further failures that remove every copy
left (in any medium the property counts), are at most ``k``.  The sentences
say which copies remain (node and medium) and which failures take them; "no
copy remains" is said only when none does.

Examples
--------
>>> from ordercheck.domain import Topology
>>> from ordercheck.domain.oracle import FailureSet
>>> t = Topology.from_nodes({"a": {"role": "db", "rack": "r1"}, "b": {"role": "db", "rack": "r1"}})
>>> state = {"acked": frozenset({"o1"}), "disk": {"a": frozenset({"o1"}), "b": frozenset({"o1"})}, "disk_losses": 0}
>>> call = {"orders": "acked", "copies": ["disk"], "domain": "rack", "k": 1}
>>> endangered_orders(t, state, call)
[('o1', ('a', 'b'), FailureSet(size=1, units=(('rack', 'r1'),)))]
>>> held_copies(t, {"disk": {"a": frozenset({"o1"}), "b": frozenset()}, "cache": {"a": frozenset({"o1"}), "b": frozenset({"o1"})}},
...             ["cache", "disk"], "o1", {"cache": "os-cache", "disk": "disk"})
'a (os-cache, disk), b (os-cache)'
"""

from __future__ import annotations

from typing import Any

from .oracle import FailureSet, min_failure_set
from .topology import Topology

__all__ = ["copies_removed", "endangered_orders", "explain_survives", "held_copies"]


def copies_removed(state: dict[str, Any], order: Any) -> int:
    """The faults so far that count against ``k`` for ``order``.

    With ``Faults(count_copy_losses=True)`` the state has ``copy_losses``, the faults that
    removed a copy of each order; otherwise every disk loss so far counts.
    """
    per_order = state.get("copy_losses")
    if isinstance(per_order, dict) and order in per_order:
        return int(per_order[order])
    return int(state.get("disk_losses", 0))


def endangered_orders(topology: Topology, state: dict[str, Any], call: dict[str, Any]) -> list[tuple[Any, tuple[str, ...], FailureSet]]:
    """The orders of a ``survives`` call that ``k`` failures could remove in ``state``, each with its holders and failure set.

    ``call`` is what :func:`~ordercheck.domain.survives` recorded:
    ``{"orders": var, "copies": [var, ...], "domain": ..., "k": k}``.
    """
    if call.get("orders") is None or None in call.get("copies", [None]):
        return []
    domain = call["domain"]
    domain = tuple(domain) if isinstance(domain, list) else domain
    out = []
    for order in sorted(state[call["orders"]], key=repr):
        holders = tuple(n for n in topology.nodes if any(order in state[c][n] for c in call["copies"]))
        failures = min_failure_set(topology, holders, domain)
        if copies_removed(state, order) + failures.size <= call["k"]:
            out.append((order, holders, failures))
    return out


def held_copies(topology: Topology, state: dict[str, Any], copies: list[str], order: Any, media: dict[str, str] | None = None) -> str:
    """Where ``order`` is held: each node with the media of its copies (``"db1 (os-cache, disk)"``)."""
    media = media or {}
    parts = []
    for node in topology.nodes:
        kinds = [media.get(c, c) for c in copies if order in state[c][node]]
        if kinds:
            parts.append(f"{node} ({', '.join(dict.fromkeys(kinds))})")
    return ", ".join(parts)


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
        units = ", ".join(f"{kind} {value}" if kind != "node" else str(value) for kind, value in failures.units)
        lost = copies_removed(state, order)
        if not lost:
            already = ""
        elif "copy_losses" in state:
            already = f" after {lost} fault{'s' if lost != 1 else ''} that removed a copy of it"
        else:
            already = f" after {lost} disk loss{'es' if lost != 1 else ''}"
        if not holders:
            lines.append(f"{order!r} is acknowledged but no copy of it remains{already}")
        else:
            where = held_copies(topology, state, call["copies"], order, spec_extra.get("media"))
            lines.append(f"{order!r} is held only by {where}{already}; losing {units} ({failures.size} failure"
                         f"{'s' if failures.size != 1 else ''}) removes every copy, and the property asks to survive {call['k']}")
    return lines
