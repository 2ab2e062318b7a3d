"""Errors in a model or in the input: exit code 2, a message that says where and what to do, no traceback.

Each misuse has its own small model in ``tests/data/``, with the offending line marked by the
comment ``# <- error here``; the expected line number is found by searching for that marker,
never written down.  Most cases run the command line in-process (``ordercheck.cli.main``);
a few run ``python -m ordercheck`` in a subprocess, to prove that no traceback escapes.

Tests marked ``xfail(strict=True)`` document problems in ``src/`` described in
``.notes/cli-helper.md``; they start passing (and so fail as XPASS) once fixed.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ordercheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MODELS = ROOT / "model"
MARKER = "# <- error here"
TRUTH_HINT = "use `&`, `|`, `~`"
TRACING_EXCEPTION = "see .notes/cli-helper.md: a Python exception raised while tracing escapes with a traceback and exit 1"


def run_cli(*args: object) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ordercheck`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "ordercheck", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def marked_line(path: Path) -> int:
    """The 1-based number of the line of ``path`` that carries the error marker."""
    lines = [i for i, text in enumerate(path.read_text().splitlines(), start=1) if MARKER in text]
    assert len(lines) == 1, f"{path.name} must mark exactly one line with {MARKER!r}"
    return lines[0]


def assert_located(err: str, path: Path) -> None:
    """``err`` names ``path`` and the marked line, as ``file:line``."""
    assert f"{path.name}:{marked_line(path)}:" in err, err


# ----------------------------------------------------------------------------- misuse while tracing

# (data file, model, the action as the message names it, a hint of what to write instead)
MISUSES = [
    ("bad_if.py", "BadIf", "action bump()", TRUTH_HINT),
    ("bad_and.py", "BadAnd", "action step()", TRUTH_HINT),
    ("bad_or.py", "BadOr", "action step()", TRUTH_HINT),
    ("bad_not.py", "BadNot", "action finish()", TRUTH_HINT),
    # a value outside its type: the message lists the values the type has
    ("bad_label.py", "BadLabel", "action prepare()", "is not one of Enum('working', 'prepared', 'committed')"),
    ("bad_int_range.py", "BadIntRange", "action overfill()", "7 is outside Int(0, 3)"),
    # an unknown domain element, alone or inside a tuple of a product domain
    ("bad_element.py", "BadElement", "action promote(n='db1')", "'db9' is not one of NODE{'db1', 'db2', 'db3'}"),
    ("bad_tuple_element.py", "BadTupleElement", "action send(n='db1')", "('Prepard', 'db1') is not one of MSG{('Prepared', 'db1')"),
    ("bad_init_element.py", "BadInitElement", "variable primary", "'db9' is not one of NODE{'db1', 'db2'}"),
    # type mismatches
    ("bad_type_mismatch.py", "BadTypeMismatch", "action reset()", "expected an integer, got 'zero'"),
    ("bad_type_compare.py", "BadTypeCompare", "action mix()", "expected an integer, got a state expression of type Bool"),
    # assignments to what cannot be assigned
    ("bad_assign_const.py", "BadAssignConst", "action grow()", "N is a constant and cannot be assigned; declare a Var"),
    ("bad_assign_param.py", "BadAssignParam", "action promote", "a parameter is fixed for each binding, so compute a new name"),
    ("bad_undeclared.py", "BadUndeclared", "action bump()", "undeclared variable 'total': declare it in the class body, total = Var("),
]


@pytest.mark.parametrize(("filename", "model", "action", "hint"), MISUSES, ids=[m[0] for m in MISUSES])
def test_misuse_is_a_model_error_naming_file_line_model_action_and_fix(filename: str, model: str, action: str, hint: str) -> None:
    path = DATA / filename
    code, out, err = run_cli("check", path, "--quiet")
    assert code == 2, err
    assert_located(err, path)
    assert f"model {model}" in err
    assert action in err
    assert hint in err
    assert "Traceback" not in err
    assert out == ""


def test_misuse_message_shows_the_offending_source_line() -> None:
    path = DATA / "bad_if.py"
    _, _, err = run_cli("check", path)
    assert "if s.x < 3:" in err


def test_undeclared_read_names_the_variable() -> None:
    path = DATA / "bad_undeclared_read.py"
    code, _, err = run_cli("check", path)
    assert code == 2
    assert_located(err, path)
    assert "model BadUndeclaredRead" in err and "action bump()" in err
    assert "'cuont'" in err


def test_undeclared_read_suggests_the_declared_names() -> None:
    _, _, err = run_cli("check", DATA / "bad_undeclared_read.py")
    message = err.splitlines()[0]
    assert "count" in message.replace("'cuont'", "")


def test_reachable_out_of_range_assignment_shows_the_trace_reaching_it() -> None:
    # x is 0..2 and bump has no guard: the trace reaching the error is x = 0, 1, 2 (3 states),
    # and bump from x = 2 assigns 3.
    path = DATA / "bad_range_reachable.py"
    code, _, err = run_cli("check", path, "--quiet")
    assert code == 2
    assert_located(err, path)
    assert "model BadRangeReachable" in err and "action bump()" in err
    assert "outside Int(0, 2)" in err
    assert "The trace that reaches it" in err
    trace = err[err.index("The trace that reaches it"):]
    assert "State 1: initial state" in trace
    assert "State 3: bump()" in trace
    assert "x: 1 -> 2" in trace
    assert "State 4" not in trace


# ----------------------------------------------------------------------------- constants


def test_duplicate_domain_element_is_refused() -> None:
    code, _, err = run_cli("check", DATA / "bad_duplicate_domain.py")
    assert code == 2
    assert "model BadDuplicateDomain" in err
    assert "constant NODE lists 'db1' twice" in err
    assert "Traceback" not in err


def test_derived_constant_cycle_is_detected() -> None:
    code, _, err = run_cli("check", DATA / "bad_const_cycle.py")
    assert code == 2
    assert "model BadConstCycle" in err
    assert "A -> B -> A" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("filename", ["bad_duplicate_domain.py", "bad_const_cycle.py"])
def test_constant_errors_name_file_and_line(filename: str) -> None:
    path = DATA / filename
    _, _, err = run_cli("check", path)
    assert_located(err, path)


def test_duplicate_elements_in_a_const_override_are_refused() -> None:
    code, _, err = run_cli("check", MODELS / "twophase.py", "--const", "RM=a,b,a")
    assert code == 2
    assert "constant RM lists 'a' twice" in err


# ----------------------------------------------------------------------------- Python errors in a model file


def test_syntax_error_names_file_and_line() -> None:
    path = DATA / "syntax_error.py"
    code, _, err = run_cli("check", path)
    assert code == 2
    assert_located(err, path)
    assert "syntax error" in err and "'return' outside function" in err
    assert "Traceback" not in err


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    # written here rather than shipped in tests/data, so that the linters can parse every file there
    path = tmp_path / "missing_colon.py"
    path.write_text("from ordercheck import Int, Model, Var, action\n\n\nclass Broken(Model):\n    x = Var(Int(0, 3), init=0)\n\n"
                    "    @action\n    def bump(s)  # <- error here\n        s.x = s.x + 1\n")
    code, _, err = run_cli("check", path)
    assert code == 2
    assert_located(err, path)
    assert "syntax error" in err and "expected ':'" in err
    assert "Traceback" not in err
    proc = run_subprocess("check", path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_exception_while_importing_names_file_and_line() -> None:
    path = DATA / "bad_import.py"
    code, _, err = run_cli("check", path)
    assert code == 2
    assert_located(err, path)
    assert "NameError" in err and "'zero'" in err


@pytest.mark.parametrize(("filename", "context"), [
    ("bad_name_in_action.py", "action bump()"),
    ("bad_derived_const_error.py", "model BadDerivedConstError"),
])
def test_exception_while_tracing_is_a_model_error(filename: str, context: str) -> None:
    path = DATA / filename
    code, _, err = run_cli("check", path)
    assert code == 2
    assert_located(err, path)
    assert context in err


def test_exception_while_tracing_prints_no_traceback() -> None:
    proc = run_subprocess("check", DATA / "bad_name_in_action.py")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- no traceback escapes (subprocess)


SUBPROCESS_CASES = ["bad_if.py", "bad_label.py", "bad_assign_param.py", "bad_range_reachable.py", "bad_const_cycle.py", "syntax_error.py"]


@pytest.mark.parametrize("filename", SUBPROCESS_CASES)
def test_subprocess_model_errors_exit_2_without_traceback(filename: str) -> None:
    path = DATA / filename
    proc = run_subprocess("check", path, "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    if filename != "bad_const_cycle.py":
        assert_located(proc.stderr, path)


@pytest.mark.parametrize("args", [
    ["check", "model/twophase.py", "--const", "NOPE=1"],
    ["check", "model/twophase.py", "--model", "Nope"],
    ["check", "model/twophase.py", "--property", "nope"],
    ["check", "model/no_such_model.py"],
    ["check", "pyproject.toml"],
    ["check", "model/twophase.py", "--max-states", "0"],
    ["check", "model/twophase.py", "--max-seconds", "soon"],
    ["check", "model/twophase.py", "--no-such-option"],
    ["replay", "model/diehard.py", "pyproject.toml"],
    ["replay", "model/diehard.py", "no-such-trace.itf.json"],
], ids=["const", "model", "property", "missing", "not-py", "max-states", "max-seconds", "option", "trace-not-json", "trace-missing"])
def test_subprocess_input_errors_exit_2_without_traceback(args: list[str]) -> None:
    proc = run_subprocess(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error: " in proc.stderr


# ----------------------------------------------------------------------------- errors in the input


def test_unknown_const_names_the_constant() -> None:
    code, out, err = run_cli("check", MODELS / "twophase.py", "--const", "NOPE=1,2")
    assert code == 2
    assert "--const" in err and "'NOPE'" in err
    assert out == ""


def test_unknown_const_names_the_file_and_the_known_constants() -> None:
    _, _, err = run_cli("check", MODELS / "twophase.py", "--const", "NOPE=1,2")
    assert "twophase.py" in err
    assert "RM" in err


def test_malformed_const_is_an_error() -> None:
    code, _, err = run_cli("check", MODELS / "twophase.py", "--const", "RM")
    assert code == 2
    assert "--const 'RM'" in err and "NAME=" in err
    code, _, err = run_cli("check", MODELS / "twophase.py", "--const", "RM=a,,b")
    assert code == 2
    assert "empty value" in err


def test_unknown_model_names_the_file_and_lists_the_models() -> None:
    code, _, err = run_cli("check", MODELS / "replication.py", "--model", "Nope")
    assert code == 2
    assert "replication.py" in err and "'Nope'" in err
    assert "AckBeforeReplication" in err and "AckAfterReplication" in err


def test_unknown_property_names_the_file_and_lists_the_properties() -> None:
    code, _, err = run_cli("check", MODELS / "twophase.py", "--property", "nope")
    assert code == 2
    assert "twophase.py" in err and "'nope'" in err
    assert "consistent" in err


def test_missing_file() -> None:
    code, _, err = run_cli("check", DATA / "no_such_model.py")
    assert code == 2
    assert "no_such_model.py" in err and "no such file" in err


def test_non_python_path() -> None:
    code, _, err = run_cli("check", ROOT / "README.md")
    assert code == 2
    assert "README.md" in err and "not a Python model file" in err


def test_toml_that_is_not_a_design() -> None:
    code, _, err = run_cli("check", ROOT / "pyproject.toml")
    assert code == 2
    assert "pyproject.toml" in err and "not a design file" in err


def test_directory_without_models(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n")
    code, _, err = run_cli("check", tmp_path)
    assert code == 2
    assert str(tmp_path) in err and "no model files" in err


def test_file_without_model_classes(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("X = 1\n")
    code, _, err = run_cli("check", path)
    assert code == 2
    assert "empty.py" in err and "defines no models" in err


def test_a_model_error_in_one_model_does_not_hide_the_others(tmp_path: Path) -> None:
    shutil.copy(DATA / "bad_if.py", tmp_path / "a_bad.py")
    shutil.copy(MODELS / "tcommit.py", tmp_path / "b_tcommit.py")
    code, out, err = run_cli("check", tmp_path, "--quiet")
    assert code == 2
    assert "model BadIf" in err
    assert "TCommit(" in out and "verdict: holds" in out


def test_usage_error_in_process_returns_2_and_writes_to_err(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli("check", MODELS / "twophase.py", "--max-states", "0")
    assert code == 2
    assert "--max-states" in err
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- malformed traces for replay


@pytest.fixture(scope="module")
def diehard_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trace") / "diehard.itf.json"
    code, _, _ = run_cli("check", MODELS / "diehard.py", "--trace-out", path, "--quiet")
    assert code == 1 and path.exists()
    return path


def test_replay_trace_that_is_not_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.itf.json"
    path.write_text('{\n  "vars": ["big", "small"],\n  "states": [\n}\n')
    code, _, err = run_cli("replay", MODELS / "diehard.py", path)
    assert code == 2
    assert "broken.itf.json" in err
    assert "line 4" in err


def test_replay_trace_without_states_names_the_key(tmp_path: Path, diehard_trace: Path) -> None:
    doc = json.loads(diehard_trace.read_text())
    del doc["states"]
    path = tmp_path / "nostates.itf.json"
    path.write_text(json.dumps(doc))
    code, _, err = run_cli("replay", MODELS / "diehard.py", path)
    assert code == 2
    assert "nostates.itf.json" in err and '"states"' in err


def test_replay_trace_with_a_missing_variable_names_state_and_variable(tmp_path: Path, diehard_trace: Path) -> None:
    doc = json.loads(diehard_trace.read_text())
    del doc["states"][2]["small"]
    path = tmp_path / "novar.itf.json"
    path.write_text(json.dumps(doc))
    code, _, err = run_cli("replay", MODELS / "diehard.py", path)
    assert code == 2
    assert "novar.itf.json" in err and "states[2]" in err and "'small'" in err


def test_replay_trace_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.itf.json"
    path.write_text("[1, 2]\n")
    code, _, err = run_cli("replay", MODELS / "diehard.py", path)
    assert code == 2
    assert "list.itf.json" in err and "JSON object" in err


def test_replay_missing_trace_file(tmp_path: Path) -> None:
    code, _, err = run_cli("replay", MODELS / "diehard.py", tmp_path / "gone.itf.json")
    assert code == 2
    assert "gone.itf.json" in err


def test_replay_against_a_non_python_model_path(diehard_trace: Path) -> None:
    code, _, err = run_cli("replay", ROOT / "pyproject.toml", diehard_trace)
    assert code == 2
    assert "pyproject.toml" in err


def test_replay_unknown_model(diehard_trace: Path) -> None:
    code, _, err = run_cli("replay", MODELS / "replication.py", diehard_trace)
    assert code == 2
    assert "replication.py" in err and "'DieHard'" in err


def test_replay_model_file_with_a_model_error(diehard_trace: Path) -> None:
    path = DATA / "syntax_error.py"
    code, _, err = run_cli("replay", path, diehard_trace)
    assert code == 2
    assert_located(err, path)
