"""Visited-state stores for the level-synchronous search, and the parent log that traces are rebuilt from.

A store answers, for a sorted batch of keys, which are already visited, and takes
the batch's new keys.  It keeps its keys as a few sorted arrays of geometrically
decreasing size (a log-structured merge): a lookup is a ``searchsorted`` of the
sorted batch in each array, an insertion appends the batch as a new array and merges
arrays of similar size, so each key is moved ``O(log n)`` times and the memory is the
keys themselves (plus one array being merged).  Everything is array code, so the
store lives on the same device as the search (numpy, or CuPy).

* :class:`ExactStore` keeps each state whole: a ``uint64`` per state when the packed
  state fits in 64 bits, otherwise the state's ``W`` words as one ``void`` record
  (CPU only).
* :class:`FingerprintStore` keeps a 64-bit fingerprint per state (8 bytes).  When
  the packed state fits in 64 bits, the fingerprint *is* the state (an injective
  fingerprint), so no collision is possible; wider states are hashed (splitmix64 over
  the words), and two states with one fingerprint are taken for one, as in TLC: the
  probability of that, ``n (n - 1) / 2**65`` for ``n`` distinct states, is reported.

Neither store keeps the states in discovery order.  :class:`ParentLog` keeps, per
state, the index of its parent and the binding that reached it (4 + 2 bytes for up
to 2**32 states and 2**16 bindings), and the initial states themselves; a trace is
rebuilt by re-executing those bindings from the initial state on the scalar backend,
as TLC rebuilds traces from its fingerprint graph.

Examples
--------
>>> import numpy as np
>>> s = FingerprintStore(width=20, words=1)
>>> keys = np.array([3, 9, 12], dtype=np.uint64)
>>> s.contains(keys).tolist()
[False, False, False]
>>> s.add(keys)
>>> s.contains(np.array([2, 9], dtype=np.uint64)).tolist()
[False, True]
>>> len(s), s.collision_probability()
(3, 0.0)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from ..lang.errors import InputError

__all__ = ["STORES", "ExactStore", "FingerprintStore", "ParentLog", "SortedRuns", "StateStore", "fingerprints", "make_store"]

STORES = ("exact", "fingerprint")
_MERGE_FACTOR = 2  # merge the newest array into the previous one while it is at least 1/_MERGE_FACTOR of its size
_SMALL_RUN = 1 << 16  # arrays below this size are merged eagerly (a lookup costs a call per array)


class SortedRuns:
    """A set of keys (no duplicates) as sorted arrays of decreasing size.

    Examples
    --------
    >>> import numpy as np
    >>> r = SortedRuns(np)
    >>> for batch in ([5, 1], [7], [2, 9]):
    ...     r.add(np.sort(np.array(batch, dtype=np.uint64)))
    >>> r.contains(np.array([1, 2, 3, 9], dtype=np.uint64)).tolist(), len(r)
    ([True, True, False, True], 5)
    """

    def __init__(self, xp: ModuleType) -> None:
        self.xp = xp
        self.runs: list[Any] = []
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return sum(int(r.nbytes) for r in self.runs)

    def contains(self, keys: Any) -> Any:
        """Which of ``keys`` (sorted ascending) are in the set."""
        xp = self.xp
        found = xp.zeros(keys.shape[0], dtype=bool)
        if keys.shape[0] == 0:
            return found
        for run in self.runs:
            at = xp.searchsorted(run, keys)
            xp.minimum(at, run.shape[0] - 1, out=at)
            found |= run[at] == keys
        return found

    def add(self, keys: Any) -> None:
        """Add ``keys`` (sorted ascending, none already present)."""
        if keys.shape[0] == 0:
            return
        self.runs.append(keys)
        self.size += int(keys.shape[0])
        while len(self.runs) > 1 and (self.runs[-1].shape[0] * _MERGE_FACTOR >= self.runs[-2].shape[0] or self.runs[-2].shape[0] < _SMALL_RUN):
            b = self.runs.pop()
            a = self.runs.pop()
            self.runs.append(_merge(self.xp, a, b))


def _merge(xp: ModuleType, a: Any, b: Any) -> Any:
    """Two sorted arrays with no common key, merged."""
    at = xp.searchsorted(a, b) + xp.arange(b.shape[0])
    out = xp.empty(a.shape[0] + b.shape[0], dtype=a.dtype)
    rest = xp.ones(out.shape[0], dtype=bool)
    rest[at] = False
    out[at] = b
    out[rest] = a
    return out


_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def fingerprints(rows: Sequence[Any], xp: ModuleType = np) -> Any:
    """64-bit fingerprints of states given as word arrays (splitmix64 chained over the words).

    Examples
    --------
    >>> import numpy as np
    >>> a = fingerprints((np.array([1, 2], dtype=np.uint64), np.array([0, 0], dtype=np.uint64)))
    >>> a.dtype.name, bool(a[0] != a[1])
    ('uint64', True)
    """
    u = xp.uint64
    h = xp.full(rows[0].shape[0], u(0x9E3779B97F4A7C15), dtype=xp.uint64)
    for w in rows:
        z = h ^ w
        z = (z ^ (z >> u(30))) * u(_M1)
        z = (z ^ (z >> u(27))) * u(_M2)
        h = (z ^ (z >> u(31))) + u(0x9E3779B97F4A7C15)
    return h


class StateStore:
    """A visited-state store (see the module docstring); ``keys(rows)`` maps states to what it stores."""

    kind = ""

    def __init__(self, width: int, words: int, xp: ModuleType = np) -> None:
        self.width = width
        self.words = words
        self.xp = xp
        self.runs = SortedRuns(self.key_module())

    def key_module(self) -> ModuleType:
        return self.xp

    @property
    def keys_are_states(self) -> bool:
        """Whether the key of a one-word state is the state itself (then the rows need not be kept beside the keys)."""
        return self.words == 1

    def keys(self, rows: Sequence[Any]) -> Any:
        """The stored key of each state (one ``uint64`` or ``void`` record per row)."""
        return rows[0]

    def contains(self, keys: Any) -> Any:
        return self.runs.contains(keys)

    def add(self, keys: Any) -> None:
        self.runs.add(keys)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def nbytes(self) -> int:
        return self.runs.nbytes

    def collision_probability(self) -> float:
        return 0.0

    def info(self) -> dict[str, Any]:
        """What a result reports about the store."""
        n = len(self)
        return {"kind": self.kind, "states": n, "bytes": self.nbytes, "bytes_per_state": round(self.nbytes / n, 2) if n else 0.0,
                "collision_probability": self.collision_probability(), "note": self.note()}

    def note(self) -> str:
        return ""


class ExactStore(StateStore):
    """Every state kept whole: its packed value, or its words as one record when wider than 64 bits."""

    kind = "exact"

    def __init__(self, width: int, words: int, xp: ModuleType = np) -> None:
        if words > 1 and xp is not np:
            raise InputError("--store exact keeps states wider than 64 bits as records, which needs --device cpu; use --store fingerprint")
        super().__init__(width, words, xp)
        self._record = np.dtype((np.void, 8 * words))

    def keys(self, rows: Sequence[Any]) -> Any:
        if self.words == 1:
            return rows[0]
        # big-endian words, most significant first: records then sort in the order of the packed values
        stacked = np.stack([np.asarray(rows[k]).astype(">u8") for k in reversed(range(self.words))], axis=1)
        return np.ascontiguousarray(stacked).view(self._record).ravel()

    def note(self) -> str:
        return f"each state kept whole ({8 * self.words} bytes)"


class FingerprintStore(StateStore):
    """64-bit fingerprints: the state itself when it fits in 64 bits (``hashed=False``), else a hash of its words."""

    kind = "fingerprint"

    def __init__(self, width: int, words: int, xp: ModuleType = np, hashed: bool | None = None) -> None:
        super().__init__(width, words, xp)
        self.hashed = words > 1 if hashed is None else hashed

    @property
    def keys_are_states(self) -> bool:
        return not self.hashed

    def keys(self, rows: Sequence[Any]) -> Any:
        return fingerprints(rows, self.xp) if self.hashed else rows[0]

    def collision_probability(self) -> float:
        """The probability that two of the distinct states seen share a fingerprint (so one was never explored)."""
        if not self.hashed:
            return 0.0
        n = len(self)
        return min(1.0, n * (n - 1) / 2.0**65)

    def note(self) -> str:
        if not self.hashed:
            return f"states of {self.width} bits fit a 64-bit word: the fingerprint is the state, so no collision is possible"
        return "64-bit fingerprints of the states; collision probability n(n-1)/2^65 for n distinct states"


def make_store(kind: str, width: int, words: int, xp: ModuleType = np) -> StateStore:
    """The store named ``kind`` (``"exact"`` or ``"fingerprint"``) for states of ``width`` bits in ``words`` words.

    Examples
    --------
    >>> make_store("fingerprint", 100, 2).collision_probability()
    0.0
    >>> make_store("bloom", 8, 1)
    Traceback (most recent call last):
    ...
    ordercheck.lang.errors.InputError: unknown store 'bloom'; choose one of exact, fingerprint
    """
    if kind == "exact":
        return ExactStore(width, words, xp)
    if kind == "fingerprint":
        return FingerprintStore(width, words, xp)
    raise InputError(f"unknown store {kind!r}; choose one of {', '.join(STORES)}")


class ParentLog:
    """Per state, its parent's index and the binding that reached it; the initial states kept whole.

    States are numbered in discovery order; the initial states come first, with no parent.

    Examples
    --------
    >>> import numpy as np
    >>> log = ParentLog(bindings=3)
    >>> log.add_roots([10, 11])
    >>> log.add_level(np.array([1, 1]), np.array([0, 2]))
    >>> log.chain(3)
    (1, [2])
    >>> len(log), log.chain(0)
    (4, (0, []))
    """

    def __init__(self, bindings: int) -> None:
        self.roots: list[int] = []
        self.action_dtype = np.uint16 if bindings < (1 << 16) else np.uint32
        self.starts: list[int] = []
        self.parents: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return sum(int(p.nbytes) for p in self.parents) + sum(int(a.nbytes) for a in self.actions)

    def add_roots(self, states: Sequence[int]) -> None:
        if self.parents:
            raise ValueError("initial states come before every other state")
        self.roots.extend(states)
        self.size += len(states)

    def add_level(self, parents: np.ndarray, actions: np.ndarray) -> None:
        """Record states ``len(self)...``: their parents' indices and bindings."""
        if parents.shape[0] == 0:
            return
        dtype = np.uint32 if self.size < (1 << 32) else np.int64
        self.starts.append(self.size)
        self.parents.append(np.asarray(parents).astype(dtype))
        self.actions.append(np.asarray(actions).astype(self.action_dtype))
        self.size += int(parents.shape[0])

    def parent(self, i: int) -> tuple[int, int]:
        """``(parent index, binding)`` of a non-initial state ``i``."""
        k = bisect_right(self.starts, i) - 1
        j = i - self.starts[k]
        return int(self.parents[k][j]), int(self.actions[k][j])

    def chain(self, i: int) -> tuple[int, list[int]]:
        """The initial state's index and the bindings that lead from it to state ``i``."""
        actions: list[int] = []
        while i >= len(self.roots):
            i, action = self.parent(i)
            actions.append(action)
        actions.reverse()
        return i, actions
