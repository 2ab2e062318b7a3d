"""Per-action coverage, as TLC's ``-coverage`` reports it: how often each action fired, and which never did.

For each action (all its parameter bindings together) two counts over the reachable states:
**distinct**, the transitions that reached a state not seen before (in breadth-first order, the
first action to reach a state is credited with it), and **total**, every transition the action
made, to a new state or not.  An action whose total is 0 is never enabled in any reachable
state.  TLC prints the same pair per action (``<Action ...>: distinct:total``).

The counts come from a breadth-first pass of their own over the compiled successor function
(:func:`~ordercheck.explicit.compile.compile_spec`), run after the verdict, instead of from the
search that decided it: that search may stop at the first violation, run vectorized or with
symmetry reduction, none of which should change what "never enabled" means.  The pass keeps one
set of packed states (about 60 bytes a state in CPython) and costs about what the scalar search
costs; the same bounds (``max_states``, ``max_seconds``) apply, and a pass that stops early says
so (``complete`` is false), since an action may then fire beyond the bound.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @action
...     def reset(s):
...         require(s.x > 0)
...         s.x = 0
...     @action
...     def never(s):
...         require(s.x > 5)
...         s.x = 0
>>> c = action_coverage(spec_of(Up()))
>>> [(a.action, a.distinct, a.total) for a in c.actions], c.never_enabled(), c.states
([('inc', 3, 3), ('reset', 0, 3), ('never', 0, 0)], ['never'], 4)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..lang.spec import Spec
from .compile import CheckFailure, compile_spec

__all__ = ["ActionCoverage", "Coverage", "action_coverage"]


@dataclass(frozen=True)
class ActionCoverage:
    """One action's counts: ``distinct`` transitions to new states, ``total`` transitions, over ``bindings`` bindings."""

    action: str
    distinct: int
    total: int
    bindings: int
    fired_bindings: int


@dataclass(frozen=True)
class Coverage:
    """Every action's counts, in the model's order; ``initial`` distinct initial states; ``states`` in all."""

    actions: tuple[ActionCoverage, ...]
    initial: int
    states: int
    complete: bool
    reason: str = ""

    def never_enabled(self) -> list[str]:
        """The actions that never fired (in every reachable state when ``complete``)."""
        return [a.action for a in self.actions if a.total == 0]


def action_coverage(spec: Spec, *, max_states: int | None = None, max_seconds: float | None = None) -> Coverage:
    """Count, per action, the transitions to new states and all transitions over the reachable states of ``spec``.

    Parameters
    ----------
    spec : Spec
        The model's spec.
    max_states, max_seconds : optional
        Stop after this many distinct states or seconds; the coverage is then partial
        (``complete`` false, ``reason`` says which bound).

    Returns
    -------
    Coverage
        The counts per action name, in the order the actions are declared.
    """
    compiled = compile_spec(spec)
    successors = compiled.successors
    names = [b.action for b in spec.bindings]
    new = [0] * len(names)
    total = [0] * len(names)
    seen: set[int] = set()
    frontier: list[int] = []
    for s0 in spec.init_states:
        y = spec.pack(s0)
        if y not in seen:
            seen.add(y)
            frontier.append(y)
    initial = len(seen)
    start = time.monotonic()
    reason = ""
    while frontier and not reason:
        following: list[int] = []
        for n, x in enumerate(frontier):
            if max_seconds is not None and n % 1024 == 0 and time.monotonic() - start > max_seconds:
                reason = f"time bound {max_seconds:g} s reached after {len(seen):,} states"
                break
            try:
                succ = successors(x)
            except CheckFailure:
                reason = f"a model error in a reachable step after {len(seen):,} states"
                break
            for a, y in succ:
                total[a] += 1
                if y not in seen:
                    if max_states is not None and len(seen) >= max_states:
                        reason = f"state bound {max_states:,} reached"
                        break
                    seen.add(y)
                    new[a] += 1
                    following.append(y)
            if reason:
                break
        frontier = following
    # Declared order, including actions with no transition at all (a guard false for every binding).
    order: dict[str, list[int]] = {name: [] for name in spec.extra.get("actions", ())}
    for i, name in enumerate(names):
        order.setdefault(name, []).append(i)
    actions = tuple(ActionCoverage(name, sum(new[i] for i in ix), sum(total[i] for i in ix), len(ix), sum(1 for i in ix if total[i]))
                    for name, ix in order.items())
    return Coverage(actions, initial, len(seen), not reason, reason)
