"""Server topologies: nodes with a role and failure domains, as a networkx graph.

A :class:`Topology` is a domain of nodes (``NODE = Const(topology)``) that
remembers, for each node, its role and the failure domains it sits in
(``rack``, ``site``, ``power``, ...).  Links are the graph's edges; a topology
built from a plain table of nodes is fully connected.

Examples
--------
>>> t = Topology.from_nodes({
...     "db1": {"role": "primary", "rack": "r1"},
...     "db2": {"role": "replica", "rack": "r1"},
...     "db3": {"role": "replica", "rack": "r2"},
... })
>>> t.nodes, t.domain_kinds
(('db1', 'db2', 'db3'), ('rack',))
>>> t.members("rack", "r1")
('db1', 'db2')
>>> sorted(map(sorted, t.interchangeable()))
[['db1'], ['db2'], ['db3']]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
from networkx.algorithms.isomorphism import GraphMatcher

from ..lang.errors import ModelError
from ..lang.types import Domain

__all__ = ["KNOWN_FAILURE_DOMAINS", "NodeDomain", "Topology"]

RESERVED_ATTRIBUTES = ("role", "name", "replication")

# Failure domains a design file may name on its nodes without declaring them: the places, power feeds and
# hosts that operators group servers by.  Any other name must be declared (``failure_domains = [...]``),
# so that a misspelt node key (``replicaton``) is an error instead of a new failure domain.
KNOWN_FAILURE_DOMAINS = (
    "rack", "row", "room", "building", "site", "datacenter", "dc", "zone", "az", "availability_zone", "region",
    "power", "pdu", "ups", "host", "hypervisor", "chassis", "enclosure", "switch", "network", "cloud",
)


class NodeDomain(Domain):
    """The node domain of a model: node names, with the topology that describes them."""

    topology: Topology

    def __new__(cls, topology: Topology, name: str) -> NodeDomain:
        self = tuple.__new__(cls, topology.nodes)
        self.name = name
        self.topology = topology
        return self


class Topology:
    """Nodes with roles and failure domains, and the links between them.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes named by strings; each node's attributes hold ``role`` and any
        number of failure-domain attributes (``rack="r1"``).
    roles : iterable of str, optional
        The roles a design may use; a node with another role is an error.
    require_domains : iterable of str, optional
        Failure-domain attributes every node must have.
    """

    def __init__(self, graph: nx.Graph, *, roles: Iterable[str] | None = None, require_domains: Iterable[str] = ()) -> None:
        if graph.number_of_nodes() == 0:
            raise ModelError("a topology needs at least one node")
        for node, attrs in graph.nodes(data=True):
            if not isinstance(node, str) or not node:
                raise ModelError(f"node names are non-empty strings; got {node!r}")
            if "role" not in attrs:
                raise ModelError(f"node {node!r} has no role; give it role=...")
            if roles is not None and attrs["role"] not in set(roles):
                raise ModelError(f"node {node!r} has the unknown role {attrs['role']!r} (roles: {', '.join(sorted(roles))})")
            for kind in require_domains:
                if kind not in attrs:
                    raise ModelError(f"node {node!r} is in no {kind}; every node needs a {kind}")
            for key, value in attrs.items():
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    raise ModelError(f"node {node!r}: attribute {key!r} must be a name or a number, got {value!r}")
        self.graph = graph
        self.nodes: tuple[str, ...] = tuple(graph.nodes)
        # Failure domains indexed once: kind -> value -> members (the oracle asks for them per unit).
        self._members: dict[str, dict[Any, tuple[str, ...]]] = {}

    @classmethod
    def from_nodes(cls, nodes: Mapping[str, Mapping[str, Any]] | Iterable[tuple[str, Mapping[str, Any]]], *,
                   links: Iterable[tuple[str, str]] | None = None,
                   roles: Iterable[str] | None = None, require_domains: Iterable[str] = ()) -> Topology:
        """A topology from ``{name: {"role": ..., "rack": ...}}`` or ``(name, attributes)`` pairs; fully linked unless ``links`` are given."""
        graph = nx.Graph()
        pairs = list(nodes.items()) if isinstance(nodes, Mapping) else list(nodes)
        for entry in pairs:
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], Mapping)):
                raise ModelError(f"a node is given as (name, attributes), got {entry!r}")
        names = [name for name, _ in pairs]
        for name, attrs in pairs:
            if name in graph:
                raise ModelError(f"node {name!r} is listed twice")
            graph.add_node(name, **dict(attrs))
        if links is None:
            graph.add_edges_from((a, b) for i, a in enumerate(names) for b in names[i + 1:])
        else:
            for a, b in links:
                for end in (a, b):
                    if end not in graph:
                        raise ModelError(f"link ({a!r}, {b!r}) names an unknown node {end!r}")
                graph.add_edge(a, b)
        return cls(graph, roles=roles, require_domains=require_domains)

    def as_domain(self, name: str) -> NodeDomain:
        """The node domain of a model constant (``NODE = Const(topology)``)."""
        return NodeDomain(self, name)

    def role(self, node: str) -> str:
        return str(self.graph.nodes[node]["role"])

    def attribute(self, node: str, kind: str) -> Any:
        return self.graph.nodes[node].get(kind)

    @property
    def domain_kinds(self) -> tuple[str, ...]:
        """The failure-domain attributes used by any node, in first-seen order."""
        kinds: dict[str, None] = {}
        for _, attrs in self.graph.nodes(data=True):
            for key in attrs:
                if key not in RESERVED_ATTRIBUTES:
                    kinds[key] = None
        return tuple(kinds)

    def _index(self, kind: str) -> dict[Any, tuple[str, ...]]:
        if kind not in self._members:
            self._check_kind(kind)
            groups: dict[Any, list[str]] = {}
            for node in self.nodes:
                groups.setdefault(self.attribute(node, kind), []).append(node)
            self._members[kind] = {value: tuple(members) for value, members in groups.items()}
        return self._members[kind]

    def domain_values(self, kind: str) -> tuple[Any, ...]:
        """The distinct values of a failure-domain attribute, in first-seen order (``node``: the nodes)."""
        if kind == "node":
            return self.nodes
        return tuple(self._index(kind))

    def members(self, kind: str, value: Any) -> tuple[str, ...]:
        """The nodes in failure domain ``kind = value``."""
        if kind == "node":
            return (value,) if value in self.nodes else ()
        return self._index(kind).get(value, ())

    def _check_kind(self, kind: str) -> None:
        if kind not in self.domain_kinds:
            known = ", ".join(("node",) + self.domain_kinds)
            raise ModelError(f"the topology has no failure domain {kind!r} (known: {known})")
        missing = [n for n in self.nodes if self.attribute(n, kind) is None]
        if missing:
            raise ModelError(f"node {missing[0]!r} is in no {kind}; every node needs one to count {kind} failures")

    def linked(self, a: str, b: str) -> bool:
        return a == b or self.graph.has_edge(a, b)

    def automorphisms(self, limit: int | None = None) -> list[dict[str, str]]:
        """Every permutation of the nodes that keeps roles, failure domains and links (networkx isomorphism).

        With ``limit``, at most that many (enumerated lazily: a group too large for symmetry reduction is
        refused without listing it).  The one enumeration the symmetry reduction uses too.
        """
        def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
            return dict(a) == dict(b)

        # Failure-domain values are names, so two nodes are interchangeable only when they agree on all
        # attributes: a permutation of rack names is not a symmetry the model can rely on.
        matcher = GraphMatcher(self.graph, self.graph, node_match=same)
        return [dict(m) for m in itertools.islice(matcher.isomorphisms_iter(), limit)]

    def interchangeable(self) -> list[set[str]]:
        """The orbits of the automorphism group: sets of nodes that are interchangeable."""
        orbits: dict[str, set[str]] = {n: {n} for n in self.nodes}
        for perm in self.automorphisms():
            for a, b in perm.items():
                if orbits[a] is not orbits[b]:
                    merged = orbits[a] | orbits[b]
                    for n in merged:
                        orbits[n] = merged
        unique: list[set[str]] = []
        for orbit in orbits.values():
            if not any(orbit is u for u in unique):
                unique.append(orbit)
        return unique

    def __repr__(self) -> str:
        return f"Topology({', '.join(self.nodes)})"
