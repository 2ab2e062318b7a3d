"""Design and property files that used to pass silently, crash or hang: each is now a located error.

Every case here failed on main before this change: a verdict that was not earned (a property
shadowing the built-in goal, ``--property`` dropping the reachability goal), a traceback (non-UTF-8
text, deep nesting, a list inside ``kinds``), a hang (a FIFO or ``/dev/zero`` as a property set, a
quadratic line locator), or silence (a misspelt node key taken as a failure domain).

Each bad design is written inline with the line in error marked ``# <- error here``; the test finds
the expected line by that marker and checks the command line (exit 2, one ``error: FILE:LINE: KEY:``
line, no traceback) and the Python API (:class:`DesignError` with the same file, line and key).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ordercheck import check
from ordercheck.cli import main
from ordercheck.design import MAX_FILE_BYTES, DesignError, load_design
from ordercheck.lang.errors import InputError

DESIGNS = Path(__file__).resolve().parent / "data" / "designs"
MARKER = "# <- error here"

NODES = """\
name = "t"
orders = 1

[[node]]
name = "db1"
role = "primary"

[[node]]
name = "db2"
role = "replica"
replication = "sync"
"""

PROTOCOL = """
[protocol]
ack = "primary.disk and 1 of sync.disk"
"""

CHECK = """
[check]
faults = { kinds = ["disk-loss"], budget = 1 }

