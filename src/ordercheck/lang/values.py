"""The values an action body sees while it is traced.

Reading ``s.x`` gives a value object wrapping an IR expression; its operators
build more IR.  Literals take the type of the other operand.  Python truth
tests on state expressions raise, with a message saying what to use instead.

Examples
--------
>>> from ordercheck.lang.types import FinType
>>> from ordercheck.lang import ir
>>> x = FinVal(ir.var(0, FinType(("a", "b"))))
>>> (x == "b").expr
eq(var(0), const(1))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, Protocol

from . import ir
from .errors import ModelError
from .types import BoolType, Domain, FinType, IntType, MapType, SetType, ValueType, describe_value

__all__ = [
    "ACTIVE_SINK",
    "BoolVal",
    "CheckSink",
    "ChoiceVal",
    "FinVal",
    "IntVal",
    "MapVal",
    "SetVal",
    "TupleVal",
    "UnsetVal",
    "Val",
    "coerce",
    "exists",
    "forall",
    "from_leaves",
    "implies",
    "in_branch",
    "ite",
    "leaves",
    "lift_int",
    "max_of",
    "merge",
    "min_of",
    "require",
    "to_bool",
    "values_equal",
]

TRUTH_MESSAGE = (
    "a state expression has no Python truth value: `if`, `and`, `or`, `not` and `while` cannot "
    "look at state; use `&`, `|`, `~`, `implies(p, q)`, `ite(cond, a, b)` or `require(cond)` instead"
)
MIN_MAX_MESSAGE = "Python's min() and max() cannot look at state (they ask which value is smaller); use min_of(...) or max_of(...)"


def _truth_error() -> ModelError:
    """The error for a Python truth test on state, with a pointer to min_of/max_of where min()/max() asked."""
    import linecache
    import re

    # min() and max() are builtins without a frame of their own: two frames up is the line that called them.
    frame = sys._getframe(2)
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return ModelError(MIN_MAX_MESSAGE if re.search(r"\b(min|max)\(", line) else TRUTH_MESSAGE)


class CheckSink(Protocol):
    """Where the value layer records run-time checks and guards: the active tracer."""

    def add_check(self, cond: ir.Expr, message: str) -> None: ...

    def require(self, cond: ir.Expr) -> None: ...

    def write(self, var: str, keys: tuple[Any, ...], value: Any) -> None: ...


# The tracer that is running, so that `require` and checks made deep inside value
# operations reach it.  A context variable, not a global: each tracing run sets and
# resets it, and concurrent tracings in other threads or tasks do not see it.
ACTIVE_SINK: ContextVar[CheckSink | None] = ContextVar("ordercheck_active_tracer", default=None)


def _sink() -> CheckSink:
    sink = ACTIVE_SINK.get()
    if sink is None:
        raise ModelError("`require` and state writes are only possible inside an action being traced")
    return sink


# The conditions under which the expression being traced is evaluated: inside a lazy branch of
# `ite(c, lambda: a, lambda: b)`, `c` (or its negation).  A run-time check made there (a map
# index, a range) holds only where the branch is taken, as TLA+'s IF evaluates one branch.
BRANCH: ContextVar[tuple[ir.Expr, ...]] = ContextVar("ordercheck_branch", default=())


def in_branch() -> bool:
    """Whether a lazy ``ite`` branch is being traced (state writes and ``require`` are refused there)."""
    return bool(BRANCH.get())


def _check(cond: ir.Expr, message: str) -> None:
    path = BRANCH.get()
    if path:
        cond = ir.implies(ir.and_(*path), cond)
    if cond.is_const:
        if not cond.data:
            raise ModelError(message)
        return
    _sink().add_check(cond, message)


class Val:
    """A traced value: an IR expression (scalars and sets) or entries (maps)."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise _truth_error()

    def __iter__(self) -> Any:
        raise ModelError("a state value cannot be iterated in Python; use forall(...) or exists(...)")

    def __contains__(self, item: Any) -> bool:
        raise ModelError("`x in state_set` cannot be traced; write state_set.has(x)")

    def __len__(self) -> int:
        raise ModelError("len() cannot be traced; write state_set.count()")


