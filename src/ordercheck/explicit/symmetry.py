"""Symmetry reduction: explore one representative state per orbit of a group of permutations.

A *symmetric domain* is a constant whose elements are interchangeable: the
resource managers of two-phase commit, the replicas of a topology that share
a role, failure domains and links.  A permutation ``g`` of its elements acts
on a state by renaming every occurrence of an element:

- entries of maps keyed by the domain move (``rm_state[r1]`` becomes
  ``rm_state[g(r1)]``);
- bits of sets over the domain move;
- values of ``Elem`` of the domain are renamed;
- values of other domains whose elements contain elements of the domain
  (``MSG = [("Prepared", r) for r in RM] + ...``) are renamed element by
  element; an image outside such a domain means the permutation is not a
  symmetry of the model, and it is refused.

The group is the product of the full permutation groups of the domains named
(``check(model, symmetry=["RM"])``), or, for a topology's node domain (named,
or found with ``symmetry="auto"``), its automorphisms: only nodes with the same
role, failure domains and links are interchangeable.  Per group element a slot
mapping and value tables are computed once and compiled to Python code over
packed states (or, for groups of :data:`VECTORIZE_FROM` elements and more,
into numpy tables that give a state's whole orbit in a few gathers); the
canonical form of a packed state is the least packed integer of its orbit.
Groups larger than :data:`MAX_GROUP_SIZE` are refused.

Soundness
---------
A model is symmetric when its transitions and the properties checked are
invariant under the group.  Nothing is taken on trust, and it is shown one of
two ways.

First, statically (:func:`prove_symmetric`): for each generator ``g`` of the
group and each action binding ``b``, the binding ``g(b)`` with renamed
parameters must exist and its guard, checks and updates must be, up to the
order of commutative operands and of map-lookup cases, the IR of ``b`` with
slots and values renamed; each selected property must be its own renaming.
Then ``succ(g.x) = g.succ(x)`` and the properties agree on ``x`` and ``g.x``
in every state, and the search has nothing left to check.

When the proof fails (a literal element, or IR whose shape depends on the
order of a domain), the search checks, for every representative ``x`` it
stores and every group element ``g``:

(a) the masks of the selected invariants and goals are the same in ``x`` and
    in ``g.x``;
(b) the successors of ``g.x`` are exactly the images ``g.y`` of the successors
    ``y`` of ``x`` (and every selected step property has the same value on
    ``g.x -> g.y`` as on ``x -> y``).

If every reachable orbit's representative passes (a) and (b), then by
induction on paths every reachable state lies in the orbit of a stored
representative and every stored representative's orbit holds a reachable
state; with (a), a property holds on every reachable state exactly when it
holds on every representative.  So verdicts, goals, deadlocks and the lengths
of shortest counterexamples are those of the unreduced model, and a violation
found at a representative is also one in a reachable state of its orbit.  The
initial states need not be closed under the group (a model whose first node
starts as primary is still symmetric in its nodes; only the number of BFS
levels may then be smaller, an orbit being first reached by its nearest
member).  A failed check is a :class:`~ordercheck.lang.errors.ModelError`
naming the action or property and the permutation, never a wrong answer.

Counterexamples are paths through representatives; :meth:`SymmetryChecker.concretize`
turns them into real executions, as TLC does: from the initial state, at each
step, take the successor whose canonical form is the next representative.

Examples
--------
>>> from ordercheck import Const, Enum, MapOf, Model, Var, action, check, require, spec_of
>>> class Flags(Model):
...     P = Const(("p1", "p2", "p3"))
...     flag = Var(MapOf(P, Enum("down", "up")), init="down")
...     @action(p=P)
...     def hoist(s, p):
...         require(s.flag[p] == "down")
...         s.flag[p] = "up"
>>> sym = build_symmetry(spec_of(Flags()), ["P"])
>>> sym.size, sym.describe()
(6, 'P: all 6 permutations')
>>> sym.canonical(0b001) == sym.canonical(0b100)
True
>>> check(Flags()).stats.distinct_states, check(Flags(), symmetry=["P"]).stats.distinct_states
(8, 4)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang import ir
from ..lang.errors import InputError, ModelError
from ..lang.spec import Spec, State
from ..lang.types import FinType, ScalarType, SetType, describe_value
from .compile import CheckFailure, CompiledSpec

__all__ = ["AUTO", "MAX_GROUP_SIZE", "VECTORIZE_FROM", "Symmetry", "SymmetryChecker", "build_symmetry", "generators", "prove_symmetric"]

MAX_GROUP_SIZE = 5040
"""The largest group accepted by default (7!): canonical forms try every element."""

VECTORIZE_FROM = 24
"""Groups at least this large compute a state's images with numpy (states of at most 64 bits)."""

_CHUNK = 6  # bits of a set or integer slot gathered at once by the numpy path
_MAX_TABLE_BYTES = 256 << 20
_BLOCK = 1 << 21  # images built at once by canonical_rows (16 MiB of uint64)

AUTO = "auto"
"""``symmetry="auto"``: the automorphisms of every topology node domain of the model."""

_ADVICE = ("Symmetry reduction is refused rather than risk a wrong answer: remove what singles out an element (a literal element "
           "in an action or a property), declare fewer symmetric domains, or check without symmetry.")


def _key(value: Any) -> tuple[type, Any]:
    return (type(value), value)


def _rename(value: Any, mapping: dict[tuple[type, Any], Any]) -> Any:
    """``value`` with every symmetric element renamed, inside tuples too."""
    image = mapping.get(_key(value), _key)
    if image is not _key:
        return image
    if isinstance(value, tuple):
        return tuple(_rename(v, mapping) for v in value)
    return value


@dataclass(frozen=True)
class _Factor:
    """One symmetric domain and the permutations of it that the group contains (identity first)."""

    name: str
    elements: tuple[Any, ...]
    perms: tuple[tuple[Any, ...], ...]  # images of ``elements``, position by position
    kind: str


