"""The fuzz suite: whatever the input, the command line ends with an exit code of 0, 1, 2 or 3.

Inputs are built from the real formats with mutations: design files (the keys of a shipped design
with wrong types, unknown keys, huge or negative numbers, deep nesting, odd unicode), property
files, ITF traces for ``replay`` and ``explain`` against a shipped design, and combinations of
``check`` options.  Each runs ``ordercheck.cli.main`` in-process with small bounds and must return
0/1/2/3, with no exception escaping and no traceback in its output, within a time limit.

A few dozen examples per test in a normal run; set ``ORDERCHECK_FUZZ_EXAMPLES`` for more
(``ORDERCHECK_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py``).
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordercheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "model" / "hospital-1-app-tier-acks-from-memory.toml"
PROPERTIES = ROOT / "properties" / "clinical-orders.toml"
EXAMPLES = int(os.environ.get("ORDERCHECK_FUZZ_EXAMPLES", "0") or 0)

pytestmark = pytest.mark.filterwarnings("ignore")


def _settings(default: int) -> settings:
    return settings(max_examples=EXAMPLES or default, deadline=timedelta(seconds=30), derandomize=not EXAMPLES,
                    suppress_health_check=list(HealthCheck), database=None)


def _run(argv: list[str]) -> tuple[int, str]:
    """Run the CLI; the exit code must be a verdict or an input error, and no traceback may show."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    text = out.getvalue() + err.getvalue()
    assert code in (0, 1, 2, 3), f"exit {code}: {text[-2000:]}"
    assert "Traceback" not in text, text[-2000:]
    return code, text


# -- a small TOML writer (the fuzzed values are written back as a design file)

def _toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "-_" for c in k) and k.isascii() else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return json.dumps(v)  # JSON escapes are TOML basic-string escapes for these characters
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _toml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for k, v in data.items():
        if isinstance(v, dict) or (isinstance(v, list) and v and all(isinstance(x, dict) for x in v)):
            tables.append((k, v))
        else:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in tables:
        if isinstance(v, dict):
            lines.append(f"\n[{_toml_key(k)}]")
            lines += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
        else:
            for item in v:
                lines.append(f"\n[[{_toml_key(k)}]]")
                lines += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines) + "\n"


# -- strategies

ODD_TEXT = st.sampled_from(["", " ", "\x1b[2J", "a\nb", "\t", "\u202e", "<&\">", "]]>", "-->", "\U0001f4a5", "é", "x" * 300,
                            "o1", "db1", "app", "disk", "memory", "sync", "crash", "../x", "/dev/null"])
SCALARS = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, -1, 2, 5, 10**9]),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), ODD_TEXT,
                    st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)),
                      max_leaves=12)
KEYS = st.one_of(st.sampled_from(["name", "description", "orders", "role", "rack", "replication", "family", "preset", "stores",
                                  "fsync", "ack", "promote", "kinds", "budget", "domain", "faults", "properties", "k", "kind",
                                  "max_states", "max_seconds", "client_retries", "idempotency_keys", "node", "check",
                                  "protocol", "property", "synchronous_commit", "site", "power"]),
                 st.text(min_size=1, max_size=10))


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with a few mutations: a value replaced, a key added or removed, a deep nesting."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "add", "delete", "deep"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "deep":
            value: Any = draw(SCALARS)
            for _ in range(draw(st.integers(10, 300))):
                value = [value] if draw(st.booleans()) else {"a": value}
            parent[path[-1]] = value
    if not isinstance(data, dict):
        data = {"x": data}
    return data


def _base_design() -> dict[str, Any]:
    data = tomllib.loads(DESIGN.read_text())
    data["check"]["properties"] = ["props.toml"]
    return data