class UnsetVal(Val):
    """An entry of a map that an ``@initial`` function has not assigned yet.

    Entry writes that together cover a map are its initial value (TLA+'s
    ``[i \\in S |-> e]`` written as a loop); reading an entry before it is written
    is the error, named after the entry.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self) -> Any:
        raise ModelError(f"{self.where} is read before it has an initial value")

    def __getattr__(self, name: str) -> Any:
        self.fail()

    def __bool__(self) -> bool:
        return bool(self.fail())

    def __iter__(self) -> Any:
        self.fail()

    def __repr__(self) -> str:
        return f"UnsetVal({self.where})"


def _unset_operator(self: UnsetVal, *args: Any) -> Any:
    self.fail()


for _name in ("eq", "ne", "lt", "le", "gt", "ge", "add", "radd", "sub", "rsub", "mul", "rmul", "floordiv", "rfloordiv",
              "mod", "rmod", "neg", "invert", "and", "rand", "or", "ror", "xor", "rxor", "getitem", "contains", "len"):
    setattr(UnsetVal, f"__{_name}__", _unset_operator)


class ChoiceVal(Val):
    """``ite(cond, a, b)`` of two literals (labels, elements, set literals), not yet typed.

    The value it meets types it, as for any literal: the variable it is assigned to
    (``s.ret = ite(absent, "ok", "error")``), the value it is compared with, the set it
    is added to, the map it indexes.  Each branch is checked against that type.
    """

    __slots__ = ("a", "b", "cond")

    def __init__(self, cond: ir.Expr, a: Any, b: Any) -> None:
        self.cond, self.a, self.b = cond, a, b

    def __eq__(self, other: Any) -> BoolVal:  # type: ignore[override]
        if isinstance(other, Val) and not isinstance(other, ChoiceVal):
            return other == self  # type: ignore[no-any-return]
        when_a, when_b = values_equal(self.a, other), values_equal(self.b, other)
        return BoolVal(ir.or_(ir.and_(self.cond, when_a), ir.and_(ir.not_(self.cond), when_b)))

    def __ne__(self, other: Any) -> BoolVal:  # type: ignore[override]
        return ~(self == other)

    def __repr__(self) -> str:
        return f"ChoiceVal({self.cond!r}, {self.a!r}, {self.b!r})"


class ScalarVal(Val):
    __slots__ = ("expr",)

    def __init__(self, expr: ir.Expr) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expr!r})"


class BoolVal(ScalarVal):
    """A Boolean expression: combine with ``&``, ``|``, ``~``, ``^``."""

    __slots__ = ()

    def __bool__(self) -> bool:
        if self.expr.is_const:
            return bool(self.expr.data)
        raise _truth_error()

    def __and__(self, other: Any) -> BoolVal:
        return BoolVal(ir.and_(self.expr, to_bool(other)))

    __rand__ = __and__

    def __or__(self, other: Any) -> BoolVal:
        return BoolVal(ir.or_(self.expr, to_bool(other)))

    __ror__ = __or__

    def __xor__(self, other: Any) -> BoolVal:
        return BoolVal(ir.not_(ir.eq(self.expr, to_bool(other))))

    __rxor__ = __xor__

    def __invert__(self) -> BoolVal:
        return BoolVal(ir.not_(self.expr))

    def __eq__(self, other: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.eq(self.expr, to_bool(other)))

    def __ne__(self, other: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.not_(ir.eq(self.expr, to_bool(other))))


def to_bool(value: Any) -> ir.Expr:
    """The IR of a condition: a ``BoolVal`` or a Python ``bool``."""
    if isinstance(value, BoolVal):
        return value.expr
    if isinstance(value, bool):
        return ir.TRUE if value else ir.FALSE
    raise ModelError(f"expected a condition (a Boolean state expression or True/False), got {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, UnsetVal):
        value.fail()
    if isinstance(value, ChoiceVal):
        return f"ite(..., {describe_value(value.a)}, {describe_value(value.b)}), a choice between literals"
    if isinstance(value, ScalarVal):
        return f"a state expression of type {value.expr.type}"
    if isinstance(value, MapVal):
        return f"a map of type {value.type}"
    if isinstance(value, TupleVal):
        return "a tuple of state expressions"
    return f"{describe_value(value)} ({type(value).__name__})"


def lift_int(value: Any) -> ir.Expr:
    """The IR of an integer operand: an ``IntVal``, a Python int, or an element of an integer domain."""
    if isinstance(value, IntVal):
        return value.expr
    if isinstance(value, int) and not isinstance(value, bool):
        return ir.const(IntType(value, value), value)
    if isinstance(value, FinVal) and isinstance(value.expr.type, FinType) and value.expr.type.ints_only:
        t = value.expr.type
        return ir.table(value.expr, t.values, IntType(min(t.values), max(t.values)))
    if isinstance(value, ChoiceVal):
        return ir.ite(value.cond, lift_int(value.a), lift_int(value.b))
    raise ModelError(f"expected an integer, got {_describe(value)}")


class IntVal(ScalarVal):
    """A bounded integer expression; arithmetic is exact and checked when assigned."""

    __slots__ = ()

    def _bin(self, other: Any, op: Callable[[ir.Expr, ir.Expr], ir.Expr], swap: bool = False) -> IntVal:
        a, b = self.expr, lift_int(other)
        return IntVal(op(b, a) if swap else op(a, b))

    def __add__(self, o: Any) -> IntVal:
        return self._bin(o, ir.add)

    def __radd__(self, o: Any) -> IntVal:
        return self._bin(o, ir.add, True)

    def __sub__(self, o: Any) -> IntVal:
        return self._bin(o, ir.sub)

    def __rsub__(self, o: Any) -> IntVal:
        return self._bin(o, ir.sub, True)

    def __mul__(self, o: Any) -> IntVal:
        return self._bin(o, ir.mul)

    def __rmul__(self, o: Any) -> IntVal:
        return self._bin(o, ir.mul, True)

    def __floordiv__(self, o: Any) -> IntVal:
        return self._bin(o, ir.floordiv)

    def __rfloordiv__(self, o: Any) -> IntVal:
        return self._bin(o, ir.floordiv, True)

    def __mod__(self, o: Any) -> IntVal:
        return self._bin(o, ir.mod)

    def __rmod__(self, o: Any) -> IntVal:
        return self._bin(o, ir.mod, True)

    def __neg__(self) -> IntVal:
        return IntVal(ir.neg(self.expr))

    def __eq__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.eq(self.expr, lift_int(o)))

    def __ne__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.not_(ir.eq(self.expr, lift_int(o))))

    def __lt__(self, o: Any) -> BoolVal:
        return BoolVal(ir.lt(self.expr, lift_int(o)))

    def __le__(self, o: Any) -> BoolVal:
        return BoolVal(ir.le(self.expr, lift_int(o)))

    def __gt__(self, o: Any) -> BoolVal:
        return BoolVal(ir.lt(lift_int(o), self.expr))

    def __ge__(self, o: Any) -> BoolVal:
        return BoolVal(ir.le(lift_int(o), self.expr))


class FinVal(ScalarVal):
    """An enum label or a domain element (stored as its index in its type)."""

    __slots__ = ()

    @property
    def fin_type(self) -> FinType:
        assert isinstance(self.expr.type, FinType)
        return self.expr.type

    def __eq__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(fin_equals(self, o))

    def __ne__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.not_(fin_equals(self, o)))

    def __getitem__(self, i: int) -> ScalarVal:
        """Project a component of a tuple-valued element (``msg[0]``)."""
        t = self.fin_type
        if not isinstance(i, int):
            raise ModelError("a tuple element is projected with a constant index, as in m[0]")
        if not all(isinstance(v, tuple) and -len(v) <= i < len(v) for v in t.values):
            raise ModelError(f"cannot take component {i}: not every element of {t} is a tuple with that many components")
        parts = [v[i] for v in t.values]
        return _table_val(self.expr, parts)

    def _int(self) -> IntVal:
        return IntVal(lift_int(self))

    def __add__(self, o: Any) -> IntVal:
        return self._int() + o

    def __radd__(self, o: Any) -> IntVal:
        return o + self._int()

    def __sub__(self, o: Any) -> IntVal:
        return self._int() - o

    def __rsub__(self, o: Any) -> IntVal:
        return o - self._int()

    def __lt__(self, o: Any) -> BoolVal:
        return self._int() < o

    def __le__(self, o: Any) -> BoolVal:
        return self._int() <= o

    def __gt__(self, o: Any) -> BoolVal:
        return self._int() > o

    def __ge__(self, o: Any) -> BoolVal:
        return self._int() >= o


def _table_val(index: ir.Expr, parts: list[Any]) -> ScalarVal:
    """A value chosen from concrete ``parts`` by a Fin index: ints, bools or labels."""
    if all(isinstance(p, bool) for p in parts):
        return BoolVal(ir.table(index, parts, ir.BOOL))
    if all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
        return IntVal(ir.table(index, parts, IntType(min(parts), max(parts))))
    labels: list[Any] = []
    for p in parts:
        if p not in labels:
            labels.append(p)
    t = FinType(tuple(labels))
    return FinVal(ir.table(index, [t.index(p) for p in parts], t))


def fin_literal(t: FinType, value: Any) -> ir.Expr:
    """The constant for a literal label or element of ``t``; a model error if it is not one."""
    try:
        return ir.const(t, t.index(value))
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def fin_match(t: FinType, value: Any) -> list[tuple[int, ir.Expr]]:
    """For each element of ``t``, the condition under which ``value`` equals it (dropping the false ones).

    ``value`` is a literal, a ``FinVal`` (of any type sharing values with ``t``), an
    integer expression (for an integer domain) or a tuple mixing literals and
    state expressions (for a product domain).
    """
    if isinstance(value, FinVal):
        if value.fin_type == t:
            return [(i, ir.eq(value.expr, ir.const(t, i))) for i in range(len(t.values))]
        src = value.fin_type
        out = []
        for i, v in enumerate(t.values):
            if v in src:
                out.append((i, ir.eq(value.expr, ir.const(src, src.index(v)))))
        return out
    if isinstance(value, IntVal):
        if not t.ints_only:
            raise ModelError(f"an integer cannot be compared with or stored as an element of {t}")
        return [(i, ir.eq(value.expr, ir.const(IntType(v, v), v))) for i, v in enumerate(t.values)]
    if isinstance(value, TupleVal) or (isinstance(value, tuple) and _has_state(value)):
        items = value.items if isinstance(value, TupleVal) else value
        out = []
        for i, v in enumerate(t.values):
            if not (isinstance(v, tuple) and len(v) == len(items)):
                continue
            conds = [_component_equals(item, comp) for item, comp in zip(items, v)]
            cond = ir.and_(*conds)
            if not (cond.is_const and not cond.data):
                out.append((i, cond))
        return out
    if isinstance(value, ChoiceVal):
        when_a, when_b = dict(fin_match(t, value.a)), dict(fin_match(t, value.b))
        out = []
        for i in range(len(t.values)):
            cond = ir.or_(ir.and_(value.cond, when_a.get(i, ir.FALSE)), ir.and_(ir.not_(value.cond), when_b.get(i, ir.FALSE)))
            if not (cond.is_const and not cond.data):
                out.append((i, cond))
        return out
    if isinstance(value, (BoolVal, SetVal, MapVal, UnsetVal)):
        raise ModelError(f"{_describe(value)} is not an element of {t}")
    return [(t.index(value), ir.TRUE)] if value in t else _literal_error(t, value)


def _literal_error(t: FinType, value: Any) -> list[tuple[int, ir.Expr]]:
    raise ModelError(f"{describe_value(value)} is not one of {t}")


def _has_state(items: tuple[Any, ...]) -> bool:
    return any(isinstance(x, Val) or (isinstance(x, tuple) and _has_state(x)) for x in items)


def _component_equals(item: Any, component: Any) -> ir.Expr:
    if isinstance(item, BoolVal):
        return ir.eq(item.expr, ir.TRUE if component else ir.FALSE) if isinstance(component, bool) else ir.FALSE
    if isinstance(item, IntVal):
        if isinstance(component, int) and not isinstance(component, bool):
            return ir.eq(item.expr, ir.const(IntType(component, component), component))
        return ir.FALSE
    if isinstance(item, FinVal):
        t = item.fin_type
        return ir.eq(item.expr, ir.const(t, t.index(component))) if component in t else ir.FALSE
    if isinstance(item, ChoiceVal):
        return ir.or_(ir.and_(item.cond, _component_equals(item.a, component)),
                      ir.and_(ir.not_(item.cond), _component_equals(item.b, component)))
    if isinstance(item, (TupleVal, tuple)) and isinstance(component, tuple):
        items = item.items if isinstance(item, TupleVal) else item
        if len(items) != len(component):
            return ir.FALSE
        return ir.and_(*(_component_equals(a, b) for a, b in zip(items, component)))
    if isinstance(item, Val):
        raise ModelError(f"{_describe(item)} cannot be part of a domain element")
    return ir.TRUE if item == component and type(item) is type(component) else ir.FALSE


def fin_equals(a: FinVal, other: Any) -> ir.Expr:
    t = a.fin_type
    if isinstance(other, FinVal) and other.fin_type != t:
        common = [v for v in t.values if v in other.fin_type]
        if not common:
            raise ModelError(f"comparing values of {t} and {other.fin_type}, which share no value")
    if isinstance(other, IntVal) or (isinstance(other, int) and not isinstance(other, bool) and t.ints_only):
        return ir.eq(lift_int(a), lift_int(other))
    if not isinstance(other, (Val, tuple)) or (isinstance(other, tuple) and not _has_state(other)):
        return ir.eq(a.expr, fin_literal(t, other))
    return ir.or_(*(ir.and_(cond, ir.eq(a.expr, ir.const(t, i))) for i, cond in fin_match(t, other)))


def fin_index(t: FinType, value: Any, what: str) -> ir.Expr:
    """The index in ``t`` of ``value``, with a run-time check that it is one of ``t``'s values."""
    if isinstance(value, FinVal) and value.fin_type == t:
        return value.expr
    if not isinstance(value, Val) and not (isinstance(value, tuple) and _has_state(value)):
        return fin_literal(t, value)
    matches = fin_match(t, value)
    _check(ir.or_(*(c for _, c in matches)), f"{what}: the value is not one of {t}")
    if not matches:
        return ir.const(t, 0)
    result = ir.const(t, matches[-1][0])
    for i, cond in reversed(matches[:-1]):
        result = ir.ite(cond, ir.const(t, i), result)
    return result