[[check.property]]
kind = "never_lost"
"""

VALID = NODES + PROTOCOL + CHECK


def run_cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def marked(text: str) -> int:
    lines = [i for i, line in enumerate(text.split("\n"), start=1) if MARKER in line]
    assert len(lines) == 1, text
    return lines[0]


def write(folder: Path, text: str | bytes, name: str = "d.toml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def expect_error(design: Path, key: str, *words: str, line: int | None = None, error_file: Path | None = None) -> str:
    """``check DESIGN`` exits 2 with one located message, and ``load_design`` raises the same location."""
    error_file = error_file or design
    if line is None:
        line = marked(error_file.read_text())
    code, out, err = run_cli("check", design, "--quiet")
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    assert err.count("error: ") == 1, err
    where = f"error: {error_file}:{line}: " if line else f"error: {error_file}: "
    assert err.startswith(where + (f"{key}: " if key else "")), err
    for word in words:
        assert word in err, (word, err)
    with pytest.raises(DesignError) as info:
        load_design(design)
    assert (info.value.path, info.value.line, info.value.key) == (error_file, line, key)
    return err


def test_the_valid_base_design_loads(tmp_path: Path) -> None:
    # The cases below change one line of this design; it must itself be fine.
    assert [p.label for p in load_design(write(tmp_path, VALID)).properties] == ["never_lost"]


# ----------------------------------------------------------------------------- 1. unearned verdicts

def test_a_property_may_not_take_the_built_in_goals_name(tmp_path: Path) -> None:
    # On main this property shadowed the built-in goal: --property "an order can be acknowledged" then
    # reported holds although this never_lost (ack from the primary's disk alone) is violated.
    text = NODES + PROTOCOL.replace("primary.disk and 1 of sync.disk", "primary.disk") + CHECK.replace(
        'kind = "never_lost"', 'kind = "never_lost"\nname = "an order can be acknowledged"  ' + MARKER)
    expect_error(write(tmp_path, text), "check.property[0].name", "'an order can be acknowledged'", "another name")


def test_a_property_set_may_not_take_the_built_in_goals_name(tmp_path: Path) -> None:
    props = write(tmp_path, '[[property]]\nkind = "never_lost"\nname = "an order can be acknowledged"  ' + MARKER + "\n", "p.toml")
    design = write(tmp_path, NODES + PROTOCOL + '\n[check]\nproperties = ["p.toml"]\n')
    expect_error(design, "property[0].name", "another name", error_file=props)


def test_two_properties_with_one_name_across_files_point_at_the_second(tmp_path: Path) -> None:
    write(tmp_path, '[[property]]\nkind = "never_lost"\nname = "safe"\n', "p.toml")
    text = NODES + PROTOCOL + '\n[check]\nproperties = ["p.toml"]\n\n[[check.property]]\nkind = "no_duplicates"\nname = "safe"  ' + MARKER + "\n"
    err = expect_error(write(tmp_path, text), "check.property[0].name", "'safe'", "p.toml:3")
    assert "give one a name" in err


def test_two_unnamed_properties_of_one_kind_point_at_the_second_kind(tmp_path: Path) -> None:
    text = VALID + '\n[[check.property]]\nkind = "never_lost"  ' + MARKER + "\n"
    expect_error(write(tmp_path, text), "check.property[1].kind", "'never_lost'")


def test_selecting_a_property_keeps_the_reachability_goal() -> None:
    # never-fsync.toml can never acknowledge (ack waits for a disk that nothing reaches), so never_lost
    # holds vacuously.  On main, --property never_lost dropped the goal and the run exited 0.
    design = DESIGNS / "ok" / "never-fsync.toml"
    code, out, _ = run_cli("check", design, "--property", "never_lost", "--quiet")
    assert code == 1, out
    assert re.search(r"an order can be acknowledged\s+violated", out), out
    result = check(load_design(design).model(), properties=["never_lost"])
    assert {p.name: p.verdict for p in result.properties} == {"never_lost": "holds", "an order can be acknowledged": "violated"}
    assert result.verdict == "violated"


def test_selecting_a_property_keeps_the_goal_in_bmc_too() -> None:
    # The built-in goal is in every engine's selection.  The design has 11 states and no execution
    # longer than 5 (fsync = "never": submit, write, crash, restart, and the goal is never reached),
    # so a depth-8 BMC exhausts it and reports the goal violated, like the explicit engine.
    model = load_design(DESIGNS / "ok" / "never-fsync.toml").model()
    result = check(model, engine="bmc", depth=8, properties=["never_lost"])
    assert result.property("an order can be acknowledged").verdict == "violated"


def test_an_empty_selection_checks_nothing() -> None:
    # properties=[] asks for an exploration only (the agreement tests count states that way).
    result = check(load_design(DESIGNS / "ok" / "never-fsync.toml").model(), properties=[])
    assert result.properties == []


# ----------------------------------------------------------------------------- 2. robust reading

def test_a_design_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    text = (NODES + PROTOCOL + CHECK).replace('name = "t"', 'name = "caf\u00e9"  ' + MARKER)
    design = write(tmp_path, text.encode("latin-1"))
    err = expect_error(design, "", "not UTF-8", "0xe9", line=1)
    assert "UnicodeDecodeError" not in err


def test_a_property_set_that_is_not_utf8_names_its_own_file(tmp_path: Path) -> None:
    props = write(tmp_path, '[[property]]\nkind = "never_lost"\nname = "\xe9t\xe9"\n'.encode("latin-1"), "p.toml")
    design = write(tmp_path, NODES + PROTOCOL + '\n[check]\nproperties = ["p.toml"]\n')
    expect_error(design, "", "not UTF-8", line=3, error_file=props)


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ("{a = ", "}")], ids=["arrays", "inline-tables"])
def test_5000_deep_nesting_is_an_error_not_a_recursion_error(tmp_path: Path, open_: str, close: str) -> None:
    text = VALID + "\n[extra]\n" + "x = " + open_ * 5000 + "1" + close * 5000 + "  " + MARKER + "\n"
    err = expect_error(write(tmp_path, text), "", "nested too deeply")
    assert "RecursionError" not in err


@pytest.mark.parametrize("where", ["top", "node", "protocol-preset", "check"])
def test_a_3000_part_dotted_key_is_an_unknown_key(tmp_path: Path, where: str) -> None:
    dotted = ".".join(["a"] * 3000) + " = 1  " + MARKER
    if where == "top":
        text, key = dotted + "\n" + VALID, "a"
    elif where == "node":
        text, key = VALID.replace('role = "primary"', 'role = "primary"\n' + dotted), "node[0].a"
    elif where == "protocol-preset":
        text, key = NODES + '\n[protocol]\npreset = "postgresql"\n' + dotted + "\n" + CHECK, "protocol.a"
    else:
        text, key = VALID.replace("[check]", "[check]\n" + dotted), "check.a"
    err = expect_error(write(tmp_path, text), key)
    assert len(err) < 20_000, "the message quotes a short form of the nested value"


def test_a_list_inside_the_fault_kinds_is_a_type_error_at_kinds(tmp_path: Path) -> None:
    # On main: TypeError (unhashable list) from `kind in FAULT_KIND_NAMES`, exit 1.
    text = VALID.replace('faults = { kinds = ["disk-loss"], budget = 1 }', 'faults = { kinds = [["disk-loss"]], budget = 1 }  ' + MARKER)
    expect_error(write(tmp_path, text), "check.faults.kinds", "unknown fault kind ['disk-loss']")


def test_a_nul_byte_in_a_property_set_path(tmp_path: Path) -> None:
    text = NODES + PROTOCOL + '\n[check]\nproperties = ["p\\u0000.toml"]  ' + MARKER + "\n"
    expect_error(write(tmp_path, text), "check.properties", "NUL")


def _design_reading(tmp_path: Path, target: str) -> Path:
    return write(tmp_path, NODES + PROTOCOL + f'\n[check]\nproperties = ["{target}"]  {MARKER}\n')


def check_in_a_child(design: Path) -> str:
    """``check DESIGN`` in a child process with 1 GB of memory and 60 s, so a regression cannot take the machine."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)); "
    code = limit + f"import sys; from ordercheck.cli import main; sys.exit(main(['check', {str(design)!r}, '--quiet']))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists() or sys.platform != "linux", reason="no /dev/zero or RLIMIT_AS here")
