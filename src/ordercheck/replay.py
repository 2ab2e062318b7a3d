"""Re-running a saved trace against the current model.

A trace saved yesterday (``--trace-out``) names actions, parameters and
states.  :func:`replay_trace` maps each step back onto the model's bindings
and says whether the trace is still an execution of the model and still
reaches what it showed.

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

from .lang.interpret import CheckFailed, enabled, fire, holds
from .lang.model import Model, spec_of
from .lang.spec import Spec, State
from .report.trace import Trace

__all__ = ["ReplayOutcome", "replay_trace"]


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