class TupleVal(Val):
    """A tuple containing state expressions: an element of a product domain once it meets one."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = tuple(items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]

    def __eq__(self, other: Any) -> BoolVal:  # type: ignore[override]
        if isinstance(other, FinVal):
            return other == self
        other_items = other.items if isinstance(other, TupleVal) else other
        if not isinstance(other_items, tuple) or len(other_items) != len(self.items):
            return BoolVal(ir.FALSE)
        return BoolVal(ir.and_(*(values_equal(a, b) for a, b in zip(self.items, other_items))))

    def __ne__(self, other: Any) -> BoolVal:  # type: ignore[override]
        return ~(self == other)


def values_equal(a: Any, b: Any) -> ir.Expr:
    """Equality of any two operands, at least one of them possibly a state value."""
    if isinstance(a, Val):
        result = a == b
    elif isinstance(b, Val):
        result = b == a
    else:
        return ir.TRUE if a == b else ir.FALSE
    return to_bool(result)


class SetVal(ScalarVal):
    """A subset of a domain (a bit mask)."""

    __slots__ = ()

    @property
    def set_type(self) -> SetType:
        assert isinstance(self.expr.type, SetType)
        return self.expr.type

    def _other(self, other: Any) -> ir.Expr:
        return set_expr(self.set_type, other)

    def has(self, element: Any) -> BoolVal:
        """Whether ``element`` is in the set (false for a value outside the domain)."""
        t = self.set_type.domain
        if not isinstance(element, Val) and not (isinstance(element, tuple) and _has_state(element)):
            return BoolVal(ir.has(self.expr, fin_literal(t, element)))
        if isinstance(element, FinVal) and element.fin_type == t:
            return BoolVal(ir.has(self.expr, element.expr))
        return BoolVal(ir.or_(*(ir.and_(c, ir.has(self.expr, ir.const(t, i))) for i, c in fin_match(t, element))))

    def add(self, element: Any) -> SetVal:
        t = self.set_type.domain
        if isinstance(element, (TupleVal, tuple)) and _has_state(element if isinstance(element, tuple) else element.items):
            matches = fin_match(t, element)
            _check(ir.or_(*(c for _, c in matches)), f"adding an element that is not one of {t}")
            conds = dict(matches)
            members = [ir.or_(ir.has(self.expr, ir.const(t, i)), conds.get(i, ir.FALSE)) for i in range(len(t.values))]
            return SetVal(ir.bits(self.set_type, members))
        return SetVal(ir.with_(self.expr, fin_index(t, element, "adding to a set")))

    def remove(self, element: Any) -> SetVal:
        t = self.set_type.domain
        if isinstance(element, Val) or (isinstance(element, tuple) and _has_state(element)):
            conds = dict(fin_match(t, element))
            members = [ir.and_(ir.has(self.expr, ir.const(t, i)), ir.not_(conds.get(i, ir.FALSE))) for i in range(len(t.values))]
            return SetVal(ir.bits(self.set_type, members))
        return SetVal(ir.without(self.expr, fin_literal(t, element)))

    def count(self) -> IntVal:
        return IntVal(ir.count(self.expr))

    def is_empty(self) -> BoolVal:
        return BoolVal(ir.eq(self.expr, ir.const(self.set_type, 0)))

    def __or__(self, o: Any) -> SetVal:
        return SetVal(ir.union(self.expr, self._other(o)))

    __ror__ = __or__

    def __and__(self, o: Any) -> SetVal:
        return SetVal(ir.inter(self.expr, self._other(o)))

    __rand__ = __and__

    def __sub__(self, o: Any) -> SetVal:
        return SetVal(ir.diff(self.expr, self._other(o)))

    def __rsub__(self, o: Any) -> SetVal:
        return SetVal(ir.diff(self._other(o), self.expr))

    def __le__(self, o: Any) -> BoolVal:
        return BoolVal(ir.subset(self.expr, self._other(o)))

    def __ge__(self, o: Any) -> BoolVal:
        return BoolVal(ir.subset(self._other(o), self.expr))

    def __lt__(self, o: Any) -> BoolVal:
        b = self._other(o)
        return BoolVal(ir.and_(ir.subset(self.expr, b), ir.not_(ir.eq(self.expr, b))))

    def __gt__(self, o: Any) -> BoolVal:
        b = self._other(o)
        return BoolVal(ir.and_(ir.subset(b, self.expr), ir.not_(ir.eq(self.expr, b))))

    def __eq__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.eq(self.expr, self._other(o)))

    def __ne__(self, o: Any) -> BoolVal:  # type: ignore[override]
        return BoolVal(ir.not_(ir.eq(self.expr, self._other(o))))


def set_expr(t: SetType, value: Any) -> ir.Expr:
    """The IR of a set operand: a ``SetVal`` over the same domain, or a literal collection."""
    if isinstance(value, SetVal):
        if value.set_type != t:
            if value.set_type.domain.values == t.domain.values:
                return _retype(value.expr, t)
            raise ModelError(f"a set over {value.set_type.domain} cannot be combined with a set over {t.domain}")
        return value.expr
    if isinstance(value, (set, frozenset, list, tuple, Domain)) and not _has_state(tuple(value)):
        mask = 0
        for element in value:
            mask |= 1 << fin_literal(t.domain, element).data
        return ir.const(t, mask)
    if isinstance(value, (set, frozenset, list, tuple)):
        return ir.bits(t, [ir.or_(*(values_equal(e, v) for e in value)) for v in t.domain.values])
    raise ModelError(f"expected a set over {t.domain} (a set state expression, a domain, {{...}} or ()), got {_describe(value)}")


def _retype(expr: ir.Expr, t: SetType) -> ir.Expr:
    """A set over a domain with the same elements under another name: the same bits."""
    return ir.bits(t, [ir.has(expr, ir.const(expr.type.domain, i)) for i in range(len(t.domain.values))])  # type: ignore[union-attr]


class MapVal(Val):
    """A map: one value per key of its domain.  ``loc`` says where it lives in the state, if anywhere."""

    __slots__ = ("entries", "loc", "type")

    def __init__(self, type: MapType, entries: tuple[Any, ...], loc: tuple[str, tuple[Any, ...]] | None = None) -> None:
        self.type = type
        self.entries = entries
        self.loc = loc

    def __getitem__(self, key: Any) -> Any:
        dom = self.type.domain
        if not isinstance(key, Val) and not (isinstance(key, tuple) and _has_state(key)):
            i = fin_literal(dom, key).data
            entry = self.entries[i]
            if isinstance(entry, MapVal) and self.loc is not None:
                return MapVal(entry.type, entry.entries, (self.loc[0], self.loc[1] + (i,)))
            return entry
        index = fin_index(dom, key, "indexing a map")
        result = _lookup(index, self.entries)
        if isinstance(result, MapVal) and self.loc is not None:
            return MapVal(result.type, result.entries, (self.loc[0], self.loc[1] + (index,)))
        return result

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.loc is None:
            raise ModelError("cannot assign into a computed map; assign to an entry of a state variable, s.m[k] = v")
        dom = self.type.domain
        if not isinstance(key, Val) and not (isinstance(key, tuple) and _has_state(key)):
            index: Any = fin_literal(dom, key).data
        else:
            index = fin_index(dom, key, "assigning to a map entry")
        _sink().write(self.loc[0], self.loc[1] + (index,), value)

    def holders(self, element: Any) -> SetVal:
        """The set of keys whose set-valued entry holds ``element``."""
        if not isinstance(self.type.value, SetType):
            raise ModelError(f"holders() needs a map to sets; {self.type} maps to {self.type.value}")
        return SetVal(ir.bits(SetType(self.type.domain), [to_bool(e.has(element)) for e in self.entries]))

    def __eq__(self, other: Any) -> BoolVal:  # type: ignore[override]
        other_val = coerce(other, self.type, "comparing maps")
        return BoolVal(ir.and_(*(values_equal(a, b) for a, b in zip(self.entries, other_val.entries))))

    def __ne__(self, other: Any) -> BoolVal:  # type: ignore[override]
        return ~(self == other)

    def __repr__(self) -> str:
        return f"MapVal({self.type})"


def make_val(expr: ir.Expr) -> ScalarVal:
    """The value object of the right kind for ``expr``."""
    t = expr.type
    if isinstance(t, BoolType):
        return BoolVal(expr)
    if isinstance(t, IntType):
        return IntVal(expr)
    if isinstance(t, FinType):
        return FinVal(expr)
    return SetVal(expr)


def _lookup(index: ir.Expr, entries: tuple[Any, ...]) -> Any:
    """``entries[index]`` for a state index: scalars by :func:`ir.lookup` (no nesting per entry), maps entry by entry."""
    if all(isinstance(e, MapVal) for e in entries):
        first = entries[0]
        return MapVal(first.type, tuple(_lookup(index, tuple(e.entries[j] for e in entries)) for j in range(len(first.entries))))
    if all(isinstance(e, ScalarVal) for e in entries):
        return make_val(ir.lookup(index, [e.expr for e in entries]))
    raise ModelError("cannot choose between values of different kinds")


def merge(cond: ir.Expr, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` holds, else ``b``: values of one type, maps entry by entry."""
    for x in (a, b):
        if isinstance(x, UnsetVal):
            x.fail()
    if isinstance(a, MapVal) and isinstance(b, MapVal):
        return MapVal(a.type, tuple(merge(cond, x, y) for x, y in zip(a.entries, b.entries)))
    if isinstance(a, ScalarVal) and isinstance(b, ScalarVal):
        return make_val(ir.ite(cond, a.expr, b.expr))
    raise ModelError("cannot choose between values of different kinds")


