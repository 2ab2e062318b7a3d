"""Re-running a saved trace against the current model.

A trace saved yesterday (``--trace-out``) names actions, parameters and
states.  :func:`replay_trace` maps each step back onto the model's bindings
and says whether the trace is still an execution of the model and still
reaches what it showed.

Before that, :func:`trace_misfit` says whether the trace belongs to this model
at all: the same variables, every value of the type the model declares, each
action's parameters named as the model names them.  A trace of another model
(or design) is not a trace that "no longer violates": the command line reports
it as an error (exit code 2), never as a fix (exit code 0).

Examples
--------
>>> from ordercheck import Model, Var, Int, action, invariant, require, check
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> trace = check(Up()).counterexample
>>> replay_trace(Up(), trace).reproduced
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .lang.interpret import CheckFailed, enabled, fire, holds
from .lang.model import Model, spec_of
from .lang.spec import Spec, State
from .lang.types import BoolType, FinType, IntType, MapType, SetType, ValueType, describe_value
from .report.trace import Trace

__all__ = ["ReplayOutcome", "replay_trace", "trace_misfit", "value_misfit"]


@dataclass(frozen=True)
class ReplayOutcome:
    """Whether a trace still replays and still shows its violation; ``step`` is where it stopped (1-based)."""

    reproduced: bool
    replays: bool
    step: int
    message: str


def _encode(spec: Spec, state: dict[str, object], step: int) -> State:
    names = [v.name for v in spec.vars]
    missing = [n for n in names if n not in state]
    extra = [n for n in state if n not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(missing)}")
        if extra:
            parts.append(f"has {', '.join(extra)}, which the model does not declare")
        raise ValueError(f"state {step} {' and '.join(parts)}")
    try:
        return spec.encode(state)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"state {step} does not fit the model's types: {exc}") from None


# The kinds of trace replay re-checks ("" for a trace another tool wrote: replay checks that it is an execution).
_CONFIRMED = ("invariant", "step", "deadlock", "model-error", "")


def _shown(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else describe_value(value)
    return text if len(text) <= 60 else text[:57] + "..."


def value_misfit(t: ValueType, value: Any, where: str) -> str | None:
    """What makes ``value`` (as read from a trace) not a value of type ``t``, or None if it is one.

    Stricter than encoding: a bool is not an int, an int is not a bool, a set is a set, and a
    map has exactly the keys of its domain.

    Examples
    --------
    >>> from ordercheck.lang.types import BoolType, FinType, MapType, SetType
    >>> nodes = FinType(("a", "b"), "NODE")
    >>> value_misfit(SetType(nodes), True, "x")
    "x is true, but the model declares SetOf(NODE{'a', 'b'})"
    >>> value_misfit(MapType(nodes, BoolType()), {"a": True}, "up")
    "up has no entry for 'b'"
    >>> value_misfit(SetType(nodes), frozenset({"a"}), "x") is None
    True
    """
    wrong = f"{where} is {_shown(value)}, but the model declares {t}"
    if isinstance(t, BoolType):
        return None if isinstance(value, bool) else wrong
    if isinstance(t, IntType):
        return None if value in t else wrong
    if isinstance(t, FinType):
        return None if value in t else wrong
    if isinstance(t, SetType):
        if not isinstance(value, frozenset):
            return wrong
        outside = [e for e in value if e not in t.domain]
        return f"{where} holds {describe_value(outside[0])}, which is not one of {t.domain}" if outside else None
    if isinstance(t, MapType):
        if not isinstance(value, dict):
            return wrong
        for key in t.domain.values:
            if not any(k == key and type(k) is type(key) for k in value):
                return f"{where} has no entry for {describe_value(key)}"
        extra = [k for k in value if k not in t.domain]
        if extra:
            return f"{where} has an entry for {describe_value(extra[0])}, which is not one of {t.domain}"
        for key in t.domain.values:
            problem = value_misfit(t.value, value[key], f"{where}[{describe_value(key)}]")
            if problem:
                return problem
        return None
    return wrong  # pragma: no cover - every value type is handled above


def trace_misfit(spec: Spec, trace: Trace) -> str | None:
    """Why ``trace`` is not a trace of this model at all (other variables, wrong types, other parameters), or None.

    Examples
    --------
    >>> from ordercheck import Model, Var, Int, action
    >>> from ordercheck.report.trace import Step, Trace
    >>> class Up(Model):
    ...     x = Var(Int(0, 3), init=0)
    ...     @action
    ...     def inc(s):
    ...         s.x = s.x + 1
    >>> spec = spec_of(Up())
    >>> trace_misfit(spec, Trace("Up", None, "deadlock", (Step(None, (), {"x": True}),)))
    'state 1: x is true, but the model declares Int(0, 3)'
    >>> trace_misfit(spec, Trace("Up", None, "deadlock", (Step(None, (), {"y": 0}),)))
    'state 1 lacks x and has y, which the model does not declare'
    """
    if not trace.steps:
        return "the trace has no states"
    if trace.kind == "induction":
        return "it is a counterexample to induction, whose first state need not be reachable: there is no execution to replay"
    if trace.kind not in _CONFIRMED:
        return f"its kind {trace.kind!r} is not one that replay can confirm ({', '.join(sorted(k for k in _CONFIRMED if k))})"
    if trace.kind in ("invariant", "step"):
        known = [p.name for p in spec.properties]
        if trace.property is None:
            return f"it is a trace of kind {trace.kind!r} that names no property"
        if trace.property not in known:
            return f"it shows a violation of {trace.property!r}, which the model does not have (its properties: {', '.join(known) or 'none'})"
    names = [v.name for v in spec.vars]
    params = {b.action: tuple(sorted(k for k, _ in b.params)) for b in spec.bindings}
    values: dict[tuple[str, str], list[Any]] = {}
    for b in spec.bindings:
        for k, v in b.params:
            seen = values.setdefault((b.action, k), [])
            if not any(v == w and type(v) is type(w) for w in seen):
                seen.append(v)
    for n, step in enumerate(trace.steps, start=1):
        missing = [v for v in names if v not in step.state]
        extra = [v for v in step.state if v not in names]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"lacks {', '.join(missing)}")
            if extra:
                parts.append(f"has {', '.join(extra)}, which the model does not declare")
            return f"state {n} {' and '.join(parts)}"
        for v in spec.vars:
            problem = value_misfit(v.type, step.state[v.name], v.name)
            if problem:
                return f"state {n}: {problem}"
        if n > 1 and step.action in params:
            given = tuple(sorted(k for k, _ in step.params))
            if given != params[step.action]:
                return (f"step {n}: the model's action {step.action} takes ({', '.join(params[step.action]) or 'no parameters'}), "
                        f"the trace gives it ({', '.join(given) or 'none'})")
            for k, v in step.params:
                domain = values[(step.action, k)]
                if not any(v == w and type(v) is type(w) for w in domain):
                    shown = ", ".join(describe_value(w) for w in domain[:8]) + (", ..." if len(domain) > 8 else "")
                    return f"step {n}: {step.action}'s parameter {k} is {_shown(v)}, which is not one of its values ({shown})"
        elif n > 1:
            for k, v in step.params:
                try:
                    hash(v)
                except TypeError:
                    return f"step {n}: the parameter {k} is {_shown(v)}; an action's parameter is never a map"
    return None


def replay_trace(model: Model, trace: Trace) -> ReplayOutcome:
    """Replay ``trace`` on ``model`` with the reference semantics."""
    spec = spec_of(model)
    if not trace.steps:
        return ReplayOutcome(False, False, 0, "the trace has no states")
    try:
        state = _encode(spec, trace.steps[0].state, 1)
    except ValueError as exc:
        return ReplayOutcome(False, False, 1, str(exc))
    if state not in spec.init_states:
        return ReplayOutcome(False, False, 1, "state 1 is not an initial state of the model")
    labels = {(b.action, b.params): i for i, b in enumerate(spec.bindings)}
    for n, step in enumerate(trace.steps[1:], start=2):
        key = (step.action or "", tuple(step.params))
        if key not in labels:
            return ReplayOutcome(False, False, n, f"step {n}: the model has no action {step.label}")
        binding = spec.bindings[labels[key]]
        if not enabled(binding, state):
            return ReplayOutcome(False, False, n, f"step {n}: {binding.label} is not enabled")
        try:
            after = fire(spec, binding, state)
        except CheckFailed as exc:
            return ReplayOutcome(trace.kind == "model-error", False, n, f"step {n}: model error: {exc.message}")
        try:
            shown = _encode(spec, step.state, n)
        except ValueError as exc:
            return ReplayOutcome(False, False, n, str(exc))
        if after != shown:
            return ReplayOutcome(False, False, n, f"step {n}: {binding.label} leads to a different state than the trace shows")
        state = after
    last = len(trace.steps)
    if trace.kind == "invariant" and trace.property is not None:
        if trace.property not in {p.name for p in spec.properties}:
            return ReplayOutcome(False, True, last, f"the trace replays, but the model has no property {trace.property!r} any more")
        if not holds(spec, trace.property, state):
            return ReplayOutcome(True, True, last, f"the trace replays and still violates {trace.property}")
        return ReplayOutcome(False, True, last, f"the trace replays, but {trace.property} now holds in its last state")
    if trace.kind == "step" and trace.property is not None and last >= 2:
        before = _encode(spec, trace.steps[-2].state, last - 1)
        if not holds(spec, trace.property, before, state):
            return ReplayOutcome(True, True, last, f"the trace replays and its last step still violates {trace.property}")
        return ReplayOutcome(False, True, last, f"the trace replays, but its last step now satisfies {trace.property}")
    if trace.kind == "deadlock":
        if any(enabled(b, state) for b in spec.bindings):
            return ReplayOutcome(False, True, last, "the trace replays, but its last state is no longer a deadlock")
        return ReplayOutcome(True, True, last, "the trace replays and still ends in a deadlock")
    if trace.kind == "model-error":
        for binding in spec.bindings:
            if enabled(binding, state):
                try:
                    fire(spec, binding, state)
                except CheckFailed as exc:
                    return ReplayOutcome(True, True, last, f"the trace replays and {binding.label} still fails: {exc.message}")
        return ReplayOutcome(False, True, last, "the trace replays, but no action fails from its last state any more")
    return ReplayOutcome(False, True, last, f"the trace replays; its kind {trace.kind!r} has nothing further to confirm")
