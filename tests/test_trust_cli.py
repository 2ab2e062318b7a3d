"""Trust at the command line (issue 10): exit codes are a contract, user code cannot end a run,
replay tells a fix from a foreign trace, output paths and options are checked, signals give
partial reports.

Each test here failed on main before this change.  Expected numbers are worked out by hand next
to the assertion; nothing is pasted from ordercheck's own output.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

import ordercheck.api
import ordercheck.cli
from ordercheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "model"
DIEHARD = SHIPPED / "diehard.py"
TWOPHASE = SHIPPED / "twophase.py"
REPLICATION = SHIPPED / "replication.py"


def run_cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(*args: object, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ordercheck ARGS`` (or ``python -c CODE ARGS``) in a fresh interpreter."""
    head = ["-c", code, "--"] if code else ["-m", "ordercheck"]
    return subprocess.run([sys.executable, *head, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


COUNTER = """
from ordercheck import Int, Model, Var, action, invariant, require


class Counter(Model):
    x = Var(Int(0, 2), init=0)

    @action
    def inc(s):
        require(s.x < 2)
        s.x = s.x + 1

    @invariant
    def small(s):
        return s.x < 5
"""


# ----------------------------------------------------------------------------- 1. exit code 4: a bug in ordercheck


@pytest.fixture
def crash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "crashes"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def assert_internal_error(code: int, out: str, err: str, crash_dir: Path, exc_name: str) -> None:
    assert code == 4, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback on the terminal
    assert "bug in ordercheck" in lines[0] and "Traceback" not in err
    files = list(crash_dir.glob("ordercheck-crash-*.txt"))
    assert len(files) == 1 and str(files[0]) in lines[0]
    report = files[0].read_text()
    assert "Traceback (most recent call last)" in report and exc_name in report


def test_a_fault_in_the_engine_is_exit_4_with_the_traceback_in_a_file(monkeypatch: pytest.MonkeyPatch, crash_dir: Path) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("injected fault")

    monkeypatch.setattr(ordercheck.api, "explore", broken)
    monkeypatch.setattr(ordercheck.api, "explore_levels", broken)
    code, out, err = run_cli("check", DIEHARD)
    assert_internal_error(code, out, err, crash_dir, "ZeroDivisionError: injected fault")


@pytest.mark.parametrize("raised", [SystemExit(0), SystemExit(1), KeyError("x"), MemoryError()])
def test_whatever_escapes_the_engine_never_exits_0_1_or_3(monkeypatch: pytest.MonkeyPatch, crash_dir: Path, raised: BaseException) -> None:
    """A ``SystemExit(0)`` from inside ordercheck would read as "holds" to a CI job: it is exit 4."""
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(ordercheck.cli, "check", broken)
    code, out, err = run_cli("check", TWOPHASE, "--quiet")
    assert_internal_error(code, out, err, crash_dir, type(raised).__name__)


INJECT = """
import runpy, sys
import ordercheck.api
def broken(*args, **kwargs):
    raise RuntimeError("injected fault")
ordercheck.api.explore = ordercheck.api.explore_levels = broken
sys.argv = ["ordercheck", *sys.argv[1:]]
runpy.run_module("ordercheck", run_name="__main__")
"""


def test_python_dash_m_goes_through_the_internal_error_handler(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", INJECT, "check", str(DIEHARD)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert proc.returncode == 4, proc.stderr
    assert "bug in ordercheck" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.glob("ordercheck-crash-*.txt"))


def test_the_console_script_is_main() -> None:
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "ordercheck"]
    assert script.load() is ordercheck.cli.main


def test_exit_code_4_is_documented() -> None:
    assert "| 4 |" in (ROOT / "docs" / "cli.md").read_text()
    assert "4 an internal error" in (ROOT / "README.md").read_text()
    assert "4 an internal" in (ordercheck.cli.__doc__ or "")


# ----------------------------------------------------------------------------- 2. user code cannot end the run


def assert_model_error_at(code: int, err: str, path: Path, line: int, *words: str) -> None:
    assert code == 2, err
    assert f"{path}:{line}" in err, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def test_sys_exit_0_at_import_is_a_model_error(tmp_path: Path) -> None:
    path = write(tmp_path / "quits.py", "import sys\n" + COUNTER + "\nsys.exit(0)\n")
    code, _, err = run_cli("check", path)
    assert_model_error_at(code, err, path, line_of(path, "sys.exit(0)"), "SystemExit(0)")


def test_sys_exit_0_at_import_in_a_subprocess_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path / "quits.py", "import sys\n" + COUNTER + "\nsys.exit(0)\n")
    proc = run_subprocess("check", path)
    assert_model_error_at(proc.returncode, proc.stderr, path, line_of(path, "sys.exit(0)"), "SystemExit(0)")