def coerce(value: Any, t: ValueType, what: str) -> Any:
    """``value`` as a value of type ``t``, with run-time checks where it may not fit."""
    if isinstance(value, UnsetVal):
        value.fail()
    if isinstance(value, ChoiceVal):
        # The target types the literals (DESIGN's literal typing): each branch is checked against it.
        return merge(value.cond, coerce(value.a, t, what), coerce(value.b, t, what))
    if isinstance(t, MapType):
        if isinstance(value, MapVal):
            if value.type.domain.values != t.domain.values:
                raise ModelError(f"{what}: a map over {value.type.domain} is not a map over {t.domain}")
            return MapVal(t, tuple(coerce(e, t.value, what) for e in value.entries))
        if isinstance(value, dict):
            keys = list(value)
            for k in keys:
                if k not in t.domain:
                    raise ModelError(f"{what}: key {describe_value(k)} is not one of {t.domain}")
            missing = [k for k in t.domain.values if k not in value]
            if missing:
                raise ModelError(f"{what}: the dict gives no value for {', '.join(describe_value(k) for k in missing)}")
            return MapVal(t, tuple(coerce(value[k], t.value, what) for k in t.domain.values))
        single = coerce(value, t.value, what)
        return MapVal(t, tuple(single for _ in t.domain.values))
    if isinstance(value, MapVal):
        raise ModelError(f"{what}: a map cannot be stored as {t}")
    if isinstance(t, BoolType):
        return BoolVal(to_bool(value))
    if isinstance(t, IntType):
        expr = lift_int(value)
        vt = ir.int_type_of(expr)
        if expr.is_const and expr.data not in t:
            raise ModelError(f"{what}: {expr.data} is outside {t}")
        if vt.lo < t.lo or vt.hi > t.hi:
            _check(ir.and_(ir.le(ir.const(IntType(t.lo, t.lo), t.lo), expr), ir.le(expr, ir.const(IntType(t.hi, t.hi), t.hi))),
                   f"{what}: the value is outside {t}")
        return IntVal(expr)
    if isinstance(t, FinType):
        if isinstance(value, FinVal) and value.fin_type != t:
            src = value.fin_type
            present = [src.index(v) for v in src.values if v in t]
            if not present:
                raise ModelError(f"{what}: no value of {src} is one of {t}")
            ok = ir.table(value.expr, [v in t for v in src.values], ir.BOOL)
            _check(ok, f"{what}: the value is not one of {t}")
            return FinVal(ir.table(value.expr, [t.index(v) if v in t else 0 for v in src.values], t))
        return FinVal(fin_index(t, value, what))
    return SetVal(set_expr(t, value))


