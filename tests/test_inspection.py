"""Counterexample inspection and CI reports: explain, Mermaid, HTML, SVG, JUnit, SARIF, Markdown, and their CLI flags.

The browser test of the HTML viewer is ``tests/test_browser.py``; the pytest plugin's tests are
``tests/test_pytest_plugin.py``.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import load_model_module

from ordercheck import Const, Elem, Int, MapOf, Model, SetOf, Var, action, check, invariant, require
from ordercheck.cli import main
from ordercheck.domain import Faults, Topology, never_lost, no_duplicates, registered_or_rejected, single_primary, survives
from ordercheck.lang.model import spec_of
from ordercheck.report.ci import Checked, junit_xml, markdown_summary, property_locations, sarif_log
from ordercheck.report.explain import breaking_failures, explain_trace, node_status, read_events, read_scene
from ordercheck.report.html import render_html, trace_data
from ordercheck.report.itf import read_itf, write_itf
from ordercheck.report.mermaid import mermaid_text, render_mermaid
from ordercheck.report.svg import render_result_svg, render_svg, scene_of_spec
from ordercheck.report.text import render_text
from ordercheck.report.trace import Step, Trace
from ordercheck.sources import sources_in

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "model"
HOSTILE = "<script>alert(1)</script>"

RACKS = Topology.from_nodes({
    "db1": {"role": "primary", "rack": "r1"},
    "db2": {"role": "replica", "rack": "r1"},
    "db3": {"role": "replica", "rack": "r2"},
})


class SameRack(Model):
    """Acknowledges once two nodes hold the order in memory: one rack's power loss can take both."""

    NODE = Const(RACKS)
    ORDER = Const(("o1",))
    mem = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="memory")
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    primary = Var(Elem(NODE), init="db1")
    acked = Var(SetOf(ORDER), init=())
    faults = Faults(crash=False, power_loss=True, disk_loss=False, budget=1, domain="rack")

    @action(o=ORDER, on=lambda s, o: s.primary)
    def accept(s, o):
        require(~s.mem[s.primary].has(o) & ~s.acked.has(o))
        s.mem[s.primary] = s.mem[s.primary].add(o)

    @action(o=ORDER, src=NODE, dst=NODE, on="dst", via=("src", "dst"))
    def replicate(s, o, src, dst):
        require((s.primary == src) & (src != dst) & s.mem[src].has(o) & ~s.mem[dst].has(o))
        s.mem[dst] = s.mem[dst].add(o)

    @action(o=ORDER, on=lambda s, o: s.primary)
    def ack(s, o):
        require(~s.acked.has(o) & (s.mem.holders(o).count() >= 2))
        s.acked = s.acked.add(o)

    @invariant
    def kept(s):
        return never_lost(s.acked, copies=(s.mem, s.disk))


def hostile_topology() -> Topology:
    return Topology.from_nodes({
        HOSTILE: {"role": "primary<b>", "rack": "r&1"},
        "a;b %% c": {"role": "replica", "rack": "r\"2"},
        "end": {"role": "replica", "rack": "r\"2"},
    })


class Hostile(Model):
    """Node names, roles and racks full of markup and Mermaid syntax; loses an order on one disk loss."""

    NODE = Const(hostile_topology())
    ORDER = Const(("o<1>",))
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    primary = Var(Elem(NODE), init=HOSTILE)
    acked = Var(SetOf(ORDER), init=())
    faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)

    @action(o=ORDER, on=lambda s, o: s.primary)
    def store(s, o):
        require(~s.disk[s.primary].has(o))
        s.disk[s.primary] = s.disk[s.primary].add(o)

    @action(o=ORDER, src=NODE, dst=NODE, on="dst", via=("src", "dst"))
    def replicate(s, o, src, dst):
        require((s.primary == src) & (src != dst) & s.disk[src].has(o) & ~s.disk[dst].has(o))
        s.disk[dst] = s.disk[dst].add(o)

    @action(o=ORDER)
    def ack(s, o):
        require(s.disk[s.primary].has(o) & ~s.acked.has(o))
        s.acked = s.acked.add(o)

    @invariant
    def kept(s):
        return never_lost(s.acked, copies=s.disk)

    @invariant
    def two_copies(s):
        return survives(s.acked, copies=s.disk, k=1, domain="rack")


def violation(model: Model, name: str) -> Trace:
    result = check(model, keep_going=True)
    trace = result.property(name).counterexample
    assert trace is not None, f"{name} is not violated"
    return trace


def racks(name: str) -> Model:
    return getattr(load_model_module("racks"), name)()


# ----------------------------------------------------------------------------- explain


def test_explain_names_the_acknowledgement_the_rack_failure_and_the_lost_order() -> None:
    model = SameRack()
    trace = violation(model, "kept")
    sentences = explain_trace(trace, spec_of(model))
    assert sentences == [
        "Invariant kept is violated in model SameRack after 4 steps.",
        "o1 was acknowledged at step 3 (State 4) while no node had it on disk (db1 and db2 had it in memory).",
        "At step 4 (State 5) rack r1 lost power, taking db1 and db2, losing o1 from the memory of db1 and db2.",
        "The property kept asks that every acknowledged order still be held by some node, in memory or on disk "
        "(a node that is down counts while its medium survives).",
        "No surviving node holds o1.",
    ]


