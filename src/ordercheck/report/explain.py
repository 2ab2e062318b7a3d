"""A counterexample in plain sentences, and what a trace shows about nodes, copies and faults.

The renderings that draw a durability trace (Mermaid, HTML, SVG) and
``ordercheck explain`` all read the same facts off the trace's states, found
generically rather than from any one model:

- the **nodes**: the model's topology (a :class:`~ordercheck.domain.topology.NodeDomain`
  constant) when it has one, otherwise the domain whose elements key the maps of sets
  (``MapOf(NODE, SetOf(ORDER))``);
- the **copies**: every variable that maps each node to a set of orders, with its storage
  medium (``memory``, ``os-cache``, ``disk``) as the model declares it (``medium=``) or as its
  name suggests (``received``, ``written``, ``synced``, ...);
- ``up`` (or another map from nodes to booleans that starts all true, such as ``alive``),
  the acknowledged orders (the ``orders`` of a ``survives`` property, else a set variable whose
  name speaks of acknowledgement), and the variables that point at a node (``primary``);
- per step: which nodes went down or came back, which copies appeared or vanished, which
  orders were acknowledged, which pointer moved (a failover).

Numbering follows :mod:`ordercheck.report.trace`: ``State 1`` is the initial state and step k is
the k-th action, leading to ``State k+1``; sentences name both (``at step 4 (State 5)``).

Examples
--------
>>> from ordercheck.report.trace import Step, Trace
>>> up = {"db1": True, "db2": True}
>>> empty = {"db1": frozenset(), "db2": frozenset()}
>>> t = Trace("M", "kept", "invariant", (
...     Step(None, (), {"disk": empty, "acked": frozenset(), "up": up}),
...     Step("store", (("o", "o1"), ("n", "db1")), {"disk": {**empty, "db1": frozenset({"o1"})}, "acked": frozenset(), "up": up}),
...     Step("ack", (("o", "o1"),), {"disk": {**empty, "db1": frozenset({"o1"})}, "acked": frozenset({"o1"}), "up": up}),
...     Step("disk_loss", (("n", "db1"),), {"disk": empty, "acked": frozenset({"o1"}), "up": {**up, "db1": False}}),
... ))
>>> for sentence in explain_trace(t):
...     print(sentence)
Invariant kept is violated in model M after 3 steps.
o1 was acknowledged at step 2 (State 3) while only db1 had it on disk.
At step 3 (State 4) db1 lost its disk, losing o1 from db1's disk.
No surviving node holds o1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain.explain import endangered_orders
from ..domain.topology import NodeDomain, Topology
from ..lang.spec import Spec
from .text import format_value, headline, sorted_elements
from .trace import Step, Trace, step_count, step_ref, steps_phrase

__all__ = [
    "FAULT_ACTIONS",
    "Breaking",
    "Event",
    "Scene",
    "breaking_failures",
    "closing_sentences",
    "explain_trace",
    "fault_text",
    "holders",
    "lost_text",
    "name_of",
    "node_status",
    "place_of",
    "property_reasons",
    "read_events",
    "read_scene",
]

FAULT_ACTIONS = ("crash", "power_loss", "disk_loss", "partition")
"""The actions that are faults (as :class:`~ordercheck.domain.Faults` generates them, or written by hand)."""

MEDIA = ("memory", "os-cache", "disk")

_MEDIUM_BY_NAME = {
    "memory": ("mem", "memory", "ram", "received", "buffer", "buffered", "inbox", "queue", "queued", "log_memory"),
    "os-cache": ("cache", "os_cache", "oscache", "page_cache", "written", "unsynced"),
    "disk": ("disk", "disks", "synced", "fsynced", "durable", "stored", "persisted", "wal", "log_disk"),
}
_MEDIUM_WORDS = {"memory": "memory", "os-cache": "OS cache", "disk": "disk"}
_MEDIUM_PLACES = {"memory": "in memory", "os-cache": "in the OS cache", "disk": "on disk"}
_ACK_NAMES = ("acked", "acknowledged", "acks", "committed", "confirmed")


def name_of(value: Any) -> str:
    """The text of a node, order or domain value in sentences and pictures: a string as it is.

    Examples
    --------
    >>> name_of("db1"), name_of(3), name_of(("a", "b"))
    ('db1', '3', "('a', 'b')")
    """
    return value if isinstance(value, str) else format_value(value)


def _join(items: Sequence[str], word: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c`` (or ``a, b or c`` with ``word="or"``)."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _sentence(text: str, capitalize: bool = True) -> str:
    """A sentence: capitalized (unless it starts with a name from the model) and closed with a full stop."""
    text = text.strip()
    if capitalize:
        text = text[:1].upper() + text[1:]
    return text + ("" if text.endswith(".") else ".")


@dataclass(frozen=True)
class Scene:
    """What a trace is about: its nodes, where orders are copied, and the variables that say who is up.

    Built by :func:`read_scene`.  ``copies`` lists ``(variable, medium)`` for every map from nodes
    to sets of orders (medium ``None`` where neither the model nor the name tells); ``places``
    gives each node's failure domains as ``((kind, value), ...)``; ``pointers`` are the variables
    whose value is always a node (``primary``); ``survives`` is the ``survives`` call of the
    trace's property, if it has one.
    """

    nodes: tuple[Any, ...] = ()
    roles: dict[Any, str] = field(default_factory=dict)
    places: dict[Any, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    copies: tuple[tuple[str, str | None], ...] = ()
    up: str | None = None
    acked: str | None = None
    pointers: tuple[str, ...] = ()
    orders: tuple[Any, ...] = ()
    topology: Topology | None = None
    fault_domain: str | None = None
    survives: dict[str, Any] | None = None
    node_constant: str | None = None

    @property
    def durable(self) -> bool:
        """Whether the trace has nodes holding copies of orders (else it is drawn generically)."""
        return bool(self.nodes) and bool(self.copies)

    def medium(self, var: str) -> str | None:
        return dict(self.copies).get(var)


def _medium_from_name(name: str) -> str | None:
    lowered = name.lower()
    for medium, names in _MEDIUM_BY_NAME.items():
        if lowered in names:
            return medium
    return None


def _is_node_map(value: Any, nodes: tuple[Any, ...]) -> bool:
    return isinstance(value, dict) and tuple(value) == nodes


def _infer_nodes(trace: Trace, constants: dict[str, Any]) -> tuple[str | None, tuple[Any, ...]]:
    """A domain that keys maps of sets (the nodes of a model without a topology), and its constant."""
    if not trace.steps:
        return None, ()
    state = trace.steps[0].state
    keyed: list[tuple[Any, ...]] = []
    for value in state.values():
        if isinstance(value, dict) and value and all(isinstance(v, frozenset) for v in value.values()):
            keys = tuple(value)
            if keys not in keyed:
                keyed.append(keys)
    if not keyed:
        return None, ()
    for name, const in constants.items():
        if isinstance(const, tuple) and tuple(const) in keyed:
            return name, tuple(const)
    return None, keyed[0]


def read_scene(trace: Trace, spec: Spec | None = None) -> Scene:
    """Read what a trace is about off its states, and off its model's spec when given.

    Parameters
    ----------
    trace : Trace
        The trace; its constants hold the model's topology when it came from a check.
    spec : Spec, optional
        The model's spec: storage media as declared, the ``survives`` calls, the constants
        (with the topology) of a trace read back from ITF JSON.

    Returns
    -------
    Scene
        The nodes, copies, ``up`` map, acknowledged orders and pointers of the trace.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", None, "invariant", (Step(None, (), {
    ...     "received": {"a": frozenset(), "b": frozenset({"o1"})}, "primary": "a", "acked": frozenset()}),))
    >>> s = read_scene(t)
    >>> s.nodes, s.copies, s.pointers, s.acked, s.orders
    (('a', 'b'), (('received', 'memory'),), ('primary',), 'acked', ('o1',))
    """
    constants: dict[str, Any] = dict(trace.constants)
    if spec is not None:
        constants.update(spec.constants)
    extra = spec.extra if spec is not None else {}
    faults = extra.get("faults") or {}
    node_constant: str | None = None
    topology: Topology | None = None
    named = faults.get("nodes")
    if named and isinstance(constants.get(named), NodeDomain):
        node_constant = named
    else:
        node_constant = next((n for n, v in constants.items() if isinstance(v, NodeDomain)), None)
    if node_constant is not None:
        domain = constants[node_constant]
        topology = domain.topology
        nodes: tuple[Any, ...] = tuple(domain)
    else:
        node_constant, nodes = _infer_nodes(trace, constants)
    if not trace.steps or not nodes:
        return Scene(nodes=nodes, topology=topology, node_constant=node_constant)
    states = [step.state for step in trace.steps]
    first = states[0]
    declared = {v.name: v.medium for v in spec.vars} if spec is not None else {}
    declared.update(extra.get("media") or {})
    copies = []
    for name, value in first.items():
        if _is_node_map(value, nodes) and all(isinstance(v, frozenset) for v in value.values()):
            copies.append((name, declared.get(name) or _medium_from_name(name)))
    up: str | None = None
    bool_maps = [n for n, v in first.items() if _is_node_map(v, nodes) and all(isinstance(x, bool) for x in v.values())]
    if "up" in bool_maps:
        up = "up"
    else:
        starting_up = [n for n in bool_maps if all(first[n].values())]
        up = starting_up[0] if len(starting_up) == 1 else None
    pointers = tuple(n for n, v in first.items()
                     if not isinstance(v, (dict, frozenset, tuple, bool)) and all(s.get(n) in nodes for s in states))
    calls = extra.get("survives_calls") or {}
    survives = calls.get(trace.property) if trace.property else None
    acked = survives.get("orders") if survives else None
    if acked is None:
        sets = [n for n, v in first.items() if isinstance(v, frozenset)]
        acked = next((n for n in sets if n.lower() in _ACK_NAMES), None) or next((n for n in sets if "ack" in n.lower()), None)
    seen: set[Any] = set()
    for state in states:
        for var, _ in copies:
            for held in state[var].values():
                seen.update(held)
        if acked is not None and isinstance(state.get(acked), frozenset):
            seen.update(state[acked])
    orders = _in_domain_order(seen, constants)
    roles: dict[Any, str] = {}
    places: dict[Any, tuple[tuple[str, Any], ...]] = {}
    if topology is not None:
        for n in nodes:
            roles[n] = topology.role(n)
            places[n] = tuple((kind, topology.attribute(n, kind)) for kind in topology.domain_kinds
                              if topology.attribute(n, kind) is not None and kind != "replication")
    return Scene(nodes, roles, places, tuple(copies), up, acked, pointers, orders, topology,
                 faults.get("domain"), survives, node_constant)


def _in_domain_order(values: set[Any], constants: dict[str, Any]) -> tuple[Any, ...]:
    for const in constants.values():
        if isinstance(const, tuple) and not isinstance(const, NodeDomain) and values and values <= set(const):
            return tuple(v for v in const if v in values)
    return tuple(sorted_elements(values))


def holders(scene: Scene, state: dict[str, Any], order: Any) -> dict[Any, tuple[str, ...]]:
    """The nodes that hold ``order`` in ``state``, each with the copy variables it is in.

    Examples
    --------
    >>> s = Scene(nodes=("a", "b"), copies=(("mem", "memory"), ("disk", "disk")))
    >>> holders(s, {"mem": {"a": frozenset({1}), "b": frozenset()}, "disk": {"a": frozenset({1}), "b": frozenset({1})}}, 1)
    {'a': ('mem', 'disk'), 'b': ('disk',)}
    """
    out: dict[Any, tuple[str, ...]] = {}
    for node in scene.nodes:
        found = tuple(var for var, _ in scene.copies if order in state[var][node])
        if found:
            out[node] = found
    return out


@dataclass(frozen=True)
class Event:
    """What one step of a trace did, in the terms of a :class:`Scene`.

    ``number`` is the state's number (from 1, as the text rendering numbers them); ``kind`` is
    ``initial``, ``fault``, ``restart``, ``heal``, ``failover``, ``ack`` or ``step``; ``actors`` are
    the parameters that are nodes; ``down`` and ``back`` the nodes that went down or came back up;
    ``gained`` and ``lost`` the copies ``(node, variable, order)`` that appeared or vanished;
    ``acked`` the orders acknowledged; ``moved`` the pointers ``(variable, old, new)`` that changed;
    ``unit`` the failure domain ``(kind, value)`` a whole-domain fault hit.
    """

    number: int
    step: Step
    kind: str
    actors: tuple[Any, ...] = ()
    down: tuple[Any, ...] = ()
    back: tuple[Any, ...] = ()
    gained: tuple[tuple[Any, str, Any], ...] = ()
    lost: tuple[tuple[Any, str, Any], ...] = ()
    acked: tuple[Any, ...] = ()
    moved: tuple[tuple[str, Any, Any], ...] = ()
    unit: tuple[str, Any] | None = None


def _copy_delta(scene: Scene, before: dict[str, Any], after: dict[str, Any]) -> tuple[list[tuple[Any, str, Any]], list[tuple[Any, str, Any]]]:
    gained: list[tuple[Any, str, Any]] = []
    lost: list[tuple[Any, str, Any]] = []
    for node in scene.nodes:
        for var, _ in scene.copies:
            old, new = before[var][node], after[var][node]
            gained.extend((node, var, o) for o in sorted_elements(new - old))
            lost.extend((node, var, o) for o in sorted_elements(old - new))
    return gained, lost


def read_events(trace: Trace, scene: Scene) -> list[Event]:
    """One :class:`Event` per state of ``trace`` (the first is the initial state).

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", None, "invariant", (
    ...     Step(None, (), {"mem": {"a": frozenset(), "b": frozenset()}, "up": {"a": True, "b": True}}),
    ...     Step("crash", (("n", "a"),), {"mem": {"a": frozenset(), "b": frozenset()}, "up": {"a": False, "b": True}}),
    ... ))
    >>> [(e.number, e.kind, e.down) for e in read_events(t, read_scene(t))]
    [(1, 'initial', ()), (2, 'fault', ('a',))]
    """
    events: list[Event] = []
    before: dict[str, Any] | None = None
    for number, step in enumerate(trace.steps, start=1):
        state = step.state
        if before is None:
            events.append(Event(number, step, "initial"))
            before = state
            continue
        actors = tuple(v for _, v in step.params if _is_node(v, scene))
        down: tuple[Any, ...] = ()
        back: tuple[Any, ...] = ()
        if scene.up is not None:
            down = tuple(n for n in scene.nodes if before[scene.up][n] and not state[scene.up][n])
            back = tuple(n for n in scene.nodes if not before[scene.up][n] and state[scene.up][n])
        elif step.action in FAULT_ACTIONS[:3]:
            down = actors
        elif step.action == "restart":
            back = actors
        gained, lost = _copy_delta(scene, before, state) if scene.copies else ([], [])
        acked: tuple[Any, ...] = ()
        if scene.acked is not None and isinstance(state.get(scene.acked), frozenset):
            acked = tuple(sorted_elements(state[scene.acked] - before[scene.acked]))
        moved = tuple((p, before[p], state[p]) for p in scene.pointers if before[p] != state[p])
        unit = None
        if step.action in FAULT_ACTIONS and step.params and not _is_node(step.params[0][1], scene):
            unit = (step.params[0][0], step.params[0][1])
        if step.action in FAULT_ACTIONS or down:
            kind = "fault"
        elif step.action == "restart" or back:
            kind = "restart"
        elif step.action == "heal":
            kind = "heal"
        elif moved:
            kind = "failover"
        elif acked:
            kind = "ack"
        else:
            kind = "step"
        events.append(Event(number, step, kind, actors, down, back, tuple(gained), tuple(lost), acked, moved, unit))
        before = state
    return events


def _is_node(value: Any, scene: Scene) -> bool:
    try:
        return value in scene.nodes
    except TypeError:
        return False


def node_status(trace: Trace, scene: Scene) -> list[dict[Any, str]]:
    """Each node's status in each state: ``up``, ``crashed`` (down), or ``lost`` (down after losing its disk).

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", None, "invariant", (
    ...     Step(None, (), {"d": {"a": frozenset(), "b": frozenset()}, "up": {"a": True, "b": True}}),
    ...     Step("disk_loss", (("n", "a"),), {"d": {"a": frozenset(), "b": frozenset()}, "up": {"a": False, "b": True}}),
    ... ))
    >>> node_status(t, read_scene(t))
    [{'a': 'up', 'b': 'up'}, {'a': 'lost', 'b': 'up'}]
    """
    out: list[dict[Any, str]] = []
    current = {n: "up" for n in scene.nodes}
    for event in read_events(trace, scene):
        for n in event.back:
            current[n] = "up"
        for n in event.down:
            current[n] = "lost" if event.step.action == "disk_loss" else "crashed"
        out.append(dict(current))
    return out


@dataclass(frozen=True)
class Breaking:
    """The failures that break the trace's property.

    ``units`` are failure domains ``(kind, value)``: ``("node", "db1")``, ``("rack", "r1")``, or
    ``("link", (a, b))`` for a partition; ``nodes`` the nodes they take out; ``orders`` the orders
    they lose.  ``hypothetical`` is true for a ``survives`` property, whose failures are
    quantified in the invariant (they *would* remove every copy), and false when the failures are
    the faults the trace takes.
    """

    units: tuple[tuple[str, Any], ...] = ()
    nodes: tuple[Any, ...] = ()
    orders: tuple[Any, ...] = ()
    hypothetical: bool = False

    @property
    def size(self) -> int:
        return len(self.units)

    def describe(self) -> str:
        """The failure set in words.

        Examples
        --------
        >>> Breaking((("rack", "r1"),), ("db1", "db2"), ("o1",), True).describe()
        'rack r1 (db1 and db2): 1 failure'
        >>> Breaking().describe()
        'no failure'
        """
        if not self.units:
            return "no failure"
        parts = [_unit_text(u) for u in self.units]
        inside = [name_of(n) for n in self.nodes]
        shown = f" ({_join(inside)})" if inside and any(kind != "node" for kind, _ in self.units) else ""
        return f"{_join(parts)}{shown}: {self.size} failure{'s' if self.size != 1 else ''}"


def _unit_text(unit: tuple[str, Any]) -> str:
    kind, value = unit
    if kind == "node":
        return name_of(value)
    if kind == "link" and isinstance(value, tuple) and len(value) == 2:
        return f"the link {name_of(value[0])}-{name_of(value[1])}"
    return f"{kind} {name_of(value)}"


def _units_phrase(scene: Scene, units: tuple[tuple[str, Any], ...]) -> str:
    """``rack r1 (db1 and db2; 1 failure)``, ``db1 (1 failure)``."""
    inside = [name_of(n) for u in units if u[0] != "node" for n in _members(scene, u)]
    count = f"{len(units)} failure{'s' if len(units) != 1 else ''}"
    return f"{_join([_unit_text(u) for u in units])} ({_join(inside) + '; ' if inside else ''}{count})"


def _members(scene: Scene, unit: tuple[str, Any]) -> tuple[Any, ...]:
    kind, value = unit
    if kind == "node":
        return (value,)
    if kind == "link":
        return ()
    if scene.topology is not None and kind in scene.topology.domain_kinds:
        return scene.topology.members(kind, value)
    return ()


def _trace_faults(events: Iterable[Event], scene: Scene) -> list[tuple[tuple[str, Any], tuple[Any, ...]]]:
    """Each fault the trace takes, as a failure unit and the nodes it took down."""
    out: list[tuple[tuple[str, Any], tuple[Any, ...]]] = []
    for event in events:
        if event.kind != "fault":
            continue
        action = event.step.action
        if action == "partition":
            ends = tuple(v for _, v in event.step.params)
            out.append((("link", ends), ()))
        elif event.unit is not None:
            out.append((event.unit, event.down or _members(scene, event.unit)))
        else:
            for n in event.actors or event.down:
                out.append((("node", n), (n,)))
    return out


def breaking_failures(trace: Trace, scene: Scene, events: list[Event] | None = None) -> Breaking:
    """The failure set that breaks the trace's property (see :class:`Breaking`).

    For a ``survives`` property: the disk losses taken so far and the fewest failure domains
    whose loss removes every remaining copy (the failure-set oracle,
    :func:`~ordercheck.domain.explain.endangered_orders`).  Otherwise: the faults the trace takes.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", None, "invariant", (
    ...     Step(None, (), {"d": {"a": frozenset(), "b": frozenset()}, "up": {"a": True, "b": True}}),
    ...     Step("crash", (("n", "a"),), {"d": {"a": frozenset(), "b": frozenset()}, "up": {"a": False, "b": True}}),
    ... ))
    >>> breaking_failures(t, read_scene(t))
    Breaking(units=(('node', 'a'),), nodes=('a',), orders=(), hypothetical=False)
    """
    if events is None:
        events = read_events(trace, scene)
    taken = _trace_faults(events, scene)
    final = trace.final_state if trace.steps else {}
    if scene.survives is not None and scene.topology is not None and trace.steps:
        try:
            endangered = endangered_orders(scene.topology, final, scene.survives)
        except (KeyError, TypeError):
            endangered = []
        units: list[tuple[str, Any]] = [u for u, _ in taken if trace.steps and _was_disk_loss(u, events)]
        orders = []
        for order, _, failures in endangered:
            orders.append(order)
            for unit in failures.units:
                if unit not in units:
                    units.append(unit)
        nodes: list[Any] = []
        for unit in units:
            for n in _members(scene, unit):
                if n not in nodes:
                    nodes.append(n)
        return Breaking(tuple(units), tuple(n for n in scene.nodes if n in nodes), tuple(orders), True)
    units = []
    nodes = []
    for unit, down in taken:
        if unit not in units:
            units.append(unit)
        nodes.extend(n for n in down if n not in nodes)
    lost = tuple(o for o in _acked(scene, final) if not holders(scene, final, o)) if scene.copies else ()
    return Breaking(tuple(units), tuple(n for n in scene.nodes if n in nodes), lost, False)


def _was_disk_loss(unit: tuple[str, Any], events: list[Event]) -> bool:
    return any(e.step.action == "disk_loss" and unit == ("node", e.actors[0] if e.actors else None) for e in events)


def _acked(scene: Scene, state: dict[str, Any]) -> list[Any]:
    if scene.acked is None or not isinstance(state.get(scene.acked), frozenset):
        return []
    return [o for o in scene.orders if o in state[scene.acked]]


# ----------------------------------------------------------------------------- sentences


def place_of(scene: Scene, var: str) -> str:
    """Where a copy variable keeps an order: ``on disk``, ``in memory``, ``in the OS cache``, or ``in <variable>``."""
    medium = scene.medium(var)
    return _MEDIUM_PLACES[medium] if medium in _MEDIUM_PLACES else f"in {var}"


def _best(scene: Scene, found: tuple[str, ...]) -> str:
    """The copy variable that lasts longest among ``found`` (disk before OS cache before memory)."""
    def rank(var: str) -> int:
        medium = scene.medium(var)
        return MEDIA.index(medium) if medium in MEDIA else -1

    return max(found, key=rank)


def _holding(scene: Scene, state: dict[str, Any], order: Any, it: str = "it") -> str:
    """Where ``order`` was: ``only db1 had it on disk``, ``no node had it on disk (app1 had it in memory)``."""
    return _holding_it(scene, state, order).replace(" it ", f" {it} ").replace(" it (", f" {it} (")


def _holding_it(scene: Scene, state: dict[str, Any], order: Any) -> str:
    held = holders(scene, state, order)
    if not held:
        return "no node had it"
    disk_vars = [var for var, medium in scene.copies if medium == "disk"]
    if disk_vars:
        on_disk = [n for n, found in held.items() if any(v in disk_vars for v in found)]
        rest = [(n, _best(scene, found)) for n, found in held.items() if n not in on_disk]
        others = _group_places(scene, rest)
        if on_disk:
            names = [name_of(n) for n in on_disk]
            text = f"only {names[0]} had it on disk" if len(names) == 1 else f"{_join(names)} had it on disk"
            return text + (f" ({others})" if others else "")
        return f"no node had it on disk ({others})" if others else "no node had it on disk"
    return _group_places(scene, [(n, _best(scene, found)) for n, found in held.items()]).replace(" had it ", " held it ", 1)


def _group_places(scene: Scene, pairs: list[tuple[Any, str]]) -> str:
    """``app1 had it in memory, db2 in the OS cache``."""
    by_place: dict[str, list[str]] = {}
    for node, var in pairs:
        by_place.setdefault(place_of(scene, var), []).append(name_of(node))
    parts = []
    for i, (place, names) in enumerate(by_place.items()):
        parts.append(f"{_join(names)} had it {place}" if i == 0 else f"{_join(names)} {place}")
    return ", ".join(parts)


def lost_text(scene: Scene, lost: tuple[tuple[Any, str, Any], ...]) -> str:
    """The copies ``(node, variable, order)`` in words: ``o1 from db1's memory and OS cache``."""
    where: dict[Any, dict[Any, list[str]]] = {}
    for node, var, order in lost:
        word = _MEDIUM_WORDS.get(scene.medium(var) or "", var)
        media = where.setdefault(order, {}).setdefault(node, [])
        if word not in media:
            media.append(word)
    parts = []
    for order, nodes in where.items():
        by_media: dict[tuple[str, ...], list[str]] = {}
        for node, media in nodes.items():
            by_media.setdefault(tuple(media), []).append(name_of(node))
        for media_words, names in by_media.items():
            if len(names) == 1:
                parts.append(f"{name_of(order)} from {names[0]}'s {_join(list(media_words))}")
            else:
                parts.append(f"{name_of(order)} from the {_join(list(media_words))} of {_join(names)}")
    return _join(parts)


