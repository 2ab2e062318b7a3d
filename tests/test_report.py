"""Renderings of traces and results: text, ITF JSON and the --json document.

Built on hand-made traces and results, not on the engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercheck.lang.types import Domain
from ordercheck.report.itf import FORMAT_DESCRIPTION, decode_value, encode_value, itf_dumps, itf_to_trace, read_itf, trace_to_itf, write_itf
from ordercheck.report.json_doc import KEYS, json_dumps, result_to_json, write_json
from ordercheck.report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats
from ordercheck.report.text import format_value, render_text, sorted_elements, value_sort_key
from ordercheck.report.trace import Step, Trace

RM = Domain(("r1", "r2", "r3"), "RM")


def two_phase_trace() -> Trace:
    """A TwoPhase-like counterexample: maps, sets of tuples, enum labels."""

    def state(rm: dict[str, str], tm: str, prepared: set[str], msgs: set[tuple[str, ...]]) -> dict[str, Any]:
        return {"rm_state": rm, "tm_state": tm, "tm_prepared": frozenset(prepared), "msgs": frozenset(msgs)}

    w = {"r1": "working", "r2": "working", "r3": "working"}
    s1 = state(w, "init", set(), set())
    s2 = state({**w, "r1": "prepared"}, "init", set(), {("Prepared", "r1")})
    s3 = state({**w, "r1": "prepared"}, "init", {"r1"}, {("Prepared", "r1")})
    s4 = state({**w, "r1": "prepared", "r2": "aborted"}, "aborted", {"r1"}, {("Prepared", "r1"), ("Abort",)})
    return Trace(
        "TwoPhase",
        "consistent",
        "invariant",
        (
            Step(None, (), s1),
            Step("rm_prepare", (("rm", "r1"),), s2),
            Step("tm_rcv_prepared", (("rm", "r1"),), s3),
            Step("tm_abort", (), s4),
        ),
        constants={"RM": RM, "N": 3},
    )


# ---------------------------------------------------------------------------- text


def test_text_initial_state_is_compact() -> None:
    text = render_text(two_phase_trace())
    block = text.split("\n\n")[1].splitlines()
    # Empty sets are left out (named once); a map whose entries are all equal prints once.
    assert block == [
        "State 1: initial state",
        "  rm_state = {every key: 'working'}",
        "  tm_state = 'init'",
        "  empty, false or 0: tm_prepared, msgs",
    ]


def test_text_initial_state_of_ten_nodes_shows_only_what_is_held() -> None:
    nodes = [f"n{i}" for i in range(10)]
    empty = {n: frozenset() for n in nodes}
    state = {"mem": empty, "disk": {**empty, "n3": frozenset({"o1"})}, "primary": "n0", "up": {n: True for n in nodes},
             "faults_spent": 0, "crashed": {**{n: False for n in nodes}}}
    block = render_text(Trace("M", "p", "invariant", (Step(None, (), state),))).split("\n\n")[1].splitlines()
    assert block == [
        "State 1: initial state",
        "  disk = {n3: {'o1'}, others: {}}",
        "  primary = 'n0'",
        "  up = {every key: True}",
        "  empty, false or 0: mem, faults_spent, crashed",
    ]


def test_text_full_states_lists_every_variable_of_every_state() -> None:
    blocks = render_text(two_phase_trace(), full_states=True).split("\n\n")
    assert blocks[1].splitlines() == [
        "State 1: initial state",
        "  rm_state = {r1: 'working', r2: 'working', r3: 'working'}",
        "  tm_state = 'init'",
        "  tm_prepared = {}",
        "  msgs = {}",
    ]
    assert blocks[3].splitlines() == [
        "State 3: tm_rcv_prepared(rm='r1')",
        "  rm_state = {r1: 'prepared', r2: 'working', r3: 'working'}",
        "  tm_state = 'init'",
        "  tm_prepared = {'r1'}  (+'r1')",
        "  msgs = {('Prepared', 'r1')}",
    ]


def test_text_later_states_list_only_changes() -> None:
    blocks = render_text(two_phase_trace()).split("\n\n")
    assert blocks[2].splitlines() == [
        "State 2: rm_prepare(rm='r1')",
        "  rm_state[r1]: 'working' -> 'prepared'",
        "  msgs = {('Prepared', 'r1')}  (+('Prepared', 'r1'))",
    ]
    assert blocks[3].splitlines() == ["State 3: tm_rcv_prepared(rm='r1')", "  tm_prepared = {'r1'}  (+'r1')"]
    assert blocks[4].splitlines() == [
        "State 4: tm_abort()",
        "  rm_state[r2]: 'working' -> 'aborted'",
        "  tm_state: 'init' -> 'aborted'",
        "  msgs = {('Abort',), ('Prepared', 'r1')}  (+('Abort',))",
    ]


def test_text_header_names_model_property_and_constants() -> None:
    lines = render_text(two_phase_trace()).splitlines()
    assert lines[:3] == ["Invariant consistent is violated", "Model: TwoPhase", "Constants: RM = ('r1', 'r2', 'r3'), N = 3"]


@pytest.mark.parametrize(
    ("kind", "prop", "message", "headline"),
    [
        ("invariant", "safe", "", "Invariant safe is violated"),
        ("step", "monotone", "", "Step property monotone is violated by the last step"),
        ("deadlock", None, "", "Deadlock reached"),
        ("model-error", None, "x = 6 is outside Int(0, 5)", "Model error: x = 6 is outside Int(0, 5)"),
        ("induction", "safe", "", "Invariant safe is not inductive: a step from a state that satisfies it to one that does not"),
    ],
)
def test_text_headline_per_kind(kind: str, prop: str | None, message: str, headline: str) -> None:
    t = Trace("M", prop, kind, (Step(None, (), {"x": 0}),), message=message)
    text = render_text(t)
    assert text.splitlines()[0] == headline
    if message:
        assert text.count(message) == 1


def test_text_message_of_other_kinds_is_shown_once() -> None:
    t = Trace("M", "safe", "invariant", (Step(None, (), {"x": 0}),), message="order o1 was acknowledged and lost")
    assert render_text(t).splitlines()[2] == "order o1 was acknowledged and lost"


def test_text_nested_maps_and_set_removals() -> None:
    before = {"disk": {"db1": frozenset({"o1", "o2"}), "db2": frozenset({"o1"})}, "lag": {"a": {"b": 1, "c": 2}}}
    after = {"disk": {"db1": frozenset({"o2", "o3"}), "db2": frozenset({"o1"})}, "lag": {"a": {"b": 1, "c": 5}}}
    t = Trace("M", None, "deadlock", (Step(None, (), before), Step("f", (("n", "db1"), ("k", 2)), after)))
    assert render_text(t).split("\n\n")[2].splitlines() == [
        "State 2: f(n='db1', k=2)",
        "  disk[db1] = {'o2', 'o3'}  (+'o3', -'o1')",
        "  lag[a][c]: 2 -> 5",
    ]


def test_text_non_identifier_keys_and_unchanged_step() -> None:
    t = Trace(
        "M",
        None,
        "deadlock",
        (Step(None, (), {"m": {("a", 1): 0, 7: 0}}), Step("g", (), {"m": {("a", 1): 1, 7: 0}}), Step("h", (), {"m": {("a", 1): 1, 7: 0}})),
    )
    blocks = render_text(t, full_states=True).split("\n\n")
    assert blocks[1].splitlines()[1] == "  m = {('a', 1): 0, 7: 0}"
    blocks = render_text(t).split("\n\n")
    assert blocks[2].splitlines()[1] == "  m[('a', 1)]: 0 -> 1"
    assert blocks[3].splitlines()[1] == "  (no change)"


def test_text_bool_and_int_are_told_apart() -> None:
    t = Trace("M", None, "deadlock", (Step(None, (), {"x": 1}), Step("g", (), {"x": True})))
    assert "x: 1 -> True" in render_text(t)


def test_sets_sort_deterministically_across_mixed_types() -> None:
    mixed = frozenset({("b", 1), 10, "a", 9, False, frozenset({"z", "y"}), ("a", 2)})
    assert sorted_elements(mixed) == [False, 9, 10, "a", ("a", 2), ("b", 1), frozenset({"y", "z"})]
    assert format_value(mixed) == "{False, 9, 10, 'a', ('a', 2), ('b', 1), {'y', 'z'}}"
    assert value_sort_key(frozenset({"a", "b"})) == value_sort_key(frozenset({"b", "a"}))


def test_text_is_deterministic() -> None:
    assert render_text(two_phase_trace()) == render_text(two_phase_trace())


_RENDER_SNIPPET = """
import sys
sys.path.insert(0, {tests!r})
from test_report import two_phase_trace
from ordercheck.report.itf import itf_dumps
from ordercheck.report.text import render_text
t = two_phase_trace()
sys.stdout.write(render_text(t) + "\\n=====\\n" + itf_dumps(t))
"""


def test_text_and_itf_do_not_depend_on_hash_order() -> None:
    """String hashing is randomised per process: set order must not leak into the output."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = _RENDER_SNIPPET.format(tests=str(Path(__file__).parent))
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert len(outputs) == 1