def _factors(spec: Spec, symmetry: str | Sequence[str], limit: int) -> list[_Factor]:
    if isinstance(symmetry, str):
        names = [n.strip() for n in symmetry.split(",") if n.strip()]
    else:
        names = list(symmetry)
    domains = {n: v for n, v in spec.constants.items() if isinstance(v, tuple)}
    if names == [AUTO]:
        names = [n for n, v in domains.items() if getattr(v, "topology", None) is not None]
    elif AUTO in names:
        raise InputError(f"symmetry {AUTO!r} stands alone; it cannot be combined with constant names")
    factors: list[_Factor] = []
    size = 1
    for name in dict.fromkeys(names):
        if not isinstance(name, str) or name not in spec.constants:
            known = ", ".join(domains) or "none"
            raise InputError(f"symmetry: model {spec.name} has no constant {name!r} (its domains: {known})")
        value = domains.get(name)
        if value is None:
            raise InputError(f"symmetry: constant {name} of model {spec.name} is a scalar, not a domain of interchangeable elements")
        elements = tuple(value)
        budget = limit // size
        topology = getattr(value, "topology", None)
        if topology is not None:
            perms = []
            for auto in topology.automorphisms(budget + 1):  # one more than allowed: enough to refuse a group too large
                perms.append(tuple(auto[e] for e in elements))
            perms.sort(key=lambda p: p != elements)  # the identity first
            kind = "topology automorphisms" if len(perms) != math.factorial(len(elements)) else "all permutations"
            count = len(perms)
        else:
            count = math.factorial(len(elements))
            kind = "all permutations"
            perms = [] if count > budget else list(itertools.permutations(elements))
        size *= count
        if size > limit:
            at_least = "at least " if topology is not None else ""
            raise InputError(f"symmetry over {', '.join(f.name for f in factors) + ', ' if factors else ''}{name}: the group has "
                             f"{at_least}{size:,} permutations, more than the limit of {limit:,} (canonical forms try every one); "
                             f"declare fewer symmetric elements (a smaller domain, or fewer symmetric domains)")
        factors.append(_Factor(name, elements, tuple(perms), kind))
    seen: dict[tuple[type, Any], str] = {}
    for f in factors:
        for e in f.elements:
            other = seen.setdefault(_key(e), f.name)
            if other != f.name:
                raise InputError(f"symmetry: domains {other} and {f.name} share the element {describe_value(e)}, so a permutation of one "
                                 f"would rename the other; give the elements distinct names")
    return factors


@dataclass(frozen=True)
class _Move:
    """Where slot ``src`` goes under one group element, and how its value is renamed."""

    src: int
    dst: int
    kind: str  # "same": value unchanged; "fin": index table; "set": bit permutation
    table: tuple[int, ...] = ()


