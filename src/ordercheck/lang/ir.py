"""The intermediate representation: typed expressions over the slots of a state.

Tracing a model (:mod:`ordercheck.lang.model`) turns every action, invariant and
property into expressions built here.  Every backend (the reference
interpreter, the compiled explicit engine, Z3) consumes only these nodes.

Expressions are immutable and compare structurally, so a subexpression computed
twice is one dictionary key for the backends, which evaluate it once.  The
constructors fold constants and apply a few identities, so that a ``require``
on parameters alone is decided while tracing.

Encoded values (what a ``const`` node holds and what evaluation yields):

==========  ===========================================
type        encoded value
==========  ===========================================
Bool        ``False`` / ``True``
Int         the integer itself (unbounded while computing)
Fin         the index of the label or element in its type
Set         a bit mask over the domain
==========  ===========================================

Examples
--------
>>> a = var(0, IntType(0, 3))
>>> add(a, const(IntType(1, 1), 1)).type
IntType(lo=1, hi=4)
>>> and_(const(BOOL, True), eq(a, const(IntType(2, 2), 2))).op
'eq'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .types import BoolType, FinType, IntType, ScalarType, SetType

__all__ = [
    "BOOL",
    "FALSE",
    "TRUE",
    "Expr",
    "add",
    "and_",
    "bits",
    "const",
    "count",
    "diff",
    "eq",
    "floordiv",
    "has",
    "implies",
    "int_type_of",
    "inter",
    "ite",
    "le",
    "lookup",
    "lt",
    "mod",
    "mul",
    "neg",
    "not_",
    "or_",
    "post",
    "reused",
    "sub",
    "subset",
    "table",
    "union",
    "var",
    "walk",
    "with_",
    "without",
]

BOOL = BoolType()


class Expr:
    """One IR node: an operator, its argument nodes, its type and operator data."""

    __slots__ = ("_hash", "_rep", "args", "data", "op", "type")

    def __init__(self, op: str, args: tuple[Expr, ...], type: ScalarType, data: Any = None) -> None:
        self.op = op
        self.args = args
        self.type = type
        self.data = data
        self._hash = hash((op, args, type, data))
        self._rep: Expr | None = None  # a structurally equal node found earlier (see __eq__)

    def __hash__(self) -> int:
        return self._hash

    def _root(self) -> Expr:
        node = self
        while node._rep is not None:
            node = node._rep
        if node is not self:
            self._rep = node
        return node

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Expr) or self._hash != other._hash:
            return False
        a0, b0 = self._root(), other._root()
        if a0 is b0:
            return True
        # Structural, without recursion: a deep expression (a long chain built by a model's loop) must not
        # exhaust Python's stack.  Nodes found equal are linked (union-find), so equal nodes built twice
        # compare in constant time afterwards, whatever their depth.
        pending = [(a0, b0)]
        same: dict[tuple[int, int], tuple[Expr, Expr]] = {}
        while pending:
            a, b = pending.pop()
            a, b = a._root(), b._root()
            if a is b or (id(a), id(b)) in same:
                continue
            if a._hash != b._hash or a.op != b.op or a.data != b.data or a.type != b.type or len(a.args) != len(b.args):
                return False
            same[id(a), id(b)] = (a, b)
            pending.extend(zip(a.args, b.args))
        for a, b in same.values():
            ra, rb = a._root(), b._root()
            if ra is not rb:
                rb._rep = ra
        return True

    @property
    def is_const(self) -> bool:
        return self.op == "const"

    def __repr__(self) -> str:
        if self.op == "const":
            return f"const({self.data!r})"
        if self.op in ("var", "post"):
            return f"{self.op}({self.data})"
        inner = ", ".join(repr(a) for a in self.args)
        extra = f"; {self.data!r}" if self.data is not None else ""
        return f"{self.op}({inner}{extra})"


TRUE = Expr("const", (), BOOL, True)
FALSE = Expr("const", (), BOOL, False)


def const(type: ScalarType, value: Any) -> Expr:
    """A constant of ``type`` holding the encoded ``value``."""
    if isinstance(type, BoolType):
        return TRUE if value else FALSE
    return Expr("const", (), type, value)


def var(slot: int, type: ScalarType) -> Expr:
    """The value of ``slot`` in the pre-state."""
    return Expr("var", (), type, slot)


def post(slot: int, type: ScalarType) -> Expr:
    """The value of ``slot`` in the post-state (step properties only)."""
    return Expr("post", (), type, slot)


def _bool_const(value: bool) -> Expr:
    return TRUE if value else FALSE


def not_(a: Expr) -> Expr:
    if a.is_const:
        return _bool_const(not a.data)
    if a.op == "not":
        return a.args[0]
    return Expr("not", (a,), BOOL)


def and_(*items: Expr) -> Expr:
    found: dict[Expr, None] = {}  # ordered and hashed: one conjunct among thousands is found at once
    for item in items:
        if item.is_const:
            if not item.data:
                return FALSE
            continue
        for p in item.args if item.op == "and" else (item,):
            found.setdefault(p)
    args = list(found)
    if not args:
        return TRUE
    if len(args) == 1:
        return args[0]
    return Expr("and", tuple(args), BOOL)


def or_(*items: Expr) -> Expr:
    found: dict[Expr, None] = {}  # ordered and hashed: one conjunct among thousands is found at once
    for item in items:
        if item.is_const:
            if item.data:
                return TRUE
            continue
        for p in item.args if item.op == "or" else (item,):
            found.setdefault(p)
    args = list(found)
    if not args:
        return FALSE
    if len(args) == 1:
        return args[0]
    return Expr("or", tuple(args), BOOL)


def implies(a: Expr, b: Expr) -> Expr:
    return or_(not_(a), b)


def eq(a: Expr, b: Expr) -> Expr:
    """Equality of two values of the same kind (the caller converts literals and labels)."""
    if a.is_const and b.is_const:
        return _bool_const(a.data == b.data)
    if a == b:
        return TRUE
    if isinstance(a.type, BoolType):
        if b.is_const:
            return a if b.data else not_(a)
        if a.is_const:
            return b if a.data else not_(b)
    if isinstance(a.type, IntType) and isinstance(b.type, IntType):
        if a.type.hi < b.type.lo or b.type.hi < a.type.lo:
            return FALSE
    return Expr("eq", (a, b), BOOL)


def lt(a: Expr, b: Expr) -> Expr:
    ta, tb = int_type_of(a), int_type_of(b)
    if a.is_const and b.is_const:
        return _bool_const(a.data < b.data)
    if ta.hi < tb.lo:
        return TRUE
    if ta.lo >= tb.hi:
        return FALSE
    return Expr("lt", (a, b), BOOL)


def le(a: Expr, b: Expr) -> Expr:
    ta, tb = int_type_of(a), int_type_of(b)
    if a.is_const and b.is_const:
        return _bool_const(a.data <= b.data)
    if ta.hi <= tb.lo:
        return TRUE
    if ta.lo > tb.hi:
        return FALSE
    return Expr("le", (a, b), BOOL)


def int_type_of(a: Expr) -> IntType:
    if not isinstance(a.type, IntType):
        raise TypeError(f"expected an integer expression, got {a.type}")
    return a.type


def _floordiv_value(a: int, b: int) -> int:
    return a // b if b else 0


def _mod_value(a: int, b: int) -> int:
    return a % b if b else a


def _arith(op: str, a: Expr, b: Expr, lo: int, hi: int, fold: Any) -> Expr:
    if a.is_const and b.is_const:
        value = fold(a.data, b.data)
        return const(IntType(value, value), value)
    return Expr(op, (a, b), IntType(lo, hi))


def add(a: Expr, b: Expr) -> Expr:
    ta, tb = int_type_of(a), int_type_of(b)
    if b.is_const and b.data == 0:
        return a
    if a.is_const and a.data == 0:
        return b
    return _arith("add", a, b, ta.lo + tb.lo, ta.hi + tb.hi, lambda x, y: x + y)


def sub(a: Expr, b: Expr) -> Expr:
    ta, tb = int_type_of(a), int_type_of(b)
    if b.is_const and b.data == 0:
        return a
    return _arith("sub", a, b, ta.lo - tb.hi, ta.hi - tb.lo, lambda x, y: x - y)


def mul(a: Expr, b: Expr) -> Expr:
    ta, tb = int_type_of(a), int_type_of(b)
    corners = [x * y for x in (ta.lo, ta.hi) for y in (tb.lo, tb.hi)]
    return _arith("mul", a, b, min(corners), max(corners), lambda x, y: x * y)


def _divisor_points(tb: IntType) -> list[int]:
    """The divisors at which a flooring quotient takes its extremes: the ends of each sign's range."""
    points = [d for d in (tb.lo, tb.hi, -1, 1) if tb.lo <= d <= tb.hi and d != 0]
    if tb.lo <= 0 <= tb.hi:
        points.append(0)
    return points