def leaves(value: Any) -> list[ir.Expr]:
    """The slot expressions of a value, in slot order."""
    if isinstance(value, MapVal):
        out: list[ir.Expr] = []
        for entry in value.entries:
            out.extend(leaves(entry))
        return out
    return [value.expr]


def from_leaves(t: ValueType, exprs: Iterable[ir.Expr | UnsetVal], loc: tuple[str, tuple[Any, ...]] | None = None) -> Any:
    """A value of type ``t`` built from its slot expressions (the inverse of :func:`leaves`).

    A leaf may be an :class:`UnsetVal`: an entry that an ``@initial`` function has not assigned yet.
    """
    it = iter(exprs)

    def build(tt: ValueType, path: tuple[Any, ...] | None) -> Any:
        if isinstance(tt, MapType):
            entries = tuple(build(tt.value, None if path is None else path + (i,)) for i in range(len(tt.domain.values)))
            return MapVal(tt, entries, None if loc is None or path is None else (loc[0], path))
        leaf = next(it)
        return leaf if isinstance(leaf, UnsetVal) else make_val(leaf)

    return build(t, None if loc is None else loc[1])


def forall(over: Any, fn: Callable[[Any], Any]) -> BoolVal:
    """``fn(e)`` for every ``e`` of a domain, or of a state set (ranging over its domain, guarded by membership)."""
    if isinstance(over, SetVal):
        return BoolVal(ir.and_(*(ir.implies(over.has(e).expr, to_bool(fn(e))) for e in over.set_type.domain.values)))
    if isinstance(over, Val):
        raise ModelError(f"forall ranges over a domain or a state set, not {_describe(over)}")
    return BoolVal(ir.and_(*(to_bool(fn(e)) for e in over)))


