"""The command line: exit codes, bounds, the JSON document, traces and replay, determinism, options.

Expected numbers come from outside ordercheck: TLC's published results for TwoPhase.tla and
DieHard.tla (see ``model/twophase.py`` and ``model/diehard.py``), or a hand computation written
next to the assertion (and in the docstring of each model in ``tests/data/``).

Tests marked ``xfail(strict=True)`` document problems in ``src/`` described in
``.notes/cli-helper.md``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ordercheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHIPPED = ROOT / "model"
DIEHARD = SHIPPED / "diehard.py"
TWOPHASE = SHIPPED / "twophase.py"
REPLICATION = SHIPPED / "replication.py"
# The multi-model tests use the shipped Python models only: the incident designs in model/ take
# tens of seconds, and the design tests check them.
PYTHON_MODELS = ("diehard.py", "replication.py", "tcommit.py", "twophase.py")


@pytest.fixture(scope="module")
def MODELS(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "model"
    folder.mkdir()
    for name in PYTHON_MODELS:
        shutil.copy(SHIPPED / name, folder / name)
    return folder
TIMING_KEYS = ("seconds", "states_per_second")
PROGRESS = re.compile(r"^\s+[\d,]+ states, depth \d+, queue [\d,]+, [\d,]+ states/s$", re.MULTILINE)


def run_cli(*args: object) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(*args: object, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ordercheck`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "ordercheck", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=None if env is None else {**os.environ, **env})


def without_timings(doc: Any) -> Any:
    """``doc`` with the timing keys removed at every level (the only keys allowed to differ between runs)."""
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if k not in TIMING_KEYS}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc


def check_json(tmp_path: Path, *args: object) -> tuple[int, dict[str, Any]]:
    """Run ``check ... --json FILE --quiet``: (exit code, the JSON document)."""
    path = tmp_path / "result.json"
    code, _, err = run_cli("check", *args, "--json", path, "--quiet")
    assert code in (0, 1, 3), err
    return code, json.loads(path.read_text())


def prop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["properties"] if p["name"] == name)


# ----------------------------------------------------------------------------- exit codes


def test_holds_exits_0() -> None:
    code, out, err = run_cli("check", TWOPHASE)
    assert code == 0, err
    assert "verdict: holds" in out
    # TLC: 288 distinct states and depth 11 for three RMs
    assert "288 distinct states" in out and "depth 11" in out


def test_violated_exits_1_with_the_shortest_counterexample() -> None:
    code, out, _ = run_cli("check", DIEHARD)
    assert code == 1
    assert "verdict: violated" in out
    # TLC / the puzzle: the shortest solution has 7 states (6 moves), ending with 4 gallons in the big jug
    assert "State 7: big_to_small()" in out and "State 8" not in out
    assert "big: 5 -> 4" in out


def test_subprocess_exit_codes() -> None:
    assert run_subprocess("check", TWOPHASE, "--quiet").returncode == 0
    assert run_subprocess("check", DIEHARD, "--quiet").returncode == 1
    assert run_subprocess("check", TWOPHASE, "--max-states", "10", "--quiet").returncode == 3


def test_console_script_exit_code() -> None:
    exe = shutil.which("ordercheck")
    if exe is None:
        pytest.skip("the console script is not on PATH")
    proc = subprocess.run([exe, "check", DIEHARD, "--quiet"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "verdict: violated" in proc.stdout


# ----------------------------------------------------------------------------- bounds: inconclusive, never holds


def test_max_states_is_inconclusive_and_says_how_far(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, TWOPHASE, "--max-states", "100")
    assert code == 3
    assert doc["verdict"] == "inconclusive"
    assert doc["stats"]["distinct_states"] == 100
    assert "state bound 100" in doc["reason"]
    assert prop(doc, "consistent")["verdict"] == "inconclusive"
    code, out, _ = run_cli("check", TWOPHASE, "--max-states", "100")
    assert code == 3
    assert "inconclusive" in out and "verdict: holds" not in out
    assert "state bound 100 reached at depth" in out
    assert "100 distinct states" in out


def test_max_states_at_exactly_the_state_count_holds() -> None:
    # TLC: TwoPhase with three RMs has 288 states; a bound of 288 is never exceeded, 287 is.
    assert run_cli("check", TWOPHASE, "--max-states", "288")[0] == 0
    assert run_cli("check", TWOPHASE, "--max-states", "287")[0] == 3


def test_max_depth_is_inconclusive_below_the_diameter() -> None:
    # TLC: TwoPhase with three RMs has depth 11 (BFS levels, the initial state being level 1)
    code, out, _ = run_cli("check", TWOPHASE, "--max-depth", "10")
    assert code == 3
    assert "inconclusive" in out and "depth bound 10" in out
    assert run_cli("check", TWOPHASE, "--max-depth", "11")[0] == 0


def test_max_depth_before_a_violation_is_inconclusive_not_holds() -> None:
    # DieHard's shortest solution is 7 states deep: 6 levels find nothing, and that is not a pass
    code, out, _ = run_cli("check", DIEHARD, "--max-depth", "6")
    assert code == 3
    assert "inconclusive" in out and "depth bound 6" in out
    assert run_cli("check", DIEHARD, "--max-depth", "7")[0] == 1


def test_max_seconds_is_inconclusive_and_progress_goes_to_stderr() -> None:
    # TwoPhase with 8 RMs has far more states than a few seconds explore; progress is reported
    # every 2 s, so a 3 s bound sees at least one progress line.
    code, out, err = run_cli("check", TWOPHASE, "--const", "RM=a,b,c,d,e,f,g,h", "--max-seconds", "3")
    if code == 0:
        pytest.skip("this machine explores TwoPhase with 8 RMs in under 3 s; nothing to observe")
    assert code == 3
    assert "inconclusive" in out and "time bound 3 s reached after" in out
    assert PROGRESS.search(err), err
    assert "inconclusive" not in err  # stderr carries progress only; the result is on stdout


def test_quiet_silences_progress() -> None:
    code, out, err = run_cli("check", TWOPHASE, "--const", "RM=a,b,c,d,e,f,g,h", "--max-seconds", "2.5", "--quiet")
    assert code in (0, 3)
    assert err == ""
    assert "verdict:" in out


def test_short_run_writes_nothing_on_stderr() -> None:
    code, _, err = run_cli("check", DIEHARD)
    assert code == 1
    assert err == ""


# ----------------------------------------------------------------------------- the JSON document


def test_json_document_keys(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, DIEHARD)
    assert code == 1
    for key in ("model", "constants", "engine", "verdict", "properties", "stats", "counterexample"):
        assert key in doc
    for key in ("distinct_states", "generated_states", "depth", "seconds"):
        assert key in doc["stats"]
    assert doc["model"] == "DieHard"
    assert doc["constants"] == {}
    assert doc["engine"] == "explicit"
    assert doc["verdict"] == "violated"
    assert doc["stats"]["depth"] == 7  # the number of states in the counterexample
    assert prop(doc, "not_solved")["verdict"] == "violated"
    cex = doc["counterexample"]
    assert cex["vars"] == ["big", "small"]
    assert len(cex["states"]) == 7
    assert cex["states"][-1]["big"] in (4, {"#bigint": "4"})


def test_json_document_of_a_model_that_holds(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, TWOPHASE)
    assert code == 0
    assert doc["verdict"] == "holds"
    assert doc["counterexample"] is None
    assert doc["constants"]["RM"] == ["r1", "r2", "r3"]
    assert doc["stats"]["distinct_states"] == 288 and doc["stats"]["depth"] == 11  # TLC


def test_json_with_several_models_wraps_them(MODELS: Path, tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, MODELS)
    assert code == 1
    assert set(doc) == {"verdict", "results"}
    assert doc["verdict"] == "violated"
    # the shipped models, in file-name order and then source order (model/ may hold more by now)
    shipped = {"DieHard": "violated", "AckBeforeReplication": "violated", "AckAfterReplication": "holds",
               "TCommit": "holds", "TwoPhase": "holds"}
    results = [(r["model"], r["verdict"]) for r in doc["results"] if r["model"] in shipped]
    assert results == list(shipped.items())


def test_json_with_one_model_selected_from_several_is_the_document_itself(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, REPLICATION, "--model", "AckAfterReplication")
    assert code == 0
    assert doc["model"] == "AckAfterReplication"
    assert "results" not in doc


def test_json_counterexample_is_a_replayable_itf_trace(tmp_path: Path) -> None:
    # transfer.py declares move(to, amount): the parameters' order is part of the trace
    code, doc = check_json(tmp_path, DATA / "transfer.py")
    assert code == 1
    trace = tmp_path / "from-json.itf.json"
    trace.write_text(json.dumps(doc["counterexample"]))
    code, out, err = run_cli("replay", DATA / "transfer.py", trace)
    assert code == 1, out + err
    assert "still violates small" in out


# ----------------------------------------------------------------------------- traces and replay


def test_trace_out_then_replay_still_violates(tmp_path: Path) -> None:
    trace = tmp_path / "diehard.itf.json"
    code, out, _ = run_cli("check", DIEHARD, "--trace-out", trace, "--quiet")
    assert code == 1
    assert f"counterexample of not_solved written to {trace}" in out
    doc = json.loads(trace.read_text())
    assert doc["#meta"]["model"] == "DieHard" and doc["#meta"]["property"] == "not_solved"
    assert len(doc["states"]) == 7
    code, out, _ = run_cli("replay", DIEHARD, trace)
    assert code == 1
    assert "still violates not_solved" in out


def test_replay_in_a_subprocess(tmp_path: Path) -> None:
    trace = tmp_path / "diehard.itf.json"
    assert run_subprocess("check", DIEHARD, "--trace-out", trace, "--quiet").returncode == 1
    proc = run_subprocess("replay", DIEHARD, trace)
    assert proc.returncode == 1
    assert "still violates not_solved" in proc.stdout


def test_replay_of_an_edited_trace_that_no_longer_matches_exits_0(tmp_path: Path) -> None:
    trace = tmp_path / "diehard.itf.json"
    assert run_cli("check", DIEHARD, "--trace-out", trace, "--quiet")[0] == 1
    doc = json.loads(trace.read_text())
    # state 3 (index 2) follows big_to_small from big = 5: big becomes 2, small 3; claim small 1 instead
    doc["states"][2]["small"] = {"#bigint": "1"}
    edited = tmp_path / "edited.itf.json"
    edited.write_text(json.dumps(doc))
    code, out, _ = run_cli("replay", DIEHARD, edited)
    assert code == 0
    assert "step 3" in out and "different state" in out


def test_replay_of_an_action_the_model_lacks_exits_0(tmp_path: Path) -> None:
    trace = tmp_path / "diehard.itf.json"
    assert run_cli("check", DIEHARD, "--trace-out", trace, "--quiet")[0] == 1
    doc = json.loads(trace.read_text())
    doc["states"][1]["#meta"]["action"] = "fill_bigger"
    edited = tmp_path / "edited.itf.json"
    edited.write_text(json.dumps(doc))
    code, out, _ = run_cli("replay", DIEHARD, edited)
    assert code == 0
    assert "step 2" in out and "fill_bigger" in out


def test_replay_against_the_fixed_design_exits_0(tmp_path: Path) -> None:
    # AckBeforeReplication's shortest loss: accept, fsync(db1), ack, crash(db1), promote (6 states).
    # AckAfterReplication acknowledges only once every node has the order on disk: its ack at step 4 is not enabled.
    trace = tmp_path / "loss.itf.json"
    code, _, _ = run_cli("check", REPLICATION, "--model", "AckBeforeReplication", "--trace-out", trace, "--quiet")
    assert code == 1
    assert len(json.loads(trace.read_text())["states"]) == 6
    assert run_cli("replay", REPLICATION, trace)[0] == 1
    code, out, _ = run_cli("replay", REPLICATION, trace, "--model", "AckAfterReplication")
    assert code == 0
    assert "step 4" in out and "not enabled" in out


def test_trace_out_with_several_models_writes_one_file_per_model(MODELS: Path, tmp_path: Path) -> None:
    trace = tmp_path / "cex.itf.json"
    code, _, _ = run_cli("check", MODELS, "--trace-out", trace, "--quiet")
    assert code == 1
    written = {p.name for p in tmp_path.iterdir()}
    assert {"cex.AckBeforeReplication.itf.json", "cex.DieHard.itf.json"} <= written
    assert "cex.itf.json" not in written and "cex.TwoPhase.itf.json" not in written


def test_trace_out_is_not_written_when_nothing_is_violated(tmp_path: Path) -> None:
    trace = tmp_path / "none.itf.json"
    assert run_cli("check", TWOPHASE, "--trace-out", trace, "--quiet")[0] == 0
    assert not trace.exists()


def test_replay_with_a_directory_finds_the_model_in_any_file(MODELS: Path, tmp_path: Path) -> None:
    trace = tmp_path / "loss.itf.json"
    assert run_cli("check", REPLICATION, "--model", "AckBeforeReplication", "--trace-out", trace, "--quiet")[0] == 1
    code, out, err = run_cli("replay", MODELS, trace)
    assert code == 1, err
    assert "still violates" in out


# ----------------------------------------------------------------------------- determinism


def test_two_runs_give_identical_traces_and_json(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        trace, result = tmp_path / f"{run}.itf.json", tmp_path / f"{run}.json"
        code, _, _ = run_cli("check", REPLICATION, "--model", "AckBeforeReplication", "--trace-out", trace, "--json", result, "--quiet")
        assert code == 1
        outputs.append((trace.read_bytes(), json.loads(result.read_text())))
    (itf_a, json_a), (itf_b, json_b) = outputs
    assert itf_a == itf_b
    assert without_timings(json_a) == without_timings(json_b)
    assert json_a["stats"]["seconds"] is not None  # the timings were there to remove


def test_runs_in_fresh_interpreters_with_different_hash_seeds_agree(MODELS: Path, tmp_path: Path) -> None:
    # set iteration order depends on PYTHONHASHSEED; nothing written may depend on it
    results = []
    for seed in ("0", "4242"):
        d = tmp_path / seed
        d.mkdir()
        proc = run_subprocess("check", MODELS, "--continue", "--trace-out", d / "cex.itf.json", "--json", d / "result.json", "--quiet",
                              env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 1, proc.stderr
        traces = {p.name: p.read_bytes() for p in sorted(d.glob("*.itf.json"))}
        assert {"cex.DieHard.itf.json", "cex.AckBeforeReplication.itf.json"} <= set(traces)
        results.append((traces, without_timings(json.loads((d / "result.json").read_text()))))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]


def test_json_bytes_differ_only_in_timings(tmp_path: Path) -> None:
    texts = []
    for run in ("a", "b"):
        path = tmp_path / f"{run}.json"
        assert run_cli("check", DIEHARD, "--json", path, "--quiet")[0] == 1
        texts.append(path.read_text())
    timing = re.compile(r'"(seconds|states_per_second)": [^,\n]+')
    assert timing.sub("", texts[0]) == timing.sub("", texts[1])


# ----------------------------------------------------------------------------- --const, --model, --property


def test_const_changes_the_instance() -> None:
    # TLC: TwoPhase has 8,832 distinct states and depth 17 with five RMs (288 and 11 with the default three)
    code, out, _ = run_cli("check", TWOPHASE, "--const", "RM=r1,r2,r3,r4,r5", "--quiet")
    assert code == 0
    assert "TwoPhase(RM=('r1', 'r2', 'r3', 'r4', 'r5'))" in out
    assert "8,832 distinct states" in out and "depth 17" in out


def test_const_in_the_json_constants(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, TWOPHASE, "--const", "RM=r1,r2,r3,r4,r5")
    assert code == 0
    assert doc["constants"]["RM"] == ["r1", "r2", "r3", "r4", "r5"]
    assert doc["stats"]["distinct_states"] == 8832


def test_scalar_const(tmp_path: Path) -> None:
    # With no crash allowed, no failover can lose the order: AckBeforeReplication holds
    code, doc = check_json(tmp_path, REPLICATION, "--model", "AckBeforeReplication", "--const", "MAX_CRASHES=0")
    assert code == 0
    assert doc["constants"]["MAX_CRASHES"] == 0


def test_model_selects_one_class() -> None:
    code, out, _ = run_cli("check", REPLICATION, "--model", "AckAfterReplication", "--quiet")
    assert code == 0
    assert "AckAfterReplication(" in out and "AckBeforeReplication(" not in out


def test_property_selects(tmp_path: Path) -> None:
    # AckBeforeReplication violates acked_orders_on_primary but reaches its goal order_acknowledged
    code, doc = check_json(tmp_path, REPLICATION, "--model", "AckBeforeReplication", "--property", "order_acknowledged")
    assert code == 0
    assert [p["name"] for p in doc["properties"]] == ["order_acknowledged"]
    assert doc["verdict"] == "holds"
    code, doc = check_json(tmp_path, DATA / "two_bugs.py", "--property", "y_below_3")
    assert code == 1
    assert [p["name"] for p in doc["properties"]] == ["y_below_3"]
    assert len(doc["counterexample"]["states"]) == 4  # init, inc_y, inc_y, inc_y


def test_property_is_repeatable(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, DATA / "two_bugs.py", "--property", "y_below_3", "--property", "x_below_2")
    assert code == 1
    assert sorted(p["name"] for p in doc["properties"]) == ["x_below_2", "y_below_3"]


# ----------------------------------------------------------------------------- --continue


def test_without_continue_the_search_stops_at_the_first_violation(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, DATA / "two_bugs.py")
    assert code == 1
    assert prop(doc, "x_below_2")["verdict"] == "violated"
    assert prop(doc, "y_below_3")["verdict"] == "inconclusive"  # not checked to the end; never "holds"


def test_continue_reports_every_violated_property_with_its_own_shortest_trace(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, DATA / "two_bugs.py", "--continue")
    assert code == 1
    x, y = prop(doc, "x_below_2"), prop(doc, "y_below_3")
    assert x["verdict"] == y["verdict"] == "violated"
    # by hand: x = 2 needs two inc_x (3 states); y = 3 needs three inc_y (4 states)
    assert [s["#meta"]["action"] for s in x["counterexample"]["states"]] == [None, "inc_x", "inc_x"]
    assert [s["#meta"]["action"] for s in y["counterexample"]["states"]] == [None, "inc_y", "inc_y", "inc_y"]
    assert doc["stats"]["distinct_states"] == 16  # every (x, y) in 0..3 x 0..3


def test_continue_keeps_the_depth_convention(tmp_path: Path) -> None:
    # by hand: the levels are x + y = 0, 1, ..., 6, so 7 BFS levels, whatever is violated on the way
    code, doc = check_json(tmp_path, DATA / "two_bugs.py", "--continue")
    assert code == 1
    assert doc["stats"]["depth"] == 7


def test_continue_prints_each_trace() -> None:
    code, out, _ = run_cli("check", DATA / "two_bugs.py", "--continue")
    assert code == 1
    assert "Invariant x_below_2 is violated" in out and "Invariant y_below_3 is violated" in out


# ----------------------------------------------------------------------------- --deadlock


def test_deadlock_is_not_an_error_unless_asked_for() -> None:
    code, out, _ = run_cli("check", DATA / "countdown.py")
    assert code == 0
    assert "3 distinct states" in out  # n = 2, 1, 0


def test_deadlock_flag_reports_the_deadlock_with_its_trace(tmp_path: Path) -> None:
    code, doc = check_json(tmp_path, DATA / "countdown.py", "--deadlock")
    assert code == 1
    dead = prop(doc, "deadlock")
    assert dead["verdict"] == "violated"
    # by hand: n = 2 -> 1 -> 0, where tick is disabled
    states = dead["counterexample"]["states"]
    assert [s["#meta"]["action"] for s in states] == [None, "tick", "tick"]
    assert states[-1]["n"] in (0, {"#bigint": "0"})
    # the search stopped at the deadlock, so in_range is not reported as holding ...
    assert prop(doc, "in_range")["verdict"] != "holds" or doc["reason"] == ""
    # ... unless the search goes on
    code, doc = check_json(tmp_path, DATA / "countdown.py", "--deadlock", "--continue")
    assert code == 1
    assert prop(doc, "deadlock")["verdict"] == "violated"
    assert prop(doc, "in_range")["verdict"] == "holds"


def test_deadlock_trace_replays(tmp_path: Path) -> None:
    trace = tmp_path / "dead.itf.json"
    assert run_cli("check", DATA / "countdown.py", "--deadlock", "--trace-out", trace, "--quiet")[0] == 1
    code, out, _ = run_cli("replay", DATA / "countdown.py", trace)
    assert code == 1
    assert "deadlock" in out


def test_deadlock_flag_on_a_model_without_deadlock_holds() -> None:
    # every DieHard action is always enabled; TwoPhase's RMs can always receive a sent decision
    assert run_cli("check", TWOPHASE, "--deadlock", "--quiet")[0] == 0


# ----------------------------------------------------------------------------- the default path


def test_no_path_checks_the_model_folder(MODELS: Path) -> None:
    proc = run_subprocess("check", "--quiet", cwd=MODELS.parent)
    assert proc.returncode == 1  # DieHard and AckBeforeReplication are violated
    for model in ("DieHard(", "AckBeforeReplication(", "AckAfterReplication(", "TCommit(", "TwoPhase("):
        assert model in proc.stdout
    assert proc.stderr == ""


def test_no_path_without_a_model_folder_is_an_error(tmp_path: Path) -> None:
    proc = run_subprocess("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert "model" in proc.stderr and "no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_engine_option() -> None:
    assert run_cli("check", TWOPHASE, "--engine", "explicit", "--quiet")[0] == 0


def test_every_option_is_documented() -> None:
    """docs/cli.md names every option of every subcommand, so the reference cannot fall behind the parser."""
    from ordercheck.cli import build_parser

    page = (ROOT / "docs" / "cli.md").read_text()
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for name, sub in subparsers.choices.items():  # type: ignore[attr-defined]
        assert f"ordercheck {name}" in page, name
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in page:
                    missing.append(f"{name} {option}")
    assert not missing, missing


def test_json_is_not_written_when_no_model_could_be_checked(tmp_path: Path) -> None:
    """An error is not a verdict: a run whose only model fails to build writes no result document."""
    target = tmp_path / "result.json"
    code, _, err = run_cli("check", ROOT / "tests" / "data" / "bad_if.py", "--json", target)
    assert code == 2 and not target.exists()
    assert "no JSON document written" in err
