"""Running a sweep: one task per variant, on a local process pool or a Dask distributed cluster.

A task reads the design file, applies the variant's values, builds and checks it; it returns plain
data (:class:`VariantResult`), so results are the same whatever executor ran them and in whatever
order they finished (the table is sorted by the variant's index).  A worker that dies makes its
variant's attempt fail; the variant is tried once more, and a second failure makes it
``inconclusive`` with the reason, never a pass.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..api import check
from ..design import _Reader
from ..lang.errors import OrdercheckError
from ..report.result import INCONCLUSIVE
from .cost import CostModel
from .grid import Grid, Variant, build_variant

__all__ = ["Progress", "PropertyRow", "SweepResult", "Task", "VariantResult", "run_sweep", "run_task"]


@dataclass(frozen=True)
class Task:
    """What a worker needs to check one variant (plain, picklable data)."""

    design: str
    variant: Variant
    cost: CostModel
    max_states: int | None = None
    max_seconds: float | None = None
    tolerance: bool = False


@dataclass(frozen=True)
class PropertyRow:
    """One property's verdict in one variant; ``trace`` is the counterexample's step labels when violated.

    ``tolerance`` is the fault tolerance when it was measured: ``None`` not measured, ``-1`` when it breaks even
    with no fault, else the largest k that holds; ``tolerance_verdict`` says whether that k is proved.
    """

    name: str
    verdict: str
    reason: str = ""
    trace: tuple[str, ...] = ()
    tolerance: int | None = None
    tolerance_verdict: str = ""


@dataclass(frozen=True)
class VariantResult:
    """A variant's outcome: its rows, or the ``error`` that makes it invalid, or the ``failure`` of its worker."""

    variant: Variant
    name: str = ""
    cost: float | None = None
    rows: tuple[PropertyRow, ...] = ()
    states: int = 0
    seconds: float = 0.0
    error: str = ""
    failure: str = ""

    @property
    def inconclusive(self) -> bool:
        """A worker failure or a bound hit: the table is not complete."""
        return bool(self.failure) or any(r.verdict == INCONCLUSIVE for r in self.rows)


@dataclass
class SweepResult:
    """Every variant's result in the order of the grid."""

    design: str
    grid: str
    keys: list[str]
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def properties(self) -> list[str]:
        names: list[str] = []
        for v in self.variants:
            names.extend(r.name for r in v.rows if r.name not in names)
        return names


@dataclass
class Progress:
    """Counts for the progress line: variants done, running, failed (invalid or a worker lost), out of ``total``."""

    total: int
    done: int = 0
    running: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        eta = ""
        if self.done and self.done < self.total:
            rate = (time.monotonic() - self.started) / self.done
            eta = f", about {rate * (self.total - self.done):.0f} s left"
        return f"sweep: {self.done}/{self.total} done, {self.running} running, {self.failed} failed{eta}"


def run_task(task: Task) -> VariantResult:
    """Check one variant (this runs in a worker process)."""
    path = Path(task.design)
    try:
        design = build_variant(path, _Reader(path).data, task.variant)
        cost = task.cost.cost(design)
        result = check(design.model(), keep_going=True, max_states=task.max_states or design.max_states,
                       max_seconds=task.max_seconds or design.max_seconds, tolerance=task.tolerance)
    except OrdercheckError as exc:
        return VariantResult(task.variant, error=str(exc))
    measured = result.extra.get("tolerance", {})

    def tolerance(name: str) -> tuple[int | None, str]:
        t = measured.get(name)
        return (None, "") if t is None else (-1 if t.k is None else t.k, t.verdict)

    rows = tuple(PropertyRow(p.name, p.verdict, p.reason or (result.reason if p.verdict == INCONCLUSIVE else ""),
                             tuple(s.label for s in p.counterexample.steps[1:]) if p.counterexample else (), *tolerance(p.name))
                 for p in result.properties)
    return VariantResult(task.variant, design.name, cost, rows, result.stats.distinct_states, round(result.stats.seconds, 3))


