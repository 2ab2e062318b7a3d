"""The vectorized backend: the IR evaluated over whole arrays of packed states (numpy, or CuPy).

A packed state (:meth:`~ordercheck.lang.spec.Spec.pack`) of ``w`` bits is held as
``W = ceil(w / 64)`` unsigned 64-bit words, and a batch of states as a tuple of
``W`` ``uint64`` arrays (word 0 holds bits 0..63).  For a
:class:`~ordercheck.lang.spec.Spec` this module generates, as one Python module
over an array namespace ``xp`` (``numpy``, or ``cupy`` for ``--device gpu``):

* ``expand(x0, ..., n)``: each guard conjunct evaluated once over the batch as a
  boolean mask (shared between the bindings that use it), then, binding by binding,
  the indices where the guard holds, the run-time checks of the binding as masks over
  those rows, and the successor words built with bit operations (a cleared-and-or'ed
  slot per assignment; constant assignments and ``add``/``remove`` of a constant
  element of a set become one ``and``/``or`` with a constant).  It returns, per binding,
  ``(binding, rows, successor words)`` and the rows where some check failed;
* ``invariants``, ``steps`` and ``goals``: per property, a mask of the rows where a
  check of the property fails and a mask of the rows where it is violated (satisfied,
  for a goal).

Values are encoded as in :mod:`ordercheck.lang.ir`: ``Bool`` as ``bool`` arrays,
``Int`` and ``Fin`` as ``int64`` arrays (an integer slot stores ``value - lo``),
``Set`` as ``uint64`` bit masks.  Integers are unbounded in the IR but every node
carries its value interval, so a model whose intervals all fit in ``int64`` is
evaluated exactly; ``//`` and ``%`` floor as in Python, with ``x // 0 == 0`` and
``x % 0 == x``.

Run-time checks are evaluated as masks and never reported from here: the search
re-runs a row whose check fails through the scalar backend
(:mod:`ordercheck.explicit.compile`), which raises the precise
:class:`~ordercheck.explicit.compile.CheckFailure`.

A model that cannot be evaluated this way (a set over more than 64 elements, or an
integer interval beyond ``int64``) is reported by :func:`not_vectorizable`; the search
then uses the scalar backend (the documented fallback).

Examples
--------
>>> import numpy as np
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 2), init=0)
...     @action
...     def inc(s):
...         require(s.x < 2)
...         s.x = s.x + 1
>>> v = compile_vectorized(spec_of(Up()))
>>> v.words
1
>>> out, suspects = v.expand(np.array([0, 1, 2], dtype=np.uint64))
>>> [(b, i.tolist(), y.tolist()) for b, i, (y,) in out]
[(0, [0, 1], [1, 2])]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..lang import ir
from ..lang.errors import InputError
from ..lang.spec import Spec
from ..lang.types import BoolType, IntType, SetType

__all__ = [
    "DEVICES",
    "VectorizedSpec",
    "array_module",
    "compile_vectorized",
    "from_words",
    "not_vectorizable",
    "to_host",
    "to_words",
]

DEVICES = ("cpu", "gpu")
WORD = 64
_FULL = (1 << WORD) - 1
_INT64_LIMIT = 1 << 62  # every integer node's interval must lie within +-2**62: int64 arithmetic is then exact


def array_module(device: str = "cpu") -> ModuleType:
    """The array namespace for ``device``: ``numpy`` for ``"cpu"``, ``cupy`` for ``"gpu"``.

    Raises :class:`~ordercheck.lang.errors.InputError` with what to install when
    CuPy or a CUDA device is missing.

    Examples
    --------
    >>> array_module("cpu").__name__
    'numpy'
    >>> array_module("tpu")
    Traceback (most recent call last):
    ...
    ordercheck.lang.errors.InputError: unknown device 'tpu'; choose one of cpu, gpu
    """
    if device == "cpu":
        return np
    if device != "gpu":
        raise InputError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    try:
        import cupy  # type: ignore[import-not-found]
    except ImportError as exc:
        raise InputError("--device gpu needs CuPy, which is not importable here "
                         f"({exc}); install the wheel for your CUDA version (pip install cupy-cuda12x) or use --device cpu") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver or runtime missing
        raise InputError(f"--device gpu: CuPy is installed but no CUDA device can be used ({exc}); use --device cpu") from None
    if count < 1:
        raise InputError("--device gpu: CuPy is installed but sees no CUDA device; use --device cpu")
    return cupy  # type: ignore[no-any-return]


def to_host(a: Any) -> np.ndarray:
    """``a`` as a numpy array (a CuPy array is copied from the device)."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)
    return get() if get is not None else np.asarray(a)  # type: ignore[no-any-return]


