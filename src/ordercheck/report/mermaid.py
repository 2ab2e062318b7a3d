"""Counterexamples as Mermaid sequence diagrams, which code-hosting sites render as they are.

Nodes are lifelines, with a ``client`` lifeline for what comes from outside (a new order) and
what goes back to it (an acknowledgement).  Each step that copies an order is an arrow: from
the node that ships it (a node parameter such as ``src``, or the node the order left in the
same step, as when an application server forwards it to the primary) to the node that now
holds it, or from a node to itself when it moves the order to a more durable medium (``write``,
``fsync``).  Acknowledgements are dashed arrows back to the client.  Faults are red boxes with a
note over the nodes they take down, failovers amber ones; the diagram ends with what is
violated, naming the lost order.  A model without nodes holding copies gets one lifeline per
actor (the elements of a domain that keys a map variable, such as TwoPhase's resource
managers) or a single ``system`` lifeline.

Every name is written with Mermaid's entity codes for any character outside letters, digits
and a little punctuation (``<`` is ``#60;``), so a node called ``<script>`` is drawn as text and
nothing in a name can end a statement.  The same trace always gives the same text.

Examples
--------
>>> from ordercheck.report.trace import Step, Trace
>>> up = {"db1": True, "db2": True}
>>> empty = {"db1": frozenset(), "db2": frozenset()}
>>> one = {**empty, "db1": frozenset({"o1"})}
>>> t = Trace("M", "kept", "invariant", (
...     Step(None, (), {"disk": empty, "acked": frozenset(), "up": up}),
...     Step("store", (("o", "o1"), ("n", "db1")), {"disk": one, "acked": frozenset(), "up": up}),
...     Step("ack", (("o", "o1"), ("n", "db1")), {"disk": one, "acked": frozenset({"o1"}), "up": up}),
...     Step("disk_loss", (("n", "db1"),), {"disk": empty, "acked": frozenset({"o1"}), "up": {**up, "db1": False}}),
... ))
>>> print(render_mermaid(t))
sequenceDiagram
    %% ordercheck counterexample: model M, property kept
    participant c as client
    participant n0 as db1
    c->>n0: step 1: store o1 onto disk
    n0-->>c: step 2: ack o1
    rect rgb(255, 224, 224)
    Note over n0: fault at step 3: db1 lost its disk, losing o1 from db1's disk
    end
    rect rgb(255, 205, 210)
    Note over c,n0: Invariant kept is violated
    Note over c,n0: No surviving node holds o1.
    end
"""

from __future__ import annotations

from typing import Any

from ..lang.spec import Spec
from .escape import mermaid_safe, terminal_safe
from .explain import (
    MEDIA,
    Event,
    Scene,
    closing_sentences,
    fault_text,
    lost_text,
    name_of,
    read_events,
    read_scene,
)
from .text import headline
from .trace import Trace, step_of_state

__all__ = ["mermaid_text", "render_mermaid"]

_INTO = {"memory": "into memory", "os-cache": "into the OS cache", "disk": "onto disk"}
FAULT_FILL = "rgb(255, 224, 224)"
FAILOVER_FILL = "rgb(255, 243, 205)"
VERDICT_FILL = "rgb(255, 205, 210)"


def mermaid_text(text: str, *, colon: bool = True) -> str:
    """Text that Mermaid shows as it is: characters outside a safe set become entity codes.

    Parameters
    ----------
    text : str
        Any text: a name from a model or design, a message.
    colon : bool
        Whether ``:`` may stay (in a message it may; in a participant's name it is coded too).

    Examples
    --------
    >>> mermaid_text("<script>alert(1)</script>")
    '#60;script#62;alert(1)#60;/script#62;'
    >>> mermaid_text("a;b #1 %% c")
    'a#59;b #35;1 #37;#37; c'
    >>> mermaid_text("a: b", colon=False)
    'a#58; b'
    """
    return mermaid_safe(text, colon=colon)


