"""The Z3 encoding of a traced model: states as bit-vectors, bindings as transition formulas.

Every IR node has an encoding here, so a model written once is checked by the
explicit engine and by Z3 alike.  The encoding follows the packed layout of
:mod:`ordercheck.lang.spec`:

==========  ==========================================================
slot type   Z3 constant of one state
==========  ==========================================================
Bool        a Z3 ``Bool``
Int(lo,hi)  a bit-vector of the slot's width holding ``value - lo``,
            constrained to ``<= hi - lo``
Fin         a bit-vector holding the index, constrained to ``< |D|``
Set         a bit-vector of ``|D|`` bits (bit ``i`` for the ``i``-th element)
==========  ==========================================================

Integer *expressions* are signed bit-vectors wide enough for every value the
expression can take: the width of each node comes from an interval analysis
done here (independent of the IR's own types), so arithmetic is exact, with
no wrap-around, as on Python's unbounded integers.  ``//`` and ``%`` follow
Python (flooring; ``x // 0 == 0`` and ``x % 0 == x``).  The theory is
quantifier-free bit-vectors, which Z3 decides: no ``unknown`` from nonlinear
integer arithmetic.

Formulas are built once over template constants (the pre-state ``x``, the
post-state ``y`` and one Boolean *fire* indicator per binding) and
instantiated for each step of a path with :meth:`Encoding.at`.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 2), init=0)
...     @action
...     def inc(s):
...         require(s.x < 2)
...         s.x = s.x + 1
>>> enc = Encoding(spec_of(Up()))
>>> solver = z3.Solver()
>>> s0, s1, f0 = enc.new_state("s0"), enc.new_state("s1"), enc.new_fire("f0")
>>> solver.add(enc.at(enc.init, s0), enc.at(enc.valid, s0), enc.at(enc.valid, s1), enc.at(enc.trans, s0, s1, f0))
>>> solver.check() == z3.sat
True
>>> m = solver.model()
>>> enc.decode(m, s0), enc.decode(m, s1), enc.fired(m, f0)
((0,), (1,), 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import z3

from ..lang import ir
from ..lang.spec import Binding, Property, Spec, State
from ..lang.types import BoolType, FinType, IntType, ScalarType, SetType

__all__ = ["Encoding", "fin_width", "signed_width"]

StateVars = list[z3.ExprRef]


def signed_width(lo: int, hi: int) -> int:
    """The bits of a two's-complement bit-vector holding every integer in ``lo..hi``.

    >>> signed_width(0, 5), signed_width(-8, 7), signed_width(-9, 0)
    (4, 4, 5)
    """
    need = 0
    for v in (lo, hi):
        need = max(need, v.bit_length() if v >= 0 else (-v - 1).bit_length())
    return need + 1


def fin_width(t: FinType) -> int:
    """The bits of the index of a value of ``t`` (at least 1: Z3 has no empty bit-vectors)."""
    return max(1, (len(t.values) - 1).bit_length())


def _slot_width(t: ScalarType) -> int:
    if isinstance(t, IntType):
        return max(1, (t.hi - t.lo).bit_length())
    if isinstance(t, FinType):
        return fin_width(t)
    if isinstance(t, SetType):
        return len(t.domain.values)
    return 0


def _sext(v: z3.BitVecRef, w: int) -> z3.BitVecRef:
    return v if v.size() >= w else z3.SignExt(w - v.size(), v)


def _zext(v: z3.BitVecRef, w: int) -> z3.BitVecRef:
    return v if v.size() >= w else z3.ZeroExt(w - v.size(), v)


def _fit(v: z3.BitVecRef, w: int) -> z3.BitVecRef:
    """An unsigned value at width ``w`` (the caller knows it fits)."""
    if v.size() == w:
        return v
    return z3.ZeroExt(w - v.size(), v) if v.size() < w else z3.Extract(w - 1, 0, v)


def _narrow(v: z3.BitVecRef, w: int) -> z3.BitVecRef:
    """A signed value at width ``w`` (the caller knows it fits)."""
    if v.size() == w:
        return v
    return z3.SignExt(w - v.size(), v) if v.size() < w else z3.Extract(w - 1, 0, v)


class Encoding:
    """The Z3 formulas of one :class:`~ordercheck.lang.spec.Spec`, over template constants.

    Attributes
    ----------
    x, y : list of z3 expressions
        The template pre-state and post-state, one constant per slot.
    fire : list of z3 Bool
        The template indicators, one per binding: ``fire[b]`` is true when binding ``b`` takes the step.
    valid : z3 Bool (over ``x``)
        The range constraints of the slots (a bit-vector may hold more values than the type).
    init : z3 Bool (over ``x``)
        ``x`` is one of the initial states.
    trans : z3 Bool (over ``x``, ``y``, ``fire``)
        Exactly one binding fires, its guard holds in ``x``, and ``y`` is its successor (unwritten slots unchanged).
    trans_ok : z3 Bool (over ``x``, ``y``, ``fire``)
        ``trans``, and the binding that fires makes no model error: the transitions of the reference semantics.
    guards, ok : list of z3 Bool (over ``x``)
        Per binding: its guard; whether its run-time checks pass and every integer it writes is in range.
        ``guards[b] & ~ok[b]`` is a model error in ``x``.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._bounds: dict[ir.Expr, tuple[int, int]] = {}
        self._memo: dict[ir.Expr, Any] = {}
        self.x: StateVars = self._state_consts("x")
        self.y: StateVars = self._state_consts("y")
        self.fire: list[z3.BoolRef] = self._fire_consts("fire")
        self.valid: z3.BoolRef = z3.And([c for c in (self._slot_valid(i, v) for i, v in enumerate(self.x)) if c is not None])
        self.init: z3.BoolRef = z3.Or([self.state_equals(self.x, s) for s in spec.init_states])
        self.guards: list[z3.BoolRef] = [self.bool(b.guard) for b in spec.bindings]
        self.ok: list[z3.BoolRef] = []
        self.nexts: list[dict[int, z3.ExprRef]] = []
        for b in spec.bindings:
            ok, nexts = self._binding(b)
            self.ok.append(ok)
            self.nexts.append(nexts)
        self.trans: z3.BoolRef = self._transition()
        fired_ok = [z3.Implies(f, ok) for f, ok in zip(self.fire, self.ok) if not z3.is_true(z3.simplify(ok))]
        self.trans_ok: z3.BoolRef = z3.And([self.trans, *fired_ok]) if fired_ok else self.trans

    # -- state constants

    def _const(self, name: str, t: ScalarType) -> z3.ExprRef:
        if isinstance(t, BoolType):
            return z3.Bool(name)
        return z3.BitVec(name, _slot_width(t))

    def _state_consts(self, prefix: str) -> StateVars:
        return [self._const(f"{prefix}.{slot.name}", slot.type) for slot in self.spec.slots]

    def _fire_consts(self, prefix: str) -> list[z3.BoolRef]:
        return [z3.Bool(f"{prefix}.{i}.{b.label}") for i, b in enumerate(self.spec.bindings)]

    def new_state(self, prefix: str) -> StateVars:
        """Fresh constants for one state, named ``prefix.<slot>``."""
        return self._state_consts(prefix)

    def new_fire(self, prefix: str) -> list[z3.BoolRef]:
        """Fresh indicators for one step, named ``prefix.<binding index>.<label>``."""
        return self._fire_consts(prefix)

    def _slot_valid(self, i: int, v: z3.ExprRef) -> z3.BoolRef | None:
        t = self.spec.slots[i].type
        if isinstance(t, IntType):
            top = t.hi - t.lo
        elif isinstance(t, FinType):
            top = len(t.values) - 1
        else:
            return None
        assert isinstance(v, z3.BitVecRef)
        if top == (1 << v.size()) - 1:
            return None
        return z3.ULE(v, top)

    def raw_value(self, i: int, value: Any) -> z3.ExprRef:
        """The Z3 constant of slot ``i`` holding the encoded ``value``."""
        t = self.spec.slots[i].type
        if isinstance(t, BoolType):
            return z3.BoolVal(bool(value))
        raw = value - t.lo if isinstance(t, IntType) else int(value)
        return z3.BitVecVal(raw, _slot_width(t))

    def state_equals(self, s: StateVars, state: State) -> z3.BoolRef:
        """``s`` is the concrete ``state``."""
        return z3.And([v == self.raw_value(i, value) for i, (v, value) in enumerate(zip(s, state))])

    def same(self, s: StateVars, t: StateVars) -> z3.BoolRef:
        """The two states are equal, slot by slot."""
        return z3.And([a == b for a, b in zip(s, t)])

    # -- instantiation and decoding

    def at(self, term: z3.ExprRef, s: StateVars, t: StateVars | None = None, fire: Sequence[z3.BoolRef] | None = None) -> Any:
        """``term`` (over the templates) with ``x := s``, ``y := t`` and the indicators ``fire``."""
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = list(zip(self.x, s))
        if t is not None:
            pairs += list(zip(self.y, t))
        if fire is not None:
            pairs += list(zip(self.fire, fire))
        return z3.substitute(term, *pairs)

    def decode(self, model: z3.ModelRef, s: StateVars) -> State:
        """The concrete state (a tuple of encoded slot values) that ``model`` gives ``s``."""
        out: list[Any] = []
        for slot, v in zip(self.spec.slots, s):
            value = model.eval(v, model_completion=True)
            if isinstance(slot.type, BoolType):
                out.append(z3.is_true(value))
            else:
                raw = value.as_long()  # type: ignore[attr-defined]
                out.append(raw + slot.type.lo if isinstance(slot.type, IntType) else raw)
        return tuple(out)

    def fired(self, model: z3.ModelRef, fire: Sequence[z3.BoolRef]) -> int:
        """The index of the binding that ``model`` fires at the step with indicators ``fire``."""
        for i, f in enumerate(fire):
            if z3.is_true(model.eval(f, model_completion=True)):
                return i
        raise AssertionError("no binding fires in the model of a step")

    # -- expressions

    def bounds(self, e: ir.Expr) -> tuple[int, int]:
        """A sound interval of the values of integer expression ``e`` (computed here, not taken from the IR)."""
        for node in ir.walk([e]):  # children first, iteratively: a deep expression does not exhaust the stack
            if node not in self._bounds and node.type.__class__ is IntType:
                self._bounds_of(node)
        return self._bounds_of(e)

    def _bounds_of(self, e: ir.Expr) -> tuple[int, int]:
        found = self._bounds.get(e)
        if found is not None:
            return found
        op, a = e.op, e.args
        if op == "const":
            r = (e.data, e.data)
        elif op in ("var", "post"):
            t = e.type
            assert isinstance(t, IntType)
            r = (t.lo, t.hi)
        elif op == "add":
            (alo, ahi), (blo, bhi) = self._bounds_of(a[0]), self._bounds_of(a[1])
            r = (alo + blo, ahi + bhi)
        elif op == "sub":
            (alo, ahi), (blo, bhi) = self._bounds_of(a[0]), self._bounds_of(a[1])
            r = (alo - bhi, ahi - blo)
        elif op == "mul":
            (alo, ahi), (blo, bhi) = self._bounds_of(a[0]), self._bounds_of(a[1])
            corners = [p * q for p in (alo, ahi) for q in (blo, bhi)]
            r = (min(corners), max(corners))
        elif op == "neg":
            lo, hi = self._bounds_of(a[0])
            r = (-hi, -lo)
        elif op == "floordiv":
            lo, hi = self._bounds_of(a[0])
            m = max(abs(lo), abs(hi))
            r = (-m, m)
        elif op == "mod":
            (alo, ahi), (blo, bhi) = self._bounds_of(a[0]), self._bounds_of(a[1])
            m = max(abs(blo), abs(bhi))
            r = (min(-m, alo), max(m, ahi))
        elif op == "ite":
            (alo, ahi), (blo, bhi) = self._bounds_of(a[1]), self._bounds_of(a[2])
            r = (min(alo, blo), max(ahi, bhi))
        elif op == "table":
            r = (min(e.data), max(e.data))
        elif op == "count":
            r = (0, len(a[0].type.domain.values))  # type: ignore[union-attr]
        else:
            raise ValueError(f"{op!r} is not an integer operator")
        self._bounds[e] = r
        return r

    def bool(self, e: ir.Expr) -> z3.BoolRef:
        """The Z3 formula of a Boolean expression (over the templates)."""
        result = self.expr(e)
        assert isinstance(result, z3.BoolRef)
        return result

    def expr(self, e: ir.Expr) -> Any:
        """The Z3 term of ``e`` over the templates: a Bool, or a bit-vector (signed for integers)."""
        found = self._memo.get(e)
        if found is not None:
            return found
        # Encode children first, iteratively, so deep expressions do not exhaust Python's stack.
        for node in ir.walk([e]):
            if node not in self._memo:
                self._memo[node] = self._node(node)
        return self._memo[e]

    def _int(self, e: ir.Expr) -> z3.BitVecRef:
        v = self._memo[e]
        if isinstance(e.type, FinType):  # an index used as a number (never produced by the language; kept total)
            return z3.ZeroExt(1, v)
        return v  # type: ignore[no-any-return]

    def _node(self, e: ir.Expr) -> Any:
        op, a, t = e.op, e.args, e.type
        m = self._memo
        if op == "const":
            return self._const_value(t, e.data)
        if op in ("var", "post"):
            v = (self.x if op == "var" else self.y)[e.data]
            if isinstance(t, IntType):
                sw = v.size()
                w = max(signed_width(t.lo, t.hi), sw + 1)
                return z3.ZeroExt(w - sw, v) + z3.BitVecVal(t.lo, w) if t.lo else z3.ZeroExt(w - sw, v)
            return v
        if op == "not":
            return z3.Not(m[a[0]])
        if op == "and":
            return z3.And([m[x] for x in a])
        if op == "or":
            return z3.Or([m[x] for x in a])
        if op == "eq":
            return self._eq(a[0], a[1])
        if op in ("lt", "le"):
            x, y = self._int(a[0]), self._int(a[1])
            w = max(x.size(), y.size())
            return _sext(x, w) < _sext(y, w) if op == "lt" else _sext(x, w) <= _sext(y, w)
        if op in ("add", "sub", "mul", "neg", "floordiv", "mod"):
            return self._arith(e)
        if op == "ite":
            c, x, y = m[a[0]], m[a[1]], m[a[2]]
            if isinstance(t, BoolType):
                return z3.If(c, x, y)
            if isinstance(t, IntType):
                x, y = self._int(a[1]), self._int(a[2])
                w = max(x.size(), y.size())
                return z3.If(c, _sext(x, w), _sext(y, w))
            w = max(x.size(), y.size())
            return z3.If(c, _zext(x, w), _zext(y, w))
        if op == "table":
            return self._table(m[a[0]], e.data, t)
        if op == "union":
            return m[a[0]] | m[a[1]]
        if op == "inter":
            return m[a[0]] & m[a[1]]
        if op == "diff":
            return m[a[0]] & ~m[a[1]]
        if op == "subset":
            s0, s1 = m[a[0]], m[a[1]]
            return s0 & ~s1 == 0
        if op == "has":
            s, x = m[a[0]], m[a[1]]
            if a[1].is_const:
                i = a[1].data
                return z3.BoolVal(False) if i >= s.size() else z3.Extract(i, i, s) == 1
            w = max(s.size(), x.size())
            return z3.Extract(0, 0, z3.LShR(_zext(s, w), _zext(x, w))) == 1
        if op in ("with", "without"):
            s, x = m[a[0]], m[a[1]]
            n = s.size()
            if a[1].is_const:
                bit = z3.BitVecVal((1 << a[1].data) & ((1 << n) - 1), n)
            else:
                w = max(n, x.size())
                bit = _fit(z3.BitVecVal(1, w) << _zext(x, w), n)
            return s | bit if op == "with" else s & ~bit
        if op == "count":
            s = m[a[0]]
            n = s.size()
            w = signed_width(0, n)
            return z3.Sum([z3.ZeroExt(w - 1, z3.Extract(i, i, s)) for i in range(n)]) if n > 1 else z3.ZeroExt(w - 1, s)
        if op == "bits":
            bits_ = [z3.If(m[c], z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)) for c in a]
            return bits_[0] if len(bits_) == 1 else z3.Concat(list(reversed(bits_)))
        raise ValueError(f"unknown IR operator {op!r}")

    def _const_value(self, t: ScalarType, value: Any) -> Any:
        if isinstance(t, BoolType):
            return z3.BoolVal(bool(value))
        if isinstance(t, IntType):
            return z3.BitVecVal(value, signed_width(value, value))
        if isinstance(t, FinType):
            return z3.BitVecVal(value, fin_width(t))
        return z3.BitVecVal(value, len(t.domain.values))

    def _eq(self, ea: ir.Expr, eb: ir.Expr) -> z3.BoolRef:
        x, y = self._memo[ea], self._memo[eb]
        if isinstance(x, z3.BoolRef):
            return x == y  # type: ignore[no-any-return]
        if isinstance(ea.type, IntType) or isinstance(eb.type, IntType):
            x, y = self._int(ea), self._int(eb)
            w = max(x.size(), y.size())
            return _sext(x, w) == _sext(y, w)  # type: ignore[no-any-return]
        w = max(x.size(), y.size())
        return _zext(x, w) == _zext(y, w)  # type: ignore[no-any-return]

    def _arith(self, e: ir.Expr) -> z3.BitVecRef:
        op = e.op
        lo, hi = self.bounds(e)
        wr = signed_width(lo, hi)
        if op == "neg":
            x = self._int(e.args[0])
            w = max(x.size(), wr)
            return _narrow(-_sext(x, w), wr)
        x, y = self._int(e.args[0]), self._int(e.args[1])
        if op in ("add", "sub", "mul"):
            w = max(x.size(), y.size(), wr)
            x, y = _sext(x, w), _sext(y, w)
            r = x + y if op == "add" else x - y if op == "sub" else x * y
            return _narrow(r, wr)
        # Python's flooring division and modulo: bvsmod takes the sign of the divisor, as Python's %
        # does, and a - a % b is an exact multiple of b.  Two spare bits keep a - a % b and a // -1 exact.
        w = max(x.size(), y.size(), wr) + 2
        x, y = _sext(x, w), _sext(y, w)
        zero = z3.BitVecVal(0, w)
        r = x % y  # bvsmod
        if op == "mod":
            return _narrow(z3.If(y == zero, x, r), wr)
        return _narrow(z3.If(y == zero, zero, (x - r) / y), wr)

    def _table(self, index: z3.BitVecRef, entries: tuple[Any, ...], t: ScalarType) -> Any:
        if isinstance(t, BoolType):
            return z3.Or([index == i for i, v in enumerate(entries) if v])
        if isinstance(t, IntType):
            w = signed_width(min(entries), max(entries))
            values = [z3.BitVecVal(v, w) for v in entries]
        elif isinstance(t, FinType):
            values = [z3.BitVecVal(v, fin_width(t)) for v in entries]
        else:
            values = [z3.BitVecVal(v, len(t.domain.values)) for v in entries]
        result = values[-1]
        for i in range(len(values) - 2, -1, -1):
            result = z3.If(index == i, values[i], result)
        return result

    # -- bindings and properties

    def _binding(self, b: Binding) -> tuple[z3.BoolRef, dict[int, z3.ExprRef]]:
        conds = [self.bool(ch.cond) for ch in b.checks]
        nexts: dict[int, z3.ExprRef] = {}
        for slot, e in b.updates:
            t = self.spec.slots[slot].type
            value = self.expr(e)
            sw = _slot_width(t)
            if isinstance(t, IntType):
                lo, hi = self.bounds(e)
                v = self._int(e)
                w = max(v.size(), signed_width(t.lo, t.hi), sw + 1)
                v = _sext(v, w)
                if lo < t.lo or hi > t.hi:  # the interpreter refuses a value outside the slot's range
                    conds.append(z3.And(v >= t.lo, v <= t.hi))
                nexts[slot] = z3.Extract(sw - 1, 0, v - z3.BitVecVal(t.lo, w))
            elif isinstance(t, BoolType):
                nexts[slot] = value
            else:
                nexts[slot] = _fit(value, sw)
        return z3.And(conds), nexts

    def _transition(self) -> z3.BoolRef:
        n = len(self.spec.bindings)
        if n == 0:
            return z3.BoolVal(False)
        parts: list[z3.BoolRef] = [z3.PbEq([(f, 1) for f in self.fire], 1)]
        parts += [z3.Implies(f, g) for f, g in zip(self.fire, self.guards)]
        for slot, (x, y) in enumerate(zip(self.x, self.y)):
            value: z3.ExprRef = x
            for b in range(n - 1, -1, -1):
                if slot in self.nexts[b]:
                    value = z3.If(self.fire[b], self.nexts[b][slot], value)
            parts.append(y == value)
        return z3.And(parts)

    def enabled(self) -> z3.BoolRef:
        """Some binding is enabled in ``x`` (its negation is a deadlock)."""
        return z3.Or(self.guards)

    def no_error(self) -> z3.BoolRef:
        """No binding enabled in ``x`` fails a check or writes an integer out of range."""
        return z3.And([z3.Implies(g, ok) for g, ok in zip(self.guards, self.ok) if not z3.is_true(z3.simplify(ok))])

    def binding_errors(self) -> list[tuple[int, z3.BoolRef]]:
        """``(binding, condition over x)`` for each binding that can make a model error."""
        return [(i, z3.And(g, z3.Not(ok))) for i, (g, ok) in enumerate(zip(self.guards, self.ok)) if not z3.is_true(z3.simplify(ok))]

    def prop(self, p: Property) -> z3.BoolRef:
        """The condition of a property (over ``x``, and ``y`` for a step property)."""
        return self.bool(p.expr)

    def prop_ok(self, p: Property) -> z3.BoolRef:
        """The run-time checks of a property pass."""
        return z3.And([self.bool(ch.cond) for ch in p.checks])