def test_a_property_set_that_is_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    design = _design_reading(tmp_path, "/dev/zero")
    err = check_in_a_child(design)
    assert err.startswith(f"error: {design}:{marked(design.read_text())}: check.properties: "), err
    assert "not a regular file" in err
    expect_error(design, "check.properties", "not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform != "linux", reason="no FIFOs or RLIMIT_AS here")
def test_a_property_set_that_is_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    # Opening a FIFO with no writer blocks forever: the loader must not open it.
    os.mkfifo(tmp_path / "p.toml")
    design = _design_reading(tmp_path, "p.toml")
    assert "check.properties: " in check_in_a_child(design)
    expect_error(design, "check.properties", "not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform != "linux", reason="no FIFOs or RLIMIT_AS here")
def test_a_design_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "d.toml"
    os.mkfifo(fifo)
    assert "not a regular file" in check_in_a_child(fifo)
    with pytest.raises(DesignError, match="not a regular file"):
        load_design(fifo)


def test_a_property_set_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sets").mkdir()
    expect_error(_design_reading(tmp_path, "sets"), "check.properties", "directory")


@pytest.mark.parametrize(("target", "words"), [
    ("x" * 5000 + ".toml", ("cannot be read",)),
    ("loop.toml", ("cannot be read",)),
], ids=["name-too-long", "symlink-loop"])
def test_a_property_set_name_the_system_refuses(tmp_path: Path, target: str, words: tuple[str, ...]) -> None:
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    expect_error(_design_reading(tmp_path, target), "check.properties", *words)


def test_a_property_set_listed_twice(tmp_path: Path) -> None:
    write(tmp_path, '[[property]]\nkind = "never_lost"\n', "p.toml")
    expect_error(_design_reading(tmp_path, 'p.toml", "./p.toml'), "check.properties", "listed twice")


def test_a_property_set_larger_than_the_limit_says_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "p.toml"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space used
    expect_error(_design_reading(tmp_path, "p.toml"), "check.properties", "16 MB")


# ----------------------------------------------------------------------------- 3. the line locator is linear

def test_a_10_mb_description_loads_in_seconds(tmp_path: Path) -> None:
    # On main the inline-key search backtracked over every run of name characters: a 100 KB value
    # took 71 s, so 10 MB would take days.  Parsing 10 MB with tomllib takes about 1.5 s here.
    design = write(tmp_path, 'description = "' + "a" * 10_000_000 + '"\n' + VALID)
    started = time.monotonic()
    loaded = load_design(design)
    assert time.monotonic() - started < 20
    assert len(loaded.description) == 10_000_000


def test_a_10_mb_inline_table_value_still_finds_lines(tmp_path: Path) -> None:
    text = VALID.replace('faults = { kinds = ["disk-loss"], budget = 1 }',
                         'faults = { kinds = ["disk-loss"], budget = "' + "b" * 10_000_000 + '" }  ' + MARKER)
    started = time.monotonic()
    expect_error(write(tmp_path, text), "check.faults.budget", "a number of faults")
    assert time.monotonic() - started < 40


def test_keys_inside_multiline_strings_are_not_taken_for_keys(tmp_path: Path) -> None:
    # A description that mentions "orders = ..." must not move the error to the description.
    text = 'description = """\norders = 2\n"""\n' + VALID.replace("orders = 1", "orders = 9  " + MARKER)
    expect_error(write(tmp_path, text), "orders", "between 1 and 4")


def test_an_array_element_on_its_own_line_is_not_a_table_header() -> None:
    # `["a"]` alone on a line inside a multi-line array used to switch the locator to a table "a",
    # so the keys after it were looked up under the wrong table.
    from ordercheck.design import _Lines

    lines = _Lines('[check]\nkinds = [\n  ["a"]\n]\nbudget = 1\n[x]\ns = "a[b"  # [\ny = 2\n')
    assert (lines.line("check", "kinds"), lines.line("check", "budget"), lines.line("x", "y")) == (2, 5, 8)


# ----------------------------------------------------------------------------- 4. located errors, not silence

@pytest.mark.parametrize(("change", "key", "words"), [
    ('kind = "survives"\ndomain = []  ' + MARKER, "check.property[0].domain", ("at least one failure domain",)),
    ('kind = "never_lots"  ' + MARKER, "check.property[0].kind", ("did you mean 'never_lost'?",)),
    ('kind = "never_lost"\nknd = "x"  ' + MARKER, "check.property[0].knd", ("did you mean 'kind'?",)),
], ids=["survives-empty-domain", "kind-typo", "property-key-typo"])
def test_property_mistakes(tmp_path: Path, change: str, key: str, words: tuple[str, ...]) -> None:
    text = VALID.replace('kind = "never_lost"', change)
    expect_error(write(tmp_path, text), key, *words)


@pytest.mark.parametrize(("line", "key", "words"), [
    ("max_states = 0", "check.max_states", ("above 0",)),
    ("max_states = -5", "check.max_states", ("above 0",)),
    ("max_seconds = 0.0", "check.max_seconds", ("above 0",)),
    ("max_seconds = nan", "check.max_seconds", ("above 0", "nan")),
    ("max_seconds = -inf", "check.max_seconds", ("above 0",)),
    ("max_state = 10", "check.max_state", ("did you mean 'max_states'?",)),
], ids=["max-states-0", "max-states-negative", "max-seconds-0", "max-seconds-nan", "max-seconds-inf", "typo"])
def test_check_limits_are_positive(tmp_path: Path, line: str, key: str, words: tuple[str, ...]) -> None:
    text = VALID.replace("[check]", f"[check]\n{line}  {MARKER}")
    expect_error(write(tmp_path, text), key, *words)


@pytest.mark.parametrize(("faults", "key", "words"), [
    ('{ kinds = ["crash", "disk-loss", "crash"] }', "check.faults.kinds", ("'crash'", "twice")),
    ('{ kinds = ["disk_loss"] }', "check.faults.kinds", ("did you mean 'disk-loss'?",)),
    ('{ budjet = 1 }', "check.faults.budjet", ("did you mean 'budget'?",)),
], ids=["duplicate-kind", "kind-typo", "key-typo"])
def test_fault_mistakes(tmp_path: Path, faults: str, key: str, words: tuple[str, ...]) -> None:
    text = VALID.replace('{ kinds = ["disk-loss"], budget = 1 }', faults + "  " + MARKER)
    expect_error(write(tmp_path, text), key, *words)


def test_an_empty_design_name_is_an_error(tmp_path: Path) -> None:
    text = VALID.replace('name = "t"', 'name = " "  ' + MARKER, 1)
    expect_error(write(tmp_path, text), "name", "not empty")


def test_an_empty_role_is_an_error(tmp_path: Path) -> None:
    text = VALID.replace('role = "primary"', 'role = ""  ' + MARKER)
    expect_error(write(tmp_path, text), "node[0].role", "every node has a role")


@pytest.mark.parametrize(("old", "new", "key", "suggestion"), [
    ("orders = 1", "ordres = 1", "ordres", "orders"),
    ('ack = "primary.disk and 1 of sync.disk"', 'acks = "primary.disk"', "protocol.acks", "ack"),
    ("[check]", "[check]\nproperty_sets = []", "check.property_sets", "properties"),
], ids=["top", "protocol", "check"])
def test_unknown_keys_suggest_the_closest(tmp_path: Path, old: str, new: str, key: str, suggestion: str) -> None:
    text = VALID.replace(old, new + "  " + MARKER, 1)
    expect_error(write(tmp_path, text), key, f"did you mean {suggestion!r}?")


@pytest.mark.parametrize(("old", "new", "key", "suggestion"), [
    ('ack = "primary.disk and 1 of sync.disk"', 'ack = "primary.disk"\nfsync = "before_ack"', "protocol.fsync", "before-ack"),
    ('ack = "primary.disk and 1 of sync.disk"', 'ack = "primary.disk"\npromote = "most-up-to-dat"', "protocol.promote", "most-up-to-date"),
    ('replication = "sync"', 'replication = "synch"', "node[1].replication", "sync"),
    ('ack = "primary.disk and 1 of sync.disk"', 'ack = "primary.disk"\nstores = { replcia = "memory" }', "protocol.stores.replcia", "replica"),
], ids=["fsync", "promote", "replication", "stores-role"])
def test_misspelt_values_suggest_the_closest(tmp_path: Path, old: str, new: str, key: str, suggestion: str) -> None:
    text = VALID.replace(old, new + "  " + MARKER, 1)
    expect_error(write(tmp_path, text), key, f"did you mean {suggestion!r}?")


def test_a_misspelt_preset_setting_suggests_the_products_name(tmp_path: Path) -> None:
    text = NODES + '\n[protocol]\npreset = "postgresql"\nsynchronous_comit = "on"  ' + MARKER + "\n" + CHECK
    expect_error(write(tmp_path, text), "protocol.synchronous_comit", "did you mean 'synchronous_commit'?")


def test_a_nul_byte_in_a_design_path(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="NUL"):
        load_design(tmp_path / "d\x00.toml")
    code, _, err = run_cli("check", tmp_path / "d\x00.toml")
    assert code == 2 and "Traceback" not in err


def test_a_misspelt_medium_suggests_one(tmp_path: Path) -> None:
    text = VALID.replace("[protocol]", '[protocol]\nstores = { primary = "disc" }  ' + MARKER)
    expect_error(write(tmp_path, text), "protocol.stores.primary", "did you mean 'disk'?")


# ----------------------------------------------------------------------------- 5. issue 11: mistakes that passed silently

def test_a_misspelt_node_key_is_not_a_failure_domain(tmp_path: Path) -> None:
    # On main `replicaton` became a failure domain and the replica silently had no replication mode.
    text = VALID.replace('replication = "sync"', 'replicaton = "sync"  ' + MARKER)
    expect_error(write(tmp_path, text), "node[1].replicaton", "did you mean 'replication'?")


def test_a_misspelt_failure_domain_suggests_the_known_one(tmp_path: Path) -> None:
    text = VALID.replace('role = "primary"', 'role = "primary"\nrakc = "r1"  ' + MARKER)
    expect_error(write(tmp_path, text), "node[0].rakc", "did you mean 'rack'?")


def test_known_failure_domains_need_no_declaration(tmp_path: Path) -> None:
    text = VALID.replace('role = "primary"', 'role = "primary"\nsite = "s1"\nrack = "r1"').replace(
        'replication = "sync"', 'replication = "sync"\nsite = "s2"\nrack = "r2"')
    topology = load_design(write(tmp_path, text)).topology
    assert topology.domain_kinds == ("site", "rack")


def test_declared_failure_domains_are_accepted_and_checked(tmp_path: Path) -> None:
    # Each node in its own cage: a cage failure is a node failure here, so the design keeps its verdicts;
    # what matters is that `cage` is accepted once declared and usable as a fault domain.
    text = ('failure_domains = ["cage"]\n' + VALID).replace('role = "primary"', 'role = "primary"\ncage = "c1"').replace(
        'replication = "sync"', 'replication = "sync"\ncage = "c2"').replace("budget = 1 }", 'budget = 1, domain = "cage" }')
    design = load_design(write(tmp_path, text))
    assert design.topology.domain_kinds == ("cage",)
    assert design.faults.domain == "cage"


def test_an_undeclared_failure_domain_is_refused(tmp_path: Path) -> None:
    text = VALID.replace('role = "primary"', 'role = "primary"\ncage = "c1"  ' + MARKER)
    expect_error(write(tmp_path, text), "node[0].cage", "failure_domains")


@pytest.mark.parametrize(("value", "words"), [
    ('"cage"', ("a list of failure-domain names",)),
    ('["cage", "cage"]', ("'cage'", "twice")),
    ('["role"]', ("node key",)),
    ('["cage"]', ("no node has a 'cage'",)),
], ids=["not-a-list", "twice", "reserved", "unused"])
def test_failure_domain_declaration_mistakes(tmp_path: Path, value: str, words: tuple[str, ...]) -> None:
    text = f"failure_domains = {value}  {MARKER}\n" + VALID
    expect_error(write(tmp_path, text), "failure_domains", *words)


@pytest.mark.parametrize(("role", "known"), [("replca", "replica"), ("replicas", "replica"), ("primry", "primary")])
def test_a_misspelt_role_gets_a_suggestion(tmp_path: Path, role: str, known: str) -> None:
    text = VALID.replace('role = "replica"', f'role = "{role}"  ' + MARKER)
    expect_error(write(tmp_path, text), "node[1].role", f"did you mean {known!r}?")


@pytest.mark.parametrize("role", ["witness", "api", "arbiter", "reporting"])
def test_a_role_of_its_own_is_still_allowed(tmp_path: Path, role: str) -> None:
    # "any other name" stays valid: a role not very close to a known one is not a typo ("api" is
    # one letter from "app", but three letters are too few to tell).
    text = VALID + f'\n[[node]]\nname = "w1"\nrole = "{role}"\n'
    assert load_design(write(tmp_path, text)).topology.role("w1") == role


def test_a_misspelt_property_domain_suggests_the_topologys(tmp_path: Path) -> None:
    text = VALID.replace('role = "primary"', 'role = "primary"\nrack = "r1"').replace(
        'replication = "sync"', 'replication = "sync"\nrack = "r2"').replace(
        'kind = "never_lost"', 'kind = "survives"\ndomain = "rak"  ' + MARKER)
    expect_error(write(tmp_path, text), "check.property[0].domain", "did you mean 'rack'?")


def test_the_known_domains_are_listed_once(tmp_path: Path) -> None:
    # On main: "(known: node, rack) (domains: node, rack)".
    text = VALID.replace('role = "primary"', 'role = "primary"\nrack = "r1"').replace(
        'replication = "sync"', 'replication = "sync"\nrack = "r2"').replace(
        'kind = "never_lost"', 'kind = "survives"\ndomain = "site"  ' + MARKER)
    err = expect_error(write(tmp_path, text), "check.property[0].domain", "'site'")
    assert err.count("node, rack") == 1 and "known:" not in err, err


def test_const_node_on_a_design_speaks_of_the_design(tmp_path: Path) -> None:
    design = write(tmp_path, VALID)
    code, out, err = run_cli("check", design, "--const", "NODE=a,b")
    assert code == 2, (out, err)
    assert "[[node]] tables" in err and "edit the file" in err, err
    assert "Faults" not in err and "Traceback" not in err
    model_class = load_design(design).model_class
    with pytest.raises(InputError, match=r"\[\[node\]\] tables"):
        model_class(NODE=("a", "b"))
    assert model_class(ORDER=("o1", "o2")) is not None  # other constants still apply


# ----------------------------------------------------------------------------- 6. the docs list what the code accepts

def test_docs_designs_md_names_every_design_key_and_failure_domain() -> None:
    # The key lists live in design.py and topology.py; a key added there and not documented fails here.
    from ordercheck import design
    from ordercheck.domain.topology import KNOWN_FAILURE_DOMAINS
    from ordercheck.protocols.family import FAULT_KIND_NAMES, PROPERTY_KINDS

    doc = (Path(__file__).resolve().parent.parent / "docs" / "designs.md").read_text()
    names = (*design.TOP_KEYS, *design.CHECK_KEYS, *design.FAULT_KEYS, *design.PROPERTY_KEYS, *design.NODE_KEYS,
             *design.KNOWN_ROLES, *KNOWN_FAILURE_DOMAINS, *PROPERTY_KINDS, *FAULT_KIND_NAMES)
    missing = [n for n in names if not re.search(rf"`[^`\n]*(?<![\w-]){re.escape(n)}(?![\w-])[^`\n]*`", doc)]
    assert missing == []
