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

import time
from collections.abc import Callable, Sequence

from .explicit import Bounds, explore
from .explicit.levels import explore_levels, plan_search
from .explicit.limits import default_max_memory, validate_bounds
from .explicit.symmetry import Symmetry, build_symmetry
from .lang.errors import InputError
from .lang.model import Model, spec_of
from .lang.spec import Spec
from .report.result import Result, Stats

__all__ = ["ENGINES", "check"]

ENGINES = ("auto", "explicit", "bmc", "induction", "pdr")

TOLERANCE_SHARE = 2.0
"""Without ``max_seconds``, ``tolerance=True`` may take this many times the check's own time ..."""

TOLERANCE_FLOOR = 10.0
"""... and at least this many seconds; beyond it the tolerance is reported as "at least k"."""


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
    max_memory: int | None = None,
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
        (:func:`ordercheck.symbolic.induction`); ``"pdr"``: IC3/PDR with Z3's Spacer, which finds the inductive
        invariant itself (:func:`ordercheck.symbolic.pdr`; ``holds`` only with that invariant re-checked);
        ``"auto"`` (default): the explicit search, and when it hits a
        bound the reason says which symbolic engine to try.
    properties : list of str, optional
        Check only these properties.
    keep_going : bool
        Keep searching after a violation and report every violated property with its own shortest trace.
    deadlock : bool
        Report a reachable state with no enabled action as a violation.
    max_states, max_seconds, max_depth : optional
        Bounds; hitting one makes the verdict ``inconclusive``, never ``holds``.  The time bound is checked at
        least every few tenths of a second of work on every backend, and the reason says by how much it was overshot.
        NaN, infinite and non-positive values are an ``InputError``.
    max_memory : int, optional
        A bound in bytes on the resident memory of the checking process (:mod:`ordercheck.explicit.limits`):
        reaching it (or a ``MemoryError``) ends the search as ``inconclusive`` with "memory bound reached" and the
        statistics so far.  Default: three quarters of the memory available when the check starts.  The explicit
        engine only (an ``InputError`` with ``engine="bmc"`` or ``"induction"``).
    progress : callable, optional
        Called every couple of seconds with the current :class:`Stats` (by the Z3 engines: after each depth,
        with a :class:`~ordercheck.symbolic.DepthStats` holding its solver time).
    tolerance : bool
        Also measure each property's fault tolerance (see :mod:`ordercheck.tolerance`), in
        ``result.extra["tolerance"]``: the largest k that holds and the trace that breaks k + 1.  The measurement
        runs under the bounds of the whole run; without ``max_seconds`` it may take :data:`TOLERANCE_SHARE` times
        the check's own time (at least :data:`TOLERANCE_FLOOR` seconds), after which a tolerance still open is
        reported as "at least k" (inconclusive).
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
    validate_bounds(max_states=max_states, max_seconds=max_seconds, max_depth=max_depth, max_memory=max_memory)
    spec = spec_of(model)
    if engine in ("bmc", "induction", "pdr"):
        if max_memory is not None:
            raise InputError(f"--engine {engine} does not take a memory bound (max_memory bounds the explicit search); drop it")
        if tolerance or symmetry is not None or workers != 1 or backend not in ("auto", "scalar"):
            raise InputError(f"--engine {engine} works alone: tolerance, symmetry, backends and workers belong to the explicit engine")
        # nothing given is ignored: the Z3 engines count no states and have no BFS levels, stores or devices
        if max_states is not None or max_depth is not None:
            raise InputError(f"engine {engine!r} does not use max_states or max_depth (the explicit search's bounds); "
                             "bound it with depth (and max_seconds)")
        if store != "auto" or device != "cpu":
            raise InputError(f"engine {engine!r} does not use store or device, which belong to the explicit engine")
        from .symbolic import bmc, induction, pdr

        timeout = max_seconds
        if engine == "pdr":
            if lemmas is not None or depth is not None:
                raise InputError("--engine pdr finds its own invariant: --depth and --lemma belong to bmc and induction")
            return pdr(model, properties=properties, keep_going=keep_going, deadlock=deadlock, timeout_s=timeout,
                       progress=progress)  # type: ignore[arg-type]
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
    bounds = Bounds(max_states, max_seconds, max_depth, max_memory if max_memory is not None else default_max_memory(),
                    started=time.monotonic())
    plan = plan_search(spec, backend=backend, device=device, workers=workers, store=store, symmetry=group is not None)

    def search(spec: Spec, *, properties: list[str] | None, bounds: Bounds, progress: Callable[[Stats], None] | None,
               keep_going: bool = False, deadlock: bool = False) -> Result:
        """The explicit search this check runs (also what ``tolerance`` runs for each of its searches)."""
        if plan.levels:
            return explore_levels(spec, properties=properties, keep_going=keep_going, deadlock=deadlock, bounds=bounds, progress=progress,
                                  backend=plan.backend, device=device, store=plan.store, workers=workers,
                                  symmetry=group if spec is group_spec else None)
        found = explore(spec, properties=properties, keep_going=keep_going, deadlock=deadlock, bounds=bounds, progress=progress,
                        symmetry=group if spec is group_spec else None)
        found.extra["backend"] = "scalar"
        return found

    search.levels = plan.levels  # type: ignore[attr-defined]  # tolerance measures per budget on a level search
    group_spec = group.spec if group is not None else None
    result = search(spec, properties=properties, keep_going=keep_going, deadlock=deadlock, bounds=bounds, progress=progress)
    if plan.note:
        result.extra["backend_note"] = plan.note
    if engine == "auto" and result.reason and result.verdict == "inconclusive":
        result.extra["hint"] = ("to go further, try --engine bmc --depth N (violations deeper than the explicit search got) "
                                "or --engine induction (a proof of the invariants, with @lemma strengthening)")
    if tolerance:
        from .tolerance import fault_tolerances  # the tolerance searches run this check's search

        measurable = [p.name for p in result.properties
                      if p.kind in ("invariant", "step") and (spec.extra.get("faults") or p.name in spec.extra.get("survives_properties", []))]
        if not measurable:
            raise InputError(f"model {spec.name} declares no faults (faults = Faults(...)), so it has no fault tolerance to measure")
        # One measurement for every property, under the bounds of the whole run (this check's states count too).
        # Without a time bound it gets TOLERANCE_SHARE times the check's own time (at least TOLERANCE_FLOOR s):
        # a property that holds at every budget would otherwise need the search with every node failed.
        measure = bounds
        if max_seconds is None:
            allowance = max(TOLERANCE_FLOOR, TOLERANCE_SHARE * result.stats.seconds)
            measure = bounds.but(max_seconds=allowance, started=time.monotonic())
        result.extra["tolerance"] = fault_tolerances(model, measurable, bounds=measure, progress=progress, search=search,
                                                     states_before=result.stats.distinct_states)
    return result
