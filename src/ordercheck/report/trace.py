"""Counterexample traces: the steps from an initial state to a violation.

A :class:`Trace` is engine-neutral: the explicit engine, the Z3 engines and
``replay`` all produce it, and every rendering (text, ITF JSON, ...) reads it.
States are decoded Python values: labels, ints, bools, frozensets (sets) and
dicts (maps, keys in domain order).

Examples
--------
>>> t = Trace("M", "safe", "invariant", (
...     Step(None, (), {"x": 0}),
...     Step("inc", (("by", 1),), {"x": 1}),
... ))
>>> len(t), t.steps[1].label
(2, 'inc(by=1)')
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

from ..lang.types import describe_value

__all__ = ["Step", "Trace", "changed_vars"]


@dataclass(frozen=True)
class Step:
    """One state of a trace and the action that led to it (``None`` for the initial state)."""

    action: str | None
    params: tuple[tuple[str, Any], ...]
    state: dict[str, Any]

    @property
    def label(self) -> str:
        if self.action is None:
            return "initial state"
        inner = ", ".join(f"{k}={describe_value(v)}" for k, v in self.params)
        return f"{self.action}({inner})"


@dataclass(frozen=True)
class Trace:
    """A path through the state space and what it shows.

    ``kind`` is ``invariant`` (the last state violates ``property``), ``step``
    (the last transition does), ``deadlock`` (the last state has no successor),
    ``model-error`` (the last state cannot take its next step without a model
    error, described in ``message``), or ``induction`` (a counterexample to
    induction: two states, not necessarily reachable).
    """

    model: str
    property: str | None
    kind: str
    steps: tuple[Step, ...]
    message: str = ""
    constants: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.steps)

    @builtins.property
    def final_state(self) -> dict[str, Any]:
        return self.steps[-1].state


def changed_vars(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The variables whose value differs between two states (all of them for the first state)."""
    if before is None:
        return list(after)
    return [name for name, value in after.items() if before.get(name) != value]