def fault_text(event: Event) -> str:
    """A fault in words: ``db1 crashed``, ``rack r1 lost power, taking db1 and db2``."""
    action = event.step.action
    params = event.step.params
    if event.unit is not None:
        kind, value = event.unit
        verb = {"power_loss": "lost power", "crash": "crashed", "disk_loss": "lost its disks"}.get(action or "", f"suffered {action}")
        taking = f", taking {_join([name_of(n) for n in event.down])}" if event.down else ""
        return f"{kind} {name_of(value)} {verb}{taking}"
    if action == "partition":
        ends = [name_of(v) for _, v in params]
        return f"the network between {_join(ends)} was partitioned"
    who = _join([name_of(n) for n in (event.actors or event.down)]) or "a node"
    if action == "crash":
        return f"{who} crashed"
    if action == "power_loss":
        return f"{who} lost power"
    if action == "disk_loss":
        return f"{who} lost its disk"
    return f"{who} went down ({event.step.label})"


def _durable_sentences(trace: Trace, scene: Scene, events: list[Event], closing: bool = True) -> list[str]:
    out: list[str] = []
    for event in events[1:]:
        n = event.number
        if event.kind == "fault":
            text = f"at {step_ref(n)} {fault_text(event)}"
            if event.lost:
                text += f", losing {lost_text(scene, event.lost)}"
            out.append(_sentence(text))
        elif event.kind == "restart":
            who = _join([name_of(x) for x in (event.back or event.actors)])
            out.append(_sentence(f"at {step_ref(n)} {who} restarted"))
        elif event.kind == "heal":
            ends = _join([name_of(v) for _, v in event.step.params])
            out.append(_sentence(f"at {step_ref(n)} the partition between {ends} healed"))
        for var, old, new in event.moved:
            before = trace.steps[n - 2].state
            was_down = scene.up is not None and not before[scene.up].get(old, True)
            note = " (which was down)" if was_down else ""
            out.append(_sentence(f"at {step_ref(n)} {name_of(new)} became {var} in place of {name_of(old)}{note}"))
        for order in event.acked:
            out.append(_sentence(f"{name_of(order)} was acknowledged at {step_ref(n)} while {_holding(scene, event.step.state, order)}", False))
        if event.kind not in ("fault", "restart") and event.lost:
            before = trace.steps[n - 2].state
            gone = [(node, var, o) for node, var, o in event.lost if o in _acked(scene, before) and not holders(scene, event.step.state, o)]
            if gone:
                out.append(_sentence(f"at {step_ref(n)} {event.step.label} removed {lost_text(scene, tuple(gone))}"))
    if closing:
        out.extend(closing_sentences(trace, scene, events))
    return out


