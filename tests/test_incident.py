"""The hospital incident: three hypotheses that lose an acknowledged order, one design that does not.

``model/hospital-*.toml`` describe the ten servers of ``../shared/DOMAIN.md`` (two application
servers, a primary data server, a synchronous failover member, an asynchronous
disaster-recovery member, a reporting server, two interface servers, an arbiter and a web
server).  Each hypothesis must produce a counterexample in which at most two of the ten servers
fail and an acknowledged medication order is lost; the corrected design must hold every
property of ``properties/clinical-orders.toml`` with up to two failures.

The expected traces are counted by hand from the family's mechanics (see
``tests/test_designs.py``): the search is breadth-first, so a counterexample is a shortest one,
and the tests state which steps a shortest loss needs.

``docs/incident.md`` shows commands and their output; the last tests re-run every command it
shows and compare, so the page cannot rot (ignoring timings and the line naming the search
backend).  The largest design (hypothesis 3, about a million states) takes the longest; its
cases are marked ``slow`` but run by default.
"""

from __future__ import annotations

import functools
import io
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from ordercheck import check
from ordercheck.cli import main
from ordercheck.design import load_design

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "model"
INCIDENT = ROOT / "docs" / "incident.md"

H1 = "hospital-1-app-tier-acks-from-memory.toml"
H2 = "hospital-2-interface-queue-in-memory.toml"
H3 = "hospital-3-failover-without-synchronous-commit.toml"
H4 = "hospital-4-corrected.toml"
SLOW = (H3,)

SERVERS = ("app1", "app2", "db1", "db2", "db3", "report1", "if1", "if2", "arbiter", "web1")
APPS, DATA, INTERFACES = ("app1", "app2"), ("db1", "db2", "db3"), ("if1", "if2")
MEDIA = ("mem", "cache", "disk")
FAULTS = ("crash", "power_loss", "disk_loss")

LOST = "no acknowledged order is lost"
REGISTERED = "an acknowledged order reaches pharmacy and lab"
VISIBLE = "the primary after failover has every acknowledged order"
PROPERTIES = ["an acknowledged order survives any two-node failure", LOST, VISIBLE, REGISTERED, "no order is registered twice",
              "an order can be acknowledged"]


@functools.cache
def design(name: str) -> Any:
    return load_design(MODEL / name)


@functools.cache
def result(name: str) -> Any:
    return check(design(name).model(), keep_going=True)


def slow(name: str) -> list[Any]:
    return [pytest.mark.slow] if name in SLOW else []


def fault_steps(trace: Any) -> list[Any]:
    return [step for step in trace.steps if step.action in FAULTS]


def failed_servers(trace: Any) -> set[str]:
    return {dict(step.params)["n"] for step in fault_steps(trace)}


def holders(state: dict[str, Any], order: str) -> set[str]:
    return {n for m in MEDIA for n, orders in state[m].items() if order in orders}


def labels(trace: Any) -> list[str]:
    return [step.label for step in trace.steps[1:]]


# ----------------------------------------------------------------------------- the designs

@pytest.mark.parametrize("name", [H1, H2, H3, H4])
def test_every_design_has_the_same_ten_servers(name: str) -> None:
    d = design(name)
    assert d.topology.nodes == SERVERS
    roles = {n: d.topology.role(n) for n in SERVERS}
    assert roles == {"app1": "app", "app2": "app", "db1": "primary", "db2": "replica", "db3": "replica", "report1": "reporting",
                     "if1": "interface", "if2": "interface", "arbiter": "arbiter", "web1": "web"}
    assert [p.label for p in d.properties] == PROPERTIES[:-1]
    assert d.faults.budget == 2 and d.faults.domain == "node"


def assert_loss(name: str, prop: str) -> Any:
    """The property is violated by a trace with at most two failed servers that ends with an acknowledged order lost."""
    outcome = result(name).property(prop)
    assert outcome.verdict == "violated"
    trace = outcome.counterexample
    assert len(fault_steps(trace)) <= 2 and len(failed_servers(trace)) <= 2
    final = trace.final_state
    assert "o1" in final["acked"]
    assert "o1" not in final["registered"]
    return trace


