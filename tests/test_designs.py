"""Design files: validation with file, line and key; small designs whose verdicts are worked out by hand.

Every broken design in ``tests/data/designs/bad/`` marks the line in error with ``# <- error here``
(in the property-set file when the mistake is there); the expected line is found by searching
for that marker, never written down.  Each must exit 2 through the command line with one
message ``error: FILE:LINE: KEY: ...`` and no traceback.

The designs in ``tests/data/designs/ok/`` and the ones written below are small enough (one
order, two or three servers) that their shortest counterexamples can be counted by hand from
the protocol family's mechanics (``src/ordercheck/protocols/family.py``):

* ``submit`` puts the order in the primary's memory (or an application server's);
* ``write`` moves it into the OS cache, and onto disk at once when ``fsync = "before-ack"``;
  with ``fsync = "periodic"`` a separate ``fsync`` step puts it on disk;
* ``replicate`` copies it from the primary to a replica's memory; the replica then writes it;
* ``ack`` tells the client once the acknowledgement rule holds;
* ``crash`` empties memory, ``power_loss`` memory and OS cache, ``disk_loss`` everything; each
  spends one unit of the fault budget.

Tests marked ``xfail(strict=True)`` document problems in ``src/`` described, with reproducers,
in ``.notes/designs-helper.md``; they start passing (and so fail as XPASS) once fixed.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ordercheck import check
from ordercheck.cli import main
from ordercheck.design import DesignError, load_design
from ordercheck.protocols.rules import Clause, RuleError, parse_rule

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = Path(__file__).resolve().parent / "data" / "designs"
BAD = DESIGNS / "bad"
OK = DESIGNS / "ok"
SETS = DESIGNS / "sets"
MARKER = "# <- error here"

NOTES = "see .notes/designs-helper.md: "
AT_PROTOCOL = NOTES + "1. errors found while the model is built are reported at the [protocol] table, not at the key in error"
PROPERTY_DOMAIN = NOTES + "2. an unknown failure domain in a survives property is reported at [check], not at the property's domain"
PRESET_KEY = NOTES + "3. a preset error is pinned on the first setting whose name appears anywhere in the message"
LATE_DOMAIN = NOTES + "5. a failure domain some nodes lack (or 'replication' used as one) passes validation; the check fails with no file/line/key"
STORES_ROLE = NOTES + "6. stores accepts a role that no node has (a misspelt role silently keeps the default medium)"


def run_cli(*args: object) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def marked_line(path: Path) -> int:
    """The 1-based number of the line of ``path`` that carries the error marker."""
    lines = [i for i, text in enumerate(path.read_text().splitlines(), start=1) if MARKER in text]
    assert len(lines) == 1, f"{path.name} must mark exactly one line with {MARKER!r}"
    return lines[0]


# ----------------------------------------------------------------------------- validation

@dataclass(frozen=True)
class Case:
    """A broken design: the key the error must name, words the message must contain, and where the mistake is."""

    fixture: str
    key: str
    words: tuple[str, ...]
    where: str = ""  # the file holding the mistake, relative to tests/data/designs (default: the design itself)
    precise_xfail: str = ""  # the message names the file but not this key and line
    base_xfail: str = ""  # no located message at all

    @property
    def path(self) -> Path:
        return BAD / f"{self.fixture}.toml"

    @property
    def error_file(self) -> Path:
        return (DESIGNS / self.where).resolve() if self.where else self.path


CASES = [
    # unknown keys, at every level
    Case("bad-top-level-key", "colour", ("unknown key", "orders")),
    Case("bad-protocol-key", "protocol.acknowledge", ("unknown key", "ack")),
    Case("bad-check-key", "check.budget", ("unknown key", "faults")),
    Case("bad-fault-key", "check.faults.count", ("unknown key", "budget")),
    Case("bad-property-key", "check.property[0].threshold", ("unknown key", "kind")),
    # wrong types
    Case("bad-orders-type", "orders", ("'two'",)),
    Case("bad-fsync-type", "protocol.fsync", ("expected a string", "True")),
    Case("bad-knob-type", "protocol.degrade_sync_after_timeout", ("true or false", "'no'")),
    Case("bad-budget-type", "check.faults.budget", ("'1'",)),
    Case("bad-k-type", "check.property[0].k", ("'two'",)),
    Case("bad-node-attribute-type", "node[0].rack", ("True",)),
    # acknowledgement rules: unknown roles and media, impossible counts
    Case("rule-app-without-app", "protocol.ack", ("app.memory", "role \"app\"")),
    Case("rule-impossible-count", "protocol.ack", ("2 of sync", "only 1")),
    Case("rule-unknown-group", "protocol.ack", ("'witness'",)),
    Case("rule-unknown-medium", "protocol.ack", ("primary.ssd", "memory, os-cache, disk")),
    Case("rule-empty", "protocol.ack", ("empty",)),
    # media, fsync and promotion
    Case("unknown-store-medium", "protocol.stores.primary", ("'ssd'", "memory, os-cache, disk")),
    Case("stores-unknown-role", "protocol.stores.repilca", ("repilca",)),
    Case("bad-fsync-value", "protocol.fsync", ("'sometimes'", "before-ack, periodic, never")),
    Case("bad-promote-value", "protocol.promote", ("'oldest'", "most-up-to-date")),
    Case("promote-sync-without-sync", "protocol.promote", ("promote = \"sync\"", "replication = \"sync\"")),
    Case("split-brain-without-partitions", "protocol.old_primary_acks_during_partition", ("partition",)),
    # the topology
    Case("duplicate-node", "node[1].name", ("'db1'", "twice")),
    Case("node-without-role", "node[1].role", ("every node has a role",)),
    Case("replication-on-primary", "node[0].replication", ("only replicas",)),
    Case("unknown-replication-mode", "node[1].replication", ("'semi-sync'", "sync, async, quorum, chain")),
    Case("no-primary", "node", ("role = \"primary\"", "found 0")),
    Case("two-primaries", "node[1].role", ("role = \"primary\"", "found 2")),
    # faults and failure domains
    Case("unknown-fault-kind", "check.faults.kinds", ("'meteor'", "power-loss")),
    Case("unknown-fault-domain", "check.faults.domain", ("'rack'",)),
    Case("node-without-rack", "check.faults.domain", ("db2", "rack")),
    Case("replication-as-domain", "check.faults.domain", ("'replication'",)),
    Case("unknown-property-domain", "check.property[0].domain", ("'site'",)),
    # property sets
    Case("missing-property-set", "check.properties", ("nowhere.toml",)),
    Case("property-set-unknown-kind", "property[1].kind", ("'eventually_durable'", "never_lost"), where="sets/unknown-kind.toml"),
    Case("property-set-not-toml", "", ("not valid TOML",), where="sets/not-toml.toml"),
    # not TOML at all
    Case("not-toml", "", ("not valid TOML",)),
    # the protocol family and presets
    Case("unknown-family", "protocol.family", ("'paxos'", "replicated-log")),
    Case("unknown-preset", "protocol.preset", ("'oracle'", "postgresql")),
    Case("bad-preset-setting", "protocol.synchronous_comit", ("'synchronous_comit'", "synchronous_commit")),
    Case("bad-preset-setting-after-a-good-one", "protocol.failovr", ("'failovr'",)),
    Case("bad-preset-value", "protocol.synchronous_commit", ("'maybe'", "remote_write")),
    Case("bad-standby-name", "protocol.synchronous_standby_names", ("'db9'", "not a standby")),
]


def _marks(reason: str) -> Sequence[Any]:
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _params(precise: bool) -> list[Any]:
    return [pytest.param(c, id=c.fixture, marks=_marks(c.base_xfail or (c.precise_xfail if precise else ""))) for c in CASES]


def test_every_broken_fixture_is_a_case_and_marks_its_line() -> None:
    fixtures = sorted(p.stem for p in BAD.glob("*.toml"))
    assert fixtures == sorted(c.fixture for c in CASES)
    for case in CASES:
        marked_line(case.error_file)


@pytest.mark.parametrize("case", _params(precise=False))
def test_a_broken_design_exits_2_with_a_located_message(case: Case) -> None:
    code, out, err = run_cli("check", case.path, "--quiet")
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("error: ") == 1, err
    match = re.match(rf"error: {re.escape(str(case.error_file))}:(\d+): ", err)
    assert match and int(match.group(1)) > 0, err
    for word in case.words:
        assert word in err, (word, err)


@pytest.mark.parametrize("case", _params(precise=True))
def test_the_message_names_the_line_and_key_in_error(case: Case) -> None:
    line = marked_line(case.error_file)
    _, _, err = run_cli("check", case.path, "--quiet")
    where = f"error: {case.error_file}:{line}: "
    if case.key:
        assert err.startswith(f"{where}{case.key}: "), err
    else:
        assert err.startswith(f"{where}not valid TOML"), err
    with pytest.raises(DesignError) as info:
        load_design(case.path)
    assert (info.value.path.resolve(), info.value.line, info.value.key) == (case.error_file, line, case.key)


def test_no_traceback_escapes_in_a_fresh_interpreter() -> None:
    for name in ("rule-impossible-count", "not-toml", "property-set-unknown-kind"):
        proc = subprocess.run([sys.executable, "-m", "ordercheck", "check", str(BAD / f"{name}.toml")],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ")


def test_a_missing_design_file_is_an_error_naming_it(tmp_path: Path) -> None:
    code, _, err = run_cli("check", tmp_path / "nowhere.toml")
    assert code == 2
    assert "nowhere.toml" in err and "Traceback" not in err


def test_the_replication_attribute_is_not_offered_as_a_failure_domain() -> None:
    # The unknown-domain message lists the failure domains a design can use; a node's replication
    # mode is not one (see case replication-as-domain).
    _, _, err = run_cli("check", BAD / "unknown-fault-domain.toml")
    domains = err.partition("(domains: ")[2]
    assert domains.startswith("node"), err
    assert "replication" not in domains


# ----------------------------------------------------------------------------- the ack-rule grammar

def test_rule_grammar() -> None:
    assert parse_rule("primary.disk") == (Clause("one", 1, "primary", "disk"),)
    assert parse_rule("app.memory") == (Clause("one", 1, "app", "memory"),)
    assert parse_rule("primary.disk and 1 of sync.disk") == (Clause("one", 1, "primary", "disk"), Clause("at-least", 1, "sync", "disk"))
    assert parse_rule("primary.os-cache and all of isr.os-cache")[1] == Clause("all", 0, "isr", "os-cache")
    assert parse_rule("majority.disk") == (Clause("majority", 0, "data", "disk"),)
    assert parse_rule("  tail.disk  ") == (Clause("one", 1, "tail", "disk"),)
    assert parse_rule("primary.disk and 2 of replica.disk")[1] == Clause("at-least", 2, "replica", "disk")


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("primary.ssd", "'primary.ssd'"),
    ("primary disk", "'primary disk'"),
    ("0 of sync.disk", "at least 1"),
    ("2 of majority.disk", "majority takes no count"),
    ("all of majority.disk", "majority takes no count"),
    ("primary.disk or sync.disk", "'primary.disk or sync.disk'"),
])
def test_rule_errors_say_which_part(text: str, says: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert says in str(info.value)


# ----------------------------------------------------------------------------- small designs, verdicts by hand

def actions(trace: Any) -> list[str]:
    return [step.label for step in trace.steps[1:]]


def test_two_disks_hold_through_one_disk_loss() -> None:
    # ack waits for db1's and db2's disks: one disk loss leaves a copy (never_lost), and the two
    # disk copies are more than one failure can remove (survives k=1).
    result = check(load_design(OK / "two-disks.toml").model(), keep_going=True)
    assert {p.name: p.verdict for p in result.properties} == {
        "no acknowledged order is lost": "holds", "survives 1 node failure": "holds", "an order can be acknowledged": "holds"}


def test_one_disk_loses_the_order_in_four_steps() -> None:
    # ack = "primary.disk": submit (db1's memory), write (db1's cache and disk, fsync before-ack),
    # ack, then disk_loss(db1) removes the only copy: 4 steps, 5 states.  survives k=1 already
    # fails in the state right after the ack: one disk copy, and one failure removes it.
    result = check(load_design(OK / "one-disk.toml").model(), keep_going=True)
    lost = result.property("no acknowledged order is lost")
    assert lost.verdict == "violated"
    assert actions(lost.counterexample) == ["submit(o='o1')", "write(o='o1', n='db1')", "ack(o='o1')", "disk_loss(n='db1')"]
    final = lost.counterexample.final_state
    assert final["acked"] == {"o1"}
    assert all("o1" not in final[m][n] for m in ("mem", "cache", "disk") for n in ("db1", "db2"))
    survives = result.property("survives 1 node failure")
    assert survives.verdict == "violated"
    assert actions(survives.counterexample) == ["submit(o='o1')", "write(o='o1', n='db1')", "ack(o='o1')"]
    assert result.property("an order can be acknowledged").verdict == "holds"


def test_a_design_that_can_never_acknowledge_is_reported_not_passed() -> None:
    # ack waits for the primary's disk, but with fsync = "never" nothing reaches a disk.
    code, out, _ = run_cli("check", OK / "never-fsync.toml", "--quiet")
    assert code == 1
    result = check(load_design(OK / "never-fsync.toml").model(), keep_going=True)
    assert result.property("never_lost").verdict == "holds"
    assert result.property("an order can be acknowledged").verdict == "violated"
    assert "an order can be acknowledged  violated" in out


def table_rows(out: str) -> list[list[str]]:
    """The rows of the design x property table: design, property, verdict, trace, tolerance, states, seconds."""
    lines = out[out.index("Designs:"):].splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("design "))
    widths = [len(cell) for cell in lines[header + 1].split("  ")]
    rows = []
    for line in lines[header + 2:]:
        if not line.strip():
            break
        cells, at = [], 0
        for w in widths:
            cells.append(line[at:at + w].strip())
            at += w + 2
        rows.append(cells)
    return rows


def test_the_cli_prints_a_design_by_property_table_for_a_directory() -> None:
    code, out, err = run_cli("check", OK, "--quiet")
    assert code == 1, err
    rows = {(r[0], r[1]): r[2:4] for r in table_rows(out)}
    assert rows == {
        ("never-fsync.toml", "never_lost"): ["holds", ""],
        ("never-fsync.toml", "an order can be acknowledged"): ["violated", ""],
        ("one-disk.toml", "no acknowledged order is lost"): ["violated", "5"],
        ("one-disk.toml", "survives 1 node failure"): ["violated", "4"],
        ("one-disk.toml", "an order can be acknowledged"): ["holds", ""],
        ("two-disks.toml", "no acknowledged order is lost"): ["holds", ""],
        ("two-disks.toml", "survives 1 node failure"): ["holds", ""],
        ("two-disks.toml", "an order can be acknowledged"): ["holds", ""],
    }
    assert f"== {OK / 'one-disk.toml'}: one disk" in out
    assert "State 5: disk_loss(n='db1')" in out


def test_the_tolerance_column() -> None:
    # two disks: never_lost survives a budget of 1 disk loss, not 2; survives holds for k = 1, not 2.
    code, out, _ = run_cli("check", OK / "two-disks.toml", "--quiet", "--tolerance")
    assert code == 0
    tolerance = {r[1]: r[4] for r in table_rows(out)}
    assert tolerance == {"no acknowledged order is lost": "1", "survives 1 node failure": "1", "an order can be acknowledged": ""}
    assert "breaks at 2 with disk_loss(n='db1'), disk_loss(n='db2')" in out


# ----------------------------------------------------------------------------- knobs, by hand

TWO = [{"name": "db1", "role": "primary"}, {"name": "db2", "role": "replica", "replication": "sync"}]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def design(tmp_path: Path, protocol: dict[str, Any], kinds: list[str], budget: int, properties: list[dict[str, Any]],
           nodes: list[dict[str, Any]] = TWO) -> Path:
    """Write a one-order design to ``tmp_path/design.toml`` and return its path."""
    lines = ['name = "knob"', "orders = 1"]
    for node in nodes:
        lines += ["", "[[node]]"] + [f"{k} = {toml_value(v)}" for k, v in node.items()]
    lines += ["", "[protocol]"] + [f"{k} = {toml_value(v)}" for k, v in protocol.items()]
    lines += ["", "[check]", f"faults = {toml_value({'kinds': kinds, 'budget': budget})}"]
    for prop in properties:
        lines += ["", "[[check.property]]"] + [f"{k} = {toml_value(v)}" for k, v in prop.items()]
    path = tmp_path / "design.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def verdict(path: Path, prop: str) -> Any:
    return check(load_design(path).model(), keep_going=True).property(prop)


def test_fsync_periodic_makes_the_ack_wait_for_the_fsync_step(tmp_path: Path) -> None:
    # ack = "primary.disk" with fsync = "periodic": write puts it in the cache only, fsync on disk;
    # a power loss after the ack cannot remove it.  Acknowledging from the cache instead loses it
    # to one power loss: submit, write, ack, power_loss(db1).
    path = design(tmp_path, {"ack": "primary.disk", "fsync": "periodic"}, ["power-loss"], 1, [{"kind": "never_lost"}])
    assert verdict(path, "never_lost").verdict == "holds"
    path = design(tmp_path, {"ack": "primary.os-cache", "fsync": "periodic"}, ["power-loss"], 1, [{"kind": "never_lost"}])
    lost = verdict(path, "never_lost")
    assert actions(lost.counterexample) == ["submit(o='o1')", "write(o='o1', n='db1')", "ack(o='o1')", "power_loss(n='db1')"]
    # The OS cache survives a process crash.
    path = design(tmp_path, {"ack": "primary.os-cache", "fsync": "periodic"}, ["crash"], 1, [{"kind": "never_lost"}])
    assert verdict(path, "never_lost").verdict == "holds"


def test_a_synchronous_replica_dropped_after_a_timeout_degrades_the_ack(tmp_path: Path) -> None:
    # Pattern 3 of DOMAIN.md: with degrade_sync_after_timeout, db2 may leave the synchronous set
    # (drop_from_sync, no fault), "1 of sync.disk" then asks for nobody, and one disk loss of db1
    # loses the order: submit, write, drop_from_sync, ack, disk_loss in some order, 5 steps.
    path = design(tmp_path, {"ack": "primary.disk and 1 of sync.disk", "degrade_sync_after_timeout": True}, ["disk-loss"], 1,
                  [{"kind": "never_lost"}])
    lost = verdict(path, "never_lost")
    assert lost.verdict == "violated"
    assert sorted(actions(lost.counterexample)) == sorted(
        ["submit(o='o1')", "write(o='o1', n='db1')", "drop_from_sync(r='db2')", "ack(o='o1')", "disk_loss(n='db1')"])
    path = design(tmp_path, {"ack": "primary.disk and 1 of sync.disk"}, ["disk-loss"], 1, [{"kind": "never_lost"}])
    assert verdict(path, "never_lost").verdict == "holds"


@pytest.mark.parametrize(("keys", "expected"), [(False, "violated"), (True, "holds")])
def test_client_retries_register_twice_without_idempotency_keys(tmp_path: Path, keys: bool, expected: str) -> None:
    # A client that has not heard back retries: the second request registers the order again,
    # unless the primary recognises its idempotency key.  No fault needed: submit, retry.
    path = design(tmp_path, {"ack": "primary.disk", "client_retries": True, "idempotency_keys": keys}, ["crash"], 1,
                  [{"kind": "no_duplicates"}])
    result = verdict(path, "no_duplicates")
    assert result.verdict == expected
    if not keys:
        assert actions(result.counterexample) == ["submit(o='o1')", "retry(o='o1')"]
        assert result.counterexample.final_state["registrations"] == {"o1": 2}


@pytest.mark.parametrize(("rejoin", "expected"), [(True, "violated"), (False, "holds")])
def test_a_primary_that_lost_its_disk_serves_empty_unless_it_rebuilds(tmp_path: Path, rejoin: bool, expected: str) -> None:
    # Pattern 12 of DOMAIN.md.  Both disks hold the order at the ack; disk_loss(db1) and restart(db1)
    # bring the primary back empty.  With rejoin_authoritative (the default) it serves at once and
    # has lost the order: submit, write db1, replicate, write db2, ack, disk_loss, restart (7 steps).
    # Without, it rebuilds first and db2 (synchronous, holding it) is promoted meanwhile.
    path = design(tmp_path, {"ack": "primary.disk and 1 of sync.disk", "promote": "sync", "rejoin_authoritative": rejoin}, ["disk-loss"], 1,
                  [{"kind": "visible_after_failover"}])
    result = verdict(path, "visible_after_failover")
    assert result.verdict == expected
    if rejoin:
        assert len(result.counterexample) == 8
        assert actions(result.counterexample)[-2:] == ["disk_loss(n='db1')", "restart(n='db1')"]


@pytest.mark.parametrize(("promote", "expected"), [("any", "violated"), ("sync", "holds")])
def test_promotion_rule_decides_whether_failover_keeps_the_order(tmp_path: Path, promote: str, expected: str) -> None:
    # Three servers, db3 asynchronous.  The ack waits for db1's and db2's disks; after crash(db1)
    # "any" may promote db3, which may not have it yet; "sync" promotes only db2, which has it.
    nodes = TWO + [{"name": "db3", "role": "replica", "replication": "async"}]
    path = design(tmp_path, {"ack": "primary.disk and 1 of sync.disk", "promote": promote}, ["crash"], 1,
                  [{"kind": "visible_after_failover"}], nodes=nodes)
    result = verdict(path, "visible_after_failover")
    assert result.verdict == expected
    if promote == "any":
        assert actions(result.counterexample)[-2:] == ["crash(n='db1')", "promote(n='db3')"]


@pytest.mark.parametrize(("split_brain", "expected"), [(True, "violated"), (False, "holds")])
def test_split_brain_two_primaries_during_a_partition(tmp_path: Path, split_brain: bool, expected: str) -> None:
    # old_primary_acks_during_partition: partition(db1, db2) cuts db2 off, db2 is promoted while
    # db1 keeps acting, and both are up: partition, promote (2 steps).  Without it, a partition
    # alone never allows a promotion (the primary still serves), so there is one primary.
    path = design(tmp_path, {"ack": "primary.disk", "promote": "any", "old_primary_acks_during_partition": split_brain}, ["partition"], 1,
                  [{"kind": "single_primary"}])
    result = verdict(path, "single_primary")
    assert result.verdict == expected
    if split_brain:
        assert [s.label for s in result.counterexample.steps[1:]] == ["partition(a='db1', b='db2')", "promote(n='db2')"]