def exists(over: Any, fn: Callable[[Any], Any]) -> BoolVal:
    """``fn(e)`` for some ``e`` of a domain, or of a state set."""
    if isinstance(over, SetVal):
        return BoolVal(ir.or_(*(ir.and_(over.has(e).expr, to_bool(fn(e))) for e in over.set_type.domain.values)))
    if isinstance(over, Val):
        raise ModelError(f"exists ranges over a domain or a state set, not {_describe(over)}")
    return BoolVal(ir.or_(*(to_bool(fn(e)) for e in over)))


def implies(p: Any, q: Any) -> BoolVal:
    """``p`` implies ``q``."""
    return BoolVal(ir.implies(to_bool(p), to_bool(q)))


def _lazy(branch: Any) -> bool:
    return callable(branch) and not isinstance(branch, (Val, type))


def _take(branch: Any, when: ir.Expr) -> Any:
    """The value of a lazy branch (``lambda: ...``), traced with the checks it makes conditional on ``when``."""
    if not _lazy(branch):
        return branch
    token = BRANCH.set(BRANCH.get() + (when,))
    try:
        return branch()
    finally:
        BRANCH.reset(token)


def ite(cond: Any, a: Any, b: Any) -> Any:
    """``a`` if ``cond`` else ``b``; a literal branch takes the type of the other.

    A branch may be a function of no arguments (``lambda: s.f[s.i]``): it is traced with its run-time
    checks (a map index outside the domain, a value out of range) made only where it is chosen,
    as TLA+'s ``IF`` evaluates one branch.
    """
    c = to_bool(cond)
    if c.is_const:
        return _take(a, ir.TRUE) if c.data else _take(b, ir.TRUE)
    a, b = _take(a, c), _take(b, ir.not_(c))
    if isinstance(a, IntVal) or isinstance(b, IntVal):
        # Integers are unbounded while computing: the result's range is the join of the branches'.
        return IntVal(ir.ite(c, lift_int(a), lift_int(b)))
    if isinstance(a, ChoiceVal) or isinstance(b, ChoiceVal):
        if all(isinstance(x, ChoiceVal) or not isinstance(x, Val) for x in (a, b)):
            return ChoiceVal(c, a, b)
        # One branch is typed: it types the literals of the other.
        if isinstance(a, ChoiceVal):
            a = _like(b, a)
        else:
            b = _like(a, b)
    if isinstance(a, Val) and not isinstance(b, Val):
        b = _like(a, b)
    elif isinstance(b, Val) and not isinstance(a, Val):
        a = _like(b, a)
    elif not isinstance(a, Val):
        if isinstance(a, bool) and isinstance(b, bool):
            a, b = BoolVal(to_bool(a)), BoolVal(to_bool(b))
        elif isinstance(a, int) and isinstance(b, int):
            a, b = IntVal(lift_int(a)), IntVal(lift_int(b))
        else:
            # Two literals (labels, elements, set literals): the value they meet types them, the
            # variable it is assigned to or the value it is compared with (DESIGN's literal typing).
            return ChoiceVal(c, a, b)
    if isinstance(a, IntVal) or isinstance(b, IntVal):
        return IntVal(ir.ite(c, lift_int(a), lift_int(b)))
    if isinstance(a, FinVal) and isinstance(b, FinVal) and a.fin_type != b.fin_type:
        # Labels of two types: the result ranges over both (a conversion with a check would fire
        # even when the other branch is chosen).
        joined = FinType(a.fin_type.values + tuple(v for v in b.fin_type.values if v not in a.fin_type))
        a = FinVal(ir.table(a.expr, [joined.index(v) for v in a.fin_type.values], joined))
        b = FinVal(ir.table(b.expr, [joined.index(v) for v in b.fin_type.values], joined))
    return merge(c, a, b)


