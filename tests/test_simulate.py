"""``ordercheck simulate``: random walks, checked against breadth-first search as the independent oracle.

* the walks find the violations of Die Hard (the published 7-state solution) and of the hospital
  incident designs for a fixed seed, and the shortened trace is as short as BFS's shortest one;
* on random models, a walk never reports a violation that BFS does not have, every state it saw is
  reachable (a reference-semantics BFS, not the compiled code, gives the reachable set), and a walk
  that reports nothing saw no violating state;
* finding nothing is inconclusive (exit 3), never holds; bad input is exit 2;
* the same seed gives the same output, and fault weight 0 takes no fault.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_models

from ordercheck import InputError, Int, Model, ModelError, Var, action, check, require, spec_of, step_invariant
from ordercheck.cli import main
from ordercheck.explicit.simulation import simulate
from ordercheck.lang import interpret
from ordercheck.lang.spec import Spec
from ordercheck.replay import replay_trace
from ordercheck.report.itf import read_itf
from ordercheck.sources import sources_in

ROOT = Path(__file__).resolve().parent.parent
DIEHARD = ROOT / "model" / "diehard.py"
INCIDENTS = ["hospital-1-app-tier-acks-from-memory.toml", "hospital-2-interface-queue-in-memory.toml",
             "hospital-3-failover-without-synchronous-commit.toml", "hospital-iris-defaults.toml"]
CORRECTED = ROOT / "model" / "hospital-4-corrected.toml"


def load(path: Path) -> Model:
    return sources_in(path)[0].cls()


def run_cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- finding violations


def test_diehard_solution_found_and_shortened_to_the_published_length() -> None:
    model = load(DIEHARD)
    r = simulate(spec_of(model), runs=200, depth=50, seed=1)
    assert r.verdict == "violated" and r.violated == "not_solved"
    assert r.runs <= 200 and r.found is not None and r.counterexample is not None
    # DieHard.tla's shortest solution (TLC): fill big, big->small, empty small, big->small, fill big,
    # big->small = 6 moves, 7 states; BFS, the other oracle, agrees.
    assert len(r.counterexample) == 7 == len(check(model).counterexample)
    assert r.found_length >= 7 and r.shortened == (r.found_length > 7)
    assert replay_trace(model, r.counterexample).reproduced
    assert replay_trace(model, r.found).reproduced


@pytest.mark.parametrize("name", INCIDENTS)
def test_incident_designs_violated_within_200_runs_as_short_as_bfs(name: str) -> None:
    model = load(ROOT / "model" / name)
    r = simulate(spec_of(model), runs=200, depth=60, seed=7)
    assert r.verdict == "violated", r.reason
    assert r.counterexample is not None and r.violated is not None
    bfs = check(model, properties=[r.violated]).counterexample
    assert bfs is not None
    assert len(r.counterexample) == len(bfs) <= r.found_length
    assert replay_trace(model, r.counterexample).reproduced


def test_a_shortening_search_that_hits_its_bound_reports_the_walk_and_says_so() -> None:
    r = simulate(spec_of(load(DIEHARD)), runs=200, depth=50, seed=1, shorten_max_states=3)
    # Die Hard has 16 reachable states and needs 7 states to reach big = 4: a BFS bounded to 3 states stops.
    assert r.verdict == "violated" and not r.shortened
    assert r.counterexample == r.found and r.found_length == len(r.found) > 7
    assert "not shortened" in r.shorten_note and "state bound 3" in r.shorten_note


class Stepper(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        require(s.x < 3)
        s.x = s.x + 1

    @action
    def dec(s):
        require(s.x > 0)
        s.x = s.x - 1

    @step_invariant
    def never_one_to_two(s, t):
        return ~((s.x == 1) & (t.x == 2))


def test_step_invariant_violation_is_found_and_shortened() -> None:
    r = simulate(spec_of(Stepper()), runs=50, depth=20, seed=3)
    assert r.verdict == "violated" and r.violated == "never_one_to_two"
    # By hand: 0 -inc-> 1 -inc-> 2 is the only shortest way, 3 states.
    assert r.counterexample is not None and len(r.counterexample) == 3
    assert [s.action for s in r.counterexample.steps] == [None, "inc", "inc"]


class Overflow(Model):
    x = Var(Int(0, 2), init=0)

    @action
    def inc(s):
        s.x = s.x + 1


def test_a_model_error_on_a_walk_is_raised_with_its_trace() -> None:
    with pytest.raises(ModelError) as info:
        simulate(spec_of(Overflow()), runs=5, depth=10, seed=0)
    # 0 -> 1 -> 2, then inc leaves the range: the trace reaching it has 3 states.
    assert info.value.trace is not None and len(info.value.trace) == 3


# ----------------------------------------------------------------------------- agreement with BFS on random models


def reachable(spec: Spec) -> set[int]:
    """Every reachable packed state, by breadth-first search on the reference interpreter."""
    seen = {spec.pack(s) for s in spec.init_states}
    queue = deque(spec.init_states)
    while queue:
        for _, t in interpret.successors(spec, queue.popleft()):
            y = spec.pack(t)
            if y not in seen:
                seen.add(y)
                queue.append(t)
    return seen


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_models(may_error=False), st.integers(0, 10_000))
def test_random_models_never_a_violation_bfs_lacks(gm, seed) -> None:
    spec = spec_of(gm.model)
    r = simulate(spec, runs=20, depth=12, seed=seed)
    assert r.states <= reachable(spec)
    assert r.distinct_states == len(r.states)
    assert sum(r.coverage.values()) == r.steps
    judged = [p.name for p in spec.properties if p.kind in ("invariant", "step")]
    if r.verdict == "inconclusive":
        # nothing reported: no state seen violates an invariant
        for x in r.states:
            for p in spec.properties:
                if p.kind == "invariant":
                    assert interpret.holds(spec, p.name, spec.unpack(x)), p.name
        return
    bfs = check(gm.model, properties=judged, keep_going=True)
    assert bfs.property(r.violated).verdict == "violated"
    shortest = bfs.property(r.violated).counterexample
    assert r.counterexample is not None and shortest is not None
    assert len(r.counterexample) == len(shortest) <= r.found_length
    assert replay_trace(gm.model, r.counterexample).reproduced


# ----------------------------------------------------------------------------- verdicts and faults


def test_nothing_found_is_inconclusive_never_holds(tmp_path: Path) -> None:
    assert check(load(CORRECTED)).verdict == "holds"  # the walks cannot find what is not there
    out_json = tmp_path / "sim.json"
    code, out, err = run_cli("simulate", CORRECTED, "--runs", 30, "--depth", 40, "--quiet", "--json", out_json)
    assert code == 3, err
    assert "verdict: inconclusive" in out and "holds" not in out
    doc = json.loads(out_json.read_text())
    assert doc["verdict"] == "inconclusive" and doc["runs"] == 30 and doc["counterexample"] is None
    assert sum(doc["coverage"].values()) == doc["steps"] > 0
    assert err == ""


def test_fault_weight_zero_takes_no_fault_and_weights_the_first_step() -> None:
    spec = spec_of(load(CORRECTED))
    faults = set(spec.extra["generated_actions"])
    assert faults  # crash, power_loss, disk_loss, restart
    none = simulate(spec, runs=30, depth=40, seed=2, fault_weight=0)
    assert none.verdict == "inconclusive" and none.steps > 0
    assert all(none.coverage[a] == 0 for a in faults)
    # The first step of a walk is a fault with probability f*W / (k + f*W), where the reference
    # interpreter counts the k protocol steps and f faults enabled in the (single) initial state.
    (s0,) = spec.init_states
    enabled = [spec.bindings[i].action for i, _ in interpret.successors(spec, s0)]
    f = sum(a in faults for a in enabled)
    k = len(enabled) - f
    assert f and k
    for weight in (1, 10):
        r = simulate(spec, runs=2000, depth=1, seed=5, fault_weight=weight)
        share = sum(r.coverage[a] for a in faults) / r.steps
        assert share == pytest.approx(f * weight / (k + f * weight), abs=0.04)  # binomial sd < 0.012


def test_violation_exit_1_says_it_was_shortened_and_writes_a_replayable_trace(tmp_path: Path) -> None:
    trace = tmp_path / "cex.itf.json"
    code, out, err = run_cli("simulate", DIEHARD, "--runs", 200, "--depth", 50, "--seed", 1, "--quiet", "--trace-out", trace)
    assert code == 1, err
    assert "verdict: violated" in out
    assert re.search(r"shortened from \d+ to 7 states", out), out
    assert replay_trace(load(DIEHARD), read_itf(trace)).reproduced
    doc_path = tmp_path / "sim.json"
    assert run_cli("simulate", DIEHARD, "--runs", 200, "--depth", 50, "--seed", 1, "--quiet", "--json", doc_path)[0] == 1
    doc = json.loads(doc_path.read_text())
    assert (doc["verdict"], doc["property"], doc["shortened"], len(doc["counterexample"]["states"])) == ("violated", "not_solved", True, 7)
    assert doc["found_length"] > 7 and doc["seed"] == 1


def test_same_seed_same_output_apart_from_timings() -> None:
    def run(seed: int) -> str:
        code, out, _ = run_cli("simulate", ROOT / "model" / INCIDENTS[1], "--runs", 300, "--depth", 60, "--seed", seed, "--quiet")
        assert code == 1
        return re.sub(r"\d+\.\d+ s\b", "T s", out)

    assert run(11) == run(11)


def test_progress_goes_to_stderr_and_quiet_silences_it() -> None:
    _, _, err = run_cli("simulate", CORRECTED, "--runs", 20, "--depth", 30)
    assert re.search(r"^\s+20 runs, [\d,]+ steps, [\d,]+ distinct states$", err, re.MULTILINE), err
    assert run_cli("simulate", CORRECTED, "--runs", 20, "--depth", 30, "--quiet")[2] == ""


def test_time_bound_stops_early_and_stays_inconclusive() -> None:
    code, out, _ = run_cli("simulate", CORRECTED, "--runs", 10**9, "--max-seconds", 0.5, "--quiet")
    assert code == 3
    assert "time bound 0.5 s reached" in out


@pytest.mark.parametrize(("path", "runs", "depth", "seed"), [(DIEHARD, 200, 50, 1), (CORRECTED, 120, 50, 4),
                                                             (ROOT / "model" / INCIDENTS[1], 300, 60, 11)])
def test_workers_give_the_same_result(path: Path, runs: int, depth: int, seed: int) -> None:
    spec = spec_of(load(path))
    one = simulate(spec, runs=runs, depth=depth, seed=seed)
    # the violations are met after the first chunk of runs (chunks of ceil(runs / 16) runs with 2 workers)
    assert one.verdict == "inconclusive" or one.runs > -(-runs // 16)
    two = simulate(spec, runs=runs, depth=depth, seed=seed, workers=2)
    assert (two.verdict, two.runs, two.steps, two.states, two.coverage, two.violated, two.found_length) == (
        one.verdict, one.runs, one.steps, one.states, one.coverage, one.violated, one.found_length)
    assert (two.found, two.counterexample) == (one.found, one.counterexample)


def test_workers_report_a_model_error_like_one_process() -> None:
    with pytest.raises(ModelError) as info:
        simulate(spec_of(Overflow()), runs=40, depth=10, seed=0, workers=2)
    assert info.value.trace is not None and len(info.value.trace) == 3


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args", [("--runs", 0), ("--runs", "x"), ("--depth", -1), ("--fault-weight", "nan"),
                                  ("--fault-weight", -1), ("--fault-weight", "inf"), ("--max-seconds", "nan"), ("--seed", -2),
                                  ("--model", "Nope"), ("--const", "NOPE=1"), ("--workers", 0)])
def test_bad_input_exits_2_without_traceback(args: tuple[object, ...]) -> None:
    code, _, err = run_cli("simulate", DIEHARD, *args, "--quiet")
    assert code == 2
    assert "Traceback" not in err and "error" in err


def test_bad_arguments_through_the_api() -> None:
    spec = spec_of(Stepper())
    for kwargs in ({"runs": 0}, {"depth": 0}, {"fault_weight": float("nan")}, {"max_seconds": float("nan")}):
        with pytest.raises(InputError):
            simulate(spec, **kwargs)  # type: ignore[arg-type]


def test_model_error_on_the_command_line_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "overflow.py"
    path.write_text("from ordercheck import Int, Model, Var, action\n\n\nclass Overflow(Model):\n    x = Var(Int(0, 2), init=0)\n\n"
                    "    @action\n    def inc(s):\n        s.x = s.x + 1\n")
    code, _, err = run_cli("simulate", path, "--quiet")
    assert code == 2
    assert "The trace that reaches it" in err and "Traceback" not in err