BASE_DESIGN = _base_design()
BASE_PROPERTIES = tomllib.loads(PROPERTIES.read_text())
BOUNDS = ["--max-states", "60", "--max-seconds", "3", "--quiet"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _fresh(workdir: Path, name: str) -> Path:
    d = workdir / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    return d


@_settings(40)
@given(design=mutated(BASE_DESIGN))
def test_fuzzed_design_files(workdir: Path, design: dict[str, Any]) -> None:
    d = _fresh(workdir, "design")
    (d / "props.toml").write_text(PROPERTIES.read_text())
    try:
        text = _toml(design)
    except (TypeError, ValueError):
        return
    (d / "d.toml").write_text(text)
    _run(["check", str(d / "d.toml"), *BOUNDS])


@_settings(30)
@given(props=mutated(BASE_PROPERTIES))
def test_fuzzed_property_files(workdir: Path, props: dict[str, Any]) -> None:
    d = _fresh(workdir, "props")
    (d / "props.toml").write_text(_toml(props))
    design = _base_design()
    (d / "d.toml").write_text(_toml(design))
    _run(["check", str(d / "d.toml"), *BOUNDS])


@_settings(30)
@given(raw=st.binary(max_size=200), text=st.text(max_size=200))
def test_fuzzed_bytes_as_design_and_property_files(workdir: Path, raw: bytes, text: str) -> None:
    d = _fresh(workdir, "bytes")
    design = _toml(_base_design())
    (d / "props.toml").write_bytes(raw)
    (d / "d.toml").write_text(design + text if "[" not in text else text, errors="surrogatepass") if text.isprintable() else (d / "d.toml").write_text(design)
    _run(["check", str(d / "d.toml"), *BOUNDS])


@pytest.fixture(scope="module")
def trace(workdir: Path) -> dict[str, Any]:
    out = workdir / "h1.itf.json"
    code, _ = _run(["check", str(DESIGN), "--trace-out", str(out), "--quiet", "--max-seconds", "30"])
    assert code == 1
    written = sorted(workdir.glob("h1*.itf.json"))
    assert written
    return json.loads(written[0].read_text())  # type: ignore[no-any-return]


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), ODD_TEXT,
                                     st.just({"#bigint": "12"}), st.just({"#set": []}), st.just({"#map": [[1, 2]]}),
                                     st.just({"#tup": ["a"]})),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=8)


@st.composite
def mutated_json(draw: st.DrawFn, base: Any) -> Any:
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "deep"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        else:
            value: Any = 1
            for _ in range(draw(st.integers(50, 1200))):
                value = [value]
            parent[path[-1]] = value
    return data


@pytest.mark.parametrize("command", ["replay", "explain"])
@_settings(12)
@given(data=st.data())
def test_fuzzed_itf_traces(workdir: Path, trace: dict[str, Any], command: str, data: st.DataObject) -> None:
    doc = data.draw(mutated_json(trace))
    d = _fresh(workdir, f"itf-{command}")
    path = d / "t.itf.json"
    try:
        path.write_text(json.dumps(doc))
    except (RecursionError, ValueError):
        return
    _run([command, str(DESIGN), str(path)])


OPTIONS = st.lists(st.one_of(
    st.tuples(st.sampled_from(["--max-states", "--max-seconds", "--max-depth", "--depth", "--workers"]),
              st.sampled_from(["0", "-1", "1", "2", "nan", "inf", "1e9", "x", "", "0.01"])),
    st.tuples(st.sampled_from(["--engine"]), st.sampled_from(["auto", "explicit", "bmc", "induction", "nope"])),
    st.tuples(st.sampled_from(["--backend"]), st.sampled_from(["auto", "scalar", "vectorized", "gpu"])),
    st.tuples(st.sampled_from(["--store"]), st.sampled_from(["auto", "exact", "fingerprint"])),
    st.tuples(st.sampled_from(["--property", "--model", "--symmetry", "--lemma"]), ODD_TEXT),
    st.tuples(st.sampled_from(["--const"]), st.sampled_from(["ORDER=o1", "NODE=", "=", "X=1", "ORDER=o1,o1", "ORDER"])),
    st.tuples(st.sampled_from(["--continue", "--deadlock", "--tolerance", "--vacuity", "--quiet"])),
    st.tuples(st.sampled_from(["--format"]), st.sampled_from(["text", "mermaid", "html"])),
    st.tuples(st.sampled_from(["--json", "--trace-out", "--html", "--svg", "--junit", "--sarif", "--markdown"]),
              st.sampled_from(["OUT", "OUTDIR", "/nonexistent/dir/f", "/dev/null"])),
), max_size=5)


@_settings(40)
@given(options=OPTIONS, target=st.sampled_from(["model/twophase.py", "model/diehard.py", str(DESIGN), "model", "nope.py"]))
def test_fuzzed_cli_options(workdir: Path, options: list[tuple[str, ...]], target: str) -> None:
    d = _fresh(workdir, "cli")
    argv = ["check", str(ROOT / target) if not target.startswith("/") else target]
    for option in options:
        argv += [option[0]] + [x.replace("OUTDIR", str(d)).replace("OUT", str(d / "out")) for x in option[1:]]
    argv += ["--max-states", "200", "--max-seconds", "5"]
    try:
        _run(argv)
    except SystemExit as exc:  # argparse refusing an option: exit 2, with a usage message
        assert exc.code == 2