def closing_sentences(trace: Trace, scene: Scene, events: list[Event]) -> list[str]:
    """What the last state shows about the acknowledged orders: gone, stranded on down nodes, or one failure set from gone."""
    final = trace.final_state
    out: list[str] = []
    if scene.survives is not None and scene.topology is not None:
        call = scene.survives
        try:
            endangered = endangered_orders(scene.topology, final, call)
        except (KeyError, TypeError):
            endangered = []
        places = _join(sorted({place_of(scene, c) for c in call.get("copies", [])}))
        k = call.get("k")
        for order, keeping, failures in endangered:
            o = name_of(order)
            if not keeping:
                out.append(_sentence(f"no node holds {o} {places} any more, so it survives no further failure; the property asks it to survive {k}"))
                continue
            units = _units_phrase(scene, failures.units)
            only = "only " if len(keeping) == 1 else ""
            out.append(_sentence(f"{o} is {places} {only}at {_join([name_of(h) for h in keeping])}: losing {units} would remove every copy, "
                                 f"and the property asks it to survive {k}", False))
        if out:
            return out
    faulted = any(e.kind == "fault" for e in events)
    status = node_status(trace, scene)[-1] if scene.up is not None or faulted else {}
    for order in _acked(scene, final):
        held = holders(scene, final, order)
        o = name_of(order)
        if not held:
            out.append(_sentence(f"no surviving node holds {o}" if faulted else f"no node holds {o}"))
            continue
        down = [n for n in held if status.get(n, "up") != "up"]
        if down and len(down) == len(held):
            places = _join([f"{name_of(n)} ({place_of(scene, _best(scene, held[n]))})" for n in down])
            out.append(_sentence(f"{o} survives only on {'a node that is' if len(down) == 1 else 'nodes that are'} down: {places}", False))
        said = len(out)
        for p in scene.pointers:
            node = final[p]
            if status.get(node, "up") == "up" and node not in held:
                out.append(_sentence(f"the {p} {name_of(node)} is up and does not hold {o}"))
        if len(out) == said:
            out.append(_sentence(f"in the last state {_holding(scene, final, order, o)}"))
    return out


