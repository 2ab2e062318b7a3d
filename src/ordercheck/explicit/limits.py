"""Bounds on a search, and the meter that checks them cheaply while it runs.

A bound that is hit makes a verdict ``inconclusive``, never ``holds``.  The
state and depth bounds are exact (the search counts states and levels).  The
time and memory bounds are checked by a :class:`Meter` that the search calls
often (every few states on the scalar backend, after every chunk and every
level on the vectorized one): a call costs one ``time.monotonic()`` (about
50 ns), and at most every :data:`MEMORY_EVERY` seconds one read of
``/proc/self/statm`` (a few microseconds) for the resident set size.  So a
bound is noticed within about :data:`MEMORY_EVERY` seconds of work, or one
chunk, whichever is longer, and the reason says by how much it was overshot.

The memory bound is on the resident set size of the checking process: by
default :func:`default_max_memory`, three quarters of the memory available
when the check starts (plus what the process already holds), so a search that
outgrows the machine ends as ``inconclusive`` with its statistics instead of
being killed by the kernel.  A :class:`MemoryError` is reported the same way.

Several searches can share one run's bounds (``--tolerance`` runs under the
bounds of the whole run): ``Bounds.started`` is then the run's start and
``max_states`` what is left of the run's state bound.

Examples
--------
>>> b = Bounds(max_seconds=2.0)
>>> m = Meter(b)
>>> m.exceeded(0, 0) is None
True
>>> parse_size("512M"), parse_size("2GiB"), parse_size("1.5k")
(536870912, 2147483648, 1536)
>>> validate_bounds(max_seconds=float("nan"))
Traceback (most recent call last):
...
ordercheck.lang.errors.InputError: max_seconds must be a positive, finite number, got nan
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from ..lang.errors import InputError

__all__ = [
    "MEMORY_EVERY",
    "Bounds",
    "Meter",
    "available_memory",
    "default_max_memory",
    "format_size",
    "parse_size",
    "rss",
    "validate_bounds",
]

MEMORY_EVERY = 0.1
"""Seconds between two reads of the resident set size."""

DEFAULT_MEMORY_FRACTION = 0.75
"""The default memory bound: this fraction of the memory available when a check starts."""

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Bounds:
    """Limits on a search; hitting one makes the verdict ``inconclusive``.

    ``max_memory`` is in bytes (resident set size of the checking process);
    ``started`` is the :func:`time.monotonic` time from which ``max_seconds``
    counts (default: when the search starts), so that several searches can
    share one run's time bound.
    """

    max_states: int | None = None
    max_seconds: float | None = None
    max_depth: int | None = None
    max_memory: int | None = None
    started: float | None = None

    def but(self, **changes: Any) -> Bounds:
        """A copy with some fields changed."""
        return replace(self, **changes)


def rss() -> int:
    """The resident set size of this process in bytes (0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        try:
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        except Exception:
            return 0


def available_memory() -> int | None:
    """Memory available for new work, in bytes (``MemAvailable`` of ``/proc/meminfo``), or None when unknown."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - not Linux
        return int(os.sysconf("SC_AVPHYS_PAGES")) * _PAGE
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def default_max_memory() -> int | None:
    """The default memory bound: what this process holds plus three quarters of the memory available now."""
    available = available_memory()
    if available is None:  # pragma: no cover - not Linux
        return None
    return rss() + int(available * DEFAULT_MEMORY_FRACTION)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """A number of bytes from ``"2G"``, ``"512MB"``, ``"1.5GiB"`` or ``"1000000"`` (units are powers of 1024).

    Raises :class:`~ordercheck.lang.errors.InputError` for anything else, zero, a negative or a non-finite size.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", text)
    if m is None:
        raise InputError(f"expected a memory size such as 2G, 512M or 1500000000 (bytes), got {text!r}")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not math.isfinite(value) or value < 1:
        raise InputError(f"expected a positive memory size, got {text!r}")
    return int(value)


def format_size(n: float) -> str:
    """Bytes in words: ``format_size(3 << 30)`` is ``'3.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def validate_bounds(*, max_states: Any = None, max_seconds: Any = None, max_depth: Any = None, max_memory: Any = None) -> None:
    """Refuse bounds that are not positive and finite (an :class:`~ordercheck.lang.errors.InputError` naming the bound)."""
    for name, value, integral in (("max_states", max_states, True), ("max_seconds", max_seconds, False),
                                  ("max_depth", max_depth, True), ("max_memory", max_memory, True)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{name} must be a positive number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be a positive, finite number, got {value!r}")
        if integral and value != int(value):
            raise InputError(f"{name} must be a whole number, got {value!r}")


class Meter:
    """Checks the time and memory bounds of a search (see the module docstring).

    ``exceeded(states, depth)`` returns why the search must stop (with the
    overshoot), or None; it reads the clock on every call and the resident set
    size at most every :data:`MEMORY_EVERY` seconds.
    """

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.start = bounds.started if bounds.started is not None else time.monotonic()
        self.deadline = self.start + bounds.max_seconds if bounds.max_seconds is not None else math.inf
        self.max_memory = bounds.max_memory
        self.next_memory = 0.0
        self.peak = 0
        self.used = 0

    def exceeded(self, states: int, depth: int) -> str | None:
        """Why the search must stop now, or None."""
        kind = self.check()
        return None if kind is None else self.reason(kind, states, depth)

    def check(self) -> str | None:
        """``"time"`` or ``"memory"`` when that bound is reached, else None."""
        now = time.monotonic()
        if now > self.deadline:
            return "time"
        if self.max_memory is not None and now >= self.next_memory:
            self.next_memory = now + MEMORY_EVERY
            used = rss()
            self.peak = max(self.peak, used)
            if used > self.max_memory:
                self.used = used
                return "memory"
        return None

    def reason(self, kind: str, states: int, depth: int) -> str:
        """The reason a search gives for stopping at bound ``kind`` (``"time"`` or ``"memory"``)."""
        if kind == "memory":
            return self.memory_reason(states, depth, self.used)
        b = self.bounds.max_seconds
        now = time.monotonic()  # when the search stops, which may be a little after the bound was noticed
        return (f"time bound {b:g} s reached after {now - self.start:.2f} s (overshoot {now - self.deadline:.2f} s), "
                f"{states:,} states at depth {depth}")

    def memory_reason(self, states: int, depth: int, used: int | None = None) -> str:
        """The reason given when the memory bound is reached (or a ``MemoryError`` was raised)."""
        limit = f" {format_size(self.max_memory)}" if self.max_memory is not None else ""
        held = f" (resident {format_size(used)})" if used is not None else " (out of memory)"
        return f"memory bound{limit} reached{held} after {states:,} states at depth {depth}"

    def elapsed(self) -> float:
        """Seconds since the search (or the run it belongs to) started."""
        return time.monotonic() - self.start