def test_a_helper_file_that_exits_at_import_is_a_model_error(tmp_path: Path) -> None:
    write(tmp_path / "model" / "counter.py", COUNTER)
    helper = write(tmp_path / "model" / "helper.py", "import sys\nsys.exit(0)\n")
    code, _, err = run_cli("check", tmp_path / "model", "--quiet")
    assert_model_error_at(code, err, helper, 2, "SystemExit(0)")


def test_sys_exit_in_an_action_is_a_model_error(tmp_path: Path) -> None:
    text = COUNTER.replace("        s.x = s.x + 1", "        s.x = s.x + 1\n        raise SystemExit(0)")
    path = write(tmp_path / "exits_in_action.py", text)
    code, _, err = run_cli("check", path)
    assert_model_error_at(code, err, path, line_of(path, "raise SystemExit(0)"), "SystemExit(0)")


def test_keyboard_interrupt_at_import_is_a_model_error_not_an_interruption(tmp_path: Path) -> None:
    path = write(tmp_path / "ctrlc.py", COUNTER + "\nraise KeyboardInterrupt\n")
    code, _, err = run_cli("check", path)
    assert_model_error_at(code, err, path, line_of(path, "raise KeyboardInterrupt"), "KeyboardInterrupt")


def test_any_base_exception_from_user_code_is_a_model_error(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.py", "class Odd(BaseException):\n    pass\n" + COUNTER.replace(
        "        s.x = s.x + 1", "        s.x = s.x + 1\n        raise Odd('no')"))
    code, _, err = run_cli("check", path)
    assert_model_error_at(code, err, path, line_of(path, "raise Odd"), "Odd")


def test_a_helper_method_that_recurses_forever_is_named(tmp_path: Path) -> None:
    text = COUNTER.replace("    @action\n    def inc(s):", "    def bump(s, v):\n        return s.bump(v + 1)\n\n    @action\n    def inc(s):") \
        .replace("        s.x = s.x + 1", "        s.x = s.bump(s.x)")
    path = write(tmp_path / "recurses.py", text)
    code, _, err = run_cli("check", path)
    assert_model_error_at(code, err, path, line_of(path, "return s.bump(v + 1)"), "bump()", "without end", "inc()")


# ----------------------------------------------------------------------------- 3. replay: still violated, fixed, or not this model


def design(name: str, nodes: tuple[str, str]) -> str:
    """Two servers; the client is acknowledged once the primary alone has the order on disk.

    By hand: with one disk loss allowed, accept, write, fsync on the primary, ack, then losing the
    primary's disk loses the acknowledged order, so ``never_lost`` is violated.
    """
    return f"""
name = "{name}"
orders = 1

[[node]]
name = "{nodes[0]}"
role = "primary"

[[node]]
name = "{nodes[1]}"
role = "replica"
replication = "sync"

[protocol]
family = "replicated-log"
ack = "primary.disk"

[check]
faults = {{ kinds = ["disk-loss"], budget = 1 }}

[[check.property]]
kind = "never_lost"
"""


