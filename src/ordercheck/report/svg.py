"""A picture of a topology with the failure set that breaks a property marked, as SVG.

Nodes are boxes (name, role, other failure domains), grouped in columns by one failure-domain
kind: the kind of the failure set when it names one (``rack r1``), else the model's fault
domain, else the first kind the topology has.  Links are drawn when the topology is not fully
linked.  The failure set is drawn in red: the nodes it takes out with a cross, a failure domain
it names with a dashed red frame; a caption under the picture says what it is and what it
breaks.  Every name is XML-escaped; the same input gives the same picture, byte for byte.

The same drawing is the topology of the HTML trace viewer, which colours its nodes step by
step: each node is a ``<g class="node" data-node="INDEX">`` (its index in the model's node
domain) whose box is ``rect.box``.

Examples
--------
>>> from ordercheck.domain import Topology
>>> from ordercheck.report.explain import Breaking
>>> t = Topology.from_nodes({"db1": {"role": "primary", "rack": "r1"}, "db2": {"role": "replica", "rack": "r2"}})
>>> svg = render_svg(scene_of_topology(t), Breaking((("rack", "r1"),), ("db1",), ("o1",), True), title="two racks")
>>> svg.startswith("<svg") and "rack r1" in svg and 'class="node failing"' in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.topology import Topology
from ..lang.spec import Spec
from .escape import xml_safe
from .explain import Breaking, Scene, breaking_failures, name_of, read_scene
from .result import Result
from .trace import Step, Trace

__all__ = ["failure_sets", "grouping_kind", "render_result_svg", "render_svg", "scene_of_spec", "scene_of_topology"]

NODE_W, NODE_H = 156, 58
GAP, PAD, HEAD = 16, 14, 30
FAIL_STROKE = "#c62828"
_HIDDEN_KINDS = ("replication",)


def _x(text: Any) -> str:
    return xml_safe(text)


def scene_of_topology(topology: Topology) -> Scene:
    """A :class:`~ordercheck.report.explain.Scene` with a topology's nodes, roles and places (and nothing else).

    Examples
    --------
    >>> from ordercheck.domain import Topology
    >>> scene_of_topology(Topology.from_nodes({"a": {"role": "db", "rack": "r1"}})).places
    {'a': (('rack', 'r1'),)}
    """
    roles = {n: topology.role(n) for n in topology.nodes}
    places = {n: tuple((k, topology.attribute(n, k)) for k in topology.domain_kinds
                       if topology.attribute(n, k) is not None and k not in _HIDDEN_KINDS) for n in topology.nodes}
    return Scene(nodes=topology.nodes, roles=roles, places=places, topology=topology)


def scene_of_spec(spec: Spec) -> Scene:
    """The scene of a model's initial state: its nodes (topology or inferred), copies and pointers.

    Examples
    --------
    >>> from ordercheck import Model, Const, Var, SetOf, MapOf
    >>> from ordercheck.lang.model import spec_of
    >>> class Pair(Model):
    ...     NODE = Const(("a", "b"))
    ...     ORDER = Const(("o1",))
    ...     disk = Var(MapOf(NODE, SetOf(ORDER)), init=())
    >>> scene_of_spec(spec_of(Pair())).nodes
    ('a', 'b')
    """
    state = spec.decode(spec.init_states[0]) if spec.init_states else {}
    return read_scene(Trace(spec.name, None, "model", (Step(None, (), state),), constants=dict(spec.constants)), spec)


def grouping_kind(scene: Scene, failure: Breaking | None = None) -> str | None:
    """The failure-domain kind the picture groups nodes by (``None``: one row, no groups).

    Examples
    --------
    >>> from ordercheck.domain import Topology
    >>> t = Topology.from_nodes({"a": {"role": "db", "rack": "r1", "site": "s1"}})
    >>> grouping_kind(scene_of_topology(t)), grouping_kind(scene_of_topology(t), Breaking((("site", "s1"),)))
    ('rack', 'site')
    """
    kinds: list[str] = []
    for node in scene.nodes:
        for kind, _ in scene.places.get(node, ()):
            if kind not in kinds:
                kinds.append(kind)
    if failure is not None:
        for kind, _ in failure.units:
            if kind in kinds:
                return kind
    if scene.fault_domain in kinds:
        return scene.fault_domain
    return kinds[0] if kinds else None


def _groups(scene: Scene, kind: str | None) -> list[tuple[Any, list[Any]]]:
    if kind is None:
        return [(None, list(scene.nodes))]
    groups: dict[Any, list[Any]] = {}
    loose: list[Any] = []
    for node in scene.nodes:
        value = dict(scene.places.get(node, ())).get(kind)
        if value is None:
            loose.append(node)
        else:
            groups.setdefault(value, []).append(node)
    out = list(groups.items())
    if loose:
        out.append((None, loose))
    return out


def _linked_everywhere(scene: Scene) -> bool:
    t = scene.topology
    if t is None:
        return True
    nodes = list(scene.nodes)
    return all(t.linked(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:])


def render_svg(scene: Scene, failure: Breaking | None = None, *, title: str = "", notes: Sequence[str] = ()) -> str:
    """Draw the nodes of ``scene`` grouped by failure domain, with ``failure`` marked.

    Parameters
    ----------
    scene : Scene
        The nodes, their roles and places (:func:`scene_of_spec`, :func:`scene_of_topology`,
        or :func:`~ordercheck.report.explain.read_scene` of a trace).
    failure : Breaking, optional
        The failure set to mark (:func:`~ordercheck.report.explain.breaking_failures`).
    title : str
        A title over the picture.
    notes : sequence of str
        Lines of caption under the picture (what the failure set breaks).

    Returns
    -------
    str
        A standalone SVG document (no external references), ending with a newline.
    """
    kind = grouping_kind(scene, failure)
    groups = _groups(scene, kind)
    failing_nodes = set(failure.nodes) if failure is not None else set()
    failing_units = set(failure.units) if failure is not None else set()
    index = {node: i for i, node in enumerate(scene.nodes)}
    tallest = max((len(nodes) for _, nodes in groups), default=0)
    col_w = NODE_W + 2 * PAD
    col_h = HEAD + tallest * (NODE_H + GAP) - GAP + PAD
    top = 44 if title else 14
    caption: list[str] = []
    if failure is not None:
        orders = ", ".join(name_of(o) for o in failure.orders)
        if failure.hypothetical:
            what = f"would remove every copy of {orders}" if orders else "would remove every copy"
        else:
            what = f"taken in the trace, losing {orders}" if orders else "taken in the trace"
        caption.append(f"Failure set: {failure.describe()} ({what})" if failure.units else "Failure set: none (breaks with no failure)")
    caption.extend(notes)
    width = max(len(groups) * (col_w + GAP) - GAP + 28, 360, 28 + 7 * max((len(c) for c in caption + [title]), default=0))
    height = top + col_h + 16 + 20 * len(caption) + (20 if not _linked_everywhere(scene) or len(scene.nodes) > 1 else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13" role="img">']
    out.append(f"<title>{_x(title or 'topology')}</title>")
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    if title:
        out.append(f'<text x="14" y="26" font-size="16" font-weight="600" fill="#1f2328">{_x(title)}</text>')
    centres: dict[Any, tuple[int, int]] = {}
    boxes: list[str] = []
    for g, (value, nodes) in enumerate(groups):
        gx = 14 + g * (col_w + GAP)
        if value is not None and kind is not None:
            hit = (kind, value) in failing_units
            stroke = FAIL_STROKE if hit else "#8c959f"
            dash = ' stroke-dasharray="6 4"' if hit else ""
            label = _x(f"{kind} {name_of(value)}")
            out.append(f'<g class="domain{" failing" if hit else ""}">'
                       f'<rect x="{gx}" y="{top}" width="{col_w}" height="{col_h}" rx="10" fill="{"#fff5f5" if hit else "#f6f8fa"}" '
                       f'stroke="{stroke}" stroke-width="{2 if hit else 1}"{dash}/>'
                       f'<text x="{gx + PAD}" y="{top + 20}" fill="{stroke if hit else "#57606a"}" font-weight="600">{label}</text></g>')
        for r, node in enumerate(nodes):
            x = gx + PAD
            y = top + HEAD + r * (NODE_H + GAP)
            centres[node] = (x + NODE_W // 2, y + NODE_H // 2)
            failing = node in failing_nodes
            role = scene.roles.get(node, "")
            others = ", ".join(f"{k} {name_of(v)}" for k, v in scene.places.get(node, ()) if k != kind)
            parts = [f'<g class="node{" failing" if failing else ""}" data-node="{index[node]}">',
                     f'<rect class="box" x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" '
                     f'fill="{"#ffd7d7" if failing else "#ffffff"}" stroke="{FAIL_STROKE if failing else "#57606a"}" '
                     f'stroke-width="{2.5 if failing else 1.2}"/>',
                     f'<text class="name" x="{x + 10}" y="{y + 20}" font-weight="600" fill="#1f2328">{_x(_clip(name_of(node), 17))}</text>']
            if role:
                parts.append(f'<text class="role" x="{x + 10}" y="{y + 37}" font-size="11" fill="#57606a">{_x(_clip(role, 24))}</text>')
            if others:
                parts.append(f'<text class="place" x="{x + 10}" y="{y + 51}" font-size="10" fill="#6e7781">{_x(_clip(others, 28))}</text>')
            parts.append(f'<text class="mark" x="{x + NODE_W - 22}" y="{y + 24}" font-size="20" font-weight="700" fill="{FAIL_STROKE}">'
                         f'{"&#10005;" if failing else ""}</text>')
            parts.append(f"<title>{_x(name_of(node))}</title></g>")
            boxes.append("".join(parts))
    if not _linked_everywhere(scene) and scene.topology is not None:
        nodes = list(scene.nodes)
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                if scene.topology.linked(a, b) and a in centres and b in centres:
                    (x1, y1), (x2, y2) = centres[a], centres[b]
                    out.append(f'<line class="link" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#afb8c1" stroke-width="1.5"/>')
    out.extend(boxes)
    y = top + col_h + 22
    if len(scene.nodes) > 1:
        linking = "every node is linked to every other" if _linked_everywhere(scene) else "lines are the links between nodes"
        out.append(f'<text x="14" y="{y}" font-size="11" fill="#6e7781">{_x(linking)}</text>')
        y += 20
    for i, line in enumerate(caption):
        colour = FAIL_STROKE if i == 0 and failure is not None and failure.units else "#1f2328"
        out.append(f'<text class="caption" x="14" y="{y}" fill="{colour}">{_x(line)}</text>')
        y += 20
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def failure_sets(spec: Spec, result: Result) -> list[tuple[str, Breaking]]:
    """Each violated property of ``result`` (and each property that ``--tolerance`` broke at k + 1) with its failure set.

    Examples
    --------
    >>> from ordercheck import Model, Const, Var, SetOf, MapOf, action, invariant, check
    >>> from ordercheck.domain import Topology, Faults, never_lost
    >>> from ordercheck.lang.model import spec_of
    >>> class One(Model):
    ...     NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
    ...     ORDER = Const(("o1",))
    ...     disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    ...     acked = Var(SetOf(ORDER), init=())
    ...     faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)
    ...     @action(o=ORDER)
    ...     def store(s, o):
    ...         s.disk["a"] = s.disk["a"].add(o)
    ...         s.acked = s.acked.add(o)
    ...     @invariant
    ...     def kept(s):
    ...         return never_lost(s.acked, copies=s.disk)
    >>> m = One()
    >>> [(name, b.describe()) for name, b in failure_sets(spec_of(m), check(m))]
    [('kept', 'a: 1 failure')]
    """
    out: list[tuple[str, Breaking]] = []
    traces = [(p.name, p.counterexample) for p in result.properties if p.counterexample is not None]
    for name, tolerance in (result.extra.get("tolerance") or {}).items():
        breaking = getattr(tolerance, "breaking", None)
        if breaking is not None and breaking.counterexample is not None and name not in dict(traces):
            traces.append((name, breaking.counterexample))
    for name, trace in traces:
        if trace is not None and trace.steps:
            out.append((name, breaking_failures(trace, read_scene(trace, spec))))
    return out


def render_result_svg(spec: Spec, result: Result, title: str = "") -> str:
    """The topology of a checked model with its smallest failure set marked, for design reviews.

    The marked set is the smallest non-empty failure set among the violated properties (and
    those ``--tolerance`` broke); the caption lists every property's failure set.
    """
    scene = scene_of_spec(spec)
    found = failure_sets(spec, result)
    chosen: Breaking | None = None
    nonempty = [b for _, b in found if b.units]
    if nonempty:
        chosen = min(nonempty, key=lambda b: b.size)
    elif found:
        chosen = found[0][1]
    notes = [f"{name}: {b.describe()}" for name, b in found]
    if not found:
        notes = [f"no property of {result.model} is violated ({result.verdict}); no failure set to mark"]
    return render_svg(scene, chosen, title=title or f"{result.model}: topology and failure set", notes=notes)