def _lost(task: Task, why: str) -> VariantResult:
    return VariantResult(task.variant, failure=f"inconclusive: the worker checking this variant failed twice ({why})")


Runner = Callable[[Task], VariantResult]


def _local(tasks: list[Task], workers: int, runner: Runner, report: Callable[[Progress], None]) -> list[VariantResult]:
    """A process pool.  A worker that dies breaks the pool and fails every variant it was running; each of
    those is tried once more alone, in a process of its own, so that one variant's crash costs no other."""
    progress = Progress(len(tasks))
    results: dict[int, VariantResult] = {}
    again: list[Task] = []

    def finish(task: Task, result: VariantResult) -> None:
        results[task.variant.index] = result
        progress.done += 1
        progress.failed += bool(result.error or result.failure)

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future[VariantResult], Task] = {pool.submit(runner, t): t for t in tasks}
        progress.running = min(workers, len(futures))
        report(progress)
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                task = futures.pop(future)
                try:
                    finish(task, future.result())
                except (BrokenProcessPool, OSError, EOFError):
                    again.append(task)
            progress.running = min(workers, len(futures))
            report(progress)
    for task in sorted(again, key=lambda t: t.variant.index):
        progress.running = 1
        report(progress)
        with ProcessPoolExecutor(max_workers=1) as alone:
            try:
                result = alone.submit(runner, task).result()
            except (BrokenProcessPool, OSError, EOFError) as exc:
                result = _lost(task, type(exc).__name__)
        finish(task, result)
        progress.running = 0
        report(progress)
    return [results[t.variant.index] for t in tasks]


def _dask(tasks: list[Task], address: str, runner: Runner, report: Callable[[Progress], None]) -> list[VariantResult]:
    """The same tasks on a Dask distributed cluster; a task whose worker died is submitted once more."""
    try:
        from dask.distributed import Client, as_completed  # optional: pip install 'ordercheck[sweep]'
    except ImportError:
        raise OrdercheckError("--scheduler needs Dask: pip install 'ordercheck[sweep]' (dask[distributed])") from None
    progress = Progress(len(tasks))
    results: dict[int, VariantResult] = {}
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise OrdercheckError(f"--scheduler {address}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        futures = {client.submit(runner, t, pure=False, retries=0): t for t in tasks}
        retried: set[int] = set()
        progress.running = len(futures)
        report(progress)
        queue = as_completed(list(futures))
        for future in queue:
            task = futures[future]
            try:
                results[task.variant.index] = result = future.result()
            except Exception as exc:  # a KilledWorker, a lost connection: the cluster's failures
                if task.variant.index not in retried:
                    retried.add(task.variant.index)
                    again = client.submit(runner, task, pure=False, retries=0)
                    futures[again] = task
                    queue.add(again)
                    continue
                results[task.variant.index] = result = _lost(task, type(exc).__name__)
            progress.done += 1
            progress.running = len(tasks) - progress.done
            progress.failed += bool(result.error or result.failure)
            report(progress)
    return [results[t.variant.index] for t in tasks]


def run_sweep(design: Path | str, grid: Grid, *, workers: int | None = None, scheduler: str | None = None,
              max_states: int | None = None, max_seconds: float | None = None, tolerance: bool = False,
              progress: Callable[[Progress], None] | None = None, runner: Runner = run_task,
              variants: Iterable[Variant] | None = None) -> SweepResult:
    """Check every variant of ``grid``; ``scheduler`` (a Dask address) instead of the local pool of ``workers`` processes.

    ``tolerance`` also measures each property's fault tolerance (:mod:`ordercheck.tolerance`) in every variant.

    ``runner`` is the task function (a module-level function, so that it can be pickled); tests replace it
    to make a worker die.
    """
    tasks = [Task(str(design), v, grid.cost, max_states, max_seconds, tolerance) for v in (variants if variants is not None else grid.variants())]
    report = progress or (lambda p: None)
    if scheduler:
        results = _dask(tasks, scheduler, runner, report)
    else:
        results = _local(tasks, workers or os.cpu_count() or 1, runner, report)
    return SweepResult(str(design), str(grid.path), list(grid.keys), results)