# ---------------------------------------------------------------------------- ITF


def test_itf_top_level_structure() -> None:
    doc = trace_to_itf(two_phase_trace())
    assert list(doc) == ["#meta", "vars", "states"]
    meta = doc["#meta"]
    assert meta["format"] == "ITF"
    assert meta["format-description"] == FORMAT_DESCRIPTION
    assert (meta["model"], meta["property"], meta["kind"], meta["message"]) == ("TwoPhase", "consistent", "invariant", "")
    assert meta["constants"] == {"RM": {"#tup": ["r1", "r2", "r3"]}, "N": {"#bigint": "3"}}
    assert doc["vars"] == ["rm_state", "tm_state", "tm_prepared", "msgs"]
    assert len(doc["states"]) == 4
    assert "loop" not in doc


def test_itf_states_and_values_follow_the_spec() -> None:
    states = trace_to_itf(two_phase_trace())["states"]
    for i, s in enumerate(states):
        assert list(s) == ["#meta", "rm_state", "tm_state", "tm_prepared", "msgs"]
        assert s["#meta"]["index"] == i
    assert states[0]["#meta"] == {"index": 0, "action": None, "params": {}}
    assert states[1]["#meta"] == {"index": 1, "action": "rm_prepare", "params": {"rm": "r1"}}
    assert states[3]["#meta"] == {"index": 3, "action": "tm_abort", "params": {}}
    assert states[1]["rm_state"] == {"#map": [["r1", "prepared"], ["r2", "working"], ["r3", "working"]]}
    assert states[0]["tm_prepared"] == {"#set": []}
    assert states[3]["msgs"] == {"#set": [{"#tup": ["Abort"]}, {"#tup": ["Prepared", "r1"]}]}
    assert states[3]["tm_state"] == "aborted"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (0, {"#bigint": "0"}),
        (-7, {"#bigint": "-7"}),
        (2**80, {"#bigint": str(2**80)}),
        ("a label", "a label"),
        ((), {"#tup": []}),
        (("x", 1), {"#tup": ["x", {"#bigint": "1"}]}),
        (frozenset({3, 1, 2}), {"#set": [{"#bigint": "1"}, {"#bigint": "2"}, {"#bigint": "3"}]}),
        ({"b": True, "a": False}, {"#map": [["b", True], ["a", False]]}),
        ({("n", 1): {"k": frozenset()}}, {"#map": [[{"#tup": ["n", {"#bigint": "1"}]}, {"#map": [["k", {"#set": []}]]}]]}),
    ],
)
def test_itf_value_encoding(value: Any, expected: Any) -> None:
    assert encode_value(value) == expected
    assert strict(decode_value(expected)) == strict(value)


