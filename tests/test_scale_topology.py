"""Designs with a thousand nodes: tracing, both explicit backends and the Z3 encoding must not nest per node.

On the main branch before this test, a 1,000-node design failed while the model was traced
(``RecursionError`` in ``ir.Expr.__eq__``: a map read at a state key, ``s.up[s.primary]``, was a chain of
one ``ite`` per node) and, with 200 data nodes, in code generation ("too many nested parentheses").
The verdict is not the point here (the bounds make it inconclusive); reaching one without a crash is.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import z3

from ordercheck import check
from ordercheck.cli import main
from ordercheck.design import load_design
from ordercheck.lang import ir, spec_of
from ordercheck.lang.types import FinType, IntType
from ordercheck.symbolic.encode import Encoding

NODES = 1000


def _design(tmp: Path, nodes: int, replicas: int = 2) -> Path:
    """A primary, ``replicas`` synchronous replicas and web servers up to ``nodes`` in all; one order, budget 1."""
    lines = ['name = "a thousand servers"', "orders = 1", ""]
    lines += ["[[node]]", 'name = "db0"', 'role = "primary"', 'rack = "r0"', ""]
    for i in range(1, nodes):
        if i <= replicas:
            lines += ["[[node]]", f'name = "db{i}"', 'role = "replica"', 'replication = "sync"', f'rack = "r{i % 3}"', ""]
        else:
            lines += ["[[node]]", f'name = "web{i}"', 'role = "web"', f'rack = "r{i % 3}"', ""]
    lines += ["[protocol]", 'family = "replicated-log"', 'stores = { primary = "disk", replica = "disk" }',
              'fsync = "before-ack"', 'ack = "primary.disk and 1 of replica.disk"', 'promote = "any"', "",
              "[check]", 'properties = ["props.toml"]', 'faults = { kinds = ["crash"], budget = 1, domain = "node" }']
    (tmp / "props.toml").write_text('[[property]]\nkind = "never_lost"\n')
    path = tmp / "big.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_design(_design(tmp_path_factory.mktemp("big"), NODES)).model()


def _depth(root: ir.Expr) -> int:
    """The nesting depth of an expression, computed without recursion."""
    depth: dict[ir.Expr, int] = {}
    for node in ir.walk([root]):
        depth[node] = 1 + max((depth[a] for a in node.args), default=0)
    return depth[root]


def test_map_lookup_at_a_state_key_is_a_balanced_tree() -> None:
    # 1,000 entries: a chain would be 1,000 deep; halving down to chains of 8 is about log2(1000/8) + 8 = 15.
    index = ir.var(0, FinType(tuple(range(1000))))
    entries = [ir.var(i + 1, IntType(0, 7)) for i in range(1000)]
    assert _depth(ir.lookup(index, entries)) <= 2 * (10 + ir.LOOKUP_CHAIN)


def test_deep_expressions_compare_without_recursion() -> None:
    # Two equal chains deeper than Python's recursion limit, built separately (distinct objects).
    def chain() -> ir.Expr:
        e = ir.var(0, IntType(0, 1))
        for _ in range(sys.getrecursionlimit() * 3):
            e = ir.Expr("neg", (e,), e.type)
        return e
    a, b = chain(), chain()
    assert a is not b and a == b and hash(a) == hash(b)
    c = ir.Expr("neg", (ir.Expr("neg", (ir.var(1, IntType(0, 1)),), IntType(0, 1)),), IntType(0, 1))
    assert a != c


def test_thousand_nodes_scalar_backend(big_model) -> None:  # type: ignore[no-untyped-def]
    result = check(big_model, backend="scalar", max_states=300, max_seconds=20)
    assert result.verdict in ("holds", "violated", "inconclusive")


def test_thousand_nodes_vectorized_backend(big_model) -> None:  # type: ignore[no-untyped-def]
    result = check(big_model, backend="vectorized", max_states=300, max_seconds=20)
    assert result.verdict in ("holds", "violated", "inconclusive")


def test_thousand_nodes_z3_encoding(big_model) -> None:  # type: ignore[no-untyped-def]
    # The whole transition relation and every property encoded (a BMC to depth 2 also finishes, in about
    # two minutes on a 2-core machine: too slow for the suite, run by hand).
    spec = spec_of(big_model)
    enc = Encoding(spec)
    assert z3.is_bool(enc.trans)
    assert all(z3.is_bool(enc.bool(p.expr)) for p in spec.properties)


def test_thousand_nodes_through_the_cli(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(_design(tmp_path, NODES)), "--max-states", "200", "--max-seconds", "20", "--quiet"], out, err)
    assert code in (0, 1, 3), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
