"""Concrete value types of the modelling language.

Every type is finite and has a fixed bit width, so that a state packs into a few
machine words.  The types a user writes in a model (``Bool``, ``Enum``, ``Int``,
``Elem``, ``SetOf``, ``MapOf`` in :mod:`ordercheck.lang.declare`) may refer to
constants; once the constants of a model instance are known they resolve to the
classes here.

A *scalar* type occupies one slot of the packed state: ``BoolType``,
``IntType``, ``FinType`` (an enum label or a domain element, stored as its
index) and ``SetType`` (stored as a bit mask over its domain).  A ``MapType``
is a fixed number of slots, one per key (recursively for nested maps).

Examples
--------
>>> IntType(0, 5).width
3
>>> FinType(("a", "b", "c")).index("c")
2
>>> SetType(FinType(("x", "y"))).width
2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "BoolType",
    "Domain",
    "FinType",
    "IntType",
    "MapType",
    "ScalarType",
    "SetType",
    "ValueType",
    "describe_value",
]


class Domain(tuple):  # type: ignore[type-arg]
    """A finite, ordered, duplicate-free tuple of values with a name.

    Constants of a model resolve to domains; ``Elem(D)``, ``SetOf(D)`` and
    ``MapOf(D, T)`` range over them.

    >>> d = Domain(("r1", "r2"), "RM")
    >>> d.name, list(d)
    ('RM', ['r1', 'r2'])
    """

    name: str

    def __new__(cls, values: Any, name: str = "") -> Domain:
        self = super().__new__(cls, values)
        self.name = name
        return self

    def __repr__(self) -> str:
        return f"{self.name or 'Domain'}{tuple.__repr__(self)}"


def describe_value(value: Any) -> str:
    """The short text of a value in messages and traces."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(describe_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


@dataclass(frozen=True)
class BoolType:
    """``True`` or ``False``: one bit."""

    @property
    def width(self) -> int:
        return 1

    def __str__(self) -> str:
        return "Bool"


@dataclass(frozen=True)
class IntType:
    """The integers ``lo..hi`` (inclusive), stored as ``value - lo``."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"Int({self.lo}, {self.hi}) is empty: the lower bound exceeds the upper bound")

    @property
    def width(self) -> int:
        return (self.hi - self.lo).bit_length()

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.lo <= value <= self.hi

    def __str__(self) -> str:
        return f"Int({self.lo}, {self.hi})"


@dataclass(frozen=True)
class FinType:
    """One of a finite tuple of values (enum labels or domain elements), stored as its index."""

    values: tuple[Any, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self} has no values")
        if len({(type(v), v) for v in self.values}) != len(self.values):
            raise ValueError(f"{self} repeats a value")

    @property
    def width(self) -> int:
        return (len(self.values) - 1).bit_length()

    def index(self, value: Any) -> int:
        """The index of ``value``; ``ValueError`` naming the type if it is not one of its values."""
        for i, v in enumerate(self.values):
            if v == value and type(v) is type(value):
                return i
        raise ValueError(f"{describe_value(value)} is not one of {self}")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    @property
    def ints_only(self) -> bool:
        """Whether every value is an integer (so arithmetic on elements makes sense)."""
        return all(isinstance(v, int) and not isinstance(v, bool) for v in self.values)

    def __str__(self) -> str:
        inner = ", ".join(describe_value(v) for v in self.values)
        return f"{self.name}{{{inner}}}" if self.name else f"Enum({inner})"


@dataclass(frozen=True)
class SetType:
    """A subset of a domain, stored as a bit mask (bit ``i`` for the ``i``-th element)."""

    domain: FinType

    @property
    def width(self) -> int:
        return len(self.domain.values)

    def __str__(self) -> str:
        return f"SetOf({self.domain})"


@dataclass(frozen=True)
class MapType:
    """A total function from a domain to a value type: one entry per key."""

    domain: FinType
    value: ValueType

    @property
    def width(self) -> int:
        return len(self.domain.values) * self.value.width

    def __str__(self) -> str:
        return f"MapOf({self.domain}, {self.value})"


ScalarType = Union[BoolType, IntType, FinType, SetType]
ValueType = Union[BoolType, IntType, FinType, SetType, MapType]