# ----------------------------------------------------------------------------- why the property fails


def _present(scene: Scene, state: dict[str, Any], order: Any, only: tuple[str, ...] | None = None, it: str = "it") -> str:
    """Where ``order`` is now: ``only app1 has it, in memory``, ``db1 (on disk) and db2 (in memory) have it``, ``no node has it``.

    ``only`` restricts the copies looked at to those variables.
    """
    parts = []
    for node in scene.nodes:
        found = [var for var, _ in scene.copies if (only is None or var in only) and order in state[var][node]]
        if found:
            parts.append((name_of(node), _join(sorted({place_of(scene, v) for v in found})), not _is_up(scene, state, node)))
    if not parts:
        return f"no node has {it}"
    if len(parts) == 1:
        name, place, down = parts[0]
        return f"only {name} has {it}, {place}" + (f" ({name} is down)" if down else "")
    return f"{_join([f'{n} ({{}}{p})'.format('down; ' if d else '') for n, p, d in parts])} have {it}"


def _places(scene: Scene, copies: Sequence[str | None]) -> str:
    """``in memory, in the OS cache or on disk``: where the given copy variables keep orders."""
    places: list[str] = []
    for var in copies:
        place = place_of(scene, var) if var else "in a copy"
        if place not in places:
            places.append(place)
    if len(places) <= 1:
        return "".join(places)
    return ", ".join(places[:-1]) + " or " + places[-1]