@pytest.fixture(scope="module")
def twin_designs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two designs with the same name (so the same model class name) and different nodes, in one folder."""
    folder = tmp_path_factory.mktemp("twins") / "model"
    write(folder / "a.toml", design("twin", ("db1", "db2")))
    write(folder / "b.toml", design("twin", ("x1", "x2")))
    return folder


def test_same_named_designs_write_separate_trace_files_and_say_which(twin_designs: Path, tmp_path: Path) -> None:
    target = tmp_path / "cex.itf.json"
    code, out, err = run_cli("check", twin_designs, "--trace-out", target, "--quiet")
    assert code == 1, err
    files = sorted(p.name for p in tmp_path.glob("cex*.itf.json"))
    assert len(files) == 2, files
    a, b = (tmp_path / f for f in files)
    nodes = [json.loads(p.read_text())["#meta"]["constants"]["NODE"]["#tup"] for p in (a, b)]
    assert sorted(nodes) == [["db1", "db2"], ["x1", "x2"]]  # neither overwrote the other
    for f in files:
        assert f"written to {tmp_path / f}" in out
    assert str(twin_designs / "a.toml") in out and str(twin_designs / "b.toml") in out


def test_replay_of_another_designs_trace_exits_2(twin_designs: Path, tmp_path: Path) -> None:
    trace = tmp_path / "a.itf.json"
    assert run_cli("check", twin_designs / "a.toml", "--trace-out", trace, "--quiet")[0] == 1
    assert run_cli("replay", twin_designs / "a.toml", trace)[0] == 1
    code, out, err = run_cli("replay", twin_designs / "b.toml", trace)
    assert code == 2, out + err
    assert "does not fit" in err and "another design" in err and "NODE" in err


@pytest.fixture(scope="module")
def diehard_trace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("dh") / "diehard.itf.json"
    assert run_cli("check", DIEHARD, "--trace-out", path, "--quiet")[0] == 1
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def edited(tmp_path: Path, doc: dict[str, Any], name: str = "edited.itf.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_replay_of_a_trace_of_another_model_exits_2(tmp_path: Path) -> None:
    """A TwoPhase trace replayed as DieHard: other variables, other constants."""
    trace = tmp_path / "tp.itf.json"
    path = write(tmp_path / "broken_twophase.py", TWOPHASE.read_text().replace("return forall", "return ~forall"))
    assert run_cli("check", path, "--trace-out", trace, "--quiet")[0] == 1
    code, _, err = run_cli("replay", DIEHARD, trace, "--model", "DieHard")
    assert code == 2
    assert "does not fit" in err and "RM" in err


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["states"][2].__setitem__("small", True), ("state 3", "small is true", "Int(0, 3)")),
    (lambda d: d["states"][2].__setitem__("small", {"#set": []}), ("state 3", "small", "Int(0, 3)")),
    (lambda d: d["states"][2].__setitem__("small", {"#bigint": "7"}), ("state 3", "small is 7", "Int(0, 3)")),
    (lambda d: d["#meta"]["constants"].__setitem__("JUGS", {"#bigint": "2"}), ("JUGS", "does not declare")),
    (lambda d: d["#meta"].__setitem__("property", "gone"), ("'gone'", "does not have")),
    (lambda d: d["#meta"].__setitem__("kind", "induction"), ("counterexample to induction",)),
    (lambda d: d["states"][1]["#meta"].__setitem__("params", {"to": {"#map": []}}), ("step 2", "fill_big takes (no parameters)")),
], ids=["bool-for-int", "set-for-int", "out-of-range", "other-constant", "other-property", "induction", "other-params"])
def test_replay_of_a_trace_with_values_the_model_cannot_hold_exits_2(diehard_trace: dict[str, Any], tmp_path: Path,
                                                                     edit: Any, words: tuple[str, ...]) -> None:
    doc = json.loads(json.dumps(diehard_trace))
    edit(doc)
    code, out, err = run_cli("replay", DIEHARD, edited(tmp_path, doc))
    assert code == 2, out + err
    assert "does not fit" in err and "Traceback" not in err
    for word in words:
        assert word in err, err


def test_replay_of_a_map_missing_a_key_or_a_bool_for_a_set_exits_2(tmp_path: Path) -> None:
    trace = tmp_path / "loss.itf.json"
    assert run_cli("check", REPLICATION, "--model", "AckBeforeReplication", "--trace-out", trace, "--quiet")[0] == 1
    doc = json.loads(trace.read_text())
    maps = [v for v in doc["vars"] if isinstance(doc["states"][1][v], dict) and "#map" in doc["states"][1][v]]
    sets = [v for v in doc["vars"] if isinstance(doc["states"][1][v], dict) and "#set" in doc["states"][1][v]]
    assert maps and sets
    missing = json.loads(json.dumps(doc))
    missing["states"][1][maps[0]]["#map"].pop()
    code, _, err = run_cli("replay", REPLICATION, edited(tmp_path, missing, "nokey.itf.json"))
    assert code == 2 and "state 2" in err and "has no entry for" in err, err
    boolean = json.loads(json.dumps(doc))
    boolean["states"][1][sets[0]] = True
    for command in ("replay", "explain"):
        code, _, err = run_cli(command, REPLICATION, edited(tmp_path, boolean, "bool.itf.json"))
        assert code == 2 and "state 2" in err and f"{sets[0]} is true" in err and "SetOf" in err, err


def test_replay_of_a_parameter_outside_its_domain_or_a_map_parameter_exits_2(tmp_path: Path) -> None:
    trace = tmp_path / "loss.itf.json"
    assert run_cli("check", REPLICATION, "--model", "AckBeforeReplication", "--trace-out", trace, "--quiet")[0] == 1
    doc = json.loads(trace.read_text())
    index, step = next((i, s) for i, s in enumerate(doc["states"]) if s["#meta"]["params"])
    name = next(iter(step["#meta"]["params"]))
    for value, words in (("nowhere", ("'nowhere'", "not one of its values")), ({"#map": [[1, 2]]}, ("not one of its values",))):
        step["#meta"]["params"][name] = value
        code, out, err = run_cli("replay", REPLICATION, edited(tmp_path, doc))
        assert code == 2, out + err
        assert f"step {index + 1}" in err and all(w in err for w in words), err
    step["#meta"]["action"] = "no_such_action"  # an action the model lacks, with a map for a parameter
    code, _, err = run_cli("replay", REPLICATION, edited(tmp_path, doc))
    assert code == 2 and "never a map" in err, err


def test_replay_of_a_trace_that_no_longer_gets_there_exits_0_and_names_the_step(diehard_trace: dict[str, Any], tmp_path: Path) -> None:
    # state 4 is empty_small() after big_to_small() from big = 5: big 2, small 0. Claim small stays 3:
    # the trace still fits the model's types, but empty_small leads elsewhere at step 4.
    doc = json.loads(json.dumps(diehard_trace))
    assert doc["states"][3]["#meta"]["action"] == "empty_small"
    doc["states"][3]["small"] = {"#bigint": "3"}
    code, out, _ = run_cli("replay", DIEHARD, edited(tmp_path, doc))
    assert code == 0
    assert "stops at step 4" in out


@pytest.mark.parametrize("command", ["replay", "explain"])
def test_deeply_nested_json_is_an_input_error(tmp_path: Path, command: str) -> None:
    path = tmp_path / "deep.itf.json"
    path.write_text('{"vars": ["big"], "states": [{"big": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    code, _, err = run_cli(command, DIEHARD, path)
    assert code == 2 and "nested too deeply" in err and "Traceback" not in err
    tagged = tmp_path / "deep-tags.itf.json"
    tagged.write_text('{"vars": ["big"], "states": [{"big": ' + '{"#tup": [' * 5000 + "]}" * 5000 + "}]}")
    code, _, err = run_cli(command, DIEHARD, tagged)
    assert code == 2 and "nested too deeply" in err and "Traceback" not in err


def test_explain_of_a_foreign_trace_exits_2(twin_designs: Path, tmp_path: Path) -> None:
    trace = tmp_path / "a.itf.json"
    assert run_cli("check", twin_designs / "a.toml", "--trace-out", trace, "--quiet")[0] == 1
    code, _, err = run_cli("explain", twin_designs / "b.toml", trace)
    assert code == 2 and "another design" in err


# ----------------------------------------------------------------------------- 4. output paths


OUTPUTS = ["--json", "--trace-out", "--html", "--junit", "--sarif", "--markdown", "--svg"]


@pytest.mark.parametrize("option", OUTPUTS)
def test_a_directory_as_an_output_file_is_refused_before_the_search(tmp_path: Path, option: str) -> None:
    code, out, err = run_cli("check", DIEHARD, option, tmp_path)
    assert code == 2, err
    assert option in err and str(tmp_path) in err and "directory" in err
    assert out == ""  # refused before the search: no result printed
    assert "Traceback" not in err


@pytest.mark.parametrize("option", OUTPUTS)
def test_an_output_file_in_a_missing_folder_is_refused(tmp_path: Path, option: str) -> None:
    target = tmp_path / "no" / "such" / "out.txt"
    code, out, err = run_cli("check", DIEHARD, option, target)
    assert code == 2 and option in err and str(target) in err and out == ""


def test_an_output_file_under_a_file_is_refused(tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.txt", "x")
    code, _, err = run_cli("check", DIEHARD, "--junit", plain / "out.xml")
    assert code == 2 and "--junit" in err and "not a directory" in err


@pytest.mark.parametrize("args", [
    ["check", "model\0/diehard.py"],
    ["check", str(DIEHARD), "--json", "out\0.json"],
    ["replay", str(DIEHARD), "trace\0.itf.json"],
])
def test_a_nul_byte_in_a_path_is_an_input_error(args: list[str]) -> None:
    code, _, err = run_cli(*args)
    assert code == 2 and "NUL" in err and "Traceback" not in err


def test_json_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way leaves the previous document whole, and no temporary file behind."""
    target = write(tmp_path / "result.json", '{"verdict": "old"}\n')

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ordercheck.cli.os, "fsync", fail)
    code, _, err = run_cli("check", DIEHARD, "--json", target, "--quiet")
    assert code == 2 and "--json" in err and "No space left" in err
    assert target.read_text() == '{"verdict": "old"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    monkeypatch.undo()
    assert run_cli("check", DIEHARD, "--json", target, "--quiet")[0] == 1
    assert json.loads(target.read_text())["verdict"] == "violated"