class Symmetry:
    """A permutation group acting on the packed states of one model instance.

    Built by :func:`build_symmetry`.  ``images(x)`` lists ``g.x`` for every
    group element ``g`` (the identity first); ``canonical(x)`` is the least of
    them, the representative of the orbit of ``x``.

    Parameters
    ----------
    spec : Spec
        The traced model.
    factors : list of _Factor
        The symmetric domains and their permutations.
    vectorize : bool, optional
        Compute images with numpy gathers (one per slot chunk, across the whole
        group) instead of generated Python code; by default for groups of at
        least :data:`VECTORIZE_FROM` elements over states of at most 64 bits.
    prove : bool
        Try :func:`prove_symmetric` before a search (when it fails, or when
        ``prove`` is false, the search checks every state it explores).
    """

    def __init__(self, spec: Spec, factors: list[_Factor], vectorize: bool | None = None, prove: bool = True) -> None:
        self.spec = spec
        self.prove = prove
        self.factors = tuple(factors)
        self.domains = tuple(f.name for f in factors)
        self.mappings: list[dict[tuple[type, Any], Any]] = []
        for combo in itertools.product(*(f.perms for f in factors)):
            mapping: dict[tuple[type, Any], Any] = {}
            for f, perm in zip(factors, combo):
                for a, b in zip(f.elements, perm):
                    if not (a == b and type(a) is type(b)):
                        mapping[_key(a)] = b
            self.mappings.append(mapping)
        self.size = len(self.mappings)
        self._slot_index = {(s.var, s.keys): i for i, s in enumerate(spec.slots)}
        self.moves = [self._moves(k) for k in range(self.size)]
        fits = spec.width <= 64
        if vectorize is None:
            vectorize = fits and self.size >= VECTORIZE_FROM
        self.vectorized = bool(vectorize) and fits and self._vectorize()
        self.images: Callable[[int], list[int]]
        self.canonical: Callable[[int], int]
        self.source = ""
        if self.vectorized:
            self.images = self._images_list
            self.canonical = self._canonical_array
        else:
            self.source, namespace = self._generate()
            self.images = namespace["images"]
            self.canonical = namespace["canonical"]
        init = {spec.pack(s) for s in spec.init_states}
        self.initial_states_closed = all(y in init for x in init for y in self.images(x))

    # -- describing

    def describe(self) -> str:
        """The group in words: ``"RM: all 6 permutations"``."""
        if not self.factors:
            return "no symmetric domain"
        parts = []
        for f in self.factors:
            plural = "s" * (len(f.perms) != 1)
            if f.kind == "all permutations":
                parts.append(f"{f.name}: all {len(f.perms):,} permutation{plural}")
            else:
                parts.append(f"{f.name}: {len(f.perms):,} topology automorphism{plural}")
        return "; ".join(parts)

    def describe_element(self, k: int) -> str:
        """Group element ``k`` as the elements it moves: ``"'r1' -> 'r2', 'r2' -> 'r1' of RM"``."""
        mapping = self.mappings[k]
        parts = []
        for f in self.factors:
            moved = [f"{describe_value(e)} -> {describe_value(mapping[_key(e)])}" for e in f.elements if _key(e) in mapping]
            if moved:
                parts.append(f"{', '.join(moved)} of {f.name}")
        return " and ".join(parts) or "the identity"

    def rename(self, k: int, value: Any) -> Any:
        """A Python value (an element, a tuple of them) under group element ``k``."""
        return _rename(value, self.mappings[k])

    def info(self) -> dict[str, Any]:
        """What a result records about the reduction."""
        return {"domains": list(self.domains), "group_size": self.size, "description": self.describe(),
                "initial_states_closed": self.initial_states_closed}

    # -- the action on slots

    def _fin_table(self, t: FinType, k: int, where: str) -> tuple[int, ...] | None:
        mapping = self.mappings[k]
        table = []
        for v in t.values:
            image = _rename(v, mapping)
            try:
                j = t.index(image)
            except ValueError:
                raise ModelError(f"the permutation {self.describe_element(k)} maps {describe_value(v)}, a value of {where} ({t}), to "
                                 f"{describe_value(image)}, which is not one of its values: the model is not symmetric under it. {_ADVICE}",
                                 model=self.spec.name, context="symmetry") from None
            table.append(j)
        return tuple(table) if any(i != j for i, j in enumerate(table)) else None

    def _moves(self, k: int) -> list[_Move]:
        moves: list[_Move] = []
        if not self.mappings[k]:
            return moves
        cache: dict[FinType, tuple[int, ...] | None] = {}
        for i, slot in enumerate(self.spec.slots):
            keys = tuple(_rename(key, self.mappings[k]) for key in slot.keys)
            dst = self._slot_index.get((slot.var, keys))
            if dst is None:
                bad = next(a for a, b in zip(slot.keys, keys) if a != b)
                raise ModelError(f"the permutation {self.describe_element(k)} maps {describe_value(bad)}, a key of variable {slot.var}, to "
                                 f"{describe_value(_rename(bad, self.mappings[k]))}, which is not a key of it: the model is not symmetric under it. "
                                 f"{_ADVICE}", model=self.spec.name, context="symmetry")
            t = slot.type
            fin = t.domain if isinstance(t, SetType) else t if isinstance(t, FinType) else None
            table = None
            if fin is not None:
                if fin not in cache:
                    cache[fin] = self._fin_table(fin, k, f"variable {slot.var}")
                table = cache[fin]
            if table is not None:
                moves.append(_Move(i, dst, "set" if isinstance(t, SetType) else "fin", table))
            elif dst != i:
                moves.append(_Move(i, dst, "same"))
        return moves

    def _generate(self) -> tuple[str, dict[str, Any]]:
        slots = self.spec.slots
        full = (1 << self.spec.width) - 1
        tables: dict[tuple[int, ...], str] = {}
        namespace: dict[str, Any] = {}

        def table(entries: list[int]) -> str:
            key = tuple(entries)
            if key not in tables:
                tables[key] = name = f"_T{len(tables)}"
                namespace[name] = list(entries)
            return tables[key]

        reads: set[int] = set()
        exprs: list[str] = []
        for moves in self.moves:
            if not moves:
                exprs.append("x")
                continue
            keep = full
            terms: list[str] = []
            for m in moves:
                src, dst = slots[m.src], slots[m.dst]
                keep &= ~(((1 << src.width) - 1) << src.offset)
                if src.width == 0:
                    continue
                reads.add(m.src)
                v = f"v{m.src}"
                if m.kind == "same":
                    terms.append(f"({v} << {dst.offset})" if dst.offset else v)
                elif m.kind == "fin":
                    entries = [(m.table[j] if j < len(m.table) else j) << dst.offset for j in range(1 << src.width)]
                    terms.append(f"{table(entries)}[{v}]")
                else:
                    for lo in range(0, src.width, 8):
                        bits = min(8, src.width - lo)
                        entries = [0] * (1 << bits)
                        for c in range(1, 1 << bits):  # a chunk's image: its lowest bit's image or that of the rest
                            low = (c & -c).bit_length() - 1
                            entries[c] = entries[c & (c - 1)] | (1 << (m.table[lo + low] + dst.offset))
                        chunk = v if src.width <= 8 else f"(({v} >> {lo}) & {(1 << bits) - 1})" if lo else f"({v} & 255)"
                        terms.append(f"{table(entries)}[{chunk}]")
            if keep:
                terms.insert(0, f"(x & {keep})")
            exprs.append(" | ".join(terms) if terms else "0")
        read_lines = []
        for i in sorted(reads):
            s = slots[i]
            mask = (1 << s.width) - 1
            read_lines.append(f"    v{i} = (x >> {s.offset}) & {mask}" if s.offset else f"    v{i} = x & {mask}")
        body = ",\n        ".join(exprs)
        lines = ["def images(x):", *read_lines, f"    return [\n        {body},\n    ]", "",
                 "def canonical(x):", *read_lines]
        lines.append(f"    return min(\n        {body},\n    )" if len(exprs) > 1 else "    return x")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<ordercheck symmetry:{self.spec.name}>", "exec"), namespace)
        return source, namespace

    def _vectorize(self) -> bool:
        """Build the numpy tables: per slot chunk, the image of each chunk value under each element (a row per value)."""
        slots = self.spec.slots
        size = self.size
        full = (1 << self.spec.width) - 1
        keep = [full] * size
        by_slot: dict[int, dict[int, _Move]] = {}
        for k, moves in enumerate(self.moves):
            for m in moves:
                s = slots[m.src]
                keep[k] &= ~(((1 << s.width) - 1) << s.offset)
                by_slot.setdefault(m.src, {})[k] = m
        plan: list[tuple[int, int, int]] = []  # (slot, first bit, bits)
        for i in sorted(by_slot):
            s = slots[i]
            if isinstance(s.type, FinType):
                plan.append((i, 0, s.width))
            else:
                plan.extend((i, lo, min(_CHUNK, s.width - lo)) for lo in range(0, s.width, _CHUNK))
        if sum(8 * size << bits for _, _, bits in plan) > _MAX_TABLE_BYTES:
            return False
        self._keep = np.array(keep, dtype=np.uint64)
        self._gathers: list[tuple[int, int, Any]] = []
        for i, lo, bits in plan:
            s = slots[i]
            if bits == 0:
                continue
            values = np.arange(1 << bits, dtype=np.uint64)
            table = np.zeros((1 << bits, size), dtype=np.uint64)
            if isinstance(s.type, FinType):
                for k, m in by_slot[i].items():
                    image = [(m.table[v] if m.kind == "fin" and v < len(m.table) else v) for v in range(1 << bits)]
                    table[:, k] = np.array(image, dtype=np.uint64) << np.uint64(slots[m.dst].offset)
            else:
                for b in range(bits):
                    column = np.zeros(size, dtype=np.uint64)
                    for k, m in by_slot[i].items():
                        column[k] = 1 << ((m.table[lo + b] if m.kind == "set" else lo + b) + slots[m.dst].offset)
                    table |= ((values >> np.uint64(b)) & np.uint64(1))[:, None] * column[None, :]
            self._gathers.append((s.offset + lo, (1 << bits) - 1, table))
        return True

    def images_array(self, x: int) -> Any:
        """The images of ``x`` as a numpy ``uint64`` array (the numpy path only)."""
        out = self._keep & np.uint64(x)
        for shift, mask, table in self._gathers:
            out |= table[(x >> shift) & mask]
        return out

    def _images_list(self, x: int) -> list[int]:
        return self.images_array(x).tolist()  # type: ignore[no-any-return]

    def _canonical_array(self, x: int) -> int:
        return int(self.images_array(x).min())

    def canonical_rows(self, rows: Sequence[Any], xp: Any = np) -> tuple[Any, ...]:
        """The canonical forms of a batch of packed states (a tuple of ``uint64`` word arrays), as array operations.

        For states of at most 64 bits every group element's image of every row is built
        with the gather tables (a few table lookups per slot chunk, over the whole batch and
        the whole group at once) and the least is kept, in blocks of at most
        :data:`_BLOCK` images; wider states are canonicalised one by one.

        Examples
        --------
        >>> from ordercheck import Const, Enum, MapOf, Model, Var, spec_of
        >>> class Flags(Model):
        ...     P = Const(("p1", "p2", "p3"))
        ...     flag = Var(MapOf(P, Enum("down", "up")), init="down")
        >>> sym = build_symmetry(spec_of(Flags()), ["P"])
        >>> sym.canonical_rows((np.array([0b001, 0b010, 0b100, 0b110], dtype=np.uint64),))[0].tolist()
        [1, 1, 1, 3]
        """
        if self._tables() and len(rows) == 1:
            x = rows[0]
            host = xp is np
            x = x if host else xp.asnumpy(x)
            n = int(x.shape[0])
            out = np.empty(n, dtype=np.uint64)
            step = max(1, _BLOCK // max(1, self.size))
            for lo in range(0, n, step):
                block = x[lo : lo + step]
                images = block[:, None] & self._keep[None, :]
                for shift, mask, table in self._gathers:
                    images |= table[(block >> np.uint64(shift)) & np.uint64(mask)]
                out[lo : lo + step] = images.min(axis=1)
            return (out if host else xp.asarray(out),)
        if len(rows) > 1 and self._wide_tables():
            return self._canonical_wide(rows, xp)
        from .vectorized import from_words, to_words

        return to_words([self.canonical(v) for v in from_words(rows)], len(rows), xp)

    def _wide_tables(self) -> bool:
        """Gather tables for states of several words (built on first use).

        The moved bits of a state are cut into chunks of adjacent slots (a ``Fin`` slot is never cut, since
        its image depends on its whole value), of at most ``bits`` bits where ``2**bits`` images per group
        element stay small; per chunk a table gives, for each value of the chunk, its image under every
        group element in every word.  The bits that no element moves are kept as they are.
        """
        if hasattr(self, "_wide"):
            return self._wide is not None
        self._wide: tuple[Any, list[tuple[int, int, Any]]] | None = None
        slots = self.spec.slots
        size = self.size
        words = -(-self.spec.width // 64)
        by_slot: dict[int, dict[int, _Move]] = {}
        for k, moves in enumerate(self.moves):
            for m in moves:
                by_slot.setdefault(m.src, {})[k] = m
        limit = max(_CHUNK, min(16, (1 << 16) // max(1, size)).bit_length() - 1)
        # pieces (slot, first bit, bits) in bit order, then chunks of adjacent pieces
        pieces: list[tuple[int, int, int]] = []
        for i in sorted(by_slot, key=lambda j: slots[j].offset):
            src = slots[i]
            if isinstance(src.type, FinType) or src.width <= limit:
                pieces.append((i, 0, src.width))
            else:
                pieces.extend((i, lo, min(limit, src.width - lo)) for lo in range(0, src.width, limit))
        chunks: list[list[tuple[int, int, int]]] = []
        for piece in pieces:
            i, lo, bits = piece
            if bits == 0:
                continue
            if chunks:
                last = chunks[-1]
                li, llo, lbits = last[-1]
                start = slots[last[0][0]].offset + last[0][1]
                if slots[li].offset + llo + lbits == slots[i].offset + lo and slots[i].offset + lo + bits - start <= limit:
                    last.append(piece)
                    continue
            chunks.append([piece])
        widths = [slots[c[-1][0]].offset + c[-1][1] + c[-1][2] - slots[c[0][0]].offset - c[0][1] for c in chunks]
        if sum(8 * size * words << w for w in widths) > _MAX_TABLE_BYTES:
            return False
        mask64 = (1 << 64) - 1
        moved = 0
        for c, w in zip(chunks, widths):
            moved |= ((1 << w) - 1) << (slots[c[0][0]].offset + c[0][1])
        keep = ((1 << self.spec.width) - 1) & ~moved
        keep_words = np.array([[(keep >> (64 * w)) & mask64] * size for w in range(words)], dtype=np.uint64)  # (words, size)
        gathers: list[tuple[int, int, Any]] = []
        for chunk, width in zip(chunks, widths):
            start = slots[chunk[0][0]].offset + chunk[0][1]
            values = np.arange(1 << width, dtype=np.uint64)
            table = np.zeros((1 << width, size, words), dtype=np.uint64)

            def place(k: int, bit: Any, target: int, table: Any = table) -> None:
                """OR ``bit`` (0/1 per value) into absolute bit ``target`` of element ``k``'s image."""
                table[:, k, target // 64] |= bit << np.uint64(target % 64)

            for i, lo, bits in chunk:
                src = slots[i]
                field = (values >> np.uint64(src.offset + lo - start)) & np.uint64((1 << bits) - 1)
                for k in range(size):
                    mv = by_slot[i].get(k)
                    if mv is not None and isinstance(src.type, FinType):
                        mapping = np.array([mv.table[v] if mv.kind == "fin" and v < len(mv.table) else v for v in range(1 << bits)],
                                           dtype=np.uint64)
                        image = mapping[field]
                        dst = slots[mv.dst].offset
                        for b in range(bits):
                            place(k, (image >> np.uint64(b)) & np.uint64(1), dst + b)
                        continue
                    for b in range(bits):
                        if mv is None:
                            target = src.offset + lo + b
                        else:
                            target = slots[mv.dst].offset + (mv.table[lo + b] if mv.kind == "set" else lo + b)
                        place(k, (field >> np.uint64(b)) & np.uint64(1), target)
            gathers.append((start, width, table))
        self._wide = (keep_words, gathers)
        return True

    def _canonical_wide(self, rows: Sequence[Any], xp: Any) -> tuple[Any, ...]:
        """:meth:`canonical_rows` for states of several words: the least image, comparing the highest word first."""
        assert self._wide is not None
        keep_words, gathers = self._wide
        host = xp is np
        x = [r if host else xp.asnumpy(r) for r in rows]
        words = len(x)
        n = int(x[0].shape[0])
        out = [np.empty(n, dtype=np.uint64) for _ in range(words)]
        step = max(1, _BLOCK // max(1, self.size * words))
        top = np.uint64((1 << 64) - 1)
        for lo in range(0, n, step):
            block = [w[lo : lo + step] for w in x]
            images = [block[w][:, None] & keep_words[w][None, :] for w in range(words)]
            for offset, bits, table in gathers:
                first, shift = divmod(offset, 64)
                value = block[first] >> np.uint64(shift)
                if shift + bits > 64:
                    value = value | (block[first + 1] << np.uint64(64 - shift))
                got = table[value & np.uint64((1 << bits) - 1)]  # (rows, size, words)
                for w in range(words):
                    images[w] |= got[:, :, w]
            best = np.ones(images[0].shape, dtype=bool)
            for w in reversed(range(words)):
                least = np.where(best, images[w], top).min(axis=1)
                best &= images[w] == least[:, None]
            pick = best.argmax(axis=1)
            at = np.arange(pick.shape[0])
            for w in range(words):
                out[w][lo : lo + step] = images[w][at, pick]
        return tuple(o if host else xp.asarray(o) for o in out)

    def _tables(self) -> bool:
        """Whether the numpy gather tables exist (built on first use for states of at most 64 bits)."""
        if self.vectorized:
            return True
        if not hasattr(self, "_has_tables"):
            self._has_tables = self.spec.width <= 64 and self._vectorize()
        return self._has_tables

    def checker(self, compiled: CompiledSpec, selected: Iterable[int]) -> SymmetryChecker:
        """The object a search uses to canonicalise states and to check that the model is symmetric."""
        return SymmetryChecker(self, compiled, selected)


def build_symmetry(spec: Spec, symmetry: str | Sequence[str], *, max_group: int = MAX_GROUP_SIZE, vectorize: bool | None = None,
                   prove: bool = True) -> Symmetry:
    """The symmetry group of ``spec`` over the domains named, acting on its packed states.

    Parameters
    ----------
    spec : Spec
        The traced model (``spec_of(model)``).
    symmetry : str or sequence of str
        Constant names of symmetric domains (``["RM"]``, or ``"RM,ORDER"``):
        every permutation of a plain domain, the automorphisms of a topology's
        node domain.  ``"auto"``: the automorphisms of every topology node
        domain of the model (no reduction when there is none).
    max_group : int
        Refuse a group with more elements than this.
    vectorize : bool, optional
        Force the numpy path on or off (see :class:`Symmetry`).
    prove : bool
        Try the static proof first (see :class:`Symmetry`); false checks every state explored.

    Returns
    -------
    Symmetry

    Raises
    ------
    InputError
        An unknown or scalar constant, domains sharing an element, or a group over ``max_group``.
    ModelError
        A permutation maps a value of some variable's type outside that type (the model is not symmetric under it).

    Examples
    --------
    >>> from ordercheck import Const, Model, SetOf, Var, spec_of
    >>> class Two(Model):
    ...     A = Const(("a1", "a2"))
    ...     MSG = Const(lambda m: [("hello", a) for a in m.A] + [("bye",)])
    ...     sent = Var(SetOf(MSG), init=())
    >>> sym = build_symmetry(spec_of(Two()), "A")
    >>> sym.size, sym.describe_element(1)
    (2, "'a1' -> 'a2', 'a2' -> 'a1' of A")
    >>> sym.images(0b001), sym.images(0b100)
    ([1, 2], [4, 4])
    """
    if max_group < 1:
        raise InputError(f"max_group must be positive, got {max_group}")
    return Symmetry(spec, _factors(spec, symmetry, max_group), vectorize, prove)


class SymmetryChecker:
    """Canonical forms for a search, with the checks that make the reduction sound.

    ``selected`` are the indices of the properties checked (an unchecked
    property need not be symmetric).  Every method that finds the model not
    symmetric raises :class:`~ordercheck.lang.errors.ModelError`.
    """

    def __init__(self, symmetry: Symmetry, compiled: CompiledSpec, selected: Iterable[int]) -> None:
        self.sym = symmetry
        self.spec = symmetry.spec
        self.c = compiled
        chosen = set(selected)
        self.inv_mask = sum(1 << b for b, p in enumerate(compiled.invariant_props) if p in chosen)
        self.goal_mask = sum(1 << b for b, p in enumerate(compiled.goal_props) if p in chosen)
        self.step_mask = sum(1 << b for b, p in enumerate(compiled.step_props) if p in chosen)
        self.canonical = symmetry.canonical
        self.images = symmetry.images
        self.concrete_init: dict[int, int] = {}
        self._bindings = {(b.action, b.params): i for i, b in enumerate(self.spec.bindings)}
        # With a proof that every action and selected property commutes with the group, nothing is left to check per state.
        self.unproved = prove_symmetric(symmetry, chosen) if symmetry.prove else "the static proof was not attempted"
        self.proved = self.unproved is None

    def info(self) -> dict[str, Any]:
        """What a result records: the group, and how the model was shown symmetric."""
        out = self.sym.info()
        out["verified"] = "statically" if self.proved else f"on every state explored ({self.unproved})"
        return out

    # -- the search's side

    def initial(self, y: int) -> int:
        """The representative of initial state ``y``, remembering ``y`` to start counterexamples from."""
        rep = self.canonical(y)
        self.concrete_init.setdefault(rep, y)
        return rep

    def check_properties(self, x: int) -> None:
        """Check (a): every selected invariant and goal has the same value in each state of the orbit of ``x``.

        A failed run-time check in ``x`` itself propagates as :class:`CheckFailure`.
        """
        if self.proved or not (self.inv_mask or self.goal_mask):
            return
        xs = self.images(x)
        inv = self.c.invariants(x) & self.inv_mask
        goal = self.c.goals(x) & self.goal_mask
        seen = {x}
        for k, z in enumerate(xs):
            if z in seen:
                continue
            seen.add(z)
            try:
                inv_z = self.c.invariants(z) & self.inv_mask
                goal_z = self.c.goals(z) & self.goal_mask
            except CheckFailure as failure:
                raise self._failed_check(failure, k) from None
            for mask, other, props, word in ((inv, inv_z, self.c.invariant_props, "invariant"), (goal, goal_z, self.c.goal_props, "goal")):
                if mask != other:
                    bit = ((mask ^ other) & -(mask ^ other)).bit_length() - 1
                    name = self.spec.properties[props[bit]].name
                    on, off = ("fails", "holds") if word == "invariant" else ("holds", "does not hold")
                    first, second = (on, off) if mask >> bit & 1 else (off, on)
                    raise ModelError(f"{word} {name} is not symmetric under the permutation {self.sym.describe_element(k)}: it {first} in the "
                                     f"state at the end of the trace below and {second} in the image of that state. {_ADVICE}",
                                     model=self.spec.name, context="symmetry")

    def expand(self, x: int, succ: list[tuple[int, int]]) -> list[int]:
        """Check (b) on representative ``x`` with successors ``succ``; return their canonical forms, in order."""
        if self.proved:
            canonical = self.canonical
            return [canonical(y) for _, y in succ]
        if self.sym.vectorized and not self.step_mask:
            fast = self._expand_array(x, succ)
            if fast is not None:
                return fast
        return self._expand(x, succ)

    def _expand_array(self, x: int, succ: list[tuple[int, int]]) -> list[int] | None:
        """:meth:`expand` with numpy: every image of every successor at once.  None: a mismatch, for
        :meth:`_expand` to explain."""
        xs = self.sym.images_array(x)
        base = {y: b for b, y in succ}
        sets: dict[int, list[int]] = {}
        for z in xs.tolist():
            if z not in sets:
                if z == x:
                    sets[z] = sorted(base)
                    continue
                try:
                    sets[z] = sorted({y for _, y in self.c.successors(z)})
                except CheckFailure:
                    return None
                if len(sets[z]) != len(base):
                    return None
        if not base:
            return []
        ys = list(base)
        images = np.stack([self.sym.images_array(y) for y in ys])  # one row per successor, one column per element
        order = {z: i for i, z in enumerate(sets)}
        expected = np.array(list(sets.values()), dtype=np.uint64)[[order[z] for z in xs.tolist()]]  # row k: successors of g_k.x
        if not np.array_equal(np.sort(images, axis=0).T, expected):
            return None
        canon = dict(zip(ys, images.min(axis=1).tolist()))
        return [canon[y] for _, y in succ]

    def _expand(self, x: int, succ: list[tuple[int, int]]) -> list[int]:
        images = self.images
        xs = images(x)
        n = len(xs)
        base = {y: b for b, y in succ}
        table: dict[int, list[tuple[int, int]]] = {x: succ}
        sets: dict[int, dict[int, int]] = {x: base}
        for k, z in enumerate(xs):
            if z not in sets:
                try:
                    table[z] = self.c.successors(z)
                except CheckFailure as failure:
                    raise self._failed_check(failure, k) from None
                sets[z] = {y: b for b, y in table[z]}
        out = []
        targets = [sets[z] for z in xs]
        for b, y in succ:
            ys = images(y)
            if not all(map(dict.__contains__, targets, ys)):
                k = next(k for k in range(n) if ys[k] not in targets[k])
                raise self._missing(k, b, table[xs[k]])
            if self.step_mask:
                try:
                    m0 = self.c.steps(x, y) & self.step_mask
                except CheckFailure:
                    m0 = None  # the search reports this model error itself
                if m0 is not None:
                    for k in range(1, n):
                        try:
                            mk = self.c.steps(xs[k], ys[k]) & self.step_mask
                        except CheckFailure as failure:
                            raise self._failed_check(failure, k) from None
                        if mk != m0:
                            bit = ((mk ^ m0) & -(mk ^ m0)).bit_length() - 1
                            name = self.spec.properties[self.c.step_props[bit]].name
                            raise ModelError(f"step property {name} is not symmetric under the permutation {self.sym.describe_element(k)}: "
                                             f"on the step {self.spec.bindings[b].label} from the state at the end of the trace below it "
                                             f"{'fails' if m0 >> bit & 1 else 'holds'}, and on the image of that step it does not. {_ADVICE}",
                                             model=self.spec.name, context="symmetry")
            out.append(min(ys))
        for k, z in enumerate(xs):
            if len(sets[z]) != len(base):
                images_k = {images(y)[k] for y in base}
                extra = next(b for b, y in table[z] if y not in images_k)
                label = self.spec.bindings[extra].label
                inverse = self._inverse(k)
                counterpart = self._counterpart(inverse, extra)
                there = (f"its counterpart {self.spec.bindings[counterpart].label} is disabled there or leads elsewhere" if counterpart is not None
                         else "it has no counterpart action there")
                raise ModelError(f"the model is not symmetric under the permutation {self.sym.describe_element(k)}: in the image of the state at "
                                 f"the end of the trace below under the permutation, action {label} leads to a state that is not the image "
                                 f"of a successor of the original state ({there}). {_ADVICE}", model=self.spec.name, context="symmetry")
        return out

    # -- counterexamples

    def concretize(self, reps: list[tuple[int | None, int]]) -> list[tuple[int | None, State]]:
        """A real execution through the orbits of ``reps`` (``[(None, r0), (b1, r1), ...]``, representatives).

        Starts from the initial state that gave ``r0`` and at each step takes
        the first successor whose canonical form is the next representative.
        """
        c = self.concrete_init[reps[0][1]]
        path: list[tuple[int | None, State]] = [(None, self.spec.unpack(c))]
        for _, rep in reps[1:]:
            for b, y in self.c.successors(c):
                if self.canonical(y) == rep:
                    c = y
                    path.append((b, self.spec.unpack(y)))
                    break
            else:  # pragma: no cover - expand() has checked that every orbit member has these successors
                raise AssertionError("symmetry: no successor of a concrete state reaches the next representative (a bug in ordercheck)")
        return path

    def image_like(self, x: int, c: int, y: int) -> int:
        """``g.y`` for a group element ``g`` with ``g.x == c``."""
        k = self.images(x).index(c)
        return self.images(y)[k]

    def counterpart_step(self, x: int, c: int, y: int) -> tuple[int, State]:
        """The step from ``c`` (in the orbit of ``x``) that is the image of the step ``x -> y``: ``(binding, state)``."""
        target = self.image_like(x, c, y)
        for b, z in self.c.successors(c):
            if z == target:
                return b, self.spec.unpack(z)
        raise AssertionError("symmetry: the image of a step is not a step (a bug in ordercheck)")  # pragma: no cover

    # -- messages

    def _inverse(self, k: int) -> int:
        mapping = self.sym.mappings[k]
        inverse = {_key(v): a for (_, a), v in mapping.items()}
        return self.sym.mappings.index(inverse)

    def _counterpart(self, k: int, b: int) -> int | None:
        binding = self.spec.bindings[b]
        params = tuple((name, self.sym.rename(k, value)) for name, value in binding.params)
        return self._bindings.get((binding.action, params))

    def _missing(self, k: int, b: int, permuted: list[tuple[int, int]]) -> ModelError:
        label = self.spec.bindings[b].label
        counterpart = self._counterpart(k, b)
        if counterpart is None:
            there = "it has no counterpart action (a require that was false while tracing, or a parameter range that is not symmetric)"
        elif any(i == counterpart for i, _ in permuted):
            there = f"its counterpart {self.spec.bindings[counterpart].label} leads elsewhere in the image of the state"
        else:
            there = f"its counterpart {self.spec.bindings[counterpart].label} is disabled in the image of the state"
        return ModelError(f"action {self.spec.bindings[b].action} is not symmetric under the permutation {self.sym.describe_element(k)}: "
                          f"{label} is enabled in the state at the end of the trace below, but {there}. {_ADVICE}",
                          model=self.spec.name, context="symmetry")

    def _failed_check(self, failure: CheckFailure, k: int) -> ModelError:
        if failure.prop >= 0:
            what = f"property {self.spec.properties[failure.prop].name}"
        else:
            what = f"action {self.spec.bindings[failure.binding].label}"
        return ModelError(f"{what} is not symmetric under the permutation {self.sym.describe_element(k)}: one of its run-time checks fails in "
                          f"the image of the state at the end of the trace below, not in the state itself. {_ADVICE}",
                          model=self.spec.name, context="symmetry")


# ----------------------------------------------------------------------------- the static proof


class _Unprovable(Exception):
    """The renamed IR cannot be built (an image outside a type, an ordering of elements, types that differ)."""


def generators(symmetry: Symmetry) -> list[int]:
    """Indices of group elements that generate the group: per domain, a transposition and a cycle, or
    (for topology automorphisms) elements picked greedily until they generate every automorphism."""
    index = {tuple(sorted(m.items(), key=repr)): k for k, m in enumerate(symmetry.mappings)}
    out: list[int] = []
    for f in symmetry.factors:
        n = len(f.elements)
        if f.kind == "all permutations" and n > 1:
            chosen = [tuple(f.elements[1:2] + f.elements[:1] + f.elements[2:]), tuple(f.elements[1:] + f.elements[:1])]
        else:
            chosen = []
            group = {f.elements}
            for p in f.perms:
                if p in group:
                    continue
                chosen.append(p)
                group = _closure([*chosen], f.elements)
        for p in dict.fromkeys(chosen):
            mapping = {_key(a): b for a, b in zip(f.elements, p) if not (a == b and type(a) is type(b))}
            if mapping:
                out.append(index[tuple(sorted(mapping.items(), key=repr))])
    return out


def _closure(perms: list[tuple[Any, ...]], elements: tuple[Any, ...]) -> set[tuple[Any, ...]]:
    position = {_key(e): i for i, e in enumerate(elements)}
    group = {elements}
    frontier = [elements]
    while frontier:
        nxt = []
        for g in frontier:
            for p in perms:
                h = tuple(p[position[_key(e)]] for e in g)  # p after g
                if h not in group:
                    group.add(h)
                    nxt.append(h)
        frontier = nxt
    return group


class _Renamer:
    """The IR of an action or property under group element ``k``: ``T(e)`` evaluated in ``g.x`` is the
    renamed value of ``e`` evaluated in ``x``."""

    def __init__(self, symmetry: Symmetry, k: int) -> None:
        self.sym = symmetry
        self.k = k
        self.dst = list(range(len(symmetry.spec.slots)))
        for m in symmetry.moves[k]:
            self.dst[m.src] = m.dst
        self.fins: dict[FinType, tuple[int, ...] | None] = {}
        self.memo: dict[ir.Expr, ir.Expr] = {}

    def fin(self, t: FinType) -> tuple[int, ...] | None:
        if t not in self.fins:
            try:
                self.fins[t] = self.sym._fin_table(t, self.k, "an expression")
            except ModelError:
                raise _Unprovable(f"a value of {t} has an image outside it") from None
        return self.fins[t]

    def moved(self, t: ScalarType) -> bool:
        if isinstance(t, FinType):
            return self.fin(t) is not None
        if isinstance(t, SetType):
            return self.fin(t.domain) is not None
        return False

    def value(self, t: ScalarType, v: Any) -> Any:
        if isinstance(t, FinType):
            table = self.fin(t)
            return v if table is None else table[v]
        if isinstance(t, SetType):
            table = self.fin(t.domain)
            return v if table is None else sum(1 << table[i] for i in range(len(table)) if v >> i & 1)
        return v

    def __call__(self, e: ir.Expr) -> ir.Expr:
        done = self.memo.get(e)
        if done is None:
            done = self.memo[e] = self._rename(e)
        return done

    def _rename(self, e: ir.Expr) -> ir.Expr:
        op, t = e.op, e.type
        if op == "const":
            return ir.Expr("const", (), t, self.value(t, e.data))
        if op in ("var", "post"):
            return ir.Expr(op, (), t, self.dst[e.data])
        args = tuple(self(a) for a in e.args)
        if op == "eq" and e.args[0].type != e.args[1].type and (self.moved(e.args[0].type) or self.moved(e.args[1].type)):
            raise _Unprovable("a comparison of values of two types")
        if op in ("has", "with", "without"):
            st = e.args[0].type
            if isinstance(st, SetType) and e.args[1].type != st.domain and (self.moved(st) or self.moved(e.args[1].type)):
                raise _Unprovable("a set element of another type")
        if op == "table":
            src = e.args[0].type
            assert isinstance(src, FinType)
            index = self.fin(src) or tuple(range(len(src.values)))
            entries: list[Any] = [None] * len(e.data)
            for j, v in enumerate(e.data):
                entries[index[j]] = self.value(t, v)
            return ir.Expr("table", args, t, tuple(entries))
        if op == "bits":
            assert isinstance(t, SetType)
            index = self.fin(t.domain) or tuple(range(len(args)))
            members: list[Any] = [None] * len(args)
            for j, a in enumerate(args):
                members[index[j]] = a
            return ir.Expr("bits", tuple(members), t)
        if op not in _KNOWN_OPS:
            raise _Unprovable(f"the operator {op!r}")
        return ir.Expr(op, args, t, e.data)


_KNOWN_OPS = frozenset({"not", "and", "or", "eq", "lt", "le", "add", "sub", "mul", "floordiv", "mod", "neg", "ite",
                        "union", "inter", "diff", "subset", "has", "with", "without", "count"})
_COMMUTATIVE = frozenset({"and", "or", "eq", "union", "inter"})
_ASSOCIATIVE = frozenset({"add", "mul"})


class _Normaliser:
    """Normal forms of IR up to the order of commutative operands and of the cases of a map lookup, as interned ids.

    Two expressions with the same normal form have the same value in every state (the converse need not hold)."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.memo: dict[ir.Expr, int] = {}

    def intern(self, key: Any) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
        return found

    def __call__(self, e: ir.Expr) -> int:
        done = self.memo.get(e)
        if done is None:
            done = self.memo[e] = self._normal(e)
        return done

    def _normal(self, e: ir.Expr) -> int:
        op = e.op
        if op in _COMMUTATIVE:
            return self.intern((op, e.type, frozenset(self(a) for a in e.args)))
        if op in _ASSOCIATIVE:
            terms: list[int] = []
            stack = [e]
            while stack:
                node = stack.pop()
                if node.op == op:
                    stack.extend(node.args)
                else:
                    terms.append(self(node))
            return self.intern((op, frozenset(_multiset(terms))))
        if op == "ite":
            case = self._cases(e)
            if case is not None:
                return case
        return self.intern((op, e.type, e.data, tuple(self(a) for a in e.args)))

    def _cases(self, e: ir.Expr) -> int | None:
        """``ite(x == c1, a1, ite(x == c2, a2, ... d))`` over a Fin expression ``x``: the value for each value of ``x``."""
        subject: ir.Expr | None = None
        branches: dict[int, ir.Expr] = {}
        node = e
        while node.op == "ite":
            cond = node.args[0]
            if cond.op != "eq":
                break
            a, b = cond.args
            if a.is_const:
                a, b = b, a
            if not b.is_const or a.is_const or not isinstance(a.type, FinType) or b.type != a.type or (subject is not None and a != subject):
                break
            subject = a
            branches.setdefault(b.data, node.args[1])
            node = node.args[2]
        if subject is None or not isinstance(subject.type, FinType):
            return None
        values = range(len(subject.type.values))
        return self.intern(("case", self(subject), tuple(self(branches.get(v, node)) for v in values)))


def _multiset(terms: list[int]) -> list[tuple[int, int]]:
    counts: dict[int, int] = {}
    for t in terms:
        counts[t] = counts.get(t, 0) + 1
    return list(counts.items())


def prove_symmetric(symmetry: Symmetry, selected: Iterable[int]) -> str | None:
    """Prove from the IR that every action, and every property in ``selected``, commutes with the group.

    For each generator ``g`` and each binding ``b``, the binding ``g(b)`` (its
    parameters renamed) must exist and have, up to the order of commutative
    operands and of map-lookup cases, the renamed guard, checks and updates of
    ``b`` (written to the renamed slots); each selected property must equal
    its own renaming.  Then ``succ(g.x) = g.succ(x)`` and every property takes
    the same value in ``x`` and ``g.x``, in every state; generators suffice
    because the renaming composes.  Returns None when proved, else why not
    (the search then checks every state it explores instead).

    Examples
    --------
    >>> from ordercheck import Const, Model, SetOf, Var, action, require, spec_of
    >>> class Pick(Model):
    ...     P = Const(("a", "b", "c"))
    ...     chosen = Var(SetOf(P), init=())
    ...     @action(p=P)
    ...     def choose(s, p):
    ...         s.chosen = s.chosen.add(p)
    ...     @action(p=P)
    ...     def favour_a(s, p):
    ...         require(p != "b")
    >>> print(prove_symmetric(build_symmetry(spec_of(Pick()), "P"), []))
    action favour_a(p='a') has no counterpart under 'a' -> 'b', 'b' -> 'a' of P
    """
    spec = symmetry.spec
    chosen = set(selected)
    bindings = {(b.action, b.params): i for i, b in enumerate(spec.bindings)}
    norm = _Normaliser()
    for k in generators(symmetry):
        rename = _Renamer(symmetry, k)
        try:
            for b in spec.bindings:
                params = tuple((name, symmetry.rename(k, v)) for name, v in b.params)
                other = bindings.get((b.action, params))
                if other is None:
                    return f"action {b.label} has no counterpart under {symmetry.describe_element(k)}"
                c = spec.bindings[other]
                same = (norm(rename(b.guard)) == norm(c.guard)
                        and {norm(rename(ch.cond)) for ch in b.checks} == {norm(ch.cond) for ch in c.checks}
                        and {(rename.dst[slot], norm(rename(e))) for slot, e in b.updates} == {(slot, norm(e)) for slot, e in c.updates})
                if not same:
                    return f"action {b.label} is not the image of {c.label} under {symmetry.describe_element(k)}, as far as the IR shows"
            for i, p in enumerate(spec.properties):
                if i not in chosen:
                    continue
                if norm(rename(p.expr)) != norm(p.expr) or {norm(rename(ch.cond)) for ch in p.checks} != {norm(ch.cond) for ch in p.checks}:
                    return f"property {p.name} is not its own image under {symmetry.describe_element(k)}, as far as the IR shows"
        except _Unprovable as exc:
            return f"under {symmetry.describe_element(k)}: {exc}"
    return None
