"""Parallel search on one machine: each BFS level's frontier expanded by several processes.

The level-synchronous search (:mod:`ordercheck.explicit.levels`) cuts each level's
frontier into chunks; with ``workers > 1`` the chunks go to a pool of worker
processes, each of which expands its chunk (array code or scalar backend), evaluates
the step properties over the successors and removes the chunk's duplicates.  The
results come back in chunk order and are merged by the main process exactly as the
single-process search merges them: each successor keeps the smallest *order*
(parent position, then binding), so the new states, their discovery order, parent
pointers, counts and shortest traces are the same for any number of workers.

The visited-state store, the invariants over the level's new states and the event
bookkeeping stay in the main process.  Workers are forked (they inherit the
compiled model instead of re-tracing it), so this needs the ``fork`` start method
(Linux; macOS allows it); only ``device="cpu"`` runs in workers.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> from ordercheck.explicit.levels import explore_levels
>>> class Walk(Model):
...     x = Var(Int(0, 300), init=0)
...     y = Var(Int(0, 3), init=0)
...     @action
...     def right(s):
...         require(s.x < 300)
...         s.x = s.x + 1
...     @action
...     def up(s):
...         require(s.y < 3)
...         s.y = s.y + 1
>>> r = explore_levels(spec_of(Walk()), workers=2, small_level=2)
>>> r.stats.distinct_states, r.stats.depth, r.extra["workers"]
(1204, 304, 2)
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

from ..lang.errors import InputError
from .levels import ChunkResult, Expander, Rows

__all__ = ["ProcessRunner", "check_workers"]

_EXPANDER: Expander | None = None  # set in the parent before forking; the workers inherit it


def _work(task: tuple[Rows, int, int, int | None, bool, bool]) -> ChunkResult:
    rows, c0, step_active, shift, use_vector, counts = task
    assert _EXPANDER is not None, "a worker started without the model (not forked?)"
    return _EXPANDER.chunk(rows, c0, step_active, shift, use_vector, counts)


def check_workers(workers: int, device: str) -> None:
    """Refuse a worker count that this machine or device cannot run (an ``InputError`` saying why).

    Examples
    --------
    >>> check_workers(2, "cpu")
    >>> check_workers(0, "cpu")
    Traceback (most recent call last):
    ...
    ordercheck.lang.errors.InputError: workers must be at least 1, got 0
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        return
    if device != "cpu":
        raise InputError("--workers > 1 runs on the CPU only; with --device gpu use one worker (the GPU does the parallel work)")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise InputError("--workers > 1 needs the 'fork' start method, which this platform lacks; use --workers 1")


class ProcessRunner:
    """A pool of forked workers that expand frontier chunks (see the module docstring)."""

    def __init__(self, expander: Expander, workers: int) -> None:
        global _EXPANDER
        check_workers(workers, "cpu")
        _EXPANDER = expander
        self.workers = workers
        self.pool: Any = multiprocessing.get_context("fork").Pool(workers)

    def chunks(self, tasks: list[tuple[Rows, int]], step_active: int, shift: int | None, use_vector: bool, counts: bool) -> Iterator[ChunkResult]:
        """The chunk results, in the order of ``tasks``."""
        args = [(rows, c0, step_active, shift, use_vector, counts) for rows, c0 in tasks]
        return self.pool.imap(_work, args)  # type: ignore[no-any-return]

    def close(self) -> None:
        global _EXPANDER
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        _EXPANDER = None