def _uncounted(scene: Scene, state: dict[str, Any], order: Any, counted: Sequence[str | None]) -> list[tuple[Any, str]]:
    """The copies of ``order`` the property does not count, as ``(node, variable)``."""
    return [(n, var) for n in scene.nodes for var, _ in scene.copies if var not in counted and order in state[var][n]]


def _failing_orders(scene: Scene, state: dict[str, Any], call: dict[str, Any], failing: Any) -> list[Any]:
    var = call.get("orders") or scene.acked
    if var is None or not isinstance(state.get(var), frozenset):
        return []
    return [o for o in sorted_elements(state[var]) if failing(o)]


def _is_up(scene: Scene, state: dict[str, Any], node: Any) -> bool:
    return scene.up is None or bool(state[scene.up].get(node, True))


def _survives_reason(trace: Trace, spec: Spec | None, scene: Scene, call: dict[str, Any], name: str) -> list[str]:
    final = trace.final_state
    copies = call.get("copies") or []
    domain = call.get("domain", "node")
    unit = domain if isinstance(domain, str) else " or ".join(domain)
    k = call.get("k")
    failures = f"single {unit} failure" if k == 1 else f"{k} {unit} failures"
    out = [_sentence(f"{name} asks that every acknowledged order be held {_places(scene, copies)} by nodes that no {failures} "
                     "can all take out (faults already suffered that removed a copy count)")]
    facts: list[str] = []
    if spec is not None:
        from ..domain.explain import explain_survives

        constants = {**trace.constants, **spec.constants}
        facts = [_sentence(f) for f in explain_survives(spec.extra, constants, trace.property or "", final)]
    out.extend(facts)
    for order in _failing_orders(scene, final, call, lambda o: True):
        extra = _uncounted(scene, final, order, copies)
        if extra and not any(order in final[c][n] for c in copies if c for n in scene.nodes):
            where = _present(scene, final, order, tuple(v for _, v in extra))
            out.append(_sentence(f"{name_of(order)} is nowhere {_places(scene, copies)}: {where}, and copies "
                                 f"{_places(scene, [v for _, v in extra])} do not count for this property", False))
    return out


