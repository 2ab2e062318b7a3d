"""Level-synchronous breadth-first search over arrays of packed states.

This is the search behind the vectorized backend, the fingerprint store and
``workers > 1``.  It finds exactly what :func:`ordercheck.explicit.bfs.explore`
finds (the same distinct and generated counts, depth, verdicts, the same
shortest counterexamples and model errors, and the same numbers when a bound or
the first violation stops the search), one BFS level at a time:

1. the level's frontier is cut into chunks; each chunk is expanded by an
   evaluator (the array code of :mod:`ordercheck.explicit.vectorized`, or the
   scalar backend for small frontiers), giving every successor with its *order*
   ``parent position << bbits | binding``, the position at which the scalar search
   generates it; step properties are evaluated over every successor;
2. successors are deduplicated in bulk (a sort, keeping the smallest order of each
   state) and looked up in the :mod:`~ordercheck.explicit.store`; the level's new
   states, sorted by order, are exactly the states the scalar search adds, in the
   order it adds them;
3. invariants and goals are evaluated over the new states as masks;
4. the few *events* of the level (a failed run-time check, a violation, a deadlock,
   a bound) are replayed in order, with the same bookkeeping as the scalar search,
   which decides where the level stops; then the new states get their parent
   pointers and the events their traces (re-executed from the parent log).

A row whose run-time check fails in the array code is re-run on the scalar
backend, which raises the precise :class:`~ordercheck.explicit.compile.CheckFailure`.

The parts are given, not built in: the successor backend (:class:`VectorEvaluator` or
:class:`ScalarEvaluator`, per level), the store, a parallel runner, and the symmetry
reduction (each chunk's successors are replaced by their canonical forms,
:meth:`~ordercheck.explicit.symmetry.Symmetry.canonical_rows`, after the step properties
and before deduplication), so every reduction runs with every backend, store and number
of workers.  The time and memory bounds (:mod:`ordercheck.explicit.limits`) are checked
after every chunk, whose size adapts to take about :data:`CHUNK_SECONDS`, and after every
level.  Two modes remain in the scalar search of :mod:`ordercheck.explicit.bfs`: symmetry
that is not proved from the IR (checked state by state) and budget layers.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> r = explore_levels(spec_of(Up()), small_level=0)
>>> r.verdict, len(r.counterexample), r.stats.depth, r.extra["backend"]
('violated', 3, 3, 'vectorized')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from ..lang.errors import ModelError
from ..lang.spec import Spec, State
from ..report.build import build_trace
from ..report.result import VIOLATED, PropertyResult, Result, Stats
from .bfs import DEADLOCK, Bounds, _Search, select_properties
from .compile import CheckFailure, CompiledSpec, compile_spec
from .store import ParentLog, StateStore, make_store
from .symmetry import Symmetry
from .vectorized import VectorizedSpec, compile_vectorized, from_words, not_vectorizable, to_host, to_words

__all__ = ["BACKENDS", "CHUNK", "CHUNK_SECONDS", "SMALL_LEVEL",
           "STORE_CHOICES", "TINY_MODEL", "ChunkResult", "Expander", "LevelSearch", "Plan", "ScalarEvaluator",
           "VectorEvaluator", "dedupe", "dedupe_packed", "explore_levels", "plan_search"]

BACKENDS = ("auto", "scalar", "vectorized")
STORE_CHOICES = ("auto", "exact", "fingerprint")
TINY_MODEL = 1 << 20  # "auto" uses the scalar search for models with at most this many states in their type (product of slot sizes)
CHUNK = 1 << 16  # frontier states expanded per batch
CHUNK_SECONDS = 0.1  # in one process, a chunk of the frontier is sized to take about this long (bounds are checked between chunks)
SMALL_LEVEL = 256  # a frontier smaller than this is expanded by the scalar backend (array calls cost more than they save)

Rows = tuple[Any, ...]  # a batch of packed states: one uint64 array per 64-bit word


class Evaluator(Protocol):
    """What the search needs from a backend, over batches of rows."""

    def expand(self, rows: Rows, c0: int, stride: int) -> tuple[Any, Rows, list[int]]: ...

    def masks(self, kind: str, rows: Rows, post: Rows | None = None) -> tuple[Any, list[Any]]: ...


def _any_of(xp: ModuleType, fails: Sequence[Any], n: int) -> Any:
    out = None
    for f in fails:
        if f is not None:
            out = f if out is None else (out | f)
    return out


class VectorEvaluator:
    """The array code of :mod:`ordercheck.explicit.vectorized` as an evaluator."""

    def __init__(self, vector: VectorizedSpec) -> None:
        self.v = vector
        self.xp = vector.xp
        self.words = vector.words

    def expand(self, rows: Rows, c0: int, stride: int) -> tuple[Any, Rows, list[int]]:
        """Every successor of ``rows`` (frontier positions ``c0...``): orders, successor rows, rows to re-run on the scalar backend."""
        xp = self.xp
        out, bad = self.v.expand(*rows)
        if not out:
            return xp.zeros(0, dtype=xp.int64), tuple(xp.zeros(0, dtype=xp.uint64) for _ in range(self.words)), _suspects(bad, c0)
        order = xp.concatenate([(i + c0) * stride + b for b, i, _ in out])
        ys = tuple(xp.concatenate([y[k] for _, _, y in out]) for k in range(self.words))
        return order, ys, _suspects(bad, c0)

    def expand_packed(self, x: Any, c0: int, bbits: int, shift: int) -> tuple[Any, list[int]]:
        """One-word states only: every successor as ``successor << shift | order``, and the rows to re-run."""
        xp = self.xp
        u = xp.uint64
        out, bad = self.v.expand(x)
        base = (xp.arange(c0, c0 + x.shape[0], dtype=xp.uint64) << u(bbits))
        parts = []
        for b, i, (y,) in out:
            o = base[i]
            if b:
                o |= u(b)
            y = y << u(shift)
            y |= o
            parts.append(y)
        packed = xp.concatenate(parts) if parts else xp.zeros(0, dtype=xp.uint64)
        return packed, _suspects(bad, c0)

    def masks(self, kind: str, rows: Rows, post: Rows | None = None) -> tuple[Any, list[Any]]:
        """``(rows where a check fails or None, one mark per property)`` for ``invariants``, ``goals`` or ``steps``."""
        if kind == "steps":
            assert post is not None
            fails, marks = self.v.steps(*rows, *post)
        else:
            fails, marks = getattr(self.v, kind)(*rows)
        return _any_of(self.xp, fails, rows[0].shape[0]), marks


def _suspects(bad: list[Any], c0: int) -> list[int]:
    rows = [to_host(b) for b in bad]
    total = sum(r.shape[0] for r in rows)
    if not total:
        return []
    return sorted({int(p) + c0 for r in rows for p in r.tolist()})


class ScalarEvaluator:
    """The compiled scalar backend as an evaluator (one Python call per state)."""

    def __init__(self, compiled: CompiledSpec, words: int, xp: ModuleType = np) -> None:
        self.c = compiled
        self.words = words
        self.xp = xp
        self.props = {"invariants": compiled.invariant_props, "goals": compiled.goal_props, "steps": compiled.step_props}

    def expand(self, rows: Rows, c0: int, stride: int) -> tuple[Any, Rows, list[int]]:
        order: list[int] = []
        ys: list[int] = []
        suspects: list[int] = []
        successors = self.c.successors
        for p, x in enumerate(from_words(rows), c0):
            try:
                succ = successors(x)
            except CheckFailure:
                suspects.append(p)
                continue
            base = p * stride
            for b, y in succ:
                order.append(base + b)
                ys.append(y)
        xp = self.xp
        return xp.asarray(np.array(order, dtype=np.int64)), to_words(ys, self.words, xp), suspects

    def masks(self, kind: str, rows: Rows, post: Rows | None = None) -> tuple[Any, list[Any]]:
        fn: Callable[..., int] = getattr(self.c, kind)
        n = len(self.props[kind])
        states = from_words(rows)
        args: Iterable[tuple[int, ...]] = zip(states, from_words(post)) if post is not None else ((x,) for x in states)
        fail = np.zeros(len(states), dtype=bool)
        marks = [np.zeros(len(states), dtype=bool) for _ in range(n)]
        for i, a in enumerate(args):
            try:
                m = fn(*a)
            except CheckFailure:
                fail[i] = True
                continue
            for bit in range(n):
                if m >> bit & 1:
                    marks[bit][i] = True
        xp = self.xp
        return (xp.asarray(fail) if fail.any() else None), [xp.asarray(m) for m in marks]


@dataclass
class ChunkResult:
    """What one chunk of a frontier contributes to its level."""

    c0: int
    c1: int
    generated: int  # successors of the chunk's parents (up to the error parent, if any)
    counts: np.ndarray | None = None  # successors per parent c0..c1-1 (host), when asked for
    error: int = -1  # first parent whose expansion fails a check, or -1
    step_fail: tuple[int, int] | None = None  # (order, successor) of the first successor failing a step property's check
    step_first: dict[int, tuple[int, int]] = field(default_factory=dict)  # step property bit -> first violating (order, successor)
    keys: Any = None  # the chunk's distinct successors: store keys, ascending
    order: Any = None  # the smallest order of each
    rows: Rows = ()  # and its words


class Expander:
    """Expands chunks of a frontier into :class:`ChunkResult`; also what a parallel worker runs.

    A successor's *order* is ``parent position << bbits | binding``: the scalar search's
    generation order, with the binding in the low ``bbits`` bits.
    """

    def __init__(self, spec: Spec, compiled: CompiledSpec, vector: VectorizedSpec | None, store: StateStore, xp: ModuleType = np,
                 symmetry: Symmetry | None = None) -> None:
        self.spec = spec
        self.symmetry = symmetry  # a reduction: successors are replaced by their canonical forms before deduplication
        self.c = compiled
        self.xp = xp
        self.words = max(1, -(-spec.width // 64))
        self.bbits = max(0, len(spec.bindings) - 1).bit_length()
        self.stride = 1 << self.bbits
        self.scalar = ScalarEvaluator(compiled, self.words, xp)
        self.vector = VectorEvaluator(vector) if vector is not None else None
        self.store = store

    def evaluator(self, use_vector: bool) -> Evaluator:
        return self.vector if use_vector and self.vector is not None else self.scalar

    def chunk(self, rows: Rows, c0: int, step_active: int, shift: int | None, use_vector: bool, counts: bool = False) -> ChunkResult:
        """Expand frontier positions ``c0 .. c0 + len(rows)``.

        ``shift`` is the width of an order when a one-word state and its order pack into
        one word (then deduplication is one sort); ``counts`` asks for the successors per parent.
        """
        xp = self.xp
        n = int(rows[0].shape[0])
        if (shift is not None and use_vector and self.vector is not None and self.store.keys_are_states and not step_active and not counts
                and self.symmetry is None):
            packed, suspects = self.vector.expand_packed(rows[0], c0, self.bbits, shift)
            if not suspects:
                keys, order = dedupe_packed(xp, packed, shift)
                return ChunkResult(c0, c0 + n, int(packed.shape[0]), keys=keys, order=order, rows=(keys,))
        ev = self.evaluator(use_vector)
        order, ys, suspects = ev.expand(rows, c0, self.stride)
        error = -1
        if suspects:
            order, ys, error = self._rerun(rows, c0, order, ys, suspects)
        result = ChunkResult(c0, c0 + n, int(order.shape[0]), error=error)
        parent = order >> self.bbits
        if counts:
            result.counts = to_host(xp.bincount(parent - c0, minlength=n)) if order.shape[0] else np.zeros(n, dtype=np.int64)
        if step_active and order.shape[0]:
            pre = tuple(r[parent - c0] for r in rows)
            fail, marks = ev.masks("steps", pre, ys)
            if fail is not None and bool(fail.any()):
                result.step_fail = self._first(order, ys, fail)
            for bit, mark in enumerate(marks):
                if step_active >> bit & 1 and bool(mark.any()):
                    result.step_first[bit] = self._first(order, ys, mark)
        if self.symmetry is not None and order.shape[0]:  # after the step properties, which see the concrete successors
            ys = self.symmetry.canonical_rows(ys, xp)
        keys = self.store.keys(ys)
        result.keys, result.order, result.rows = dedupe(xp, keys, order, ys, shift, self.store.keys_are_states)
        return result

    def counts(self, rows: Rows, c0: int, use_vector: bool) -> np.ndarray:
        """Successors per parent of a chunk (parents after an error parent count 0)."""
        return self.chunk(rows, c0, 0, None, use_vector, counts=True).counts  # type: ignore[return-value]

    def _first(self, order: Any, ys: Rows, mask: Any) -> tuple[int, int]:
        at = self.xp.nonzero(mask)[0]
        k = at[self.xp.argmin(order[at])]
        return int(order[k]), from_words(tuple(y[k : k + 1] for y in ys))[0]

    def _rerun(self, rows: Rows, c0: int, order: Any, ys: Rows, suspects: list[int]) -> tuple[Any, Rows, int]:
        """Re-run the suspect parents on the scalar backend: the first that raises is the error; the others' successors are replaced."""
        xp = self.xp
        states = from_words(tuple(r for r in rows))
        error = -1
        extra_order: list[int] = []
        extra: list[int] = []
        for p in suspects:
            try:
                succ = self.c.successors(states[p - c0])
            except CheckFailure:
                error = p
                break
            for b, y in succ:
                extra_order.append(p << self.bbits | b)
                extra.append(y)
        parent = order >> self.bbits
        keep = ~xp.isin(parent, xp.asarray(np.array(suspects, dtype=np.int64)))
        if error >= 0:
            keep &= parent < error
        order = xp.concatenate([order[keep], xp.asarray(np.array(extra_order, dtype=np.int64))])
        more = to_words(extra, self.words, xp)
        ys = tuple(xp.concatenate([y[keep], m]) for y, m in zip(ys, more))
        return order, ys, error


