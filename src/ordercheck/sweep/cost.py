"""The cost of a design variant, from the ``[cost]`` table of a grid file.

::

    [cost]
    server = 1.0                          # every server (default 1.0)
    role = { app = 0.5, arbiter = 0.25 }  # per role, instead of ``server`` (default: none)
    ack_replica = 1.0                     # each replica the acknowledgement waits for (default 1.0)
    remote_fsync = 1.0                    # each of them that must have it on disk (default 1.0)

A variant's cost is the sum of its servers' weights plus, for the acknowledgement rule in force
(after any preset's settings), ``ack_replica`` for every replica a client's "ok" waits for and
``remote_fsync`` for each of those that waits for the replica's disk, plus ``hop[KIND]`` for each of
those whose failure domain of that kind (``rack``, ``site``) is not the primary's (for ``N of GROUP``,
the N members nearest the primary: the acknowledgement waits for the first N to answer).  The replicas waited for
are counted from the rule's clauses: ``N of GROUP`` counts N, ``all of GROUP`` the members of the
group, ``majority`` a majority of the data nodes less the primary, ``tail`` one; clauses on the
primary, the application servers and interfaces count none.  With the defaults, the cost is the
number of servers plus the synchronous copies and remote fsyncs on the acknowledgement path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocols.rules import parse_rule

if TYPE_CHECKING:
    from ..design import Design, _Reader

__all__ = ["COST_KEYS", "CostModel", "ack_replicas", "read_cost"]

COST_KEYS = ("server", "role", "ack_replica", "remote_fsync", "hop")
_NOT_REPLICAS = ("primary", "app", "interface")


@dataclass(frozen=True)
class CostModel:
    """Weights for servers (``server``, or per role in ``role``) and for each replica on the acknowledgement path."""

    server: float = 1.0
    role: dict[str, float] = field(default_factory=dict)
    ack_replica: float = 1.0
    remote_fsync: float = 1.0
    hop: dict[str, float] = field(default_factory=dict)

    def cost(self, design: Design) -> float:
        """The cost of a built design (see the module docstring)."""
        topology = design.topology
        servers = sum(self.role.get(topology.role(n), self.server) for n in topology.nodes)
        waited, on_disk, hops = ack_replicas(design, self.hop)
        return round(servers + self.ack_replica * waited + self.remote_fsync * on_disk + hops, 9)


def _members(design: Design, group: str) -> list[str]:
    """The replicas of a rule's group (``tail``: the last replica, in file order)."""
    topology = design.topology
    replicas = [n for n in topology.nodes if topology.role(n) == "replica"]
    mode = {n: design.replication.get(n) or str(topology.attribute(n, "replication") or "async") for n in replicas}
    if group in ("replica", "data"):
        return replicas
    if group == "isr":
        return [n for n in replicas if mode[n] in ("sync", "quorum")]
    if group == "tail":
        return replicas[-1:]
    return [n for n in replicas if mode[n] == group]


def ack_replicas(design: Design, hop: dict[str, float] | None = None) -> tuple[int, int, float]:
    """How many replicas the acknowledgement rule waits for, how many of them on their disk, and their hops' weight.

    A replica's hop weight is the sum of ``hop[kind]`` over the failure-domain kinds (``rack``, ``site``) in
    which it differs from the primary; a rule that waits for N of a group is charged the N cheapest members.
    """
    hop = hop or {}
    topology = design.topology
    primary = next((n for n in topology.nodes if topology.role(n) == "primary"), "")

    def distance(node: str) -> float:
        return sum(w for kind, w in hop.items() if topology.attribute(node, kind) != topology.attribute(primary, kind))

    waited = on_disk = 0
    hops = 0.0
    for clause in parse_rule(design.protocol.ack):
        if clause.group in _NOT_REPLICAS:
            continue
        members = sorted(_members(design, clause.group), key=distance)
        if clause.quantifier == "majority":
            count = (1 + len(_members(design, "replica"))) // 2  # a majority of the data nodes, the primary among them
        elif clause.quantifier == "all":
            count = len(members)
        elif clause.group == "data":
            count = max(clause.count - 1, 0)
        else:
            count = clause.count if clause.group != "tail" else len(members)
        waited = max(waited, count)
        hops = max(hops, sum(distance(n) for n in members[:count]))
        if clause.medium == "disk":
            on_disk = max(on_disk, count)
    return waited, on_disk, hops


def read_cost(reader: _Reader) -> CostModel:
    """The ``[cost]`` table of a grid file (defaults for what it leaves out); errors name the file, line and key."""
    table = reader.data.get("cost", {})
    at: tuple[Any, ...] = ("cost",)
    reader.typed(table, dict, at, "a [cost] table")
    reader.unknown_keys(table, COST_KEYS, at)
    numbers: dict[str, Any] = {}
    for key in ("server", "ack_replica", "remote_fsync"):
        if key in table:
            numbers[key] = _weight(reader, table[key], at + (key,))
    for key, what in (("role", "a table of weights by role"), ("hop", "a table of weights by failure-domain kind")):
        weights = reader.typed(table.get(key, {}), dict, at + (key,), what)
        numbers[key] = {str(r): _weight(reader, w, at + (key, r)) for r, w in weights.items()}
    return CostModel(**numbers)


def _weight(reader: _Reader, value: Any, at: tuple[Any, ...]) -> float:
    reader.typed(value, (int, float), at, "a weight (a number, 0 or more)")
    if not value >= 0 or value == float("inf"):
        raise reader.error(at, f"expected a weight of 0 or more, got {value!r}")
    return float(value)