def _never_lost_reason(trace: Trace, scene: Scene, events: list[Event], call: dict[str, Any], name: str) -> list[str]:
    final = trace.final_state
    copies = tuple(c for c in call.get("copies") or [] if c)
    registered = call.get("registered")
    alternative = f", or be {registered} downstream" if registered else ""
    out = [_sentence(f"{name} asks that every acknowledged order still be held by some node, {_places(scene, copies)} "
                     f"(a node that is down counts while its medium survives){alternative}")]

    def lost(o: Any) -> bool:
        held = any(o in final[c][n] for c in copies for n in scene.nodes)
        return not held and not (registered and o in final.get(registered, frozenset()))

    surviving = "surviving " if any(e.kind == "fault" for e in events) else ""
    for order in _failing_orders(scene, final, call, lost):
        not_reg = f" and it is not {registered}" if registered else ""
        out.append(_sentence(f"no {surviving}node holds {name_of(order)}{not_reg}"))
    return out


def _visible_reason(trace: Trace, scene: Scene, events: list[Event], call: dict[str, Any], name: str) -> list[str]:
    final = trace.final_state
    copies = tuple(c for c in call.get("copies") or [] if c)
    var = call.get("primary")
    serving = " and serving" if call.get("serving") else ""
    out = [_sentence(f"{name} checks in every state, not only after a failover, that the node recorded as {var or 'primary'}, "
                     f"while it is up{serving}, holds every acknowledged order {_places(scene, copies)}")]
    if var is None or var not in final:
        return out
    node = final[var]
    for order in _failing_orders(scene, final, call, lambda o: not any(o in final[c][node] for c in copies)):
        state = "up" if _is_up(scene, final, node) else "down"
        out.append(_sentence(f"the {var} {name_of(node)} is {state} and does not hold {name_of(order)}"))
        where = _present(scene, final, order, copies, name_of(order))
        out.append(_sentence(where, capitalize=where.startswith(("only ", "no "))))
    if not any(p == var for e in events for p, _, _ in e.moved):  # a failover is told where it happens
        out.append(_sentence(f"no failover happened in this trace: {name_of(node)} has been {var} from the start"))
    return out