def test_explain_a_failover_and_a_survives_property() -> None:
    model = racks("AckOnPrimaryDisk")
    failover = explain_trace(violation(model, "primary_has_acked"), spec_of(model))
    assert "o1 was acknowledged at step 4 (State 5) while only db1 had it on disk." in failover
    assert "At step 5 (State 6) db1 crashed, losing o1 from db1's memory." in failover
    assert "At step 6 (State 7) db2 became primary in place of db1 (which was down)." in failover
    assert "The primary db2 is up and does not hold o1." in failover
    rack = explain_trace(violation(model, "survive_one_rack_loss"), spec_of(model))
    # What the property asks (the trace's own words), then the failure set (domain/explain.py's wording).
    assert rack[-2] == ("The property survive_one_rack_loss asks that every acknowledged order be held on disk by nodes that "
                        "no single rack failure can all take out (faults already suffered that removed a copy count).")
    assert "rack r1" in rack[-1] and "db1" in rack[-1]


def test_explain_a_model_without_nodes_says_what_each_step_changed() -> None:
    trace = Trace("Counter", "small", "invariant", (
        Step(None, (), {"x": 0, "m": {"a": 1}}),
        Step("inc", (("by", 2),), {"x": 2, "m": {"a": 3}}),
    ))
    assert explain_trace(trace) == ["Invariant small is violated in model Counter after 1 step.",
                                    "At step 1 (State 2) inc(by=2): x became 2; m[a] became 3."]


def test_scene_events_status_and_failure_set_read_off_the_states() -> None:
    model = racks("AckOnBothReplicasDisk")
    trace = violation(model, "primary_has_acked")
    scene = read_scene(trace, spec_of(model))
    assert scene.nodes == ("db1", "db2", "db3")
    assert scene.copies == (("received", "memory"), ("written", "os-cache"), ("synced", "disk"))
    assert (scene.up, scene.acked, scene.pointers) == ("up", "acked", ("primary",))
    kinds = [e.kind for e in read_events(trace, scene)]
    assert kinds[0] == "initial" and "fault" in kinds and "restart" in kinds
    statuses = [s["db1"] for s in node_status(trace, scene)]
    assert "lost" in statuses and statuses[-1] == "up"
    failure = breaking_failures(trace, scene)
    assert failure.units == (("node", "db1"),) and not failure.hypothetical
    survives_trace = violation(racks("AckOnSameRackReplicaDisk"), "survive_one_rack_loss")
    hypothetical = breaking_failures(survives_trace, read_scene(survives_trace, spec_of(racks("AckOnSameRackReplicaDisk"))))
    assert hypothetical.units == (("rack", "r1"),) and hypothetical.nodes == ("db1", "db2") and hypothetical.hypothetical


def test_a_model_without_a_topology_still_has_nodes_and_copies() -> None:
    module = load_model_module("replication")
    model = module.AckBeforeReplication()
    trace = violation(model, "acked_orders_on_primary")
    scene = read_scene(trace, spec_of(model))
    assert scene.nodes == ("db1", "db2", "db3") and scene.up == "alive"
    assert dict(scene.copies) == {"memory": "memory", "disk": "disk"}
    sentences = explain_trace(trace, spec_of(model))
    assert "At step 5 (State 6) db2 became primary in place of db1 (which was down)." in sentences


# ----------------------------------------------------------------------------- Mermaid


def test_mermaid_arrows_faults_failover_and_the_lost_order() -> None:
    model = racks("AckOnPrimaryDisk")
    text = render_mermaid(violation(model, "primary_has_acked"), spec_of(model))
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    participant c as client" in lines
    assert "    participant n0 as db1 (primary, rack r1)" in lines
    assert "    c->>n0: step 1: accept o1 into memory" in lines
    assert "    n0->>n0: step 3: fsync o1 onto disk" in lines
    assert "    n0-->>c: step 4: ack o1" in lines
    assert "    Note over n0: fault at step 5: db1 crashed, losing o1 from db1's memory" in lines
    assert "    Note over n0,n1: failover at step 6: db2 becomes primary in place of db1" in lines
    assert "    Note over c,n1: The primary db2 is up and does not hold o1." in lines
    assert text.count("    rect ") == text.count("    end")


def test_mermaid_replication_is_an_arrow_between_nodes() -> None:
    model = racks("AckOnOneReplicaDisk")
    text = render_mermaid(violation(model, "survive_one_rack_loss"), spec_of(model))
    assert "n0->>n1: step 4: replicate o1 into memory" in text
    design = sources_in(MODEL / "hospital-3-failover-without-synchronous-commit.toml")[0]
    m = design.cls()
    hospital = render_mermaid(violation(m, "no acknowledged order is lost"), spec_of(m))
    assert "n0->>n2: step 2: forward o1 into memory" in hospital  # app1 forwards to the primary db1
    assert "Note over n2: fault at step 6: db1 lost power" in hospital


