"""The reference semantics: a tree-walking evaluator of the IR over one concrete state.

Slow and simple on purpose.  Every counterexample, whichever engine found it,
is replayed here before it is reported, and the compiled and symbolic
backends are tested against it.

Examples
--------
>>> from ordercheck.lang.types import IntType
>>> from ordercheck.lang import ir
>>> evaluate(ir.add(ir.var(0, IntType(0, 3)), ir.var(1, IntType(0, 3))), (2, 3))
5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ir
from .errors import ModelError
from .spec import Binding, Check, Spec, State
from .types import IntType

__all__ = ["CheckFailed", "ReplayMismatch", "enabled", "evaluate", "fire", "holds", "replay_path", "successors"]


class CheckFailed(ModelError):
    """A run-time check of an action or property failed: a model error in a reachable state."""

    def __init__(self, check: Check, context: str) -> None:
        super().__init__(check.message, context=context, location=check.location)
        self.check = check


def _floordiv(a: int, b: int) -> int:
    return a // b if b else 0


def _mod(a: int, b: int) -> int:
    return a % b if b else a


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "floordiv": _floordiv,
    "mod": _mod,
    "union": lambda a, b: a | b,
    "inter": lambda a, b: a & b,
    "diff": lambda a, b: a & ~b,
    "subset": lambda a, b: a & ~b == 0,
    "has": lambda s, e: bool((s >> e) & 1),
    "with": lambda s, e: s | (1 << e),
    "without": lambda s, e: s & ~(1 << e),
}


def evaluate(expr: ir.Expr, state: State, post: State | None = None, memo: dict[ir.Expr, Any] | None = None) -> Any:
    """The encoded value of ``expr`` in ``state`` (and ``post`` for step properties)."""
    if memo is None:
        memo = {}
    if expr in memo:
        return memo[expr]
    op = expr.op
    args = expr.args
    value: Any
    if op == "const":
        value = expr.data
    elif op == "var":
        value = state[expr.data]
    elif op == "post":
        if post is None:
            raise ValueError("a post-state expression evaluated without a post-state")
        value = post[expr.data]
    elif op == "not":
        value = not evaluate(args[0], state, post, memo)
    elif op == "and":
        value = all(evaluate(a, state, post, memo) for a in args)
    elif op == "or":
        value = any(evaluate(a, state, post, memo) for a in args)
    elif op == "ite":
        branch = args[1] if evaluate(args[0], state, post, memo) else args[2]
        value = evaluate(branch, state, post, memo)
    elif op == "neg":
        value = -evaluate(args[0], state, post, memo)
    elif op == "count":
        value = int(evaluate(args[0], state, post, memo)).bit_count()
    elif op == "table":
        value = expr.data[evaluate(args[0], state, post, memo)]
    elif op == "bits":
        value = sum(1 << i for i, a in enumerate(args) if evaluate(a, state, post, memo))
    elif op in _BINARY:
        value = _BINARY[op](evaluate(args[0], state, post, memo), evaluate(args[1], state, post, memo))
    else:
        raise ValueError(f"unknown IR operator {op!r}")
    memo[expr] = value
    return value


def _run_checks(checks: tuple[Check, ...], context: str, state: State, post: State | None, memo: dict[ir.Expr, Any]) -> None:
    for check in checks:
        if not evaluate(check.cond, state, post, memo):
            raise CheckFailed(check, context)


def enabled(binding: Binding, state: State) -> bool:
    return bool(evaluate(binding.guard, state))


def fire(spec: Spec, binding: Binding, state: State) -> State:
    """The successor of ``state`` by an enabled ``binding``; raises :class:`CheckFailed` on a failed check."""
    memo: dict[ir.Expr, Any] = {}
    _run_checks(binding.checks, f"action {binding.label}", state, None, memo)
    new = list(state)
    for slot, expr in binding.updates:
        value = evaluate(expr, state, None, memo)
        t = spec.slots[slot].type
        if isinstance(t, IntType) and value not in t:
            raise ModelError(f"{spec.slots[slot].name} would become {value}, outside {t}", context=f"action {binding.label}")
        new[slot] = value
    return tuple(new)


def successors(spec: Spec, state: State) -> list[tuple[int, State]]:
    """Every ``(binding index, successor)`` of ``state``, in binding order."""
    out = []
    for i, b in enumerate(spec.bindings):
        if enabled(b, state):
            out.append((i, fire(spec, b, state)))
    return out


def holds(spec: Spec, name: str, state: State, post: State | None = None) -> bool:
    """Whether property ``name`` holds in ``state`` (or on the step ``state`` → ``post``)."""
    prop = spec.property(name)
    memo: dict[ir.Expr, Any] = {}
    _run_checks(prop.checks, f"property {prop.name}", state, post, memo)
    return bool(evaluate(prop.expr, state, post, memo))


class ReplayMismatch(AssertionError):
    """A path that an engine reported does not replay on the reference semantics: an engine bug."""


def replay_path(spec: Spec, path: list[tuple[int | None, State]], property: str | None = None, kind: str = "invariant") -> None:
    """Confirm on the reference semantics that ``path`` is a real execution showing ``kind``.

    ``path`` is ``[(None, s0), (b1, s1), ...]``: each state is the successor of
    the previous one by binding ``b_i``.  For ``invariant`` the last state must
    violate ``property``; for ``step`` the last transition must; for
    ``deadlock`` the last state must have no enabled binding; for
    ``model-error`` every step must replay (the error is in the step after).
    Raises :class:`ReplayMismatch` otherwise.
    """
    if not path:
        raise ReplayMismatch("an empty trace")
    first = path[0][1]
    if first not in spec.init_states:
        raise ReplayMismatch("the trace does not start in an initial state")
    for (_, before), (index, after) in zip(path, path[1:]):
        if index is None:
            raise ReplayMismatch("a step without an action")
        binding = spec.bindings[index]
        if not enabled(binding, before):
            raise ReplayMismatch(f"{binding.label} is not enabled where the trace takes it")
        if fire(spec, binding, before) != after:
            raise ReplayMismatch(f"{binding.label} does not lead to the state the trace shows")
    last = path[-1][1]
    if kind == "invariant" and property is not None and holds(spec, property, last):
        raise ReplayMismatch(f"{property} holds in the last state of the trace")
    if kind == "step" and property is not None:
        if len(path) < 2 or holds(spec, property, path[-2][1], last):
            raise ReplayMismatch(f"{property} holds on the last step of the trace")
    if kind == "deadlock" and any(enabled(b, last) for b in spec.bindings):
        raise ReplayMismatch("the last state of the trace has an enabled action")