def _registered_reason(trace: Trace, scene: Scene, call: dict[str, Any], name: str) -> list[str]:
    final = trace.final_state
    registered, dispatched = call.get("registered"), call.get("dispatched")
    data = [n for n in scene.nodes if name_of(n) in (call.get("data") or [])]
    interfaces = [n for n in scene.nodes if name_of(n) in (call.get("interfaces") or [])]
    every = tuple(v for v, _ in scene.copies)
    if call.get("data") is None:  # the library property: acknowledged implies registered (and not rejected)
        rejected = call.get("rejected")
        out = [_sentence(f"{name} asks that every acknowledged order be in {registered}" + (f" and never in {rejected}" if rejected else ""))]
        for order in _failing_orders(scene, final, call, lambda o: True):
            if registered and order not in final.get(registered, frozenset()):
                out.append(_sentence(f"{name_of(order)} is acknowledged but not in {registered}", False))
            elif rejected and order in final.get(rejected, frozenset()):
                out.append(_sentence(f"{name_of(order)} is acknowledged and also in {rejected}", False))
        return out
    db_words = _join([name_of(n) for n in data], "or") or "no node"
    db = [v for v, m in scene.copies if m in ("disk", "os-cache")]
    if registered:
        out = [_sentence(f"{name} asks that every acknowledged order be {registered} downstream, or wait in the database "
                         f"(on disk or in the OS cache of {db_words}) not yet {dispatched}, or wait at an interface "
                         f"({_join([name_of(n) for n in interfaces], 'or')})")]
    else:
        out = [_sentence(f"{name} asks that every acknowledged order be held by a database node ({db_words})")]

    def in_db(o: Any) -> bool:
        return any(o in final[v][n] for v in (db if registered else every) for n in data)

    def queued(o: Any) -> bool:
        return any(o in final[v][n] for v in every for n in interfaces)

    def pending(o: Any) -> bool:
        if not registered:
            return in_db(o)
        return o in final.get(registered, frozenset()) or (o not in final.get(dispatched or "", frozenset()) and in_db(o)) or queued(o)

    for order in _failing_orders(scene, final, call, lambda o: not pending(o)):
        o = name_of(order)
        if not registered:
            out.append(_sentence(f"no database node holds {o}: {_present(scene, final, order)}"))
            continue
        why = "it was already dispatched, so its database copies no longer count" if in_db(order) else "it is not in the database"
        out.append(_sentence(f"{o} is not {registered}, {why}, and it is at no interface: {_present(scene, final, order)}", False))
    return out


def _duplicates_reason(trace: Trace, call: dict[str, Any], name: str) -> list[str]:
    var = call.get("registrations")
    out = [_sentence(f"{name} asks that no order be registered more than once")]
    counts = trace.final_state.get(var or "")
    if isinstance(counts, dict):
        for order, count in counts.items():
            if isinstance(count, int) and count > 1:
                out.append(_sentence(f"{name_of(order)} is registered {count} times ({var}[{name_of(order)}] = {count})", False))
    return out


def _single_primary_reason(trace: Trace, scene: Scene, call: dict[str, Any], name: str) -> list[str]:
    var = call.get("acting")
    out = [_sentence(f"{name} asks that at most one node that is up act as primary")]
    value = trace.final_state.get(var or "")
    acting = [n for n, v in value.items() if v] if isinstance(value, dict) else sorted_elements(value) if isinstance(value, frozenset) else []
    acting = [n for n in acting if _is_up(scene, trace.final_state, n)]
    if len(acting) > 1:
        out.append(_sentence(f"{_join([name_of(n) for n in acting])} are up and all act as primary ({var})", False))
    return out