def test_mermaid_power_loss_of_a_rack_spans_its_nodes() -> None:
    model = SameRack()
    text = render_mermaid(violation(model, "kept"), spec_of(model))
    assert "Note over n0,n1: fault at step 4: rack r1 lost power, taking db1 and db2" in text
    assert "No surviving node holds o1." in text


def test_mermaid_escapes_every_name() -> None:
    model = Hostile()
    text = render_mermaid(violation(model, "kept"), spec_of(model))
    bare = re.sub(r"#\d+;", "", text.replace("-->>", " ").replace("->>", " "))
    assert "<" not in bare and ">" not in bare and ";" not in bare and '"' not in bare
    assert "%" not in "\n".join(text.splitlines()[2:])
    assert "participant n0 as #60;script#62;alert(1)#60;/script#62; (primary#60;b#62;, rack r#38;1)" in text
    assert mermaid_text("x\ny") == "x y"


def test_mermaid_without_nodes_uses_actors_or_one_system_lifeline() -> None:
    class Votes(Model):
        RM = Const(("r1", "r2"))
        state = Var(MapOf(RM, Elem(("working", "prepared"))), init="working")
        decided = Var(Elem(("no", "yes")), init="no")

        @action(rm=RM)
        def prepare(s, rm):
            s.state[rm] = "prepared"

        @action()
        def decide(s):
            require(s.state["r1"] == "prepared")
            s.decided = "yes"

        @invariant
        def undecided(s):
            return s.decided == "no"

    trace = violation(Votes(), "undecided")
    text = render_mermaid(trace, spec_of(Votes()))
    assert "participant a0 as r1" in text and "a0->>a0: step 1: prepare(rm='r1')" in text
    assert "s->>s: step 2: decide()" in text
    system = render_mermaid(Trace("M", "p", "invariant", (Step(None, (), {"x": 0}), Step("inc", (), {"x": 1}))))
    assert "participant s as system" in system and "s->>s: step 1: inc()" in system


def test_mermaid_is_deterministic() -> None:
    a = render_mermaid(violation(racks("AckOnPrimaryDisk"), "acked_never_lost"), spec_of(racks("AckOnPrimaryDisk")))
    b = render_mermaid(violation(racks("AckOnPrimaryDisk"), "acked_never_lost"), spec_of(racks("AckOnPrimaryDisk")))
    assert a == b


# ----------------------------------------------------------------------------- HTML and SVG


def test_html_is_self_contained_and_escapes_names() -> None:
    model = Hostile()
    page = render_html([(violation(model, "kept"), spec_of(model)), (violation(model, "two_copies"), spec_of(model))])
    assert HOSTILE not in page and "<b>" not in page
    for marker in ("src=", "href=", "@import", "url(", "https://", "fetch(", "XMLHttpRequest"):
        assert marker not in page, marker
    assert page.count("<script") == 2  # the JSON data and the viewer's own code
    data = json.loads(re.search(r'<script type="application/json" id="ordercheck-data">(.*?)</script>', page, re.S).group(1))
    assert data[0]["nodes"][0] == HOSTILE
    assert data[0]["steps"][-1]["status"][0] == "lost"


def test_html_data_has_status_copies_changes_and_failure_set() -> None:
    model = racks("AckOnPrimaryDisk")
    data = trace_data(violation(model, "primary_has_acked"), spec_of(model))
    assert data["nodes"] == ["db1", "db2", "db3"]
    assert data["media"] == [["received", "memory"], ["written", "os-cache"], ["synced", "disk"]]
    crash = data["steps"][5]
    assert crash["label"] == "crash(n='db1')" and crash["status"] == ["crashed", "up", "up"]
    assert crash["copies"][0] == [[], ["o1"], ["o1"]] and crash["changed"][0] == [True, False, False]
    assert ["up", "{db1: False, db2: True, db3: True}", True] in crash["vars"]
    assert data["failure"] == {"text": "db1: 1 failure", "hypothetical": False, "nodes": [0], "orders": []}


def test_html_numbers_states_and_steps_as_the_text_and_explain_do() -> None:
    model = racks("AckOnPrimaryDisk")
    trace = violation(model, "primary_has_acked")
    data = trace_data(trace, spec_of(model))
    # Seven states, six steps: State 1 is the initial state; step k leads to State k+1 (the text's "State 6: crash").
    assert [s["step"] for s in data["steps"]] == [0, 1, 2, 3, 4, 5, 6]
    assert data["steps"][0]["title"] == "State 1 of 7: initial state"
    assert data["steps"][5]["title"] == "State 6 of 7 \u00b7 step 5 of 6: crash(n='db1')"
    assert "State 6: crash(n='db1')" in render_text(trace)
    assert data["explain"][0].endswith("after 6 steps.") and "At step 5 (State 6) db1 crashed, losing o1 from db1's memory." in data["explain"]
    page = render_html([(trace, spec_of(model))])
    assert 'a.href = "#step-" + s.step' in page and "showStep(c.steps.length - 1)" in page