class _Diagram:
    """Lines of a sequence diagram and the participants they use."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.used: set[str] = set()

    def arrow(self, a: str, b: str, text: str, dashed: bool = False) -> None:
        self.used.update((a, b))
        self.lines.append(f"    {a}{'-->>' if dashed else '->>'}{b}: {mermaid_text(text)}")

    def cross(self, a: str, b: str, text: str) -> None:
        self.used.update((a, b))
        self.lines.append(f"    {a}-x{b}: {mermaid_text(text)}")

    def note(self, over: list[str], text: str, order: list[str]) -> None:
        ids = [p for p in order if p in over]
        if not ids:
            return
        self.used.update(ids)
        span = ids[0] if len(ids) == 1 else f"{ids[0]},{ids[-1]}"
        self.lines.append(f"    Note over {span}: {mermaid_text(text)}")

    def box(self, fill: str) -> None:
        self.lines.append(f"    rect {fill}")

    def end(self) -> None:
        self.lines.append("    end")


def _comment(trace: Trace) -> str:
    what = f"model {trace.model}" + (f", property {trace.property}" if trace.property else "")
    return "    %% ordercheck counterexample: " + terminal_safe(" ".join(what.replace("%", "").split()))


def _label(scene: Scene, node: Any) -> str:
    details = [scene.roles[node]] if node in scene.roles else []
    details += [f"{kind} {name_of(value)}" for kind, value in scene.places.get(node, ())]
    return name_of(node) + (f" ({', '.join(details)})" if details else "")


def _into(scene: Scene, variables: list[str]) -> str:
    places = []
    for var in variables:
        medium = scene.medium(var)
        place = _INTO[medium] if medium in MEDIA else f"into {var}"
        if place not in places:
            places.append(place)
    return " and ".join(places)


def _orders(values: list[Any]) -> str:
    seen: list[str] = []
    for v in values:
        if name_of(v) not in seen:
            seen.append(name_of(v))
    return ", ".join(seen)


def _durable(trace: Trace, scene: Scene) -> list[str]:
    events = read_events(trace, scene)
    ids = {node: f"n{i}" for i, node in enumerate(scene.nodes)}
    client = "c"
    order = [client] + [ids[n] for n in scene.nodes]
    d = _Diagram()
    for event in events[1:]:
        _durable_step(d, trace, scene, event, ids, client, order)
    everyone = [p for p in order if p in d.used] or [ids[scene.nodes[0]]]
    d.box(VERDICT_FILL)
    d.note(everyone, headline(trace), order)
    for sentence in closing_sentences(trace, scene, events):
        d.note(everyone, sentence, order)
    d.end()
    head = ["sequenceDiagram", _comment(trace)]
    if client in d.used:
        head.append(f"    participant {client} as client")
    head += [f"    participant {ids[n]} as {mermaid_text(_label(scene, n), colon=False)}" for n in scene.nodes if ids[n] in d.used]
    return head + d.lines


def _durable_step(d: _Diagram, trace: Trace, scene: Scene, event: Event, ids: dict[Any, str], client: str, order: list[str]) -> None:
    n = step_of_state(event.number)
    before = trace.steps[event.number - 2].state
    action = event.step.action or ""
    if event.kind == "fault":
        d.box(FAULT_FILL)
        if action == "partition" and len(event.actors) == 2:
            a, b = event.actors
            d.cross(ids[a], ids[b], f"step {n}: partition")
        text = f"fault at step {n}: {fault_text(event)}"
        if event.lost:
            text += f", losing {lost_text(scene, event.lost)}"
        over = [ids[x] for x in (event.down or event.actors)] or [ids[x] for x, _, _ in event.lost] or order[1:]
        d.note(over, text, order)
        d.end()
        return
    if event.kind in ("restart", "heal"):
        who = event.back or event.actors
        verb = "restarts" if event.kind == "restart" else "partition healed"
        d.note([ids[x] for x in who] or order[1:], f"step {n}: {', '.join(name_of(x) for x in who)} {verb}".strip(), order)
        return
    # Copies that appeared: one arrow per receiving node.
    receivers: dict[Any, list[tuple[str, Any]]] = {}
    for node, var, o in event.gained:
        receivers.setdefault(node, []).append((var, o))
    left = {o: node for node, _, o in event.lost}
    for node, got in receivers.items():
        orders = [o for _, o in got]
        source = next((a for a in event.actors if a != node), None)
        if source is None:
            source = next((left[o] for o in orders if o in left and left[o] != node), None)
        if source is None and any(_held_before(scene, before, node, o) for o in orders):
            source = node
        start = ids[source] if source is not None else client
        d.arrow(start, ids[node], f"step {n}: {action} {_orders(orders)} {_into(scene, [v for v, _ in got])}")
    # Copies that vanished without a fault and without being shipped on.
    moved = {o for _, _, o in event.gained}
    dropped = [(node, var, o) for node, var, o in event.lost if o not in moved]
    if dropped:
        d.note([ids[x] for x, _, _ in dropped], f"step {n}: {event.step.label} drops {lost_text(scene, tuple(dropped))}", order)
    for var, old, new in event.moved:
        d.box(FAILOVER_FILL)
        d.note([ids[old], ids[new]], f"failover at step {n}: {name_of(new)} becomes {var} in place of {name_of(old)}", order)
        d.end()
    if event.acked:
        acker = event.actors[0] if event.actors else next((before[p] for p in scene.pointers), None)
        start = ids[acker] if acker is not None else order[1]
        d.arrow(start, client, f"step {n}: {action} {_orders(list(event.acked))}", dashed=True)
    if not (event.gained or dropped or event.moved or event.acked):
        if event.actors:
            d.arrow(ids[event.actors[0]], ids[event.actors[-1]], f"step {n}: {event.step.label}")
        else:
            d.note(order[1:], f"step {n}: {event.step.label}", order)


def _held_before(scene: Scene, state: dict[str, Any], node: Any, order: Any) -> bool:
    return any(order in state[var][node] for var, _ in scene.copies)


def _actors(trace: Trace) -> tuple[Any, ...]:
    """The elements of the domains that key map variables (the actors of a model without nodes)."""
    keys: list[tuple[Any, ...]] = []
    for value in trace.steps[0].state.values():
        if isinstance(value, dict) and value and tuple(value) not in keys:
            keys.append(tuple(value))
    found: list[Any] = []
    for domain in keys:
        for step in trace.steps[1:]:
            for _, v in step.params:
                try:
                    inside = v in domain
                except TypeError:
                    inside = False
                if inside and v not in found:
                    found.append(v)
    return tuple(found)


def _generic(trace: Trace) -> list[str]:
    actors = _actors(trace) if trace.steps else ()
    ids = {a: f"a{i}" for i, a in enumerate(actors)}
    system = "s"
    order = [ids[a] for a in actors] + [system]
    d = _Diagram()
    for number, step in enumerate(trace.steps[1:], start=2):
        mine = [ids[v] for _, v in step.params if _hashable_in(v, ids)]
        if not mine:
            d.arrow(system, system, f"step {step_of_state(number)}: {step.label}")
        else:
            d.arrow(mine[0], mine[-1], f"step {step_of_state(number)}: {step.label}")
    used = [p for p in order if p in d.used] or [system]
    d.box(VERDICT_FILL)
    d.note(used, headline(trace), order)
    d.end()
    head = ["sequenceDiagram", _comment(trace)]
    head += [f"    participant {ids[a]} as {mermaid_text(name_of(a), colon=False)}" for a in actors if ids[a] in d.used]
    if system in used:
        head.append(f"    participant {system} as system")
    return head + d.lines


def _hashable_in(value: Any, ids: dict[Any, str]) -> bool:
    try:
        return value in ids
    except TypeError:
        return False


def render_mermaid(trace: Trace, spec: Spec | None = None) -> str:
    """A Mermaid sequence diagram of a counterexample.

    Parameters
    ----------
    trace : Trace
        The counterexample.
    spec : Spec, optional
        Its model's spec (storage media, topology, ``survives`` calls); see
        :func:`~ordercheck.report.explain.read_scene`.

    Returns
    -------
    str
        The diagram, without a trailing newline and without a Markdown fence (wrap it in
        a ```` ```mermaid ```` block to show it on a code-hosting site).

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("TwoPhase", "consistent", "invariant", (
    ...     Step(None, (), {"rm": {"r1": "working", "r2": "working"}}),
    ...     Step("prepare", (("rm", "r1"),), {"rm": {"r1": "prepared", "r2": "working"}}),
    ...     Step("decide", (), {"rm": {"r1": "prepared", "r2": "working"}}),
    ... ))
    >>> print(render_mermaid(t))
    sequenceDiagram
        %% ordercheck counterexample: model TwoPhase, property consistent
        participant a0 as r1
        participant s as system
        a0->>a0: step 1: prepare(rm='r1')
        s->>s: step 2: decide()
        rect rgb(255, 205, 210)
        Note over a0,s: Invariant consistent is violated
        end
    """
    scene = read_scene(trace, spec) if trace.steps else Scene()
    lines = _durable(trace, scene) if scene.durable else _generic(trace)
    return "\n".join(lines)