def _generic_reason(trace: Trace, spec: Spec | None) -> list[str]:
    """What an invariant without a recorded durability property says: its definition's place and docstring."""
    if spec is None or trace.property is None:
        return []
    try:
        prop = spec.property(trace.property)
    except KeyError:  # a trace read back for a model that no longer has the property
        return []
    # The file's name, not its path: the same sentence wherever the repository is checked out.
    where = f" ({os.path.basename(prop.location.file)}:{prop.location.line})" if prop.location is not None else ""
    last = len(trace.steps)
    doc = (prop.doc or "").strip().splitlines()
    said = f": {doc[0].strip().rstrip('.')}" if doc else ""
    if trace.kind == "step":
        return [_sentence(f"the step property {trace.property}{where} is false for step {last - 1}, from State {last - 1} to State {last}{said}")]
    return [_sentence(f"the invariant {trace.property}{where} is false in State {last}, the last state{said}")]


def property_reasons(trace: Trace, spec: Spec | None = None, scene: Scene | None = None, events: list[Event] | None = None) -> list[str]:
    """Why the last state breaks the trace's property, in the property's own terms.

    For a durability property (``survives``, ``never_lost``, ``visible_after_failover``,
    ``registered_or_rejected``, ``no_duplicates``, ``single_primary``, as the model's spec
    recorded it: ``spec.extra["property_calls"]``): what the property asks, and which order,
    node and copy fail it in the last state.  For any other invariant: where it is defined and
    its docstring's first line.  Nothing for deadlocks and model errors.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", "kept", "invariant", (Step(None, (), {"disk": {"a": frozenset()}, "acked": frozenset({"o1"})}),))
    >>> property_reasons(t)
    []
    """
    if trace.kind not in ("invariant", "step") or not trace.steps or trace.property is None:
        return []
    calls = (spec.extra.get("property_calls") or {}).get(trace.property) if spec is not None else None
    if not calls:
        return _generic_reason(trace, spec)
    scene = scene or read_scene(trace, spec)
    events = events if events is not None else read_events(trace, scene)
    name = "the property " + (f'"{trace.property}"' if " " in trace.property else trace.property)
    out: list[str] = []
    for call in calls:
        try:
            out.extend(_reason_of_call(trace, spec, scene, events, call, name))
        except (KeyError, TypeError, AttributeError):
            # A trace read back for a model whose variables have changed: say what the property asks, no more.
            out.append(_sentence(f"{name} is a {call.get('kind')} property"))
    return out


def _reason_of_call(trace: Trace, spec: Spec | None, scene: Scene, events: list[Event], call: dict[str, Any], name: str) -> list[str]:
    """The sentences for one recorded durability property (see :func:`property_reasons`)."""
    kind = call.get("kind")
    if kind == "survives":
        return _survives_reason(trace, spec, scene, call, name)
    if kind == "never_lost":
        return _never_lost_reason(trace, scene, events, call, name)
    if kind == "visible_after_failover":
        return _visible_reason(trace, scene, events, call, name)
    if kind == "registered_or_rejected":
        return _registered_reason(trace, scene, call, name)
    if kind == "no_duplicates":
        return _duplicates_reason(trace, call, name)
    if kind == "single_primary":
        return _single_primary_reason(trace, scene, call, name)
    return []


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    parts = []
    for name, value in after.items():
        old = before.get(name)
        if type(old) is type(value) and old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict) and old.keys() == value.keys():
            for key, entry in value.items():
                if not (type(old[key]) is type(entry) and old[key] == entry):
                    parts.append(f"{name}[{name_of(key)}] became {format_value(entry)}")
        else:
            parts.append(f"{name} became {format_value(value)}")
    return parts


def _generic_sentences(trace: Trace) -> list[str]:
    out = []
    for number, step in enumerate(trace.steps[1:], start=2):
        changes = _changes(trace.steps[number - 2].state, step.state)
        what = "; ".join(changes) if changes else "nothing changed"
        out.append(_sentence(f"at {step_ref(number)} {step.label}: {what}"))
    return out


def explain_trace(trace: Trace, spec: Spec | None = None) -> list[str]:
    """The trace in plain sentences, one string each.

    For a durability trace (nodes holding copies of orders): when each order was acknowledged
    and where its copies were then, each fault (what it took down and which copies it lost),
    each restart and failover, and at the end which acknowledged orders no surviving node holds
    (or, for a ``survives`` property, which failures would remove every copy).  For any other
    trace: what each step changed.

    Parameters
    ----------
    trace : Trace
        The counterexample.
    spec : Spec, optional
        Its model's spec, for the storage media, the topology and the ``survives`` calls (needed
        for a trace read back from ITF JSON, whose constants no longer carry the topology).

    Returns
    -------
    list of str
        Sentences, the first saying what is violated.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("Counter", "small", "invariant", (Step(None, (), {"x": 0}), Step("inc", (("by", 2),), {"x": 2})))
    >>> explain_trace(t)
    ['Invariant small is violated in model Counter after 1 step.', 'At step 1 (State 2) inc(by=2): x became 2.']
    """
    first = headline(trace)
    if trace.model:
        first += f" in model {trace.model}"
    first += f" after {steps_phrase(step_count(trace))}"
    out = [_sentence(first)]
    if not trace.steps:
        return out
    scene = read_scene(trace, spec)
    reasons: list[str] = []
    if scene.durable:
        events = read_events(trace, scene)
        reasons = property_reasons(trace, spec, scene, events)
        recorded = spec is not None and trace.property in (spec.extra.get("property_calls") or {})
        out.extend(_durable_sentences(trace, scene, events, closing=not recorded))
    else:
        reasons = property_reasons(trace, spec)
        out.extend(_generic_sentences(trace))
    out.extend(reasons)
    return out
