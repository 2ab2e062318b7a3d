"""Counterexample traces: the steps from an initial state to a violation.

A :class:`Trace` is engine-neutral: the explicit engine, the Z3 engines and
``replay`` all produce it, and every rendering (text, ITF JSON, ...) reads it.
States are decoded Python values: labels, ints, bools, frozensets (sets) and
dicts (maps, keys in domain order).

**Numbering**, the same in every rendering (text, ``explain``, Mermaid, HTML): states are
numbered from 1, ``State 1`` being the initial state, as TLC numbers them; *step k* is the k-th
action, which leads from ``State k`` to ``State k+1``.  A trace of n states takes n - 1 steps.
The helpers below are the only place that arithmetic is written.

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

__all__ = ["Step", "Trace", "changed_vars", "state_title", "step_count", "step_of_state", "step_ref", "steps_phrase"]


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


def step_of_state(number: int) -> int:
    """The step (action) that led to state ``number``: ``State k+1`` is reached by step k; ``State 1`` by step 0.

    Examples
    --------
    >>> step_of_state(1), step_of_state(3)
    (0, 2)
    """
    return number - 1


def step_count(trace: Trace) -> int:
    """How many steps (actions) the trace takes: one fewer than its states.

    Examples
    --------
    >>> step_count(Trace("M", None, "invariant", (Step(None, (), {}), Step("a", (), {}))))
    1
    """
    return max(len(trace.steps) - 1, 0)


def steps_phrase(count: int) -> str:
    """``1 step``, ``4 steps``.

    Examples
    --------
    >>> steps_phrase(1), steps_phrase(0)
    ('1 step', '0 steps')
    """
    return f"{count} step{'s' if count != 1 else ''}"


def step_ref(number: int) -> str:
    """How sentences name the step that led to state ``number``: ``step 2 (State 3)``.

    Examples
    --------
    >>> step_ref(3), step_ref(1)
    ('step 2 (State 3)', 'State 1')
    """
    step = step_of_state(number)
    return f"State {number}" if step == 0 else f"step {step} (State {number})"


def state_title(number: int, step: Step) -> str:
    """The heading of state ``number``: ``State 1: initial state``, ``State 3: ack(o='o1')``.

    Examples
    --------
    >>> state_title(2, Step("inc", (("by", 2),), {}))
    'State 2: inc(by=2)'
    """
    return f"State {number}: {step.label}"
