"""The failure-set oracle: the fewest failures that take out every copy of an order.

Given the nodes holding an order, which failure domains (nodes, racks, power
feeds, ...) must fail to remove them all, at the least?  With one kind of
domain it is the distinct domains among the holders; with several kinds at
once (a failure is a rack *or* a power feed) it is a set-cover question,
which Z3 answers with the failure set as the explanation.  A brute-force
enumeration is kept as the independent check for small topologies.

Examples
--------
>>> from ordercheck.domain import Topology
>>> t = Topology.from_nodes({
...     "db1": {"role": "primary", "rack": "r1", "power": "p1"},
...     "db2": {"role": "replica", "rack": "r2", "power": "p1"},
...     "db3": {"role": "replica", "rack": "r3", "power": "p2"},
... })
>>> min_failure_set(t, ["db1", "db2"], "rack")
FailureSet(size=2, units=(('rack', 'r1'), ('rack', 'r2')))
>>> min_failure_set(t, ["db1", "db2"], ("rack", "power"))
FailureSet(size=1, units=(('power', 'p1'),))
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import z3

from ..lang.errors import ModelError
from .topology import Topology

__all__ = ["FailureSet", "failure_units", "min_failure_set", "min_failure_set_brute_force"]


@dataclass(frozen=True)
class FailureSet:
    """The fewest failures that remove every holder: how many, and which (kind, value) units."""

    size: int
    units: tuple[tuple[str, object], ...]


def failure_units(topology: Topology, domain: str | tuple[str, ...]) -> list[tuple[tuple[str, object], frozenset[str]]]:
    """Every unit of failure for ``domain``: ``((kind, value), nodes it takes out)``."""
    kinds = (domain,) if isinstance(domain, str) else tuple(domain)
    if not kinds:
        raise ModelError("a failure domain names at least one kind, such as 'node' or 'rack'")
    units = []
    for kind in kinds:
        for value in topology.domain_values(kind):
            units.append(((kind, value), frozenset(topology.members(kind, value))))
    return units


def _check_holders(topology: Topology, holders: Iterable[str]) -> frozenset[str]:
    held = frozenset(holders)
    unknown = sorted(held - set(topology.nodes))
    if unknown:
        raise ModelError(f"unknown node {unknown[0]!r} among the holders")
    return held


def min_failure_set(topology: Topology, holders: Iterable[str], domain: str | tuple[str, ...] = "node") -> FailureSet:
    """The smallest set of failures of ``domain`` that removes every node in ``holders``.

    One kind of domain is answered directly (distinct domains of the
    holders); several kinds are a set-cover question for Z3's optimizer.
    """
    held = _check_holders(topology, holders)
    if not held:
        return FailureSet(0, ())
    if isinstance(domain, str) or len(domain) == 1:
        kind = domain if isinstance(domain, str) else domain[0]
        if kind == "node":
            return FailureSet(len(held), tuple(("node", n) for n in topology.nodes if n in held))
        values = []
        for node in topology.nodes:
            value = topology.attribute(node, kind)
            if node in held and value not in values:
                values.append(value)
        topology.domain_values(kind)  # validates the kind
        return FailureSet(len(values), tuple((kind, v) for v in values))
    units = [(unit, members) for unit, members in failure_units(topology, domain) if members & held]
    opt = z3.Optimize()
    chosen = [z3.Bool(f"u{i}") for i in range(len(units))]
    for node in sorted(held):
        opt.add(z3.Or([c for c, (_, members) in zip(chosen, units) if node in members] or [z3.BoolVal(False)]))
    opt.minimize(z3.Sum([z3.If(c, 1, 0) for c in chosen]))
    if opt.check() != z3.sat:
        raise ModelError(f"some holder is in no failure domain of {domain!r}")
    model = opt.model()
    picked = tuple(unit for c, (unit, _) in zip(chosen, units) if z3.is_true(model.eval(c, model_completion=True)))
    return FailureSet(len(picked), picked)


def min_failure_set_brute_force(topology: Topology, holders: Iterable[str], domain: str | tuple[str, ...] = "node") -> FailureSet:
    """The same answer by enumerating failure sets by size (exponential: small topologies only)."""
    held = _check_holders(topology, holders)
    if not held:
        return FailureSet(0, ())
    units = [(unit, members) for unit, members in failure_units(topology, domain) if members & held]
    for size in range(1, len(units) + 1):
        for combo in itertools.combinations(units, size):
            covered: frozenset[str] = frozenset().union(*(members for _, members in combo))
            if held <= covered:
                return FailureSet(size, tuple(unit for unit, _ in combo))
    raise ModelError(f"some holder is in no failure domain of {domain!r}")
