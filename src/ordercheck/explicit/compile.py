"""The compiled scalar backend: IR turned into Python source over packed states.

A packed state is one integer with every slot at its bit offset.  For a
:class:`~ordercheck.lang.spec.Spec` this module generates, as one Python
module, functions that read slots with shifts and masks, evaluate guards
with short-circuiting nested ``if`` statements, and build successors by
clearing the written slots and or-ing in their new values.  Subexpressions
used more than once in a binding are computed once, into a local.

The reference interpreter (:mod:`ordercheck.lang.interpret`) defines the
semantics; this backend must agree with it on every state (the tests check).

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 2), init=0)
...     @action
...     def inc(s):
...         require(s.x < 2)
...         s.x = s.x + 1
>>> c = compile_spec(spec_of(Up()))
>>> c.successors(0), c.successors(2)
([(0, 1)], [])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..lang import ir
from ..lang.spec import Spec
from ..lang.types import BoolType, IntType

__all__ = ["CheckFailure", "CompiledSpec", "compile_spec"]


class CheckFailure(Exception):
    """Raised by generated code when a run-time check fails.

    ``binding`` is the binding index (or -1 for a property, then ``prop`` is
    set), ``check`` the index of the check.
    """

    def __init__(self, binding: int, check: int, prop: int = -1) -> None:
        super().__init__(binding, check, prop)
        self.binding = binding
        self.check = check
        self.prop = prop


@dataclass
class CompiledSpec:
    """Generated functions over packed states.

    ``successors(x)`` lists ``(binding index, successor)``; ``invariants(x)``
    is a bit mask of the invariants violated in ``x`` (bit ``i`` for
    ``invariant_props[i]``); ``steps(x, y)`` likewise for step properties;
    ``goals(x)`` a mask of the ``sometimes`` goals satisfied in ``x``.
    """

    spec: Spec
    source: str
    successors: Callable[[int], list[tuple[int, int]]]
    invariants: Callable[[int], int]
    steps: Callable[[int, int], int]
    goals: Callable[[int], int]
    invariant_props: tuple[int, ...]
    step_props: tuple[int, ...]
    goal_props: tuple[int, ...]


class _Emitter:
    """Writes Python source for IR expressions, with shared subexpressions in locals."""

    def __init__(self, tables: dict[tuple[Any, ...], str]) -> None:
        self.tables = tables
        self.names: dict[ir.Expr, str] = {}
        self.counter = 0

    def table(self, entries: tuple[Any, ...]) -> str:
        if entries not in self.tables:
            self.tables[entries] = f"_T{len(self.tables)}"
        return self.tables[entries]

    def code(self, e: ir.Expr) -> str:
        if e in self.names:
            return self.names[e]
        op, a = e.op, e.args
        c = self.code
        if op == "const":
            return repr(e.data) if not isinstance(e.data, bool) else ("True" if e.data else "False")
        if op == "var":
            return f"v{e.data}"
        if op == "post":
            return f"w{e.data}"
        if op == "not":
            return f"(not {c(a[0])})"
        if op == "and":
            return "(" + " and ".join(c(x) for x in a) + ")"
        if op == "or":
            return "(" + " or ".join(c(x) for x in a) + ")"
        if op == "eq":
            return f"({c(a[0])} == {c(a[1])})"
        if op == "lt":
            return f"({c(a[0])} < {c(a[1])})"
        if op == "le":
            return f"({c(a[0])} <= {c(a[1])})"
        if op in ("add", "sub", "mul"):
            sym = {"add": "+", "sub": "-", "mul": "*"}[op]
            return f"({c(a[0])} {sym} {c(a[1])})"
        if op == "neg":
            return f"(-{c(a[0])})"
        if op in ("floordiv", "mod"):
            sym = "//" if op == "floordiv" else "%"
            if a[1].is_const and a[1].data != 0:
                return f"({c(a[0])} {sym} {c(a[1])})"
            return f"_{op}({c(a[0])}, {c(a[1])})"
        if op == "ite":
            return f"({c(a[1])} if {c(a[0])} else {c(a[2])})"
        if op == "table":
            return f"{self.table(e.data)}[{c(a[0])}]"
        if op == "union":
            return f"({c(a[0])} | {c(a[1])})"
        if op == "inter":
            return f"({c(a[0])} & {c(a[1])})"
        if op == "diff":
            return f"({c(a[0])} & ~{c(a[1])})"
        if op == "subset":
            return f"(not ({c(a[0])} & ~{c(a[1])}))"
        if op == "has":
            if a[1].is_const:
                return f"(({c(a[0])} >> {a[1].data}) & 1)"
            return f"(({c(a[0])} >> {c(a[1])}) & 1)"
        if op == "with":
            bit = str(1 << a[1].data) if a[1].is_const else f"(1 << {c(a[1])})"
            return f"({c(a[0])} | {bit})"
        if op == "without":
            bit = str(1 << a[1].data) if a[1].is_const else f"(1 << {c(a[1])})"
            return f"({c(a[0])} & ~{bit})"
        if op == "count":
            return f"({c(a[0])}).bit_count()"
        if op == "bits":
            return "(" + " | ".join(f"({c(x)} << {i})" if i else f"{c(x)}" for i, x in enumerate(a)) + ")"
        raise ValueError(f"unknown IR operator {op!r}")

    def shared(self, roots: list[ir.Expr]) -> set[ir.Expr]:
        """Nodes referenced more than once among ``roots`` (worth a local)."""
        return {n for n in ir.reused(roots) if n.op not in ("var", "post")}

    def define(self, root: ir.Expr, shared: set[ir.Expr], lines: list[str], indent: str) -> None:
        """Emit locals for the shared nodes under ``root`` that are not yet defined."""
        for node in ir.walk([root]):
            if node in shared and node not in self.names:
                text = self.code(node)
                self.counter += 1
                name = f"t{self.counter}"
                lines.append(f"{indent}{name} = {text}")
                self.names[node] = name


def _slot_reads(spec: Spec, slots: set[int], source: str, prefix: str, indent: str) -> list[str]:
    lines = []
    for i in sorted(slots):
        slot = spec.slots[i]
        mask = (1 << slot.width) - 1
        lo = slot.type.lo if isinstance(slot.type, IntType) else 0
        if slot.width == 0:
            read = str(lo)
        else:
            read = f"({source} >> {slot.offset}) & {mask}" if slot.offset else f"{source} & {mask}"
            if lo:
                read = f"({read}) + {lo}"
        lines.append(f"{indent}{prefix}{i} = {read}")
    return lines


def _slots_of(roots: list[ir.Expr], op: str) -> set[int]:
    return {n.data for n in ir.walk(roots) if n.op == op}


def _encode(spec: Spec, slot: int, code: str) -> str:
    s = spec.slots[slot]
    if isinstance(s.type, IntType) and s.type.lo:
        code = f"({code} - {s.type.lo})"
    if isinstance(s.type, BoolType):
        code = f"int({code})" if not s.offset else code
    return f"({code} << {s.offset})" if s.offset else code


def _successors_source(spec: Spec, tables: dict[tuple[Any, ...], str]) -> list[str]:
    roots: list[ir.Expr] = []
    for b in spec.bindings:
        roots.append(b.guard)
        roots.extend(ch.cond for ch in b.checks)
        roots.extend(e for _, e in b.updates)
    lines = ["def successors(x):", "    out = []", "    append = out.append"]
    lines += _slot_reads(spec, _slots_of(roots, "var"), "x", "v", "    ")
    full = (1 << spec.width) - 1
    for index, b in enumerate(spec.bindings):
        em = _Emitter(tables)
        conjuncts = list(b.guard.args) if b.guard.op == "and" else ([] if b.guard.is_const else [b.guard])
        statement_roots = conjuncts + [ch.cond for ch in b.checks] + [e for _, e in b.updates]
        shared = em.shared(statement_roots)
        lines.append(f"    # {b.label}")
        indent = "    "
        for conj in conjuncts:
            em.define(conj, shared, lines, indent)
            lines.append(f"{indent}if {em.code(conj)}:")
            indent += "    "
        if not conjuncts:
            lines.append(f"{indent}if True:")
            indent += "    "
        for k, ch in enumerate(b.checks):
            em.define(ch.cond, shared, lines, indent)
            lines.append(f"{indent}if not {em.code(ch.cond)}: raise _Fail({index}, {k})")
        keep = full
        parts = []
        for slot, e in b.updates:
            em.define(e, shared, lines, indent)
            s = spec.slots[slot]
            keep &= ~(((1 << s.width) - 1) << s.offset)
            if s.width:
                parts.append(_encode(spec, slot, em.code(e)))
        packed = " | ".join([f"(x & {keep})" if keep != full else "x"] + parts)
        lines.append(f"{indent}append(({index}, {packed}))")
    lines.append("    return out")
    return lines


def _mask_function(spec: Spec, name: str, props: tuple[int, ...], step: bool, tables: dict[tuple[Any, ...], str], satisfied: bool) -> list[str]:
    args = "x, y" if step else "x"
    lines = [f"def {name}({args}):", "    m = 0"]
    roots = []
    for p in props:
        prop = spec.properties[p]
        roots.append(prop.expr)
        roots.extend(ch.cond for ch in prop.checks)
    lines += _slot_reads(spec, _slots_of(roots, "var"), "x", "v", "    ")
    if step:
        lines += _slot_reads(spec, _slots_of(roots, "post"), "y", "w", "    ")
    for bit, p in enumerate(props):
        prop = spec.properties[p]
        em = _Emitter(tables)
        shared = em.shared([ch.cond for ch in prop.checks] + [prop.expr])
        for k, ch in enumerate(prop.checks):
            em.define(ch.cond, shared, lines, "    ")
            lines.append(f"    if not {em.code(ch.cond)}: raise _Fail(-1, {k}, {p})")
        em.define(prop.expr, shared, lines, "    ")
        test = em.code(prop.expr) if satisfied else f"not {em.code(prop.expr)}"
        lines.append(f"    if {test}: m |= {1 << bit}")
    lines.append("    return m")
    return lines


def _floordiv(a: int, b: int) -> int:
    return a // b if b else 0


def _mod(a: int, b: int) -> int:
    return a % b if b else a


def compile_spec(spec: Spec) -> CompiledSpec:
    """Generate and compile the packed-state functions of ``spec``."""
    kinds = [p.kind for p in spec.properties]
    inv = tuple(i for i, k in enumerate(kinds) if k == "invariant")
    step = tuple(i for i, k in enumerate(kinds) if k == "step")
    goal = tuple(i for i, k in enumerate(kinds) if k == "sometimes")
    tables: dict[tuple[Any, ...], str] = {}
    body: list[str] = []
    body += _successors_source(spec, tables)
    body += _mask_function(spec, "invariants", inv, False, tables, satisfied=False)
    body += _mask_function(spec, "steps", step, True, tables, satisfied=False)
    body += _mask_function(spec, "goals", goal, False, tables, satisfied=True)
    header = [f"# generated by ordercheck for model {spec.name!a}"]  # ascii(): no newline can end the comment
    header += [f"{name} = {entries!r}" for entries, name in tables.items()]
    source = "\n".join(header + body) + "\n"
    namespace: dict[str, Any] = {"_Fail": CheckFailure, "_floordiv": _floordiv, "_mod": _mod}
    exec(compile(source, f"<ordercheck:{spec.name!a}>", "exec"), namespace)
    return CompiledSpec(
        spec=spec,
        source=source,
        successors=namespace["successors"],
        invariants=namespace["invariants"],
        steps=namespace["steps"],
        goals=namespace["goals"],
        invariant_props=inv,
        step_props=step,
        goal_props=goal,
    )
