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
from .explicit.levels import explore_levels, plan_search
from .explicit.symmetry import Symmetry, build_symmetry
from .lang.errors import InputError
from .lang.model import Model, spec_of
from .report.result import Result, Stats

__all__ = ["ENGINES", "check"]

ENGINES = ("auto", "explicit", "bmc", "induction")


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
    backend: str = "auto",
    device: str = "cpu",
    workers: int = 1,
    store: str = "auto",
    depth: int | None = None,
    lemmas: Sequence[str] | None = None,
) -> Result:
    """Check every property of ``model`` (or those named in ``properties``).

    Parameters
    ----------
    model : Model
        A model instance (``TwoPhase(RM=(...))``); tracing happened when it was created.
    engine : str
        ``"explicit"``: breadth-first search over every reachable state; ``"bmc"``: bounded model checking with
        Z3 up to ``depth`` states (:func:`ordercheck.symbolic.bmc`); ``"induction"``: k-induction with Z3, for
        k up to ``depth`` (default 10), using the model's ``@lemma`` invariants or ``lemmas``
        (:func:`ordercheck.symbolic.induction`); ``"auto"`` (default): the explicit search, and when it hits a
        bound the reason says which symbolic engine to try.
    properties : list of str, optional
        Check only these properties.
    keep_going : bool
        Keep searching after a violation and report every violated property with its own shortest trace.
    deadlock : bool
        Report a reachable state with no enabled action as a violation.
    max_states, max_seconds, max_depth : optional
        Bounds; hitting one makes the verdict ``inconclusive``, never ``holds``.
    progress : callable, optional
        Called every couple of seconds with the current :class:`Stats` (by the Z3 engines: after each depth,
        with a :class:`~ordercheck.symbolic.DepthStats` holding its solver time).
    tolerance : bool
        Also measure each property's fault tolerance (see :mod:`ordercheck.tolerance`), in
        ``result.extra["tolerance"]``: the largest k that holds and the trace that breaks k + 1.
    symmetry : str, list of str or Symmetry, optional
        Symmetry reduction (:mod:`ordercheck.explicit.symmetry`): the names of constants whose elements are
        interchangeable (``["RM"]``; a topology's node domain gives its automorphisms), or ``"auto"`` for the
        automorphisms of every topology in the model.  ``distinct_states`` then counts orbits; the model is
        proved symmetric from its IR or checked on every state explored, and a model that is not is a ``ModelError``.
    backend : str
        ``"auto"`` (the scalar backend for tiny models, the vectorized one otherwise), ``"scalar"`` (compiled Python,
        one state at a time) or ``"vectorized"`` (:mod:`ordercheck.explicit.vectorized`: a whole BFS level at once on
        arrays).  Every backend finds the same counts, depth, verdicts and shortest traces; ``result.extra["backend"]``
        says which ran.
    device : str
        ``"cpu"`` (numpy) or ``"gpu"`` (CuPy, for the vectorized backend; an ``InputError`` if CuPy or a GPU is missing).
    workers : int
        Processes that expand each BFS level (:mod:`ordercheck.explicit.parallel`); same results for any number.
    store : str
        The visited-state store (:mod:`ordercheck.explicit.store`): ``"auto"`` / ``"exact"``, or ``"fingerprint"``
        (8 bytes a state; for states wider than 64 bits a hash, with the collision probability in
        ``result.extra["store"]``).

    depth : int, optional
        The BMC depth (required with ``engine="bmc"``) or the largest k for induction.
    lemmas : list of str, optional
        For induction: the invariants assumed (and proved) as strengthening lemmas; default: the ``@lemma`` ones.

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
    if engine in ("bmc", "induction"):
        if tolerance or symmetry is not None or workers != 1 or backend not in ("auto", "scalar"):
            raise InputError(f"--engine {engine} works alone: tolerance, symmetry, backends and workers belong to the explicit engine")
        # nothing given is ignored: the Z3 engines count no states and have no BFS levels, stores or devices
        if max_states is not None or max_depth is not None:
            raise InputError(f"engine {engine!r} does not use max_states or max_depth (the explicit search's bounds); "
                             "bound it with depth (and max_seconds)")
        if store != "auto" or device != "cpu":
            raise InputError(f"engine {engine!r} does not use store or device, which belong to the explicit engine")
        from .symbolic import bmc, induction

        timeout = max_seconds
        if engine == "bmc":
            if depth is None:
                raise InputError("--engine bmc needs --depth N: how many states deep to look for a violation")
            return bmc(model, depth, properties=properties, keep_going=keep_going, deadlock=deadlock, timeout_s=timeout,
                       progress=progress)  # type: ignore[arg-type]
        chosen = list(lemmas) if lemmas is not None else [p.name for p in spec.properties if p.lemma]
        return induction(model, max_k=depth or 10, properties=properties, lemmas=chosen, deadlock=deadlock, timeout_s=timeout,
                         progress=progress)  # type: ignore[arg-type]
    if lemmas is not None or depth is not None:
        raise InputError("depth and lemmas are options of --engine bmc and --engine induction")
    group = None
    if symmetry is not None:
        group = symmetry if isinstance(symmetry, Symmetry) else build_symmetry(spec, symmetry)
        if group.spec is not spec:
            raise InputError("symmetry: this Symmetry was built for another model instance; build it from spec_of(model)")
    plan = plan_search(spec, backend=backend, device=device, workers=workers, store=store, symmetry=group is not None)
    if plan.levels:
        result = explore_levels(spec, properties=properties, keep_going=keep_going, deadlock=deadlock,
                                bounds=Bounds(max_states, max_seconds, max_depth), progress=progress, backend=plan.backend,
                                device=device, store=plan.store, workers=workers)
    else:
        result = explore(spec, properties=properties, keep_going=keep_going, deadlock=deadlock,
                         bounds=Bounds(max_states, max_seconds, max_depth), progress=progress, symmetry=group)
        result.extra["backend"] = "scalar"
    if plan.note:
        result.extra["backend_note"] = plan.note
    if engine == "auto" and result.reason and result.verdict == "inconclusive":
        result.extra["hint"] = ("to go further, try --engine bmc --depth N (violations deeper than the explicit search got) "
                                "or --engine induction (a proof of the invariants, with @lemma strengthening)")
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
