"""Turning an engine's path through the state space into a checked :class:`Trace`.

Every engine hands its raw path here; the path is replayed on the reference
semantics first, so no counterexample is printed that the reference
interpreter does not confirm.
"""

from __future__ import annotations

from typing import Any

from ..lang.interpret import replay_path
from ..lang.spec import Spec, State
from .trace import Step, Trace

__all__ = ["build_trace"]


def build_trace(spec: Spec, path: list[tuple[int | None, State]], property: str | None, kind: str, message: str = "") -> Trace:
    """A :class:`Trace` of ``path`` (``[(None, s0), (binding, s1), ...]``), after replaying it.

    Raises :class:`~ordercheck.lang.interpret.ReplayMismatch` if the reference
    semantics disagrees with the engine that produced it.
    """
    replay_path(spec, path, property, kind)
    steps = []
    for index, state in path:
        decoded: dict[str, Any] = spec.decode(state)
        if index is None:
            steps.append(Step(None, (), decoded))
        else:
            b = spec.bindings[index]
            steps.append(Step(b.action, b.params, decoded))
    return Trace(spec.name, property, kind, tuple(steps), message, dict(spec.constants))