# ----------------------------------------------------------------------------- 5. signals: partial, inconclusive reports


def interrupt_when_running(args: list[str], sig: int, after: str) -> tuple[int, str, str]:
    """Start ``python -m ordercheck ARGS``, send ``sig`` once stderr shows ``after``; (exit code, stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "ordercheck", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    seen = []
    watchdog = threading.Timer(90, proc.kill)  # the line never came: fail rather than hang
    watchdog.start()
    try:
        for line in proc.stderr:
            seen.append(line)
            if after in line:
                os.kill(proc.pid, sig)
                break
        out, rest = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, "".join(seen) + rest


# TwoPhase with five RMs holds, so BMC and induction keep going deeper (each depth slower) until stopped.
BIG_TWOPHASE = [str(TWOPHASE), "--const", "RM=a,b,c,d,e"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_bmc_gives_a_partial_inconclusive_report(sig: int) -> None:
    code, out, err = interrupt_when_running(["check", *BIG_TWOPHASE, "--engine", "bmc", "--depth", "200"], sig, "depth 5:")
    assert code == 3, out + err
    assert "consistent  inconclusive  (interrupted at depth" in out and "verdict: inconclusive" in out
    assert "Traceback" not in err


def test_sigterm_during_induction_gives_a_partial_inconclusive_report() -> None:
    code, out, err = interrupt_when_running(["check", *BIG_TWOPHASE, "--engine", "induction", "--depth", "200"], signal.SIGTERM, "k 3:")
    assert code == 3, out + err
    assert "interrupted at k =" in out and "verdict: inconclusive" in out
    assert "Traceback" not in err


def test_sigterm_during_the_explicit_search_gives_a_partial_inconclusive_report() -> None:
    args = ["check", str(TWOPHASE), "--const", "RM=a,b,c,d,e,f,g,h,i"]
    code, out, err = interrupt_when_running(args, signal.SIGTERM, "states, depth")
    assert code == 3, out + err
    assert "interrupted after" in out and "verdict: inconclusive" in out
    assert "Traceback" not in err


def test_sigterm_stops_the_whole_run_not_only_the_current_model(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write(folder / "a_twophase.py", TWOPHASE.read_text())
    write(folder / "b_diehard.py", DIEHARD.read_text())
    args = ["check", str(folder), "--const", "RM=a,b,c,d,e,f,g,h,i"]
    code, out, err = interrupt_when_running(args, signal.SIGTERM, "states, depth")
    assert code == 3, out + err
    assert "TwoPhase(" in out and "interrupted after" in out
    assert "DieHard(" not in out and "interrupted: not checked: DieHard" in err


def test_workers_terminated_at_the_end_of_a_run_do_not_interrupt_z3_afterwards() -> None:
    """A pool's workers get SIGTERM when a run ends; that is not the run being stopped, and Z3 must work after it."""
    code, out, err = run_cli("check", TWOPHASE, "--workers", "2", "--backend", "vectorized", "--vacuity", "--quiet")
    assert code == 0, out + err  # TLC: TwoPhase holds; the vacuity search (Z3) runs after the workers are gone
    assert "vacuity:" in out
    code, out, err = run_cli("check", DIEHARD, "--engine", "bmc", "--depth", "7", "--quiet")
    assert code == 1, out + err  # DieHard's shortest solution has 7 states (TLC)