def floordiv(a: Expr, b: Expr) -> Expr:
    """Flooring division as in Python; ``x // 0`` is 0 in every backend."""
    ta, tb = int_type_of(a), int_type_of(b)
    values = [_floordiv_value(x, d) for x in (ta.lo, ta.hi) for d in _divisor_points(tb)]
    return _arith("floordiv", a, b, min(values), max(values), _floordiv_value)


def mod(a: Expr, b: Expr) -> Expr:
    """Python's ``%`` (the sign of the divisor); ``x % 0`` is ``x`` in every backend."""
    ta, tb = int_type_of(a), int_type_of(b)
    lo, hi = 0, 0
    if tb.hi > 0:
        hi = max(hi, tb.hi - 1)
    if tb.lo < 0:
        lo = min(lo, tb.lo + 1)
    if tb.lo <= 0 <= tb.hi:
        lo, hi = min(lo, ta.lo), max(hi, ta.hi)
    return _arith("mod", a, b, lo, hi, _mod_value)


def neg(a: Expr) -> Expr:
    ta = int_type_of(a)
    if a.is_const:
        return const(IntType(-a.data, -a.data), -a.data)
    return Expr("neg", (a,), IntType(-ta.hi, -ta.lo))


def _join(ta: ScalarType, tb: ScalarType) -> ScalarType:
    if isinstance(ta, IntType) and isinstance(tb, IntType):
        return IntType(min(ta.lo, tb.lo), max(ta.hi, tb.hi))
    if ta != tb:
        raise TypeError(f"ite branches have different types: {ta} and {tb}")
    return ta


