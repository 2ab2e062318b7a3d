"""The Python entry point: :func:`check` a model instance.

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
...     def bounded(s):
...         return s.x <= 3
>>> r = check(Up())
>>> r.verdict, r.stats.distinct_states, r.stats.depth
('holds', 4, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .explicit import Bounds, explore
from .explicit.symmetry import Symmetry, build_symmetry
from .lang.errors import InputError
from .lang.model import Model, spec_of
from .report.result import Result, Stats

__all__ = ["ENGINES", "check"]

ENGINES = ("auto", "explicit")


def check(
    model: Model,
    *,
    engine: str = "auto",
    properties: list[str] | None = None,
    keep_going: bool = False,
    deadlock: bool = False,
    max_states: int | None = None,
    max_seconds: float | None = None,
    max_depth: int | None = None,
    progress: Callable[[Stats], None] | None = None,
    tolerance: bool = False,
    symmetry: str | Sequence[str] | Symmetry | None = None,
) -> Result:
    """Check every property of ``model`` (or those named in ``properties``).

    Parameters
    ----------
    model : Model
        A model instance (``TwoPhase(RM=(...))``); tracing happened when it was created.
    engine : str
        ``"auto"`` or ``"explicit"``: breadth-first search over every reachable state.
    properties : list of str, optional
        Check only these properties.
    keep_going : bool
        Keep searching after a violation and report every violated property with its own shortest trace.
    deadlock : bool
        Report a reachable state with no enabled action as a violation.
    max_states, max_seconds, max_depth : optional
        Bounds; hitting one makes the verdict ``inconclusive``, never ``holds``.
    progress : callable, optional
        Called every couple of seconds with the current :class:`Stats`.
    tolerance : bool
        Also measure each property's fault tolerance (see :mod:`ordercheck.tolerance`), in
        ``result.extra["tolerance"]``: the largest k that holds and the trace that breaks k + 1.
    symmetry : str, list of str or Symmetry, optional
        Symmetry reduction (:mod:`ordercheck.explicit.symmetry`): the names of constants whose elements are
        interchangeable (``["RM"]``; a topology's node domain gives its automorphisms), or ``"auto"`` for the
        automorphisms of every topology in the model.  ``distinct_states`` then counts orbits; the model is
        checked to be symmetric as the search goes, and a model that is not is a ``ModelError``.

    Returns
    -------
    Result
        ``verdict`` (``holds`` / ``violated`` / ``inconclusive``), per-property results, ``stats`` and ``counterexample``.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    for name, value in (("max_states", max_states), ("max_seconds", max_seconds), ("max_depth", max_depth)):
        if value is not None and value <= 0:
            raise InputError(f"{name} must be positive, got {value}")
    spec = spec_of(model)
    group = None
    if symmetry is not None:
        group = symmetry if isinstance(symmetry, Symmetry) else build_symmetry(spec, symmetry)
        if group.spec is not spec:
            raise InputError("symmetry: this Symmetry was built for another model instance; build it from spec_of(model)")
    result = explore(spec, properties=properties, keep_going=keep_going, deadlock=deadlock,
                     bounds=Bounds(max_states, max_seconds, max_depth), progress=progress, symmetry=group)
    if tolerance:
        from .tolerance import fault_tolerance  # the tolerance search calls check() itself

        measurable = [p.name for p in result.properties
                      if p.kind in ("invariant", "step") and (spec.extra.get("faults") or p.name in spec.extra.get("survives_properties", []))]
        if not measurable:
            raise InputError(f"model {spec.name} declares no faults (faults = Faults(...)), so it has no fault tolerance to measure")
        result.extra["tolerance"] = {
            name: fault_tolerance(model, name, max_states=max_states, max_seconds=max_seconds, max_depth=max_depth)
            for name in measurable
        }
    return result