@pytest.mark.parametrize("name", [pytest.param(H1, id="hypothesis-1"), pytest.param(H3, id="hypothesis-3", marks=slow(H3))])
def test_the_hypothesis_loses_an_acknowledged_order(name: str) -> None:
    """never_lost ("no acknowledged order is lost"): in the trace's last state the order is
    acknowledged, not registered downstream, and no server holds it in any medium."""
    trace = assert_loss(name, LOST)
    assert holders(trace.final_state, "o1") == set()


def test_hypothesis_1_one_application_server_crash_loses_the_order() -> None:
    """ack = "app.memory": the shortest loss is submit to an application server, ack (its memory
    suffices), then a crash or power loss of that server: 3 steps, one failed server, and the
    order never reached the database (no forward step)."""
    trace = result(H1).property(LOST).counterexample
    steps = trace.steps[1:]
    assert [s.action for s in steps[:2]] == ["submit", "ack"]
    app = dict(steps[0].params)["a"]
    assert steps[2].action in ("crash", "power_loss") and dict(steps[2].params) == {"n": app}
    assert len(steps) == 3 and app in APPS


def test_hypothesis_2_an_interface_server_crash_leaves_the_order_unregistered() -> None:
    """registered_or_rejected ("an acknowledged order reaches pharmacy and lab"): the database
    acknowledges once db1 and db2 have the order on disk, so it is never lost from the database
    (never_lost holds); but an interface server takes it into memory and the database forgets the
    outbox entry (``dispatched``).  The shortest trace: submit, forward, write db1, replicate db2,
    write db2, ack, dispatch to an interface server, a failure of that server (8 steps).  At the
    end the order is acknowledged, dispatched, in no interface queue, not registered, and still
    on db1's and db2's disks."""
    assert result(H2).property(LOST).verdict == "holds"
    trace = assert_loss(H2, REGISTERED)
    final = trace.final_state
    assert "o1" in final["dispatched"]
    assert not holders(final, "o1") & set(INTERFACES)
    assert {"db1", "db2"} <= {n for n, orders in final["disk"].items() if "o1" in orders}
    dispatch = next(s for s in trace.steps if s.action == "dispatch")
    (failure,) = fault_steps(trace)
    assert dict(failure.params) == {"n": dict(dispatch.params)["i"]}
    assert len(trace.steps) == 9


@pytest.mark.slow
def test_hypothesis_3_a_degraded_backup_then_one_power_loss() -> None:
    """ack = "primary.os-cache and 1 of sync.memory" with the synchronous set degrading after a
    timeout.  If db2 still counts, an acknowledged order is in db1's OS cache and db2's memory,
    and losing it takes two failures; dropping db2 from the synchronous set is free, after which
    the rule asks for db1's OS cache alone and one power loss of db1 (before the periodic fsync)
    loses it.  So the shortest loss has drop_from_sync before the ack, exactly one failure,
    power_loss(db1), and no fsync step.

    The failover half of the hypothesis: the order is acknowledged, db1 crashes, and a member
    without the order (promote = "any") becomes primary with one failure."""
    trace = result(H3).property(LOST).counterexample
    actions = [s.action for s in trace.steps]
    assert actions.index("drop_from_sync") < actions.index("ack")
    assert [s.label for s in fault_steps(trace)] == ["power_loss(n='db1')"]
    assert "fsync" not in actions
    failover = assert_loss(H3, VISIBLE)
    final = failover.final_state
    assert final["primary"] != "db1" and final["up"][final["primary"]]
    assert final["primary"] not in holders(final, "o1")
    assert len(fault_steps(failover)) == 1


def test_the_corrected_design_holds_every_property() -> None:
    """Three disk copies before the ack, no degradation, promotion only of synchronous members,
    durable interface queues with the outbox kept until delivery, and rebuild after a disk loss:
    every property holds with up to two failures of any kind, disk losses included."""
    d = design(H4)
    assert d.protocol.ack == "primary.disk and 2 of replica.disk"
    assert set(d.faults.kinds) == {"crash", "power-loss", "disk-loss"}
    r = result(H4)
    assert {p.name: p.verdict for p in r.properties} == dict.fromkeys(PROPERTIES, "holds")