def dedupe_packed(xp: ModuleType, packed: Any, shift: int) -> tuple[Any, Any]:
    """Distinct states (ascending) and the smallest order of each, from words ``state << shift | order``.

    Examples
    --------
    >>> import numpy as np
    >>> k, o = dedupe_packed(np, np.array([7 << 4 | 5, 3 << 4 | 9, 7 << 4 | 2], dtype=np.uint64), 4)
    >>> k.tolist(), o.tolist()
    ([3, 7], [9, 2])
    """
    n = int(packed.shape[0])
    if n == 0:
        return packed, xp.zeros(0, dtype=xp.int64)
    u = xp.uint64
    packed = xp.sort(packed)
    k = packed >> u(shift)
    first = xp.empty(n, dtype=bool)
    first[0] = True
    xp.not_equal(k[1:], k[:-1], out=first[1:])
    p = packed[first]
    return p >> u(shift), (p & u((1 << shift) - 1)).astype(xp.int64)


def dedupe(xp: ModuleType, keys: Any, order: Any, rows: Rows, shift: int | None, keys_are_rows: bool) -> tuple[Any, Any, Rows]:
    """The distinct keys (ascending), the smallest order of each, and the rows of that occurrence.

    With ``shift`` (keys that are one-word states, and ``key << shift | order`` fits 64
    bits) it is one sort of packed words; otherwise two argsorts.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.array([7, 3, 7, 3], dtype=np.uint64)
    >>> o = np.array([5, 9, 2, 4])
    >>> ks, os, _ = dedupe(np, k, o, (k,), 4, True)
    >>> ks.tolist(), os.tolist()
    ([3, 7], [4, 2])
    >>> ks, os, _ = dedupe(np, k, o, (k,), None, True)
    >>> ks.tolist(), os.tolist()
    ([3, 7], [4, 2])
    """
    n = int(keys.shape[0])
    if n == 0:
        return keys, order, rows
    if shift is not None and keys_are_rows:
        uk, uo = dedupe_packed(xp, (keys << xp.uint64(shift)) | order.astype(xp.uint64), shift)
        return uk, uo, (uk,)
    if xp is np and keys.dtype == np.uint64:
        # one (unstable, SIMD) argsort by key, then the smallest order of each group of equal keys
        perm = np.argsort(keys)
        sk = keys[perm]
        so = order[perm]
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(sk[1:], sk[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        uo = np.minimum.reduceat(so, starts)
        uk = sk[starts]
        if keys_are_rows:
            return uk, uo, (uk,)
        rep = perm[so == uo[np.cumsum(first) - 1]]
        return uk, uo, tuple(r[rep] for r in rows)
    by_order = xp.argsort(order)
    if xp is np:  # records (states wider than a word, kept exactly)
        perm = by_order[np.argsort(keys[by_order], kind="stable")]
    else:  # CuPy's sorts are stable
        perm = by_order[xp.argsort(keys[by_order])]
    sk = keys[perm]
    first = xp.empty(n, dtype=bool)
    first[0] = True
    first[1:] = sk[1:] != sk[:-1]
    rep = perm[first]
    uk = sk[first]
    return uk, order[rep], ((uk,) if keys_are_rows else tuple(r[rep] for r in rows))


# ----------------------------------------------------------------------------- the search


class _Rerun(Exception):
    """A model error met under symmetry reduction: the scalar search reproduces it with its trace."""


@dataclass(order=True)
class _Event:
    pos: tuple[int, int, int, int]  # (parent, binding + 1 or 0 for the parent itself, stage, priority)
    kind: str = field(compare=False)
    data: Any = field(compare=False, default=None)


ChunkRunner = Callable[[list[tuple[Rows, int]], int, "int | None", bool], Iterator[ChunkResult]]


class LevelSearch(_Search):
    """The level-synchronous search (see the module docstring); results as :class:`~ordercheck.explicit.bfs._Search`'s."""

    def __init__(self, spec: Spec, compiled: CompiledSpec, selected: list[int], keep_going: bool, deadlock: bool, bounds: Bounds,
                 progress: Callable[[Stats], None] | None, *, vector: VectorizedSpec | None, store: StateStore,
                 xp: ModuleType = np, chunk: int = CHUNK, small_level: int = SMALL_LEVEL, runner: Any = None,
                 backend: str = "vectorized", device: str = "cpu", workers: int = 1, symmetry: Symmetry | None = None) -> None:
        super().__init__(spec, compiled, selected, keep_going, deadlock, bounds, progress, symmetry)
        if self.sym is not None and not self.sym.proved:
            raise _Rerun  # checking symmetry state by state is the scalar search's job
        self.xp = xp
        self.store = store
        self.expander = Expander(spec, compiled, vector, store, xp, symmetry)
        self.log = ParentLog(len(spec.bindings))
        self.count = 0
        self.chunk_size = chunk
        self.adaptive_size = 0  # the chunk size learnt so far (0: not yet)
        self.small_level = small_level
        self.runner = runner  # a parallel runner (parallel.py), or None to expand in this process
        self.backend = backend
        self.device = device
        self.workers = workers
        self.words = self.expander.words

    # -- traces, by re-execution from the parent log

    def _chain(self, i: int) -> list[tuple[int | None, int]]:
        """The stored states (representatives, with symmetry) from a root to state ``i``, with the bindings between them."""
        root, actions = self.log.chain(i)
        x = self.log.roots[root]
        chain: list[tuple[int | None, int]] = [(None, x)]
        for a in actions:
            x = dict(self.c.successors(x))[a]
            if self.sym is not None:
                x = self.sym.canonical(x)
            chain.append((a, x))
        return chain

    def path_to(self, i: int) -> list[tuple[int | None, State]]:
        chain = self._chain(i)
        if self.sym is not None:
            return self.sym.concretize(chain)  # a real execution through the representatives' orbits
        return [(a, self.spec.unpack(y)) for a, y in chain]

    def step_path(self, i: int, action: int, y: int) -> list[tuple[int | None, State]]:
        if self.sym is None:
            return super().step_path(i, action, y)
        chain = self._chain(i)
        path = self.sym.concretize(chain)
        return path + [self.sym.counterpart_step(chain[-1][1], self.spec.pack(path[-1][1]), y)]

    def model_error(self, failure: CheckFailure, i: int, y: int | None = None) -> ModelError:
        if self.sym is not None:
            raise _Rerun  # the scalar search reports it, with the same trace
        return super().model_error(failure, i, y)

    def with_trace(self, error: ModelError, i: int) -> ModelError:
        if self.sym is not None:
            raise _Rerun
        return super().with_trace(error, i)

    def check_state(self, i: int, y: int) -> None:
        try:
            super().check_state(i, y)
        except CheckFailure as failure:  # a goal's check (the invariants' are reported by the base class)
            raise self.model_error(failure, i) from None

    # -- the search

    def stats(self, queue: int = 0) -> Stats:
        return Stats(self.count, self.generated, self.depth, time.monotonic() - self.start, queue)

    def run(self) -> Result:
        try:
            self._run()
        except KeyboardInterrupt:
            self.stop_reason = f"interrupted after {self.count:,} states at depth {self.depth}"
        except MemoryError:
            self.stop_reason = self.meter.memory_reason(self.count, self.depth)
        finally:
            if self.runner is not None:
                self.runner.close()
        result = self.result()
        store = self.store.info()
        store["parent_bytes"] = self.log.nbytes
        n = max(1, self.count)
        store["bytes_per_state_total"] = round((self.store.nbytes + self.log.nbytes) / n, 2)
        result.extra.update({"backend": self.backend, "device": self.device, "workers": self.workers, "store": store})
        return result

    def _run(self) -> None:
        b = self.bounds
        roots: list[int] = []
        seen: set[int] = set()
        for s0 in self.spec.init_states:
            y = self.spec.pack(s0)
            if self.sym is not None:
                y = self.sym.initial(y)
            self.generated += 1
            if y in seen:
                continue
            if b.max_states is not None and len(roots) >= b.max_states:
                self.stop_reason = f"state bound {b.max_states:,} reached among the initial states"
                return
            seen.add(y)
            roots.append(y)
            self.log.add_roots([y])
            self.count += 1
            self.check_state(self.count - 1, y)
            if self.stopped_early:
                return
        xp = self.xp
        frontier = to_words(roots, self.words, xp)
        keys = self.store.keys(frontier)
        self.store.add(np.unique(keys) if isinstance(keys, np.ndarray) else xp.unique(keys))
        self.depth = 1 if roots else 0
        level_start = 0
        self.next_report = time.monotonic() + 2.0
        while frontier[0].shape[0]:
            following = self._level(frontier, level_start)
            if following is None:
                return
            frontier = following
            level_start = self.count - int(frontier[0].shape[0])

    def _chunks(self, frontier: Rows, step_active: int, shift: int | None, use_vector: bool, counts: bool) -> Iterator[ChunkResult]:
        n = int(frontier[0].shape[0])
        size = self.chunk_size if use_vector else max(1, min(self.chunk_size, 4096))
        if self.runner is not None:  # at least two tasks per worker
            size = max(self.small_level, min(size, -(-n // (2 * self.workers))))
        if self.runner is not None and n > size:
            tasks = [(tuple(r[c0 : c0 + size] for r in frontier), c0) for c0 in range(0, n, size)]
            yield from self.runner.chunks(tasks, step_active, shift, use_vector, counts)
            return
        # In this process the chunk size adapts so that a chunk takes about CHUNK_SECONDS: the bounds are checked
        # between chunks, and a model whose states are slow to expand must not make them wait (the results do not
        # depend on the chunk size).
        size = self.adaptive_size or size
        c0 = 0
        while c0 < n:
            rows = tuple(r[c0 : c0 + size] for r in frontier)
            began = time.monotonic()
            result = self.expander.chunk(rows, c0, step_active, shift, use_vector, counts)
            took = time.monotonic() - began
            c0 += size
            if took > CHUNK_SECONDS and size > 64:
                size //= 2
            elif took < CHUNK_SECONDS / 4 and size < self.chunk_size:
                size *= 2
            self.adaptive_size = size
            yield result

    def _generated_through(self, chunks: list[ChunkResult], frontier: Rows, p: int, use_vector: bool) -> int:
        """Successors of the frontier's parents ``0..p``."""
        total = 0
        for r in chunks:
            if r.c1 <= p:
                total += r.generated
            elif r.c0 <= p:
                counts = r.counts
                if counts is None:
                    counts = self.expander.counts(tuple(w[r.c0 : r.c1] for w in frontier), r.c0, use_vector)
                total += int(counts[: p + 1 - r.c0].sum())
        return total

    def _level(self, frontier: Rows, level_start: int) -> Rows | None:
        """Expand one level; the next frontier, or None when the search stops here."""
        xp = self.xp
        bounds = self.bounds
        spec = self.spec
        bbits = self.expander.bbits
        F = int(frontier[0].shape[0])
        use_vector = self.expander.vector is not None and F >= self.small_level
        ev = self.expander.evaluator(use_vector)
        shift = ((F << bbits) - 1).bit_length()
        shift_or_none = shift if self.store.keys_are_states and spec.width + shift <= 64 else None
        at_depth_bound = bounds.max_depth is not None and self.depth >= bounds.max_depth
        step_active = self.step_active
        want_counts = self.deadlock and self.deadlock_result is None
        chunks: list[ChunkResult] = []
        error = -1
        idle = -1
        step_fail: tuple[int, int] | None = None
        step_first: dict[int, tuple[int, int]] = {}
        parts: list[tuple[Any, Any, Rows]] = []
        processed = 0
        bound_hit = ""
        for r in self._chunks(frontier, step_active, shift_or_none, use_vector, want_counts):
            chunks.append(r)
            processed = r.c1
            if r.error >= 0 and error < 0:
                error = r.error
            if r.counts is not None and idle < 0:
                zero = np.nonzero(r.counts == 0)[0]
                if zero.shape[0]:
                    idle = r.c0 + int(zero[0])
            if r.step_fail is not None and (step_fail is None or r.step_fail[0] < step_fail[0]):
                step_fail = r.step_fail
            for bit, first in r.step_first.items():
                if bit not in step_first or first[0] < step_first[bit][0]:
                    step_first[bit] = first
            if r.keys.shape[0]:
                fresh = ~self.store.contains(r.keys)
                parts.append((r.keys[fresh], r.order[fresh], tuple(w[fresh] for w in r.rows)))
            if error >= 0 or (not self.keep_going and (bool(step_first) or step_fail is not None or idle >= 0)):
                break  # the level stops in this chunk at the latest
            if processed < F:
                hit = self.meter.check()
                if hit is not None:
                    bound_hit = hit
                    break
            now = time.monotonic()
            if self.progress is not None and now >= self.next_report:
                self.next_report = now + 2.0
                self.progress(self.stats(F - processed))
        if bound_hit:
            # A bound reached inside the level: stop now.  Merging what the level found so far (a sort of millions of
            # states on a big level) would overshoot the bound by seconds; the statistics are those of the levels done.
            self.generated += sum(r.generated for r in chunks)
            self.stop_reason = self.meter.reason(bound_hit, self.count, self.depth) + " (the level in progress is not counted)"
            return None
        # the level's new states: distinct, not visited before, with the order at which the scalar search adds them
        if len(parts) == 1:
            ukeys, uorder, urows = parts[0]
        elif parts:
            ukeys, uorder, urows = dedupe(xp, _concat(xp, [p[0] for p in parts]), xp.concatenate([p[1] for p in parts]),
                                          tuple(xp.concatenate([p[2][k] for p in parts]) for k in range(self.words)),
                                          shift_or_none, self.store.keys_are_states)
        else:
            ukeys, uorder = xp.zeros(0, dtype=xp.uint64), xp.zeros(0, dtype=xp.int64)
            urows = tuple(xp.zeros(0, dtype=xp.uint64) for _ in range(self.words))
        n_new = int(uorder.shape[0])
        perm = xp.argsort(uorder)
        sorted_order = to_host(uorder[perm])
        events: list[_Event] = []

        def at(o: int, stage: int, prio: int) -> tuple[int, int, int, int]:
            return (o >> bbits, (o & ((1 << bbits) - 1)) + 1, stage, prio)

        if error >= 0:
            events.append(_Event((error, 0, 0, 0), "error", error))
        if idle >= 0:
            events.append(_Event((idle, 0, 1, 0), "deadlock", idle))
        if step_fail is not None:
            events.append(_Event(at(step_fail[0], 0, 0), "stepfail", step_fail))
        for bit, first in step_first.items():
            events.append(_Event(at(first[0], 0, 1 + bit), "stepviol", (bit, *first)))
        if n_new:
            if at_depth_bound:
                events.append(_Event(at(int(sorted_order[0]), 1, 0), "bound", "depth"))
            if bounds.max_states is not None and self.count + n_new > bounds.max_states:
                events.append(_Event(at(int(sorted_order[bounds.max_states - self.count]), 1, 1), "bound", "states"))
            for kind, active, stage in (("invariants", self.inv_active, 3), ("goals", self.goal_open, 4)):
                if not active:
                    continue
                fail, marks = ev.masks(kind, urows)
                if fail is not None and bool(fail.any()):
                    events.append(_Event(at(int(uorder[fail].min()), stage, 0), kind + "-fail", None))
                for bit, mark in enumerate(marks):
                    if active >> bit & 1 and bool(mark.any()):
                        events.append(_Event(at(int(uorder[mark].min()), stage, 1 + bit), kind, bit))
        events.sort()
        stop = self._simulate(events)
        threshold = 0  # with a stop: the first order whose state is not added
        if stop is None:
            n_added = n_new
            self.generated += sum(r.generated for r in chunks)
        else:
            p, b1, stage, _ = stop.pos
            threshold = p << bbits if b1 == 0 else (p << bbits) + b1 - 1 + (1 if stage > 2 else 0)
            n_added = int(np.searchsorted(sorted_order, threshold))
            if stop.kind != "error":
                self.generated += self._generated_through(chunks, frontier, p, use_vector)
        # commit the added states: parents and bindings, in discovery order
        first_new = self.count
        added = sorted_order[:n_added]
        self.log.add_level(level_start + (added >> bbits), added & ((1 << bbits) - 1))
        self.count += n_added
        next_rows = tuple(r[perm] for r in urows)
        self.store.add(ukeys if n_added == n_new else ukeys[uorder < threshold])

        def new_index(o: int) -> int:
            return first_new + int(np.searchsorted(sorted_order, o))

        def new_state(o: int) -> int:
            k = int(np.searchsorted(sorted_order, o))
            return from_words(tuple(r[k : k + 1] for r in next_rows))[0]

        for ev_ in events:
            if stop is not None and ev_.pos > stop.pos:
                break
            self._fire(ev_, frontier, level_start, new_index, new_state)
            if stop is not None and ev_ is stop:
                break
        if stop is not None:
            return None
        if not bound_hit and n_new:  # checked after every level too, however narrow
            bound_hit = self.meter.check() or ""
        if bound_hit:
            self.stop_reason = self.meter.reason(bound_hit, self.count, self.depth)
            return None
        if n_new:
            self.depth += 1
        return next_rows

    def _simulate(self, events: list[_Event]) -> _Event | None:
        """The event at which the scalar search would stop in this level, or None."""
        inv, step, goal = self.inv_active, self.step_active, self.goal_open
        deadlock_open = self.deadlock and self.deadlock_result is None
        for e in events:
            k = e.kind
            if k in ("error", "bound"):
                return e
            if k == "deadlock":
                if deadlock_open:
                    deadlock_open = False
                    if not self.keep_going:
                        return e
            elif k == "stepfail":
                if step:
                    return e
            elif k == "stepviol":
                bit = 1 << e.data[0]
                if step & bit:
                    step &= ~bit
                    if not self.keep_going:
                        return e
            elif k == "invariants-fail":
                if inv:
                    return e
            elif k == "invariants":
                if inv >> e.data & 1:
                    inv &= ~(1 << e.data)
                    if not self.keep_going:
                        return e
            elif k == "goals-fail":
                if goal:
                    return e
            elif k == "goals":
                goal &= ~(1 << e.data)
        return None

    def _fire(self, e: _Event, frontier: Rows, level_start: int, new_index: Callable[[int], int], new_state: Callable[[int], int]) -> None:
        """Apply one event of the level, as the scalar search does (traces, model errors, bounds)."""
        bbits = self.expander.bbits
        k = e.kind
        if k == "error":
            p = e.data
            x = from_words(tuple(r[p : p + 1] for r in frontier))[0]
            try:
                self.c.successors(x)
            except CheckFailure as failure:
                raise self.model_error(failure, level_start + p) from None
            raise AssertionError("the array backend reported a failed check that the scalar backend does not confirm")
        if k == "deadlock":
            if self.deadlock_result is None:
                trace = build_trace(self.spec, self.path_to(level_start + e.data), None, DEADLOCK, "Deadlock: no action is enabled")
                self.deadlock_result = PropertyResult(DEADLOCK, DEADLOCK, VIOLATED, trace)
                if not self.keep_going:
                    self.stopped_early = True
            return
        if k in ("stepfail", "stepviol"):
            if not self.step_active:
                return
            if k == "stepfail":
                o, y = e.data
            else:
                bit, o, y = e.data
            p, b = o >> bbits, o & ((1 << bbits) - 1)
            x = from_words(tuple(r[p : p + 1] for r in frontier))[0]
            if k == "stepfail":
                try:
                    self.c.steps(x, y)
                except CheckFailure as failure:
                    raise self.model_error(failure, level_start + p, y) from None
                raise AssertionError("the array backend reported a failed step check that the scalar backend does not confirm")
            if self.step_active >> bit & 1:
                self.step_active &= ~(1 << bit)
                self.violation(self.c.step_props[bit], "step", self.step_path(level_start + p, b, y))
            return
        if k == "bound":
            b_ = self.bounds
            if e.data == "depth":
                self.stop_reason = f"depth bound {b_.max_depth} reached with states still unexplored beyond it"
            else:
                self.stop_reason = f"state bound {b_.max_states:,} reached at depth {self.depth}"
            return
        o = self._order_of(e)
        if k == "invariants-fail":
            if self.inv_active:
                self._raise_failure(self.c.invariants, new_index(o), new_state(o))
            return
        if k == "goals-fail":
            if self.goal_open:
                self._raise_failure(self.c.goals, new_index(o), new_state(o))
            return
        if k == "invariants":
            if self.inv_active >> e.data & 1:
                self.inv_active &= ~(1 << e.data)
                self.violation(self.c.invariant_props[e.data], "invariant", self.path_to(new_index(o)))
            return
        if k == "goals":
            self.goal_open &= ~(1 << e.data)

    def _order_of(self, e: _Event) -> int:
        p, b1, _, _ = e.pos
        return (p << self.expander.bbits) + b1 - 1

    def _raise_failure(self, fn: Callable[[int], int], j: int, y: int) -> None:
        try:
            fn(y)
        except CheckFailure as failure:
            raise self.model_error(failure, j) from None
        raise AssertionError("the array backend reported a failed property check that the scalar backend does not confirm")


def _concat(xp: ModuleType, arrays: list[Any]) -> Any:
    if arrays and isinstance(arrays[0], np.ndarray):
        return np.concatenate(arrays)
    return xp.concatenate(arrays)


@dataclass(frozen=True)
class Plan:
    """How a check runs: ``levels`` False means :func:`~ordercheck.explicit.bfs.explore` (the scalar search)."""

    levels: bool
    backend: str
    store: str
    note: str = ""


def _type_size(spec: Spec) -> int:
    size = 1
    for slot in spec.slots:
        size <<= slot.width
    return size


def plan_search(spec: Spec, *, backend: str = "auto", device: str = "cpu", workers: int = 1, store: str = "auto", symmetry: bool = False) -> Plan:
    """Choose the search for a check (raises :class:`~ordercheck.lang.errors.InputError` for a combination that cannot run).

    ``auto`` picks the scalar search for tiny models (at most :data:`TINY_MODEL` states in
    the type of a state) and for models the array code cannot evaluate, the vectorized
    backend otherwise; with symmetry reduction ``auto`` picks the scalar search, and any other choice runs the
    level-synchronous search with the reduction (:func:`explore_levels`).  The ``auto`` store
    is exact (for states of at most 64 bits it is also the fingerprint store, 8 bytes a state).

    Examples
    --------
    >>> from ordercheck.lang import Model, Var, Int, spec_of
    >>> class Tiny(Model):
    ...     x = Var(Int(0, 3), init=0)
    >>> plan_search(spec_of(Tiny()))
    Plan(levels=False, backend='scalar', store='exact', note='')
    >>> plan_search(spec_of(Tiny()), backend="vectorized").backend
    'vectorized'
    """
    from ..lang.errors import InputError
    from .parallel import check_workers
    from .vectorized import DEVICES

    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if device not in DEVICES:
        raise InputError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if store not in STORE_CHOICES:
        raise InputError(f"unknown store {store!r}; choose one of {', '.join(STORE_CHOICES)}")
    check_workers(workers, device)
    if symmetry and backend in ("auto", "scalar") and workers == 1 and store in ("auto", "exact") and device == "cpu":
        return Plan(False, "scalar", "exact")
    reason = not_vectorizable(spec)
    if device == "gpu":
        if backend == "scalar":
            raise InputError("--device gpu runs the vectorized backend; drop --backend scalar or use --device cpu")
        if reason:
            raise InputError(f"--device gpu: this model cannot run on the vectorized backend ({reason}); use --device cpu")
    words = max(1, -(-spec.width // 64))
    chosen_store = store if store != "auto" else ("fingerprint" if device == "gpu" and words > 1 else "exact")
    note = ""
    if backend == "auto":
        tiny = _type_size(spec) <= TINY_MODEL
        backend = "scalar" if (reason or (tiny and device == "cpu")) else "vectorized"
    elif backend == "vectorized" and reason:
        backend, note = "scalar", f"the vectorized backend cannot evaluate this model ({reason}); the scalar backend ran instead"
    if backend == "scalar" and workers == 1 and chosen_store == "exact":
        return Plan(False, "scalar", "exact", note)
    return Plan(True, backend, chosen_store, note)


def explore_levels(spec: Spec, *, properties: list[str] | None = None, keep_going: bool = False, deadlock: bool = False,
                   bounds: Bounds | None = None, progress: Callable[[Stats], None] | None = None, compiled: CompiledSpec | None = None,
                   backend: str = "vectorized", device: str = "cpu", store: str | StateStore = "fingerprint", workers: int = 1,
                   chunk: int = CHUNK, small_level: int = SMALL_LEVEL, symmetry: Symmetry | None = None) -> Result:
    """Explore ``spec`` level by level (see the module docstring); the same results as :func:`~ordercheck.explicit.bfs.explore`.

    Parameters
    ----------
    backend : str
        ``"vectorized"`` (array code, with the scalar backend for frontiers below ``small_level``)
        or ``"scalar"`` (the compiled scalar backend for every state).
    device : str
        ``"cpu"`` (numpy) or ``"gpu"`` (CuPy).
    store : str or StateStore
        ``"fingerprint"`` or ``"exact"`` (:mod:`ordercheck.explicit.store`), or a store instance.
    workers : int
        Processes expanding each level's frontier (:mod:`ordercheck.explicit.parallel`).
    symmetry : Symmetry, optional
        Symmetry reduction (:mod:`ordercheck.explicit.symmetry`): each level's successors are replaced by their
        canonical forms (array operations for states of at most 64 bits) before deduplication, so
        ``distinct_states`` counts orbits, with any backend, store and number of workers.  A model whose symmetry
        is not proved from the IR, or a model error met under the reduction, is handed to the scalar search.
    """
    from .vectorized import array_module

    xp = array_module(device)
    selected = select_properties(spec, properties)
    compiled = compiled or compile_spec(spec)
    vector = None
    if backend == "vectorized":
        reason = not_vectorizable(spec)
        if reason is None:
            vector = compile_vectorized(spec, xp)
        else:
            backend = "scalar"
    words = max(1, -(-spec.width // 64))
    the_store = store if isinstance(store, StateStore) else make_store(store, spec.width, words, xp)
    runner = None
    try:
        search = LevelSearch(spec, compiled, selected, keep_going, deadlock, bounds or Bounds(), progress, vector=vector, store=the_store,
                             xp=xp, chunk=chunk, small_level=small_level, backend=backend, device=device, workers=workers,
                             symmetry=symmetry)
        if workers > 1:
            from .parallel import ProcessRunner

            runner = ProcessRunner(search.expander, workers)
            search.runner = runner
        return search.run()
    except _Rerun:
        # Symmetry not proved from the IR (checked state by state), or a model error met under it: the scalar search.
        from .bfs import explore

        result = explore(spec, properties=properties, keep_going=keep_going, deadlock=deadlock, bounds=bounds, progress=progress,
                         compiled=compiled, symmetry=symmetry)
        result.extra.update({"backend": "scalar", "backend_note": "symmetry that is not proved from the IR is checked state by state, "
                                                                  "by the scalar search"})
        return result