def ite(c: Expr, a: Expr, b: Expr) -> Expr:
    """``a`` if ``c`` else ``b``; branches of the same kind (integer branches join their ranges)."""
    t = _join(a.type, b.type)
    if c.is_const:
        return a if c.data else b
    if a == b:
        return a
    if isinstance(t, BoolType):
        if a.is_const and b.is_const:
            return c if a.data else not_(c)
        if a.is_const:
            return or_(c, b) if a.data else and_(not_(c), b)
        if b.is_const:
            return or_(not_(c), a) if b.data else and_(c, a)
    return Expr("ite", (c, a, b), t)


def table(a: Expr, values: Iterable[Any], type: ScalarType) -> Expr:
    """Look up the encoded value for a Fin index: ``values[a]`` as a value of ``type``."""
    if not isinstance(a.type, FinType):
        raise TypeError("table lookup needs a Fin expression")
    entries = tuple(values)
    if len(entries) != len(a.type.values):
        raise ValueError("table length differs from the domain size")
    if a.is_const:
        return const(type, entries[a.data])
    if len(set(entries)) == 1:
        return const(type, entries[0])
    if isinstance(type, FinType) and a.type == type and entries == tuple(range(len(entries))):
        return a
    return Expr("table", (a,), type, entries)


LOOKUP_CHAIN = 8
"""Up to this many entries a lookup is a chain of equality tests; more are split in halves (depth ~log2 n)."""


def lookup(index: Expr, entries: Iterable[Expr]) -> Expr:
    """``entries[index]`` for a Fin ``index`` (one entry per value of its type): a map read at a state key.

    A few entries give the chain ``ite(index == 0, e0, ite(index == 1, e1, ... e_last))``; more
    give a balanced tree that splits on which half ``index`` is in (a ``table`` to a Bool), so a
    map over a thousand nodes does not nest a thousand deep in the IR, in generated code or in Z3.

    >>> i = var(0, FinType(tuple(range(20))))
    >>> xs = [var(k + 1, IntType(0, 3)) for k in range(20)]
    >>> deep = lookup(i, xs)
    >>> deep.op, deep.args[0].op
    ('ite', 'table')
    >>> max_depth = lambda e: 1 + max((max_depth(a) for a in e.args), default=0)
    >>> max_depth(deep) < 12
    True
    """
    items = tuple(entries)
    if not isinstance(index.type, FinType) or len(items) != len(index.type.values) or not items:
        raise ValueError("a lookup needs one entry per value of a Fin index")
    if index.is_const:
        return items[index.data]
    fin = index.type

    def chain(lo: int, hi: int) -> Expr:
        result = items[hi - 1]
        for i in range(hi - 2, lo - 1, -1):
            result = ite(eq(index, const(fin, i)), items[i], result)
        return result

    def tree(lo: int, hi: int) -> Expr:
        if hi - lo <= LOOKUP_CHAIN:
            return chain(lo, hi)
        mid = (lo + hi) // 2
        low_half = table(index, [v < mid for v in range(len(items))], BOOL)
        return ite(low_half, tree(lo, mid), tree(mid, hi))

    return tree(0, len(items))