def test_html_is_deterministic() -> None:
    def page() -> str:
        model = racks("AckOnSameRackReplicaDisk")
        return render_html([(violation(model, "survive_one_rack_loss"), spec_of(model))])

    assert page() == page()


def test_svg_marks_the_failure_set_and_escapes_names() -> None:
    model = racks("AckOnSameRackReplicaDisk")
    result = check(model, keep_going=True)
    svg = render_result_svg(spec_of(model), result)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ns = {"s": "http://www.w3.org/2000/svg"}
    failing = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "failing" in (g.get("class") or "").split()]
    names = sorted(t.text or "" for g in failing for t in g.findall("s:text", ns) if t.get("class") == "name")
    assert names == ["db1", "db2"]
    assert any("rack r1" in (t.text or "") for g in failing if g.get("class") == "domain failing" for t in g.findall("s:text", ns))
    hostile = Hostile()
    picture = render_svg(scene_of_spec(spec_of(hostile)))
    assert HOSTILE not in picture and "&lt;script&gt;" in picture
    ET.fromstring(picture)


# ----------------------------------------------------------------------------- JUnit, SARIF, Markdown


def _checked() -> list[Checked]:
    out = []
    for path, name in ((MODEL / "racks.py", "AckOnPrimaryDisk"), (MODEL / "hospital-1-app-tier-acks-from-memory.toml", None)):
        for source in sources_in(path):
            if name is not None and source.cls.__name__ != name:
                continue
            model = source.cls()
            result = check(model, keep_going=True)
            out.append(Checked(path, source.cls.__name__, result, spec=spec_of(model), design=source.design,
                               title=source.design.name if source.design is not None else ""))
    out.append(Checked(MODEL / "broken.py", "Broken", error="model/broken.py:3: syntax error"))
    return out


def test_junit_one_case_per_property_with_the_trace() -> None:
    checked = _checked()
    xml = junit_xml(checked, root=ROOT, timings=False)
    top = ET.fromstring(xml)
    suites = top.findall("testsuite")
    assert [s.get("name") for s in suites] == ["model/racks.py::AckOnPrimaryDisk", "model/hospital-1-app-tier-acks-from-memory.toml::Hypothesis 1",
                                              "model/broken.py::Broken"]
    racks_cases = suites[0].findall("testcase")
    assert [c.get("name") for c in racks_cases] == ["survive_one_disk_loss", "survive_one_rack_loss", "acked_never_lost", "primary_has_acked",
                                                    "order_acknowledged"]
    failure = racks_cases[0].find("failure")
    assert failure is not None and failure.get("message") == "Invariant survive_one_disk_loss is violated"
    assert "State 5: ack(o='o1')" in (failure.text or "") and "In plain words:" in (failure.text or "")
    assert racks_cases[0].get("file") == "model/racks.py" and racks_cases[0].get("line") == "152"
    assert racks_cases[4].find("failure") is None and racks_cases[4].find("error") is None
    hospital = suites[1].findall("testcase")
    assert hospital[0].get("file") == "properties/clinical-orders.toml"
    assert suites[2].find("testcase/error").get("type") == "model-error"
    assert top.get("tests") == str(5 + 6 + 1) and top.get("errors") == "1"


def test_junit_is_byte_identical_but_for_timings() -> None:
    a, b = junit_xml(_checked(), root=ROOT, timings=False), junit_xml(_checked(), root=ROOT, timings=False)
    assert a == b
    strip = re.compile(r' time="[0-9.]+"')
    assert strip.sub("", junit_xml(_checked(), root=ROOT)) == strip.sub("", a.replace(' time="0"', ' time="0.000"'))


def test_sarif_locates_each_violated_property_at_its_definition() -> None:
    log = sarif_log(_checked(), root=ROOT, version="test")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    by_rule = {r["ruleId"]: r for r in run["results"]}
    racks_result = by_rule["survive_one_disk_loss"]
    location = racks_result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "model/racks.py", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 152}}
    assert racks_result["level"] == "error" and racks_result["kind"] == "fail"
    flow = racks_result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [f["location"]["message"]["text"] for f in flow][1] == "State 2: accept(o='o1')"
    assert flow[1]["location"]["physicalLocation"]["region"]["startLine"] == 91  # def accept in model/racks.py
    lines = (ROOT / "properties" / "clinical-orders.toml").read_text().splitlines()
    hospital = by_rule["no acknowledged order is lost"]["locations"][0]["physicalLocation"]
    assert hospital["artifactLocation"]["uri"] == "properties/clinical-orders.toml"
    assert lines[hospital["region"]["startLine"] - 1] == 'name = "no acknowledged order is lost"'
    assert by_rule["ordercheck/model-error"]["level"] == "error"
    assert json.loads(json.dumps(log)) == log
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_property_locations_of_inline_properties(tmp_path: Path) -> None:
    design = tmp_path / "d.toml"
    design.write_text('name = "d"\n[check]\nfaults = { kinds = ["crash"] }\n\n[[check.property]]\nkind = "never_lost"\n\n'
                      '[[check.property]]\nname = "k2"\nkind = "survives"\nk = 2\n')
    found = {k: line for k, (_, line) in property_locations(design).items()}
    assert found == {"never_lost": 6, "k2": 9, "an order can be acknowledged": 2}