def to_words(values: Sequence[int], words: int, xp: ModuleType = np) -> tuple[Any, ...]:
    """Packed states (Python ints) as ``words`` arrays of ``uint64``, word 0 holding bits 0..63.

    Examples
    --------
    >>> [w.tolist() for w in to_words([1, 2**64 + 3], 2)]
    [[1, 3], [0, 1]]
    """
    if words == 1:
        return (xp.asarray(np.array(values, dtype=np.uint64)),)
    return tuple(xp.asarray(np.array([(v >> (WORD * k)) & _FULL for v in values], dtype=np.uint64)) for k in range(words))


def from_words(rows: Sequence[Any]) -> list[int]:
    """The inverse of :func:`to_words`: the packed states of a tuple of word arrays, as Python ints.

    Examples
    --------
    >>> from_words(to_words([5, 2**70], 2))
    [5, 1180591620717411303424]
    """
    cols = [to_host(r).tolist() for r in rows]
    if len(cols) == 1:
        return cols[0]  # type: ignore[no-any-return]
    out = []
    for parts in zip(*cols):
        v = 0
        for k, p in enumerate(parts):
            v |= int(p) << (WORD * k)
        out.append(v)
    return out


def not_vectorizable(spec: Spec) -> str | None:
    """Why ``spec`` cannot be evaluated by this backend, or ``None`` when it can.

    Examples
    --------
    >>> from ordercheck.lang import Model, Var, Int, spec_of
    >>> class Big(Model):
    ...     x = Var(Int(0, 2**70), init=0)
    >>> not_vectorizable(spec_of(Big()))
    'slot x is 71 bits wide; the vectorized backend handles slots of at most 64 bits'
    """
    for slot in spec.slots:
        if slot.width > WORD:
            return f"slot {slot.name} is {slot.width} bits wide; the vectorized backend handles slots of at most {WORD} bits"
    roots: list[ir.Expr] = []
    for b in spec.bindings:
        roots.append(b.guard)
        roots.extend(c.cond for c in b.checks)
        roots.extend(e for _, e in b.updates)
    for p in spec.properties:
        roots.append(p.expr)
        roots.extend(c.cond for c in p.checks)
    for node in ir.walk(roots):
        t = node.type
        if isinstance(t, IntType) and (abs(t.lo) >= _INT64_LIMIT or abs(t.hi) >= _INT64_LIMIT):
            return f"an integer expression ranges over {t}, beyond 64-bit arithmetic"
        if isinstance(t, SetType) and len(t.domain.values) > WORD:
            return f"a set over {len(t.domain.values)} elements does not fit a 64-bit word"
    return None


# ----------------------------------------------------------------------------- run-time helpers (in the generated namespace)