def _set_type(a: Expr) -> SetType:
    if not isinstance(a.type, SetType):
        raise TypeError(f"expected a set expression, got {a.type}")
    return a.type


def _set_binary(op: str, a: Expr, b: Expr, fold: Any) -> Expr:
    t = _set_type(a)
    if _set_type(b) != t:
        raise TypeError(f"sets over different domains: {t} and {b.type}")
    if a.is_const and b.is_const:
        return const(t, fold(a.data, b.data))
    return Expr(op, (a, b), t)


def union(a: Expr, b: Expr) -> Expr:
    if b.is_const and b.data == 0:
        return a
    if a.is_const and a.data == 0:
        return b
    return _set_binary("union", a, b, lambda x, y: x | y)


def inter(a: Expr, b: Expr) -> Expr:
    return _set_binary("inter", a, b, lambda x, y: x & y)


def diff(a: Expr, b: Expr) -> Expr:
    if b.is_const and b.data == 0:
        return a
    return _set_binary("diff", a, b, lambda x, y: x & ~y)


def subset(a: Expr, b: Expr) -> Expr:
    """Whether every element of ``a`` is in ``b``."""
    if a.is_const and b.is_const:
        return _bool_const(a.data & ~b.data == 0)
    if a.is_const and a.data == 0:
        return TRUE
    return Expr("subset", (a, b), BOOL)


def has(s: Expr, e: Expr) -> Expr:
    """Membership of the element with Fin index ``e`` in the set ``s``."""
    _set_type(s)
    if s.is_const and e.is_const:
        return _bool_const(bool((s.data >> e.data) & 1))
    if s.is_const and s.data == 0:
        return FALSE
    return Expr("has", (s, e), BOOL)


def with_(s: Expr, e: Expr) -> Expr:
    t = _set_type(s)
    if s.is_const and e.is_const:
        return const(t, s.data | (1 << e.data))
    return Expr("with", (s, e), t)


def without(s: Expr, e: Expr) -> Expr:
    t = _set_type(s)
    if s.is_const and e.is_const:
        return const(t, s.data & ~(1 << e.data))
    return Expr("without", (s, e), t)


def count(s: Expr) -> Expr:
    t = _set_type(s)
    if s.is_const:
        n = int(s.data).bit_count()
        return const(IntType(n, n), n)
    return Expr("count", (s,), IntType(0, len(t.domain.values)))


def bits(type: SetType, members: Iterable[Expr]) -> Expr:
    """The set whose ``i``-th element is present exactly when ``members[i]`` holds."""
    items = tuple(members)
    if len(items) != len(type.domain.values):
        raise ValueError("one membership condition per domain element is needed")
    if all(m.is_const for m in items):
        return const(type, sum(1 << i for i, m in enumerate(items) if m.data))
    return Expr("bits", items, type)


def reused(roots: Iterable[Expr]) -> set[Expr]:
    """The non-constant nodes referenced more than once among ``roots`` (worth computing once, into a local).

    >>> x = var(0, IntType(0, 3))
    >>> twice = add(x, x)
    >>> reused([twice, eq(twice, const(IntType(2, 2), 2))]) == {twice, x}
    True
    """
    items = list(roots)
    uses: Counter[Expr] = Counter(items)
    for node in walk(items):
        for arg in node.args:
            uses[arg] += 1
    return {n for n, k in uses.items() if k > 1 and not n.is_const}


def walk(roots: Iterable[Expr]) -> list[Expr]:
    """Every node reachable from ``roots``, each once, children before parents."""
    seen: set[Expr] = set()
    order: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for arg in reversed(node.args):
            if arg not in seen:
                stack.append((arg, False))
    return order