def test_markdown_summary_table_and_escaping() -> None:
    text = markdown_summary(_checked(), root=ROOT, timings=False)
    assert text.startswith("## ordercheck: 8 violated, 1 error, 3 hold\n")
    assert "| AckOnPrimaryDisk (`model/racks.py`) | survive\\_one\\_disk\\_loss | \u274c violated | 5 states | 1,760 |  |" in text
    assert "```mermaid\nsequenceDiagram" in text
    assert text == markdown_summary(_checked(), root=ROOT, timings=False)
    model = Hostile()
    hostile = markdown_summary([Checked("h.py", "Hostile", check(model, keep_going=True), spec=spec_of(model))], timings=False)
    assert HOSTILE not in hostile and "<b>" not in hostile


# ----------------------------------------------------------------------------- the command line


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_every_report(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("view.html", "topology.svg", "junit.xml", "results.sarif", "summary.md")}
    code, out, _ = run("check", MODEL / "racks.py", "--model", "AckOnPrimaryDisk", "--continue", "--quiet", "--html", files["view.html"],
                       "--svg", files["topology.svg"], "--junit", files["junit.xml"], "--sarif", files["results.sarif"],
                       "--markdown", files["summary.md"])
    assert code == 1
    for path in files.values():
        assert path.exists() and path.stat().st_size > 0, path
    assert f"HTML trace viewer written to {files['view.html']} (4 counterexamples)" in out
    ET.fromstring(files["junit.xml"].read_text())
    ET.fromstring(files["topology.svg"].read_text())
    assert json.loads(files["results.sarif"].read_text())["version"] == "2.1.0"


def test_cli_svg_names_one_file_per_model(tmp_path: Path) -> None:
    target = tmp_path / "t.svg"
    code, out, _ = run("check", MODEL / "racks.py", "--quiet", "--svg", target)
    assert code == 1
    assert (tmp_path / "t.AckOnPrimaryDisk.svg").exists() and (tmp_path / "t.AckOnOtherRackReplicaDisk.svg").exists()
    code, out, _ = run("check", MODEL / "diehard.py", "--quiet", "--svg", target.with_name("none.svg"))
    assert "no topology to draw" in out and not target.with_name("none.svg").exists()


H1 = MODEL / "hospital-1-app-tier-acks-from-memory.toml"


def _blocks_by_property(out: str) -> dict[str, str]:
    """Each counterexample printed by ``check``, keyed by its property (from its headline to the next one)."""
    parts = re.split(r"(?m)^Invariant (.+) is violated$", out)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_check_explains_every_trace_in_the_property_own_terms() -> None:
    # Hypothesis 1 acknowledges from an application server's memory (ack = "app.memory"): at the acknowledgement
    # (submit, then ack: State 3) o1 is only in app1's memory, so it is on no disk, not at the primary db1, not
    # registered downstream and not queued at an interface. No failure and no failover has happened yet.
    code, out, _ = run("check", H1, "--quiet")
    assert code == 1
    blocks = _blocks_by_property(out)
    assert len(blocks) == 4 and all("\nIn plain words:\n" in b for b in blocks.values())
    for block in blocks.values():
        assert "  o1 was acknowledged at step 2 (State 3) while no node had it on disk (app1 had it in memory)." in block
    primary = blocks["the primary after failover has every acknowledged order"]
    assert "checks in every state, not only after a failover, that the node recorded as primary" in primary
    assert "  The primary db1 is up and does not hold o1.\n  Only app1 has o1, in memory.\n" in primary
    assert "  No failover happened in this trace: db1 has been primary from the start." in primary
    pharmacy = blocks["an acknowledged order reaches pharmacy and lab"]
    assert "wait at an interface (if1 or if2)" in pharmacy
    assert "  o1 is not registered, it is not in the database, and it is at no interface: only app1 has it, in memory." in pharmacy
    survives_block = blocks["an acknowledged order survives any two-node failure"]
    # Every copy counts, in every medium (DESIGN.md section 4): app1's memory copy is the only one, one failure away.
    assert "'o1' is held only by app1 (memory); losing app1 (1 failure) removes every copy, and the property asks to survive 2." in survives_block
    lost = blocks["no acknowledged order is lost"]
    assert "  At step 3 (State 4) app1 crashed, losing o1 from app1's memory." in lost
    assert "  No surviving node holds o1 and it is not registered." in lost


class Doc(Model):
    """A counter whose invariant has a docstring: the explanation quotes it."""

    x = Var(Elem(("a", "b", "c")), init="a")

    @action
    def a_to_b(s):
        require(s.x == "a")
        s.x = "b"

    @action
    def b_to_c(s):
        require(s.x == "b")
        s.x = "c"

    @invariant
    def never_c(s):
        """x never reaches 'c'."""
        return s.x != "c"