def _helpers(xp: ModuleType) -> dict[str, Any]:
    u64, i64 = xp.uint64, xp.int64

    def floordiv(a: Any, b: Any) -> Any:
        zero = b == 0
        return xp.where(zero, 0, a // xp.where(zero, 1, b))

    def mod(a: Any, b: Any) -> Any:
        zero = b == 0
        return xp.where(zero, a, a % xp.where(zero, 1, b))

    bitcount = getattr(xp, "bitwise_count", None)

    def popcount(v: Any) -> Any:
        if bitcount is not None:
            return bitcount(v).astype(i64)
        v = v - ((v >> u64(1)) & u64(0x5555555555555555))
        v = (v & u64(0x3333333333333333)) + ((v >> u64(2)) & u64(0x3333333333333333))
        v = (v + (v >> u64(4))) & u64(0x0F0F0F0F0F0F0F0F)
        return ((v * u64(0x0101010101010101)) >> u64(56)).astype(i64)

    return {"xp": xp, "_u64": u64, "_i64": i64, "_floordiv": floordiv, "_mod": mod, "_popcount": popcount,
            "_ONE": u64(1)}


# ----------------------------------------------------------------------------- code generation


class _Consts:
    """Named constants of the generated module: uint64 scalars and lookup tables."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, Any], str] = {}

    def u64(self, value: int) -> str:
        key = ("u", value & _FULL)
        if key not in self.values:
            self.values[key] = f"_k{len(self.values)}"
        return self.values[key]

    def table(self, entries: tuple[Any, ...], type: Any) -> str:
        kind = "b" if isinstance(type, BoolType) else ("s" if isinstance(type, SetType) else "i")
        key = ("t" + kind, entries)
        if key not in self.values:
            self.values[key] = f"_k{len(self.values)}"
        return self.values[key]

    def bind(self, xp: ModuleType) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (kind, value), name in self.values.items():
            if kind == "u":
                out[name] = xp.uint64(value)
            elif kind == "tb":
                out[name] = xp.asarray(np.array(value, dtype=bool))
            elif kind == "ts":
                out[name] = xp.asarray(np.array(value, dtype=np.uint64))
            else:
                out[name] = xp.asarray(np.array(value, dtype=np.int64))
        return out

    def header(self) -> list[str]:
        lines = []
        for (kind, value), name in self.values.items():
            lines.append(f"# {name} = {'uint64 ' + hex(value) if kind == 'u' else 'table ' + repr(value)}")
        return lines


class _Emitter:
    """Array code for IR expressions over one batch of rows (pre-state words, and post-state words for steps)."""

    def __init__(self, spec: Spec, consts: _Consts, pre: Sequence[str], post: Sequence[str] | None, n: str,
                 lines: list[str], indent: str, prefix: str = "t") -> None:
        self.spec = spec
        self.lines = lines
        self.indent = indent
        self.shared_nodes: set[ir.Expr] = set()
        self.k = consts
        self.pre = list(pre)
        self.post = list(post) if post is not None else None
        self.n = n
        self.names: dict[ir.Expr, str] = {}
        self.counter = 0
        self.prefix = prefix

    # -- slots

    def _field(self, slot: int, words: Sequence[str]) -> tuple[str, str, int, int] | None:
        """``(word name, next word name, bit offset in the word, width)`` of a slot, or None if 0 bits wide."""
        s = self.spec.slots[slot]
        if s.width == 0:
            return None
        k, o = divmod(s.offset, WORD)
        nxt = words[k + 1] if o + s.width > WORD else ""
        return words[k], nxt, o, s.width

    def raw(self, slot: int, words: Sequence[str]) -> str:
        """The slot's bits as a uint64 array."""
        f = self._field(slot, words)
        assert f is not None
        w, nxt, o, width = f
        mask = (1 << width) - 1
        if nxt:
            return f"(((({w} >> {o}) | ({nxt} << {WORD - o}))) & {self.k.u64(mask)})"
        shifted = f"({w} >> {o})" if o else w
        if o + width == WORD:
            return shifted
        return f"({shifted} & {self.k.u64(mask)})"

    def read(self, slot: int, words: Sequence[str]) -> str:
        s = self.spec.slots[slot]
        t = s.type
        f = self._field(slot, words)
        if f is None:
            value = t.lo if isinstance(t, IntType) else 0
            dtype = {BoolType: "bool", SetType: "xp.uint64"}.get(type(t), "xp.int64")
            return f"xp.full({self.n}, {value!r}, dtype={dtype})"
        w, nxt, o, _ = f
        if isinstance(t, BoolType) and not nxt:
            return f"(({w} & {self.k.u64(1 << o)}) != 0)"
        raw = self.raw(slot, words)
        if isinstance(t, SetType):
            return raw
        if isinstance(t, BoolType):
            return f"({raw} != 0)"
        lo = t.lo if isinstance(t, IntType) else 0
        code = f"{raw}.astype(xp.int64)"
        return f"({code} + {lo})" if lo else code

    def masked_eq(self, e: ir.Expr) -> str | None:
        """``var == const`` (either order) as one mask-and-compare on the packed word."""
        a, b = e.args
        if b.op == "var" and a.is_const:
            a, b = b, a
        if a.op != "var" or not b.is_const:
            return None
        f = self._field(a.data, self.pre)
        if f is None or f[1]:
            return None
        w, _, o, width = f
        bits = self.spec.slots[a.data].encode_packed(b.data)
        if not 0 <= bits < (1 << width):
            return None
        return f"(({w} & {self.k.u64(((1 << width) - 1) << o)}) == {self.k.u64(bits << o)})"

    def masked_has(self, e: ir.Expr, negate: bool) -> str | None:
        """``set_var.has(const)`` as one bit test on the packed word."""
        s, el = e.args
        if s.op != "var" or not el.is_const:
            return None
        f = self._field(s.data, self.pre)
        if f is None or f[1]:
            return None
        w, _, o, _ = f
        return f"(({w} & {self.k.u64(1 << (o + el.data))}) {'==' if negate else '!='} 0)"

    # -- expressions

    def const(self, e: ir.Expr) -> str:
        if isinstance(e.type, SetType):
            return self.k.u64(int(e.data))
        if isinstance(e.type, BoolType):
            return "True" if e.data else "False"
        return repr(int(e.data))

    def code(self, e: ir.Expr) -> str:
        """The code of ``e``; a shared node is assigned to a local the first time it is needed."""
        if e in self.names:
            return self.names[e]
        text = self._text(e)
        if e in self.shared_nodes and not e.is_const:
            return self._assign(e, text)
        return text

    def _assign(self, e: ir.Expr, text: str) -> str:
        self.counter += 1
        name = f"{self.prefix}{self.counter}"
        self.lines.append(f"{self.indent}{name} = {text}")
        self.names[e] = name
        return name

    def _text(self, e: ir.Expr) -> str:
        op, a = e.op, e.args
        c = self.code
        if op == "const":
            return self.const(e)
        if op == "var":
            return self.read(e.data, self.pre)
        if op == "post":
            if self.post is None:
                raise ValueError("a post-state expression outside a step property")
            return self.read(e.data, self.post)
        if op == "not":
            if a[0].op == "has" and a[0] not in self.names:
                fast = self.masked_has(a[0], negate=True)
                if fast:
                    return fast
            return f"(~{c(a[0])})"
        if op == "and":
            return "(" + " & ".join(c(x) for x in a) + ")"
        if op == "or":
            return "(" + " | ".join(c(x) for x in a) + ")"
        if op == "eq":
            fast = self.masked_eq(e)
            return fast or f"({c(a[0])} == {c(a[1])})"
        if op == "lt":
            return f"({c(a[0])} < {c(a[1])})"
        if op == "le":
            return f"({c(a[0])} <= {c(a[1])})"
        if op in ("add", "sub", "mul"):
            sym = {"add": "+", "sub": "-", "mul": "*"}[op]
            return f"({c(a[0])} {sym} {c(a[1])})"
        if op == "neg":
            return f"(-{c(a[0])})"
        if op in ("floordiv", "mod"):
            if a[1].is_const and a[1].data != 0:
                return f"({c(a[0])} {'//' if op == 'floordiv' else '%'} {c(a[1])})"
            if a[1].is_const:  # by zero: x // 0 == 0, x % 0 == x
                return f"({c(a[0])} * 0)" if op == "floordiv" else c(a[0])
            return f"_{op}({c(a[0])}, {c(a[1])})"
        if op == "ite":
            return f"xp.where({c(a[0])}, {c(a[1])}, {c(a[2])})"
        if op == "table":
            return f"{self.k.table(e.data, e.type)}[{c(a[0])}]"
        if op == "union":
            return f"({c(a[0])} | {c(a[1])})"
        if op == "inter":
            return f"({c(a[0])} & {c(a[1])})"
        if op == "diff":
            return f"({c(a[0])} & {self._complement(a[1])})"
        if op == "subset":
            return f"(({c(a[0])} & {self._complement(a[1])}) == 0)"
        if op == "has":
            fast = self.masked_has(e, negate=False)
            if fast:
                return fast
            if a[1].is_const:
                return f"(({c(a[0])} & {self.k.u64(1 << a[1].data)}) != 0)"
            return f"((({c(a[0])} >> {c(a[1])}.astype(xp.uint64)) & _ONE) != 0)"
        if op in ("with", "without"):
            if a[1].is_const:
                bit = 1 << a[1].data
                return f"({c(a[0])} | {self.k.u64(bit)})" if op == "with" else f"({c(a[0])} & {self.k.u64(_FULL ^ bit)})"
            bit_code = f"(_ONE << {c(a[1])}.astype(xp.uint64))"
            return f"({c(a[0])} | {bit_code})" if op == "with" else f"({c(a[0])} & ~{bit_code})"
        if op == "count":
            return f"_popcount({c(a[0])})"
        if op == "bits":
            const_bits = sum(1 << i for i, m in enumerate(a) if m.is_const and m.data)
            parts = [f"({c(m)}.astype(xp.uint64) << {i})" if i else f"{c(m)}.astype(xp.uint64)" for i, m in enumerate(a) if not m.is_const]
            if const_bits:
                parts.append(self.k.u64(const_bits))
            return "(" + " | ".join(parts) + ")"
        raise ValueError(f"unknown IR operator {op!r}")

    def _complement(self, e: ir.Expr) -> str:
        if e.is_const:
            return self.k.u64(_FULL ^ int(e.data))
        return f"~{self.code(e)}"

    def share(self, roots: Sequence[ir.Expr]) -> None:
        """Mark the nodes used more than once among ``roots`` (each becomes a local when first needed)."""
        self.shared_nodes |= ir.reused(roots)

    def bind(self, root: ir.Expr) -> str:
        """``root`` assigned to a local (so that it is evaluated once), its name returned."""
        if root in self.names:
            return self.names[root]
        return self._assign(root, self._text(root))


def _set_chain(e: ir.Expr, slot: int) -> tuple[int, int] | None:
    """For ``var(slot)`` with constant elements added and removed: (bits set, bits cleared), innermost first."""
    ops: list[tuple[str, int]] = []
    while e.op in ("with", "without") and e.args[1].is_const:
        ops.append((e.op, 1 << e.args[1].data))
        e = e.args[0]
    if e.op != "var" or e.data != slot or not ops:
        return None
    set_bits = clear_bits = 0
    for op, bit in reversed(ops):
        if op == "with":
            set_bits |= bit
            clear_bits &= ~bit
        else:
            clear_bits |= bit
            set_bits &= ~bit
    return set_bits, clear_bits


def _encode_dynamic(spec: Spec, slot: int, code: str) -> str:
    """The slot value ``code`` as its packed bits (uint64), not yet shifted."""
    t = spec.slots[slot].type
    if isinstance(t, SetType):
        return code
    if isinstance(t, IntType) and t.lo:
        return f"({code} - {t.lo}).astype(xp.uint64)"
    return f"{code}.astype(xp.uint64)"


def _update_lines(spec: Spec, em: _Emitter, updates: Sequence[tuple[int, ir.Expr]], src: Sequence[str], dst: Sequence[str],
                  lines: list[str], indent: str) -> None:
    """Lines that compute the successor words ``dst`` from the pre-state words ``src``."""
    words = len(src)
    keep = [_FULL] * words
    const = [0] * words
    dynamic: list[list[str]] = [[] for _ in range(words)]
    em.share([e for _, e in updates])
    for slot, e in updates:
        s = spec.slots[slot]
        if s.width == 0:
            continue
        k, o = divmod(s.offset, WORD)
        span = ((1 << s.width) - 1) << o  # may reach into word k + 1
        chain = _set_chain(e, slot) if isinstance(s.type, SetType) else None

        def pieces(bits: int, k: int = k) -> list[tuple[int, int]]:
            return [(k + part, (bits >> (WORD * part)) & _FULL) for part in (0, 1) if k + part < words]

        if chain is not None:
            set_bits, clear_bits = chain
            for w, piece in pieces(clear_bits << o):
                keep[w] &= _FULL ^ piece
            for w, piece in pieces(set_bits << o):
                const[w] |= piece
            continue
        for w, piece in pieces(span):
            keep[w] &= _FULL ^ piece
        if e.is_const:
            for w, piece in pieces(s.encode_packed(e.data) << o):
                const[w] |= piece
            continue
        value = em.code(e)
        em.counter += 1
        name = f"{em.prefix}{em.counter}"
        lines.append(f"{indent}{name} = {_encode_dynamic(spec, slot, value)}")
        dynamic[k].append(f"({name} << {o})" if o else name)
        if o + s.width > WORD:
            dynamic[k + 1].append(f"({name} >> {WORD - o})")
    for k in range(words):
        parts = [src[k] if keep[k] == _FULL else f"({src[k]} & {em.k.u64(keep[k])})"]
        if const[k]:
            parts.append(em.k.u64(const[k]))
        parts += dynamic[k]
        lines.append(f"{indent}{dst[k]} = {' | '.join(parts)}")


def _conjuncts(guard: ir.Expr) -> list[ir.Expr]:
    if guard.is_const:
        return [] if guard.data else [guard]
    return list(guard.args) if guard.op == "and" else [guard]


def _expand_source(spec: Spec, consts: _Consts, words: int) -> list[str]:
    xs = [f"x{k}" for k in range(words)]
    lines = [f"def expand({', '.join(xs)}):", "    n = x0.shape[0]", "    out = []", "    bad = []"]
    guard_em = _Emitter(spec, consts, xs, None, "n", lines, "    ", prefix="g")
    all_conj = [c for b in spec.bindings for c in _conjuncts(b.guard)]
    guard_em.share(all_conj)
    for conj in dict.fromkeys(all_conj):
        if not conj.is_const:
            guard_em.bind(conj)
    for index, b in enumerate(spec.bindings):
        parts = _conjuncts(b.guard)
        lines.append(f"    # {index}: {b.label}")
        if any(c.is_const for c in parts):
            lines.append("    # never enabled")
            continue
        if parts:
            mask = " & ".join(guard_em.names[c] for c in parts)
            lines.append(f"    i = xp.nonzero({mask})[0]")
        else:
            lines.append("    i = xp.arange(n)")
        lines.append("    if i.shape[0]:")
        ind = "        "
        rows = [f"a{k}" for k in range(words)]
        for k in range(words):
            lines.append(f"{ind}{rows[k]} = {xs[k]}[i]")
        em = _Emitter(spec, consts, rows, None, "i.shape[0]", lines, ind)
        if b.checks:
            em.share([ch.cond for ch in b.checks] + [e for _, e in b.updates])
            fails = [f"~{em.code(ch.cond)}" for ch in b.checks]
            lines.append(f"{ind}bad.append(i[{' | '.join(fails)}])")
        ys = [f"y{k}" for k in range(words)]
        _update_lines(spec, em, b.updates, rows, ys, lines, ind)
        lines.append(f"{ind}out.append(({index}, i, ({', '.join(ys)},)))")
    lines.append("    return out, bad")
    return lines


def _mask_source(spec: Spec, consts: _Consts, words: int, name: str, props: Sequence[int], step: bool, satisfied: bool) -> list[str]:
    xs = [f"x{k}" for k in range(words)]
    ws = [f"w{k}" for k in range(words)]
    args = xs + ws if step else xs
    lines = [f"def {name}({', '.join(args)}):", "    n = x0.shape[0]", "    fails = []", "    marks = []"]
    em = _Emitter(spec, consts, xs, ws if step else None, "n", lines, "    ")
    em.share([r for p in props for r in [spec.properties[p].expr, *(ch.cond for ch in spec.properties[p].checks)]])
    for p in props:
        prop = spec.properties[p]
        lines.append(f"    # {prop.name}")
        if prop.checks:
            fails = [f"~{em.code(ch.cond)}" for ch in prop.checks]
            lines.append(f"    fails.append({' | '.join(fails)})")
        else:
            lines.append("    fails.append(None)")
        if prop.expr.is_const:
            value = bool(prop.expr.data) == satisfied
            lines.append(f"    marks.append(xp.{'ones' if value else 'zeros'}(n, dtype=bool))")
        else:
            code = em.code(prop.expr)
            lines.append(f"    marks.append({code if satisfied else '~' + code})")
    lines.append("    return fails, marks")
    return lines


@dataclass
class VectorizedSpec:
    """Generated array functions of a spec (see the module docstring).

    ``expand(*words)`` returns ``(out, bad)``: ``out`` lists ``(binding, rows, successor
    words)`` in binding order (``rows`` ascending indices into the batch), ``bad`` a list
    of index arrays of rows where a check of some binding failed.  ``invariants(*words)``
    and ``goals(*words)`` return ``(fails, marks)``: per property (in the order of
    ``invariant_props`` / ``goal_props``) a mask of failed checks (or ``None``) and a mask of
    violation (invariants) or satisfaction (goals); ``steps(*pre, *post)`` likewise.
    """

    spec: Spec
    xp: ModuleType
    words: int
    source: str
    expand_words: Callable[..., tuple[list[tuple[int, Any, tuple[Any, ...]]], list[Any]]]
    invariants: Callable[..., tuple[list[Any], list[Any]]]
    steps: Callable[..., tuple[list[Any], list[Any]]]
    goals: Callable[..., tuple[list[Any], list[Any]]]
    invariant_props: tuple[int, ...]
    step_props: tuple[int, ...]
    goal_props: tuple[int, ...]

    def expand(self, *words: Any) -> tuple[list[tuple[int, Any, tuple[Any, ...]]], list[Any]]:
        """Successors of a batch (see the class docstring)."""
        return self.expand_words(*words)


def compile_vectorized(spec: Spec, xp: ModuleType = np) -> VectorizedSpec:
    """Generate and compile the array functions of ``spec`` over the namespace ``xp``.

    Raises ``ValueError`` when :func:`not_vectorizable` gives a reason.
    """
    reason = not_vectorizable(spec)
    if reason:
        raise ValueError(reason)
    words = max(1, -(-spec.width // WORD))
    kinds = [p.kind for p in spec.properties]
    inv = tuple(i for i, k in enumerate(kinds) if k == "invariant")
    step = tuple(i for i, k in enumerate(kinds) if k == "step")
    goal = tuple(i for i, k in enumerate(kinds) if k == "sometimes")
    consts = _Consts()
    body = _expand_source(spec, consts, words)
    body += _mask_source(spec, consts, words, "invariants", inv, False, satisfied=False)
    body += _mask_source(spec, consts, words, "steps", step, True, satisfied=False)
    body += _mask_source(spec, consts, words, "goals", goal, False, satisfied=True)
    header = [f"# generated by ordercheck (vectorized, {xp.__name__}) for model {spec.name}: {spec.width} bits in {words} word(s)"]
    source = "\n".join(header + consts.header() + body) + "\n"
    namespace: dict[str, Any] = _helpers(xp)
    namespace.update(consts.bind(xp))
    exec(compile(source, f"<ordercheck-vectorized:{spec.name}>", "exec"), namespace)
    return VectorizedSpec(spec, xp, words, source, namespace["expand"], namespace["invariants"], namespace["steps"],
                          namespace["goals"], inv, step, goal)
