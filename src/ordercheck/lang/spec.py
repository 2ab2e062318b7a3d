"""A traced model: slots, initial states, action bindings and properties as IR.

:class:`Spec` is what every engine consumes.  A state is a tuple with one
encoded value per slot (see :mod:`ordercheck.lang.ir` for the encoding); a
packed state is one integer holding every slot at its bit offset.

Examples
--------
>>> from ordercheck.lang.types import IntType
>>> s = Slot("x", (), IntType(2, 5), 0)
>>> s.name, s.width
('x', 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, SourceLocation
from .ir import Expr
from .types import BoolType, FinType, IntType, MapType, ScalarType, SetType, ValueType, describe_value

__all__ = ["Binding", "Check", "Property", "Slot", "Spec", "State", "VarInfo", "select_properties"]

State = tuple[Any, ...]


@dataclass(frozen=True)
class Slot:
    """One scalar component of the state: a variable, or one entry of a map variable."""

    var: str
    keys: tuple[Any, ...]
    type: ScalarType
    offset: int

    @property
    def width(self) -> int:
        return self.type.width

    @property
    def name(self) -> str:
        return self.var + "".join(f"[{describe_value(k)}]" for k in self.keys)

    def encode_packed(self, value: Any) -> int:
        """The bits of an encoded slot value (integers are stored as ``value - lo``)."""
        if isinstance(self.type, IntType):
            return value - self.type.lo
        return int(value)

    def decode_packed(self, bits: int) -> Any:
        if isinstance(self.type, IntType):
            return bits + self.type.lo
        if isinstance(self.type, BoolType):
            return bool(bits)
        return bits


@dataclass(frozen=True)
class VarInfo:
    """A state variable: its type, its slots ``first..first+count-1``, and its declaration."""

    name: str
    type: ValueType
    first: int
    count: int
    medium: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Check:
    """A condition an action or property must meet whenever it is evaluated; false is a model error."""

    cond: Expr
    message: str
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Binding:
    """One action with concrete parameters: its guard, its next-state expressions and its checks."""

    action: str
    params: tuple[tuple[str, Any], ...]
    guard: Expr
    updates: tuple[tuple[int, Expr], ...]
    checks: tuple[Check, ...] = ()
    location: SourceLocation | None = None

    @property
    def label(self) -> str:
        inner = ", ".join(f"{k}={describe_value(v)}" for k, v in self.params)
        return f"{self.action}({inner})"


@dataclass(frozen=True)
class Property:
    """A named property: ``invariant`` (every reachable state), ``step`` (every transition,
    reading ``post`` nodes) or ``sometimes`` (some reachable state)."""

    name: str
    kind: str
    expr: Expr
    checks: tuple[Check, ...] = ()
    location: SourceLocation | None = None
    doc: str = ""
    lemma: bool = False


@dataclass
class Spec:
    """Everything an engine needs to know about one model instance."""

    name: str
    constants: dict[str, Any]
    vars: tuple[VarInfo, ...]
    slots: tuple[Slot, ...]
    init_states: tuple[State, ...]
    bindings: tuple[Binding, ...]
    properties: tuple[Property, ...]
    location: SourceLocation | None = None
    derived: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Bits in a packed state."""
        return sum(s.width for s in self.slots)

    def pack(self, state: State) -> int:
        packed = 0
        for slot, value in zip(self.slots, state):
            packed |= slot.encode_packed(value) << slot.offset
        return packed

    def unpack(self, packed: int) -> State:
        return tuple(s.decode_packed((packed >> s.offset) & ((1 << s.width) - 1)) for s in self.slots)

    def decode(self, state: State) -> dict[str, Any]:
        """A state as Python values: labels, ints, bools, frozensets and dicts (keys in domain order)."""
        return {v.name: _decode_value(v.type, iter(state[v.first : v.first + v.count])) for v in self.vars}

    def encode(self, values: dict[str, Any]) -> State:
        """The inverse of :meth:`decode`."""
        out: list[Any] = []
        for v in self.vars:
            _encode_value(v.type, values[v.name], out)
        return tuple(out)

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def _decode_value(t: ValueType, it: Any) -> Any:
    if isinstance(t, MapType):
        return {k: _decode_value(t.value, it) for k in t.domain.values}
    raw = next(it)
    if isinstance(t, FinType):
        return t.values[raw]
    if isinstance(t, SetType):
        return frozenset(e for i, e in enumerate(t.domain.values) if (raw >> i) & 1)
    if isinstance(t, BoolType):
        return bool(raw)
    return raw


def _encode_value(t: ValueType, value: Any, out: list[Any]) -> None:
    if isinstance(t, MapType):
        for k in t.domain.values:
            _encode_value(t.value, value[k], out)
    elif isinstance(t, FinType):
        out.append(t.index(value))
    elif isinstance(t, SetType):
        out.append(sum(1 << t.domain.index(e) for e in value))
    elif isinstance(t, BoolType):
        out.append(bool(value))
    else:
        if value not in t:
            raise ValueError(f"{value!r} is outside {t}")
        out.append(value)

def select_properties(spec: Spec, names: list[str] | None) -> list[int]:
    """Indices of the properties to check: all of them, or those named (unknown names are an input error).

    The ``sometimes`` goals are always kept: they are what keeps an invariant's "holds" from being
    vacuous (a design that never acknowledges an order loses none), so selecting properties never
    drops them.  An empty list selects nothing (an exploration that counts states only).
    """
    if names is None:
        return list(range(len(spec.properties)))
    known = {p.name: i for i, p in enumerate(spec.properties)}
    missing = [n for n in names if n not in known]
    if missing:
        raise InputError(f"model {spec.name} has no property {missing[0]!r} (its properties: {', '.join(known) or 'none'})")
    goals = (i for i, p in enumerate(spec.properties) if p.kind == "sometimes" and names)
    return sorted({*(known[n] for n in names), *goals})