def test_an_invariant_without_a_durability_property_is_explained_by_its_definition() -> None:
    model = Doc()
    trace = check(model).counterexample
    last = explain_trace(trace, spec_of(model))[-1]
    # The definition is named by file name and the line of its decorator, as in model errors.
    line = Path(__file__).read_text().splitlines().index("    def never_c(s):")  # 0-based index of def = decorator's line
    assert last.startswith(f"The invariant never_c (test_inspection.py:{line})")
    assert last.endswith(") is false in State 3, the last state: x never reaches 'c'.")


class Twice(Model):
    """Registers an order twice, makes two primaries, and acknowledges an order it never registers."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
    ORDER = Const(("o1",))
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    registrations = Var(MapOf(ORDER, Int(0, 2)), init=0)
    acting = Var(SetOf(NODE), init=("a",))
    acked = Var(SetOf(ORDER), init=())
    registered = Var(SetOf(ORDER), init=())
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=0)

    @action(o=ORDER)
    def register(s, o):
        require(s.registrations[o] < 2)
        s.registrations[o] = s.registrations[o] + 1

    @action(n=NODE)
    def take_over(s, n):
        s.acting = s.acting.add(n)

    @action(o=ORDER)
    def ack(s, o):
        s.acked = s.acked.add(o)

    @invariant
    def once(s):
        return no_duplicates(s.registrations)

    @invariant
    def one_primary(s):
        return single_primary(s.acting)

    @invariant
    def told_only_when_registered(s):
        return registered_or_rejected(s.acked, s.registered)


def test_the_other_durability_properties_say_which_order_or_node_breaks_them() -> None:
    model = Twice()
    spec = spec_of(model)
    # register twice: registrations[o1] = 2 after two steps; take_over(b) makes a and b act as primary at once;
    # ack(o1) acknowledges an order that registered (a set nothing adds to) never holds.
    once = explain_trace(violation(model, "once"), spec)
    assert once[-2:] == ["The property once asks that no order be registered more than once.",
                         "o1 is registered 2 times (registrations[o1] = 2)."]
    primaries = explain_trace(violation(model, "one_primary"), spec)
    assert primaries[-2:] == ["The property one_primary asks that at most one node that is up act as primary.",
                              "a and b are up and all act as primary (acting)."]
    told = explain_trace(violation(model, "told_only_when_registered"), spec)
    assert told[-2:] == ["The property told_only_when_registered asks that every acknowledged order be in registered.",
                         "o1 is acknowledged but not in registered."]


def test_check_prints_the_initial_state_compactly_unless_full_states() -> None:
    code, out, _ = run("check", H1, "--quiet", "--property", "no acknowledged order is lost")
    first = out.split("State 1: initial state\n")[1].split("\n\n")[0].splitlines()
    assert first == ["  primary = 'db1'", "  up = {every key: True}",
                     "  empty, false or 0: mem, cache, disk, submitted, acked, dispatched, registered, registrations, faults_spent, copy_losses"]
    code, out, _ = run("check", H1, "--quiet", "--property", "no acknowledged order is lost", "--full-states")
    assert code == 1
    first = out.split("State 1: initial state\n")[1].split("\n\n")[0].splitlines()
    # mem, cache, disk, primary, submitted, acked, dispatched, registered, registrations, up, faults_spent, copy_losses
    assert len(first) == 12 and first[0].startswith("  mem = {app1: {}, app2: {}") and "  faults_spent = 0" in first
    later = out.split("State 4: crash(n='app1')\n")[1].split("\n\n")[0].splitlines()
    assert "  mem[app1] = {}  (-'o1')" in later and "  primary = 'db1'" in later


H2 = MODEL / "hospital-2-interface-queue-in-memory.toml"


def test_the_final_table_lists_python_models_and_designs_and_says_not_checked_once() -> None:
    code, out, _ = run("check", MODEL / "racks.py", H2, "--quiet")
    assert code == 1
    table = out[out.index("Models and designs:"):].splitlines()
    assert table[2].split() == ["model", "property", "verdict", "trace", "tolerance", "states", "seconds"]
    rows = [line.split("  ")[0].strip() for line in table[4:] if line.strip() and not line.startswith("not checked")]
    # racks.py defines five models; Hypothesis 2 lists five properties and the reachability goal: six rows.
    assert {r for r in rows if r.startswith("racks.py::")} == {
        "racks.py::AckOnPrimaryDisk", "racks.py::AckOnOneReplicaDisk", "racks.py::AckOnBothReplicasDisk",
        "racks.py::AckOnSameRackReplicaDisk", "racks.py::AckOnOtherRackReplicaDisk"}
    assert rows.count(H2.name) == 6
    # AckOnPrimaryDisk stops at its first violation: its four other properties were not checked.
    primary_rows = [line for line in table if line.startswith("racks.py::AckOnPrimaryDisk ")]
    assert sum("not checked" in line for line in primary_rows) == 4 and "inconclusive" not in out
    assert table[-1] == "not checked: the search stopped at the first violation; use --continue to check every property"
    assert "keep_going" not in out
    summary = out[:out.index("\n\n")]
    assert summary.count("not checked: the search stopped") == 1


def test_trace_out_writes_every_violated_property_and_json_names_the_file(tmp_path: Path) -> None:
    target, doc = tmp_path / "cex.itf.json", tmp_path / "result.json"
    code, out, _ = run("check", H1, "--quiet", "--trace-out", target, "--json", doc)
    assert code == 1
    # Hypothesis 1 violates four properties (the table of docs/incident.md): one file each, named after the property.
    names = ["an-acknowledged-order-survives-any-two-node-failure", "no-acknowledged-order-is-lost",
             "the-primary-after-failover-has-every-acknowledged-order", "an-acknowledged-order-reaches-pharmacy-and-lab"]
    for name in names:
        path = tmp_path / f"cex.{name}.itf.json"
        assert path.exists() and f"written to {path}" in out
        assert read_itf(path).property == name.replace("-", " ").replace("two node", "two-node")
    assert json.loads(doc.read_text())["file"] == str(H1)
    # Two models: the model's name goes in too; a violated goal has no trace, and says so.
    code, out, _ = run("check", ROOT / "tests" / "data" / "designs" / "ok" / "never-fsync.toml", H1, "--quiet",
                       "--trace-out", tmp_path / "two.itf.json", "--json", doc)
    assert code == 1
    assert "no trace written for an order can be acknowledged: it has no counterexample" in out
    assert (tmp_path / "two.Hypothesis1.no-acknowledged-order-is-lost.itf.json").exists()
    files = [r["file"] for r in json.loads(doc.read_text())["results"]]
    assert files == [str(ROOT / "tests" / "data" / "designs" / "ok" / "never-fsync.toml"), str(H1)]


def _coverage(out: str) -> dict[str, tuple[int, int]]:
    """The coverage rows ``--coverage`` printed: action -> (new states, transitions)."""
    rows = {}
    for line in out.split("coverage over ")[1].splitlines()[2:]:
        parts = line.split()
        if len(parts) != 3 or not line.startswith("    "):
            break
        rows[parts[0]] = (int(parts[1].replace(",", "")), int(parts[2].replace(",", "")))
    return rows


def test_coverage_counts_each_action_and_adds_up_to_the_state_count() -> None:
    code, out, _ = run("check", MODEL / "twophase.py", "--coverage", "--quiet")
    assert code == 0
    rows = _coverage(out)
    assert list(rows) == ["tm_rcv_prepared", "tm_commit", "tm_abort", "rm_prepare", "rm_choose_to_abort",
                          "rm_rcv_commit_msg", "rm_rcv_abort_msg"]
    # TLC reports 288 distinct states for TwoPhase with three RMs: one initial state, and each other state is the
    # first visit of exactly one transition. The TM commits only once, when every RM is prepared: one transition.
    assert sum(new for new, _ in rows.values()) + 1 == 288
    assert rows["tm_commit"] == (1, 1)
    assert "never enabled" not in out


def test_coverage_reports_a_never_enabled_protocol_step_but_not_an_idle_fault(tmp_path: Path) -> None:
    # never-fsync.toml never fsyncs and acknowledges from the primary's disk: ack can never happen. With a fault
    # budget of 0 no crash can happen either, nor a restart: for a design those are not worth a word.
    design = tmp_path / "idle.toml"
    design.write_text((ROOT / "tests" / "data" / "designs" / "ok" / "never-fsync.toml").read_text().replace("budget = 1", "budget = 0"))
    code, out, _ = run("check", design, "--coverage", "--quiet")
    assert code == 1
    rows = _coverage(out)
    assert rows["ack"] == (0, 0) and rows["crash"] == (0, 0) and rows["restart"] == (0, 0)
    assert "  never enabled in any reachable state: ack\n" in out
    # A Kafka design with power losses only: no disk is ever lost, so there is no rebuild step to report idle.
    code, out, _ = run("check", ROOT / "tests" / "data" / "designs" / "presets" / "kafka-dotted-key.toml", "--coverage", "--quiet")
    assert "rebuild" not in _coverage(out) and "never enabled" not in out


class Idle(Model):
    """A Python model: every action that never fires is reported, the generated fault actions too."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db"}}))
    ORDER = Const(("o1",))
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=0)

    @action(o=ORDER, n=NODE, on="n")
    def store(s, o, n):
        s.disk[n] = s.disk[n].add(o)

    @action(o=ORDER, n=NODE)
    def unreachable(s, o, n):
        require(s.disk[n].count() > 1)  # one order: never more than one copy on a node
        s.disk[n] = s.disk[n].remove(o)