def test_ctrl_c_in_z3_without_a_time_bound_is_an_interruption_not_a_type_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Z3 answers "unknown (interrupted)" after Ctrl-C; with no --max-seconds that raised a TypeError."""
    import z3

    from ordercheck.lang.errors import Interrupted
    from ordercheck.symbolic.path import TimedSolver

    solver = TimedSolver(None)
    monkeypatch.setattr(solver.solver, "check", lambda *a: z3.unknown)
    monkeypatch.setattr(solver.solver, "reason_unknown", lambda: "interrupted from keyboard")
    with pytest.raises(Interrupted):
        solver.check()


# ----------------------------------------------------------------------------- 6. options an engine would ignore


@pytest.mark.parametrize("args, option", [
    (["--engine", "bmc", "--depth", "5", "--max-states", "100"], "--max-states"),
    (["--engine", "bmc", "--depth", "5", "--max-depth", "3"], "--max-depth"),
    (["--engine", "induction", "--max-states", "100"], "--max-states"),
    (["--engine", "induction", "--store", "fingerprint"], "--store"),
    (["--engine", "bmc", "--depth", "5", "--device", "gpu"], "--device"),
    (["--engine", "bmc", "--depth", "5", "--lemma", "consistent"], "--lemma"),
    (["--engine", "explicit", "--lemma", "consistent"], "--lemma"),
    (["--depth", "5"], "--depth"),
])
def test_an_option_the_engine_would_ignore_is_refused(args: list[str], option: str) -> None:
    code, out, err = run_cli("check", TWOPHASE, *args)
    assert code == 2, out + err
    assert f"{option} is not used by --engine" in err and out == ""


def test_depth_serves_vacuity_with_the_explicit_engine() -> None:
    code, out, err = run_cli("check", TWOPHASE, "--vacuity", "--depth", "3", "--quiet")
    assert code == 0, err
    assert "vacuity:" in out


# ----------------------------------------------------------------------------- 7. --const


def test_a_repeated_const_is_an_error_naming_it() -> None:
    code, _, err = run_cli("check", TWOPHASE, "--const", "RM=a,b", "--const", "RM=a,b,c")
    assert code == 2 and "--const RM is given twice" in err


DERIVED = """
from ordercheck import Const, Model, SetOf, Var, action, invariant