def test_itf_refuses_values_it_cannot_write() -> None:
    with pytest.raises(TypeError, match=r"cannot write 1\.5"):
        encode_value(1.5)
    assert encode_value(object, lenient=True) == {"#unserializable": repr(object)}


def test_itf_reads_plain_integers_sequences_and_records() -> None:
    assert decode_value(5) == 5
    assert decode_value([1, "a"]) == (1, "a")
    assert decode_value({"f": {"#bigint": "2"}}) == {"f": 2}


def test_write_itf_is_byte_identical_with_trailing_newline(tmp_path: Path) -> None:
    a, b = tmp_path / "a.itf.json", tmp_path / "b.itf.json"
    write_itf(two_phase_trace(), a)
    write_itf(two_phase_trace(), b)
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "#meta": {\n')
    assert json.loads(text) == trace_to_itf(two_phase_trace())
    assert read_itf(a) == two_phase_trace()


def test_itf_round_trip_keeps_param_order_and_constants() -> None:
    t = Trace(
        "M",
        "p",
        "step",
        (Step(None, (), {"x": 0}), Step("replicate", (("o", "o1"), ("src", "db1"), ("dst", "db2")), {"x": 1})),
        message="why",
        constants={"NODE": Domain(("db1", "db2"), "NODE"), "K": 1},
    )
    back = itf_to_trace(json.loads(itf_dumps(t)))
    assert back == t
    assert back.steps[1].label == "replicate(o='o1', src='db1', dst='db2')"
    assert back.constants["NODE"] == ("db1", "db2")


def test_itf_empty_trace() -> None:
    t = Trace("M", None, "deadlock", ())
    assert trace_to_itf(t)["vars"] == []
    assert itf_to_trace(trace_to_itf(t)) == t


def test_itf_refuses_states_with_different_variables() -> None:
    t = Trace("M", None, "deadlock", (Step(None, (), {"x": 0}), Step("g", (), {"y": 0})))
    with pytest.raises(ValueError, match="state 1 defines"):
        trace_to_itf(t)


def test_itf_reads_quint_model_based_testing_traces() -> None:
    doc = {
        "#meta": {"format": "ITF", "source": "counter.qnt"},
        "vars": ["x", "mbt::actionTaken", "mbt::nondetPicks"],
        "states": [
            {"#meta": {"index": 0}, "x": {"#bigint": "0"}, "mbt::actionTaken": "init", "mbt::nondetPicks": {}},
            {
                "#meta": {"index": 1},
                "x": {"#bigint": "2"},
                "mbt::actionTaken": "inc",
                "mbt::nondetPicks": {"by": {"tag": "Some", "value": {"#bigint": "2"}}, "unused": {"tag": "None", "value": {}}},
            },
        ],
    }
    t = itf_to_trace(doc)
    assert t.model == "counter.qnt"
    assert t.steps == (Step(None, (), {"x": 0}), Step("inc", (("by", 2),), {"x": 2}))


def _doc(**changes: Any) -> dict[str, Any]:
    doc = trace_to_itf(two_phase_trace())
    doc.update(changes)
    return doc


def _with_state(i: int, **changes: Any) -> dict[str, Any]:
    doc = trace_to_itf(two_phase_trace())
    doc["states"][i].update(changes)
    return doc


MALFORMED = [
    ([], "an ITF trace is a JSON object, not list"),
    ({"vars": []}, 'needs "states"'),
    ({"states": []}, 'needs "vars"'),
    (_doc(loop=1), "lasso"),
    (_doc(vars="x"), '"vars" must be an array of strings'),
    (_doc(vars=["x", "x"]), "names a variable twice"),
    (_doc(states={}), '"states" must be an array'),
    (_doc(**{"#meta": []}), '"#meta" must be an object'),
    (_with_state(1, rm_state=None), r"states\[1\].rm_state: null is not an ITF value"),
    (_with_state(1, tm_state=1.5), r"float 1.5 is not an ITF value"),
    (_with_state(1, tm_state={"#bigint": "12a"}), r'"#bigint" must hold a string of decimal digits'),
    (_with_state(1, tm_state={"#bigint": 12}), r'"#bigint" must hold a string'),
    (_with_state(1, msgs={"#set": "a"}), r'states\[1\].msgs: "#set" must hold a JSON array'),
    (_with_state(1, msgs={"#set": [], "x": 1}), "must have no other key"),
    (_with_state(1, msgs={"#list": []}), "unknown ITF tag '#list'"),
    (_with_state(1, msgs={"#set": [{"#map": []}]}), "a map cannot be a set element"),
    (_with_state(1, rm_state={"#map": [["r1"]]}), r"states\[1\].rm_state#map\[0\]: a map entry must be a \[key, value\] array"),
    (_with_state(1, rm_state={"#map": [["r1", "a"], ["r1", "b"]]}), "appears twice"),
    (_with_state(1, tm_state={"#unserializable": "Int"}), "was not serializable"),
    (_with_state(2, **{"#meta": {"index": 2, "params": {}}}), r"states\[2\]: a state after the first must name the action"),
    (_with_state(2, **{"#meta": {"index": 5, "action": "a"}}), "gives index 5"),
    (_with_state(2, **{"#meta": {"index": 2, "action": 3}}), "action must be a string or null"),
    (_with_state(2, **{"#meta": {"index": 2, "action": "a", "params": []}}), "params must be an object"),
    (_with_state(0, **{"#meta": {"index": 0, "action": None, "params": {"a": 1}}}), "initial state has no action"),
    (_with_state(2, extra=1), r"'extra' is not one of the \"vars\""),
    (_with_state(2, **{"#meta": 1}), r'states\[2\]: "#meta" must be an object'),
    (_doc(states=[1]), r"states\[0\]: a state must be a JSON object"),
    (_doc(**{"#meta": {"kind": 3}}), r'"#meta".kind must be a string'),
    (_doc(**{"#meta": {"property": 3}}), r'"#meta".property must be a string or null'),
    (_doc(**{"#meta": {"constants": []}}), r'"#meta".constants must be an object'),
]


@pytest.mark.parametrize(("doc", "message"), MALFORMED)
def test_malformed_itf_is_refused_with_a_clear_message(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        itf_to_trace(doc)


def test_missing_variable_is_refused() -> None:
    doc = trace_to_itf(two_phase_trace())
    del doc["states"][2]["msgs"]
    with pytest.raises(ValueError, match=r"states\[2\]: variable 'msgs' has no value"):
        itf_to_trace(doc)


def test_read_itf_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.itf.json"
    p.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.itf\.json: not JSON"):
        read_itf(p)


def test_unserializable_constants_are_read_as_text() -> None:
    t = Trace("M", None, "deadlock", (Step(None, (), {"x": 0}),), constants={"F": object})
    assert itf_to_trace(trace_to_itf(t)).constants == {"F": repr(object)}


# ---------------------------------------------------------------------------- round trip (hypothesis)


def strict(value: Any) -> Any:
    """A normal form that tells ``True`` from ``1`` and keeps map key order, for exact comparison."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, tuple):
        return ("tuple", tuple(strict(v) for v in value))
    if isinstance(value, frozenset):
        return ("set", tuple(strict(v) for v in sorted_elements(value)))
    if isinstance(value, dict):
        return ("map", tuple((strict(k), strict(v)) for k, v in value.items()))
    raise AssertionError(f"unexpected value {value!r}")


def strict_trace(t: Trace) -> Any:
    steps = tuple((s.action, tuple((k, strict(v)) for k, v in s.params), tuple((k, strict(v)) for k, v in s.state.items())) for s in t.steps)
    constants = tuple((k, strict(v)) for k, v in t.constants.items())
    return (t.model, t.property, t.kind, t.message, constants, steps)


labels = st.text(min_size=0, max_size=6)
scalars = st.one_of(st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), labels)
elements = st.recursive(
    scalars,
    lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=3).map(tuple), st.frozensets(inner, max_size=4)),
    max_leaves=8,
)
values = st.recursive(
    elements,
    lambda inner: st.dictionaries(elements, inner, min_size=1, max_size=4),
    max_leaves=12,
)
names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


@st.composite
def traces(draw: st.DrawFn) -> Trace:
    var_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(min_value=1, max_value=4))
    steps = []
    for i in range(n):
        state = {name: draw(values) for name in var_names}
        if i == 0:
            steps.append(Step(None, (), state))
        else:
            params = draw(st.lists(st.tuples(names, elements), max_size=3, unique_by=lambda p: p[0]))
            steps.append(Step(draw(names), tuple(params), state))
    kind = draw(st.sampled_from(["invariant", "step", "deadlock", "model-error", "induction"]))
    prop = draw(st.one_of(st.none(), names))
    constants = draw(st.dictionaries(st.from_regex(r"[A-Z]{1,4}", fullmatch=True), elements, max_size=3))
    return Trace(draw(labels), prop, kind, tuple(steps), message=draw(labels), constants=constants)


@settings(max_examples=150, deadline=None)
@given(traces())
def test_itf_round_trip(trace: Trace) -> None:
    back = itf_to_trace(json.loads(itf_dumps(trace)))
    assert back == trace
    assert strict_trace(back) == strict_trace(trace)
    assert itf_dumps(back) == itf_dumps(trace)


@settings(max_examples=100, deadline=None)
@given(traces())
def test_text_renders_every_trace_deterministically(trace: Trace) -> None:
    text = render_text(trace)
    assert text == render_text(trace)
    assert text.count("\nState ") == len(trace)


# ---------------------------------------------------------------------------- JSON document


def violated_result() -> Result:
    cex = two_phase_trace()
    return Result(
        "TwoPhase",
        {"RM": RM, "MSG": Domain((("Prepared", "r1"), ("Commit",)), "MSG"), "N": 3},
        "explicit",
        [
            PropertyResult("type_ok", "invariant", HOLDS),
            PropertyResult("consistent", "invariant", VIOLATED, cex),
            PropertyResult("progress", "sometimes", INCONCLUSIVE, reason="stopped at the first violation"),
        ],
        Stats(288, 509, 4, 0.25, queue=12),
    )


def test_json_top_level_keys_are_exact() -> None:
    doc = result_to_json(violated_result())
    assert tuple(doc) == KEYS
    assert set(doc) == {"model", "file", "constants", "engine", "verdict", "properties", "stats", "counterexample", "reason"}


def test_json_content() -> None:
    doc = result_to_json(violated_result())
    assert doc["model"] == "TwoPhase"
    assert doc["engine"] == "explicit"
    assert doc["verdict"] == "violated"
    assert doc["reason"] == ""
    assert doc["constants"] == {"RM": ["r1", "r2", "r3"], "MSG": [["Prepared", "r1"], ["Commit"]], "N": 3}
    assert doc["stats"] == {"distinct_states": 288, "generated_states": 509, "depth": 4, "seconds": 0.25, "states_per_second": 1152.0}
    props = doc["properties"]
    assert [list(p) for p in props] == [["name", "kind", "verdict", "reason", "counterexample"]] * 3
    assert [(p["name"], p["verdict"]) for p in props] == [("type_ok", "holds"), ("consistent", "violated"), ("progress", "inconclusive")]
    assert props[0]["counterexample"] is None
    assert props[2]["reason"] == "stopped at the first violation"
    assert props[1]["counterexample"] == trace_to_itf(two_phase_trace())
    assert doc["counterexample"] == props[1]["counterexample"]
    assert itf_to_trace(doc["counterexample"]) == two_phase_trace()


def test_json_without_counterexample_and_inconclusive_reason() -> None:
    r = Result("M", {}, "bmc", [PropertyResult("safe", "invariant", INCONCLUSIVE, reason="depth 20")], Stats(0, 0, 20, 1.0), reason="depth 20")
    doc = result_to_json(r)
    assert (doc["verdict"], doc["reason"], doc["counterexample"]) == ("inconclusive", "depth 20", None)


def test_json_is_deterministic_except_timings(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_json(violated_result(), a)
    write_json(violated_result(), b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().endswith("}\n")
    slower = violated_result()
    slower.stats.seconds = 3.0
    x, y = json.loads(json_dumps(violated_result())), json.loads(json_dumps(slower))
    for d in (x, y):
        del d["stats"]["seconds"], d["stats"]["states_per_second"]
    assert x == y


def test_json_timings_are_valid_json_even_when_zero() -> None:
    r = violated_result()
    r.stats.seconds = 0.0
    assert json.loads(json_dumps(r))["stats"]["states_per_second"] == 0.0


# ---------------------------------------------------------------------------- the documented examples stay true

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _json_blocks(name: str) -> list[str]:
    text = (DOCS / name).read_text()
    return [block.split("```", 1)[0] for block in text.split("```json\n")[1:]]


def test_documented_itf_example_is_what_write_itf_writes() -> None:
    (block,) = _json_blocks("traces.md")
    assert itf_dumps(itf_to_trace(json.loads(block))) == block


def test_documented_json_examples_have_the_documented_keys() -> None:
    blocks = _json_blocks("json-schema.md")
    assert len(blocks) == 2
    for block in blocks:
        doc = json.loads(block)
        assert tuple(doc) == KEYS
        assert [list(p) for p in doc["properties"]] == [["name", "kind", "verdict", "reason", "counterexample"]] * len(doc["properties"])
        if doc["counterexample"] is not None:
            assert itf_dumps(itf_to_trace(doc["counterexample"])) == json.dumps(doc["counterexample"], indent=2, ensure_ascii=False) + "\n"


def test_json_carries_the_measured_fault_tolerance() -> None:
    """With --tolerance each property's document gains a ``tolerance`` object (and only then)."""
    from ordercheck import Const, MapOf, Model, SetOf, Var, action, check, invariant, require
    from ordercheck.domain import Faults, Topology, never_lost

    class Mirror(Model):
        NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
        ORDER = Const(("o1",))
        disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
        acked = Var(SetOf(ORDER), init=())
        faults = Faults(crash=False, power_loss=False, disk_loss=True, budget=1)

        @action(o=ORDER, n=NODE, on="n")
        def store(s, o, n):
            s.disk[n] = s.disk[n].add(o)

        @action(o=ORDER)
        def ack(s, o):
            require(s.disk.holders(o).count() == 2)
            s.acked = s.acked.add(o)

        @invariant
        def kept(s):
            return never_lost(s.acked, copies=s.disk)

    assert "tolerance" not in result_to_json(check(Mirror()))["properties"][0]
    doc = result_to_json(check(Mirror(), tolerance=True))["properties"][0]["tolerance"]
    # Two disk copies: one disk loss is survived, two (one per holder) lose the order.
    assert (doc["measure"], doc["k"], doc["verdict"]) == ("fault budget", 1, "holds")
    assert sorted(doc["failure_set"]) == ["disk_loss(n='a')", "disk_loss(n='b')"]