def test_coverage_of_a_python_model_lists_every_action_never_enabled(tmp_path: Path) -> None:
    path = tmp_path / "idle.py"
    path.write_text("from ordercheck import *\nfrom ordercheck.domain import Faults, Topology\n"
                    + inspect.getsource(Idle))
    code, out, _ = run("check", path, "--coverage", "--quiet")
    assert code == 0
    # Two states: no copy, and o1 on a's disk. store fires in both (its guard is only "a is up"): one transition
    # to the new state, one back to the same state.
    assert _coverage(out) == {"store": (1, 2), "unreachable": (0, 0), "crash": (0, 0), "restart": (0, 0)}
    assert "  never enabled in any reachable state: unreachable, crash, restart\n" in out


def test_cli_format_mermaid(tmp_path: Path) -> None:
    code, out, _ = run("check", MODEL / "racks.py", "--model", "AckOnPrimaryDisk", "--quiet", "--format", "mermaid")
    assert code == 1
    assert "```mermaid\nsequenceDiagram\n" in out and "State 1: initial state" not in out
    code, out, _ = run("check", MODEL / "racks.py", "--model", "AckOnPrimaryDisk", "--quiet", "--format", "dot")
    assert code == 2


def test_cli_explain_a_saved_trace(tmp_path: Path) -> None:
    trace = tmp_path / "t.itf.json"
    code, _, _ = run("check", MODEL / "hospital-3-failover-without-synchronous-commit.toml", "--quiet", "--trace-out", trace,
                     "--property", "an acknowledged order survives any two-node failure")
    assert code == 1
    code, out, err = run("explain", MODEL / "hospital-3-failover-without-synchronous-commit.toml", trace)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "Invariant an acknowledged order survives any two-node failure is violated in model Hypothesis3 after 5 steps."
    assert "o1 was acknowledged at step 5 (State 6) while no node had it on disk (db1 had it in the OS cache, db2 in memory)." in out
    code, out, _ = run("explain", MODEL / "hospital-3-failover-without-synchronous-commit.toml", trace, "--format", "mermaid")
    assert code == 0 and out.startswith("sequenceDiagram\n")


