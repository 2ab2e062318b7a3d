"""The cost of a design variant, from the ``[cost]`` table of a grid file.

::

    [cost]
    server = 1.0                          # every server (default 1.0)
    role = { app = 0.5, arbiter = 0.25 }  # per role, instead of ``server`` (default: none)
    ack_replica = 1.0                     # each replica the acknowledgement waits for (default 1.0)
    remote_fsync = 1.0                    # each of them that must have it on disk (default 1.0)

A variant's cost is the sum of its servers' weights plus, for the acknowledgement rule in force
(after any preset's settings), ``ack_replica`` for every replica a client's "ok" waits for and
``remote_fsync`` for each of those that waits for the replica's disk.  The replicas waited for
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

COST_KEYS = ("server", "role", "ack_replica", "remote_fsync")
_NOT_REPLICAS = ("primary", "app", "interface")


@dataclass(frozen=True)
class CostModel:
    """Weights for servers (``server``, or per role in ``role``) and for each replica on the acknowledgement path."""

    server: float = 1.0
    role: dict[str, float] = field(default_factory=dict)
    ack_replica: float = 1.0
    remote_fsync: float = 1.0

    def cost(self, design: Design) -> float:
        """The cost of a built design (see the module docstring)."""
        topology = design.topology
        servers = sum(self.role.get(topology.role(n), self.server) for n in topology.nodes)
        waited, on_disk = ack_replicas(design)
        return round(servers + self.ack_replica * waited + self.remote_fsync * on_disk, 9)


def _group_size(design: Design, group: str) -> int:
    topology = design.topology
    replicas = [n for n in topology.nodes if topology.role(n) == "replica"]
    mode = {n: design.replication.get(n) or str(topology.attribute(n, "replication") or "async") for n in replicas}
    if group in ("replica", "data"):
        return len(replicas)
    if group == "isr":
        return sum(1 for n in replicas if mode[n] in ("sync", "quorum"))
    if group == "tail":
        return 1 if replicas else 0
    return sum(1 for n in replicas if mode[n] == group)


def ack_replicas(design: Design) -> tuple[int, int]:
    """How many replicas the acknowledgement rule waits for, and how many of them on their disk."""
    waited = on_disk = 0
    data_nodes = 1 + _group_size(design, "replica")
    for clause in parse_rule(design.protocol.ack):
        if clause.group in _NOT_REPLICAS:
            continue
        if clause.quantifier == "majority":
            count = data_nodes // 2  # a majority of the data nodes, the primary among them
        elif clause.quantifier == "all":
            count = _group_size(design, clause.group)
        elif clause.group == "data":
            count = max(clause.count - 1, 0)
        else:
            count = clause.count if clause.group != "tail" else min(1, _group_size(design, "tail"))
        waited = max(waited, count)
        if clause.medium == "disk":
            on_disk = max(on_disk, count)
    return waited, on_disk


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
    roles = reader.typed(table.get("role", {}), dict, at + ("role",), "a table of weights by role")
    numbers["role"] = {str(r): _weight(reader, w, at + ("role", r)) for r, w in roles.items()}
    return CostModel(**numbers)


def _weight(reader: _Reader, value: Any, at: tuple[Any, ...]) -> float:
    reader.typed(value, (int, float), at, "a weight (a number, 0 or more)")
    if not value >= 0 or value == float("inf"):
        raise reader.error(at, f"expected a weight of 0 or more, got {value!r}")
    return float(value)