# ----------------------------------------------------------------------------- docs/incident.md

_FENCE = re.compile(r"^(`{3,})(\w*)\s*$")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced blocks of a markdown text, as (language, body)."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != m.group(1):
            j += 1
        out.append((m.group(2), "\n".join(lines[i + 1:j])))
        i = j + 1
    return out


def doc_commands() -> list[tuple[str, int | None, str]]:
    """Each ``ordercheck ...`` command of docs/incident.md, its ``# exit N`` if stated, and the text block after it."""
    found = []
    blocks = fenced_blocks(INCIDENT.read_text())
    for k, (lang, body) in enumerate(blocks):
        if lang != "sh" or not body.startswith("ordercheck "):
            continue
        command, _, comment = body.strip().partition("#")
        code = re.match(r"\s*exit (\d+)", comment)
        text = next((b for lg, b in blocks[k + 1:] if lg == "text"), None)
        assert text is not None, f"no ```text block after {command}"
        found.append((command.strip(), int(code.group(1)) if code else None, text))
    return found


def normalise(text: str) -> str:
    """Output without what changes from run to run: timings and rates, and the line naming the search backend and store."""
    text = re.sub(r"(?m)^  (backend|note): .*\n", "", text)
    text = re.sub(r"\d+\.\d+ s \([\d,]+ states/s\)", "<time>", text)
    text = re.sub(r"(?m)(\s)\d+\.\d+$", r"\1<seconds>", text)  # the seconds column of the design table
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def matches(expected: str, actual: str) -> bool:
    """``expected`` is ``actual``; or, where it has a line ``[...]``, its pieces appear in order in ``actual``."""
    if "\n[...]\n" not in f"\n{expected}\n":
        return expected == actual
    at = 0
    for piece in re.split(r"(?m)^\[\.\.\.\]\n?", expected):
        piece = piece.strip("\n")
        found = actual.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def test_the_page_shows_every_hypothesis_and_the_correction() -> None:
    shown = " ".join(command for command, _, _ in doc_commands())
    for name in (H1, H2, H3, H4):
        assert f"model/{name}" in shown


@pytest.mark.parametrize("command, code, expected",
                         [pytest.param(c, e, t, id=c.split()[2], marks=[pytest.mark.slow] if any(s in c for s in SLOW) else [])
                          for c, e, t in doc_commands()])
def test_each_command_of_the_page_prints_what_the_page_shows(command: str, code: int | None, expected: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "ordercheck"
    out, err = io.StringIO(), io.StringIO()
    exit_code = main(argv[1:] + ["--quiet"], out=out, err=err)
    assert err.getvalue() == ""
    if code is not None:
        assert exit_code == code
    assert matches(normalise(expected), normalise(out.getvalue())), f"docs/incident.md shows for {command}:\n{expected}\n\nbut it prints:\n{out.getvalue()}"


def test_the_design_excerpts_of_the_page_are_in_the_files() -> None:
    excerpts = [body for lang, body in fenced_blocks(INCIDENT.read_text()) if lang == "toml"]
    assert excerpts
    for body in excerpts:
        first, _, rest = body.partition("\n")
        m = re.fullmatch(r"# (model/\S+\.toml) \(excerpt\)", first)
        assert m, f"a toml block of docs/incident.md starts with '# model/FILE.toml (excerpt)': {first!r}"
        assert rest in (ROOT / m.group(1)).read_text(), f"{m.group(1)} does not contain:\n{rest}"


def test_normalise_and_matches() -> None:
    out = "  68,700 distinct states, depth 19, 0.53 s (128,718 states/s)\n  backend: vectorized; store: exact\nh.toml  lost  violated  4  68,700  0.5\n"
    assert normalise(out) == "  68,700 distinct states, depth 19, <time>\nh.toml  lost  violated  4  68,700  <seconds>"
    assert matches("a\n[...]\nc", "a\nb\nc") and not matches("c\n[...]\na", "a\nb\nc")