def _like(model: Any, literal: Any) -> Any:
    if isinstance(model, MapVal):
        return coerce(literal, model.type, "ite")
    if isinstance(model, ScalarVal):
        return coerce(literal, model.expr.type, "ite")  # type: ignore[arg-type]
    raise ModelError(f"ite() cannot combine {_describe(model)} with {_describe(literal)}")


def _extreme(values: tuple[Any, ...], smallest: bool, name: str) -> Any:
    if len(values) == 1 and not isinstance(values[0], (int, Val)):
        values = tuple(values[0])
    if not values:
        raise ModelError(f"{name}() needs at least one value")
    if not any(isinstance(v, Val) for v in values):
        return min(values) if smallest else max(values)
    exprs = [lift_int(v) for v in values]
    best = exprs[0]
    for e in exprs[1:]:
        best = ir.ite(ir.le(best, e) if smallest else ir.le(e, best), best, e)
    return IntVal(best)


def min_of(*values: Any) -> Any:
    """The least of integer expressions: ``min_of(s.x, s.y, 3)``, or of one iterable of them.

    Python's ``min()`` cannot look at state (it asks ``a < b`` for a Python truth value);
    this is TLA+'s ``IF a <= b THEN a ELSE b``, built from ``ite`` so every backend has it.
    """
    return _extreme(values, True, "min_of")


def max_of(*values: Any) -> Any:
    """The greatest of integer expressions: ``max_of(s.x, s.y, 3)``, or of one iterable of them."""
    return _extreme(values, False, "max_of")


def require(cond: Any) -> None:
    """Enable the action only where ``cond`` holds (a concretely false condition ends this binding)."""
    if in_branch():
        raise ModelError("require() inside an ite branch: an action's guard holds whichever branch is taken; require it before the ite")
    _sink().require(to_bool(cond))
