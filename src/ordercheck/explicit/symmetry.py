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
packed states; the canonical form of a packed state is the least packed
integer of its orbit.  Groups larger than :data:`MAX_GROUP_SIZE` are refused.

Soundness
---------
A model is symmetric when its transitions and the properties checked are
invariant under the group.  Nothing is taken on trust: for every
representative ``x`` the search stores, and every group element ``g``,

(a) the masks of the selected invariants and goals are the same in ``x`` and
    in ``g.x``;
(b) the successors of ``g.x`` are exactly the images ``g.y`` of the successors
    ``y`` of ``x`` (and every selected step property has the same value on
    ``g.x -> g.y`` as on ``x -> y``).

If every reachable orbit's representative passes (a) and (b), then by
induction on paths every reachable state lies in the orbit of a stored
representative and every stored representative's orbit holds a reachable
state; with (a), a property holds on every reachable state exactly when it
holds on every representative.  So verdicts, goals and deadlocks are those of
the unreduced model, and a violation found at a representative is also one in
a reachable state of its orbit.  The initial states need not be closed under
the group (a model whose first node starts as primary is still symmetric in
its nodes).  A failed check is a :class:`~ordercheck.lang.errors.ModelError`
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from networkx.algorithms.isomorphism import GraphMatcher

from ..lang.errors import InputError, ModelError
from ..lang.spec import Spec, State
from ..lang.types import FinType, SetType, describe_value
from .compile import CheckFailure, CompiledSpec

__all__ = ["AUTO", "MAX_GROUP_SIZE", "Symmetry", "SymmetryChecker", "build_symmetry"]

MAX_GROUP_SIZE = 5040
"""The largest group accepted by default (7!): canonical forms try every element."""

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


def _automorphisms(topology: Any, limit: int) -> Iterator[dict[str, str]]:
    """The automorphisms of a topology's graph, lazily (the rule of ``Topology.automorphisms``:
    nodes map to nodes with exactly the same attributes, links to links)."""

    def same(a: Any, b: Any) -> bool:
        return dict(a) == dict(b)

    matcher = GraphMatcher(topology.graph, topology.graph, node_match=same)
    return itertools.islice(matcher.isomorphisms_iter(), limit + 1)


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
            for auto in _automorphisms(topology, budget):
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
    """

    def __init__(self, spec: Spec, factors: list[_Factor]) -> None:
        self.spec = spec
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
        self.source, namespace = self._generate()
        self.images: Callable[[int], list[int]] = namespace["images"]
        self.canonical: Callable[[int], int] = namespace["canonical"]
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
                        entries = [sum(1 << (m.table[lo + b] + dst.offset) for b in range(bits) if c >> b & 1) for c in range(1 << bits)]
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

    def checker(self, compiled: CompiledSpec, selected: Iterable[int]) -> SymmetryChecker:
        """The object a search uses to canonicalise states and to check that the model is symmetric."""
        return SymmetryChecker(self, compiled, selected)


def build_symmetry(spec: Spec, symmetry: str | Sequence[str], *, max_group: int = MAX_GROUP_SIZE) -> Symmetry:
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
    return Symmetry(spec, _factors(spec, symmetry, max_group))


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
        if not (self.inv_mask or self.goal_mask):
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
        for b, y in succ:
            ys = images(y)
            for k in range(1, n):
                if ys[k] not in sets[xs[k]]:
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