def test_cli_explain_of_a_python_model_matches_the_in_memory_trace(tmp_path: Path) -> None:
    model = racks("AckOnPrimaryDisk")
    trace = violation(model, "survive_one_disk_loss")
    path = tmp_path / "t.itf.json"
    write_itf(trace, path)
    code, out, _ = run("explain", MODEL / "racks.py", path)
    assert code == 0
    assert out.splitlines() == explain_trace(read_itf(path), spec_of(model)) == explain_trace(trace, spec_of(model))


def test_cli_explain_errors(tmp_path: Path) -> None:
    code, _, err = run("explain", MODEL / "racks.py", tmp_path / "missing.itf.json")
    assert code == 2 and "missing.itf.json" in err
    trace = violation(racks("AckOnPrimaryDisk"), "survive_one_disk_loss")
    path = tmp_path / "t.itf.json"
    write_itf(trace, path)
    code, _, err = run("explain", MODEL / "diehard.py", path)
    assert code == 2 and "no model named 'AckOnPrimaryDisk'" in err


@pytest.mark.parametrize("flag", ["--html", "--junit", "--sarif", "--markdown"])
def test_cli_reports_are_byte_identical_across_runs(tmp_path: Path, flag: str) -> None:
    texts = []
    for i in range(2):
        target = tmp_path / f"{i}.out"
        run("check", MODEL / "racks.py", "--model", "AckOnOneReplicaDisk", "--continue", "--quiet", flag, target)
        texts.append(re.sub(r'time="[0-9.]+"|[0-9.]+ s \|', "T", target.read_text()))
    assert texts[0] == texts[1]


# ----------------------------------------------------------------------------- docs/ci.md's workflow


def test_the_documented_workflow_runs(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    yaml = pytest.importorskip("yaml")
    from test_docs import blocks

    workflows = [b for b in blocks(ROOT / "docs" / "ci.md") if b.lang == "yaml"]
    assert len(workflows) == 1
    workflow = yaml.safe_load(workflows[0].text)
    steps = workflow["jobs"]["designs"]["steps"]
    by_name = {s.get("id") or s.get("name"): s for s in steps}
    assert workflow["permissions"]["security-events"] == "write"
    (tmp_path / "model").mkdir()
    shutil.copy(MODEL / "racks.py", tmp_path / "model" / "racks.py")
    env = dict(os.environ, GITHUB_OUTPUT=str(tmp_path / "github_output"), GITHUB_STEP_SUMMARY=str(tmp_path / "summary_page"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for step in (by_name["check"], by_name["Job summary"]):
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "github_output").read_text() == "code=1\n"
    out = tmp_path / "out"
    for name in ("junit.xml", "ordercheck.sarif", "summary.md", "counterexamples.html", "topology.AckOnPrimaryDisk.svg"):
        assert (out / name).exists(), name
    assert (tmp_path / "summary_page").read_text().startswith("## ordercheck: ")
    uploaded = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert uploaded and uploaded[0]["with"]["sarif_file"] == "out/ordercheck.sarif"
    assert by_name["Fail unless every property holds"]["if"] == "steps.check.outputs.code != '0'"