class Derived(Model):
    BASE = Const((1, 2))
    ITEM = Const(lambda m: tuple(f"i{b}" for b in m.BASE))
    have = Var(SetOf(ITEM), init=())

    @action(i=ITEM)
    def take(s, i):
        s.have = s.have.add(i)

    @invariant
    def fine(s):
        return s.have.count() <= 2
"""


def test_a_one_element_const_for_a_derived_domain_is_a_domain(tmp_path: Path) -> None:
    # By hand: with ITEM = (i1,), `have` is a subset of {i1}: 2 states; as a scalar "i1" it could not be a domain.
    path = write(tmp_path / "derived.py", DERIVED)
    out_json = tmp_path / "r.json"
    code, _, err = run_cli("check", path, "--const", "ITEM=i1", "--json", out_json, "--quiet")
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    assert doc["constants"]["ITEM"] == ["i1"]
    assert doc["stats"]["distinct_states"] == 2


# ----------------------------------------------------------------------------- 8. check DIR says what it loaded


def test_checking_a_folder_says_which_files_it_loaded_and_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write(folder / "counter.py", COUNTER)
    write(folder / "util.py", "HELPER = 1\n")
    code, _, err = run_cli("check", folder)
    assert code == 0, err
    assert f"loaded {folder / 'counter.py'}: Counter" in err
    assert f"skipped {folder / 'util.py'}: it defines no model" in err
    code, _, err = run_cli("check", folder, "--quiet")
    assert code == 0 and err == ""


def test_the_help_and_the_docs_say_that_check_runs_every_py_file() -> None:
    parser = ordercheck.cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    help_text = sub.choices["check"].format_help()  # type: ignore[attr-defined]
    assert "imports (runs) every *.py" in " ".join(help_text.split())
    assert "imports, and so runs, every `*.py` file" in (ROOT / "docs" / "cli.md").read_text()


def test_check_refuses_explicit_bounds_for_the_z3_engines() -> None:
    from ordercheck import check
    from ordercheck.lang.errors import InputError
    from ordercheck.sources import load_module

    model = load_module(DIEHARD).DieHard()
    with pytest.raises(InputError, match="max_states"):
        check(model, engine="bmc", depth=3, max_states=10)
    with pytest.raises(InputError, match="max_depth"):
        check(model, engine="induction", max_depth=3)
    with pytest.raises(InputError, match="store"):
        check(model, engine="induction", store="fingerprint")


def test_a_sigterm_that_reaches_z3_between_two_checks_is_an_interruption() -> None:
    """The SIGTERM watcher interrupts the Z3 context; when no check runs, the next push is canceled: that is the
    interruption arriving, not a bug (it was exit 4)."""
    import z3

    from ordercheck.lang.errors import Interrupted
    from ordercheck.symbolic.path import TimedSolver

    solver = TimedSolver(None)
    z3.main_ctx().interrupt()
    try:
        with pytest.raises(Interrupted):
            solver.query(z3.Bool("a"))
    finally:
        z3.Solver().check()  # clears the pending interrupt for the tests that follow
    assert solver.query(z3.Bool("a"))[0] == z3.sat
