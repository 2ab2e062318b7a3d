"""A self-contained HTML page for stepping through counterexamples.

One file, no network fetches (the styles, the script and the data are inside it), that opens
in any browser.  For each counterexample it shows:

- the topology (the drawing of :mod:`ordercheck.report.svg`), each node coloured by its status
  in the current step: **up** (green), **crashed** (down: a crash or power loss; orange) or
  **lost** (down after losing its disk; grey), and the failure set that breaks the property
  marked in red (:func:`~ordercheck.report.explain.breaking_failures`);
- each node's copies of each order by medium (one column per variable that maps nodes to sets
  of orders, such as ``mem`` / ``cache`` / ``disk``), with the copies that changed highlighted;
- every variable's value, the changed ones highlighted;
- the steps, with buttons, a slider and the keyboard (``←`` / ``→``, ``Home`` / ``End``) to move
  through them; several counterexamples in one page are chosen from a list.  The page opens on
  the violating (last) state; each step has a link, ``#step-N`` (``#step-0`` the initial state),
  numbered as everywhere else (:mod:`ordercheck.report.trace`): ``State 3 of 7 · step 2 of 6``;
- the trace in plain sentences (:func:`~ordercheck.report.explain.explain_trace`).

Every name from the model or design reaches the page as JSON data (with ``<``, ``>`` and ``&``
escaped) and is put into the page with ``textContent``, never as markup; the static text is
HTML-escaped.  So a node called ``<script>alert(1)</script>`` shows as text.  The same traces
always give the same page, byte for byte.

Examples
--------
>>> from ordercheck.report.trace import Step, Trace
>>> t = Trace("M", "small", "invariant", (Step(None, (), {"x": 0}), Step("inc", (), {"x": 1})))
>>> page = render_html([(t, None)])
>>> page.startswith("<!DOCTYPE html>"), "://" in page
(True, False)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from ..lang.spec import Spec
from .explain import (
    Breaking,
    Event,
    Scene,
    breaking_failures,
    explain_trace,
    fault_text,
    lost_text,
    name_of,
    node_status,
    place_of,
    read_events,
    read_scene,
)
from .svg import render_svg
from .text import format_value, headline
from .trace import Trace, step_of_state

__all__ = ["render_html", "trace_data"]


def _step_summary(scene: Scene, event: Event) -> str:
    """What one step did, in a few words."""
    if event.kind == "initial":
        return "the initial state"
    if event.kind == "fault":
        text = fault_text(event)
        return text + (f", losing {lost_text(scene, event.lost)}" if event.lost else "")
    parts: list[str] = []
    if event.kind == "restart":
        parts.append(f"{', '.join(name_of(n) for n in (event.back or event.actors))} restarted")
    for var, old, new in event.moved:
        parts.append(f"failover: {name_of(new)} became {var} in place of {name_of(old)}")
    got: dict[Any, list[str]] = {}
    for node, var, order in event.gained:
        got.setdefault(node, []).append(f"{name_of(order)} {place_of(scene, var)}")
    for node, what in got.items():
        parts.append(f"{name_of(node)} now holds {', '.join(what)}")
    moved = {o for _, _, o in event.gained}
    dropped = tuple(x for x in event.lost if x[2] not in moved)
    if dropped:
        parts.append(f"dropped {lost_text(scene, dropped)}")
    if event.acked:
        parts.append(f"acknowledged {', '.join(name_of(o) for o in event.acked)}")
    return "; ".join(parts) if parts else (event.step.label if event.step.action else "")


def _title(number: int, states: int, label: str) -> str:
    """The viewer's heading of a state: ``State 3 of 7 · step 2 of 6: ack(o='o1')`` (see :mod:`.trace` for the numbering).

    Examples
    --------
    >>> _title(1, 3, "initial state"), _title(3, 3, "inc()")
    ('State 1 of 3: initial state', 'State 3 of 3 \xb7 step 2 of 2: inc()')
    """
    step = step_of_state(number)
    where = f"State {number} of {states}" + (f" \u00b7 step {step} of {step_of_state(states)}" if step else "")
    return f"{where}: {label}"


def _changed(before: dict[str, Any] | None, name: str, value: Any) -> bool:
    if before is None:
        return False
    old = before.get(name)
    return not (type(old) is type(value) and old == value)


def trace_data(trace: Trace, spec: Spec | None = None) -> dict[str, Any]:
    """The data the viewer shows for one trace: plain JSON values, every name a string.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", "small", "invariant", (Step(None, (), {"x": 0}), Step("inc", (), {"x": 1})))
    >>> d = trace_data(t)
    >>> d["headline"], [s["label"] for s in d["steps"]], d["steps"][1]["vars"]
    ('Invariant small is violated', ['initial state', 'inc()'], [['x', '1', True]])
    """
    scene = read_scene(trace, spec) if trace.steps else Scene()
    durable = scene.durable
    events = read_events(trace, scene) if trace.steps else []
    status = node_status(trace, scene) if durable else []
    failure: Breaking | None = breaking_failures(trace, scene, events) if durable else None
    steps = []
    before: dict[str, Any] | None = None
    for i, event in enumerate(events):
        state = event.step.state
        copies = []
        changed = []
        for node in scene.nodes if durable else ():
            copies.append([[name_of(o) for o in scene.orders if o in state[var][node]] for var, _ in scene.copies])
            changed.append([before is not None and before[var][node] != state[var][node] for var, _ in scene.copies])
        steps.append({
            "number": event.number,
            "step": step_of_state(event.number),
            "title": _title(event.number, len(events), event.step.label),
            "label": event.step.label,
            "kind": event.kind,
            "summary": _step_summary(scene, event) if durable else (event.step.label if event.step.action else "the initial state"),
            "status": [status[i][n] for n in scene.nodes] if durable else [],
            "copies": copies,
            "changed": changed,
            "vars": [[name, format_value(value), _changed(before, name, value)] for name, value in state.items()],
        })
        before = state
    return {
        "model": trace.model,
        "property": trace.property or "",
        "headline": headline(trace),
        "explain": explain_trace(trace, spec),
        "nodes": [name_of(n) for n in scene.nodes] if durable else [],
        "roles": [scene.roles.get(n, "") for n in scene.nodes] if durable else [],
        "media": [[var, medium or ""] for var, medium in scene.copies] if durable else [],
        "failure": None if failure is None else {
            "text": failure.describe(),
            "hypothetical": failure.hypothetical,
            "nodes": [scene.nodes.index(n) for n in failure.nodes],
            "orders": [name_of(o) for o in failure.orders],
        },
        "steps": steps,
    }


def _json_for_script(data: Any) -> str:
    """JSON that cannot end the ``<script>`` element it sits in, nor open a comment or an entity."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE = """
:root { --up: #dafbe1; --up-line: #1a7f37; --crashed: #ffd8b5; --crashed-line: #bc4c00; --lost: #d0d7de; --lost-line: #24292f;
        --fail: #c62828; --changed: #fff1a8; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #f6f8fa; }
header { padding: 14px 20px 8px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0 0 6px; }
h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
#headline { font-weight: 600; color: var(--fail); }
#case-picker { margin: 6px 0; }
.controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-top: 8px; }
.controls button { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
.controls button:focus { outline: 2px solid #0969da; }
#slider { width: 260px; }
#step-title { font-weight: 600; }
#step-summary { color: var(--muted); }
main { display: grid; grid-template-columns: minmax(320px, auto) minmax(360px, 1fr); gap: 14px; padding: 14px 20px; align-items: start; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 14px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.changed, tr.changed td { background: var(--changed); }
td.value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.role { color: var(--muted); font-size: 12px; }
.status { display: inline-block; min-width: 62px; padding: 0 6px; border-radius: 10px; font-size: 12px; text-align: center; }
.status.up { background: var(--up); color: var(--up-line); }
.status.crashed { background: var(--crashed); color: var(--crashed-line); }
.status.lost { background: var(--lost); color: var(--lost-line); }
.node.up .box { fill: var(--up); stroke: var(--up-line); }
.node.crashed .box { fill: var(--crashed); stroke: var(--crashed-line); }
.node.lost .box { fill: var(--lost); stroke: var(--lost-line); }
.node.failing .box { stroke: var(--fail); stroke-width: 3; stroke-dasharray: 6 3; }
.legend span { margin-right: 12px; font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px; margin-right: 4px; border: 1px solid #8c959f; }
#failure { color: var(--fail); font-weight: 600; }
#steps { list-style: none; padding-left: 0; }
#steps li { cursor: pointer; padding: 2px 4px; border-radius: 4px; }
#steps li a { color: inherit; text-decoration: none; }
#steps li.current { background: #ddf4ff; font-weight: 600; }
#steps li .kind { font-size: 11px; border-radius: 8px; padding: 0 6px; margin-left: 6px; }
#steps li .kind.fault { background: #ffd8d8; color: var(--fail); }
#steps li .kind.failover { background: #fff1c2; color: #7d4e00; }
#steps li .kind.ack { background: #ddf4ff; color: #0550ae; }
#steps li .kind.restart { background: #eaeef2; color: var(--muted); }
ol#explain li { margin-bottom: 4px; }
.hidden { display: none !important; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var cases = JSON.parse(document.getElementById("ordercheck-data").textContent);
  var caseIndex = 0, stepIndex = 0;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function current() { return cases[caseIndex]; }
  function showCase(i) {
    caseIndex = i;
    var c = current();
    document.getElementById("headline").textContent = c.headline + (c.model ? " \u2014 " + c.model : "");
    var pictures = document.querySelectorAll(".topology");
    for (var p = 0; p < pictures.length; p++) {
      pictures[p].classList.toggle("hidden", Number(pictures[p].getAttribute("data-case")) !== i);
    }
    var durable = c.nodes.length > 0;
    document.getElementById("topology-section").classList.toggle("hidden", !durable);
    document.getElementById("copies-section").classList.toggle("hidden", !durable);
    var failure = document.getElementById("failure");
    var orders = c.failure && c.failure.orders.length ? c.failure.orders.join(", ") : "";
    failure.textContent = !c.failure ? "" : c.failure.text + (c.failure.hypothetical ?
      " (would remove every copy" + (orders ? " of " + orders : "") + ")" : " (taken in the trace" + (orders ? ", losing " + orders : "") + ")");
    var explain = document.getElementById("explain");
    clear(explain);
    c.explain.forEach(function (s) { explain.appendChild(el("li", s)); });
    var list = document.getElementById("steps");
    clear(list);
    c.steps.forEach(function (s, k) {
      var li = el("li");
      var a = el("a", (s.step ? "step " + s.step + ": " : "") + s.label);
      a.href = "#step-" + s.step;
      a.id = "step-" + s.step;
      li.appendChild(a);
      if (s.kind !== "step" && s.kind !== "initial") { li.appendChild(el("span", s.kind, "kind " + s.kind)); }
      li.setAttribute("data-step", String(k));
      li.addEventListener("click", function (e) { e.preventDefault(); showStep(k); });
      list.appendChild(li);
    });
    var slider = document.getElementById("slider");
    slider.max = String(c.steps.length - 1);
    showStep(c.steps.length - 1);  // open on the violating (last) state
  }
  function showStep(k) {
    var c = current();
    stepIndex = Math.max(0, Math.min(k, c.steps.length - 1));
    var s = c.steps[stepIndex];
    document.getElementById("slider").value = String(stepIndex);
    document.getElementById("step-title").textContent = s.title;
    if (history.replaceState) { try { history.replaceState(null, "", "#step-" + s.step); } catch (err) { /* file: URLs may refuse */ } }
    document.getElementById("step-summary").textContent = s.summary;
    document.body.setAttribute("data-step", String(s.number));
    var items = document.querySelectorAll("#steps li");
    for (var i = 0; i < items.length; i++) { items[i].classList.toggle("current", i === stepIndex); }
    var picture = document.querySelector('.topology[data-case="' + caseIndex + '"]');
    if (picture) {
      var nodes = picture.querySelectorAll("g.node");
      for (var n = 0; n < nodes.length; n++) {
        var index = Number(nodes[n].getAttribute("data-node"));
        var status = s.status[index] || "up";
        nodes[n].classList.remove("up", "crashed", "lost");
        nodes[n].classList.add(status);
        nodes[n].setAttribute("data-status", status);
      }
    }
    var head = document.getElementById("copies-head"), body = document.getElementById("copies-body");
    clear(head); clear(body);
    if (c.nodes.length) {
      var hr = el("tr");
      hr.appendChild(el("th", "node"));
      hr.appendChild(el("th", "status"));
      c.media.forEach(function (m) { hr.appendChild(el("th", m[1] ? m[0] + " (" + m[1] + ")" : m[0])); });
      head.appendChild(hr);
      c.nodes.forEach(function (name, ni) {
        var tr = el("tr");
        tr.setAttribute("data-node", String(ni));
        var nameCell = el("td", name);
        if (c.roles[ni]) { nameCell.appendChild(el("span", " " + c.roles[ni], "role")); }
        tr.appendChild(nameCell);
        var st = el("td");
        st.appendChild(el("span", s.status[ni], "status " + s.status[ni]));
        tr.appendChild(st);
        c.media.forEach(function (m, vi) {
          var td = el("td", s.copies[ni][vi].join(", "), "value" + (s.changed[ni][vi] ? " changed" : ""));
          td.setAttribute("data-var", m[0]);
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }
    var vars = document.getElementById("vars-body");
    clear(vars);
    s.vars.forEach(function (v) {
      var tr = el("tr", null, v[2] ? "changed" : "");
      tr.setAttribute("data-var", v[0]);
      tr.appendChild(el("td", v[0]));
      tr.appendChild(el("td", v[1], "value"));
      vars.appendChild(tr);
    });
  }
  document.getElementById("first").addEventListener("click", function () { showStep(0); });
  document.getElementById("prev").addEventListener("click", function () { showStep(stepIndex - 1); });
  document.getElementById("next").addEventListener("click", function () { showStep(stepIndex + 1); });
  document.getElementById("last").addEventListener("click", function () { showStep(current().steps.length - 1); });
  document.getElementById("slider").addEventListener("input", function (e) { showStep(Number(e.target.value)); });
  var picker = document.getElementById("case-picker");
  picker.addEventListener("change", function () { showCase(Number(picker.value)); });
  document.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "SELECT" || e.target.tagName === "INPUT")) { return; }
    if (e.key === "ArrowRight" || e.key === "n") { showStep(stepIndex + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft" || e.key === "p") { showStep(stepIndex - 1); e.preventDefault(); }
    else if (e.key === "Home") { showStep(0); e.preventDefault(); }
    else if (e.key === "End") { showStep(current().steps.length - 1); e.preventDefault(); }
  });
  function fromHash(hash) {
    var m = /^#step-(\d+)$/.exec(hash || "");
    if (m && cases.length) { showStep(Number(m[1])); }
  }
  window.addEventListener("hashchange", function () { fromHash(window.location.hash); });
  var opened = window.location.hash;
  if (cases.length) { showCase(0); fromHash(opened); }
})();
"""


def render_html(traces: Sequence[tuple[Trace, Spec | None]], title: str = "ordercheck counterexamples") -> str:
    """One self-contained HTML page for stepping through ``traces``.

    Parameters
    ----------
    traces : sequence of (Trace, Spec or None)
        The counterexamples, each with its model's spec when known (for the storage media,
        the topology and the ``survives`` failure set).
    title : str
        The page title.

    Returns
    -------
    str
        The page, ending with a newline.  No script, style or image is fetched from anywhere.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("<b>M</b>", "p", "invariant", (Step(None, (), {"x": 0}),))
    >>> page = render_html([(t, None)], title="<i>x</i>")
    >>> "<b>M</b>" in page, "&lt;i&gt;x&lt;/i&gt;" in page
    (False, True)
    """
    cases = []
    pictures = []
    options = []
    for i, (trace, spec) in enumerate(traces):
        data = trace_data(trace, spec)
        cases.append(data)
        label = f"{trace.model}: {trace.property}" if trace.property else f"{trace.model}: {data['headline']}"
        options.append(f'<option value="{i}">{escape(label)}</option>')
        if data["nodes"]:
            scene = read_scene(trace, spec)
            failure = breaking_failures(trace, scene)
            pictures.append(f'<div class="topology" data-case="{i}">{render_svg(scene, failure)}</div>')
    empty = "" if cases else '<p id="nothing">No counterexample: nothing is violated.</p>'
    picker_class = "" if len(cases) > 1 else ' class="hidden"'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{escape(title)}</h1>
{empty}<select id="case-picker" aria-label="counterexample"{picker_class}>{"".join(options)}</select>
<div id="headline"></div>
<div class="controls">
<button id="first" type="button" aria-label="first step">&#171; first</button>
<button id="prev" type="button" aria-label="previous step">&#9664; prev</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
<button id="next" type="button" aria-label="next step">next &#9654;</button>
<button id="last" type="button" aria-label="last step">last &#187;</button>
<span id="step-title"></span>
</div>
<div id="step-summary"></div>
</header>
<main>
<div>
<section id="topology-section"><h2>Topology</h2>
{"".join(pictures)}
<div class="legend">
<span><i class="swatch" style="background:#dafbe1"></i>up</span>
<span><i class="swatch" style="background:#ffd8b5"></i>crashed</span>
<span><i class="swatch" style="background:#d0d7de"></i>lost (disk gone)</span>
<span><i class="swatch" style="border:2px dashed #c62828"></i>failure set</span>
</div>
<p>Failure set that breaks the property: <span id="failure"></span></p>
</section>
<section><h2>What happened</h2><ol id="explain"></ol></section>
<section><h2>Steps</h2><ol id="steps"></ol><p class="legend">Keys: &#8592; / &#8594; step, Home / End first / last.</p></section>
</div>
<div>
<section id="copies-section"><h2>Copies of each order, by node and medium</h2>
<table id="copies"><thead id="copies-head"></thead><tbody id="copies-body"></tbody></table></section>
<section><h2>Variables (changed ones highlighted)</h2>
<table id="vars"><thead><tr><th>variable</th><th>value</th></tr></thead><tbody id="vars-body"></tbody></table></section>
</div>
</main>
<script type="application/json" id="ordercheck-data">{_json_for_script(cases)}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
