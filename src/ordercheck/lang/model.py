"""Models as ordinary classes, traced into a :class:`~ordercheck.lang.spec.Spec` when instantiated.

A model declares constants (:class:`Const`), state variables (:class:`Var`),
actions (:func:`action`), initial-state functions (:func:`initial`) and
properties (:func:`invariant`, :func:`step_invariant`, :func:`sometimes`).
Instantiating it resolves the constants (defaults, per-instance overrides and
derived constants) and traces every action once per binding of its
parameters.  Misuse fails right there, naming the model, the action and the
line.

Examples
--------
>>> from ordercheck.lang.values import require
>>> class Counter(Model):
...     N = Const(3)
...     x = Var(Int(0, N), init=0)
...
...     @action
...     def inc(s):
...         require(s.x < s.N)
...         s.x = s.x + 1
...
...     @invariant
...     def bounded(s):
...         return s.x <= s.N
>>> spec = spec_of(Counter(N=2))
>>> [b.label for b in spec.bindings], spec.init_states
(['inc()'], ((0,),))
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import ir
from .errors import ModelError, SourceLocation, recursion_site, user_code_error, user_location
from .spec import Binding, Check, Property, Slot, Spec, VarInfo
from .types import BoolType, Domain, FinType, IntType, MapType, SetType, ValueType, describe_value
from .values import ACTIVE_SINK, UnsetVal, coerce, from_leaves, in_branch, leaves, to_bool

__all__ = [
    "MEDIA",
    "Bool",
    "Const",
    "EachOf",
    "Elem",
    "Enum",
    "ExtensionContext",
    "Int",
    "MapOf",
    "Model",
    "ModelExtension",
    "OneOf",
    "SetOf",
    "Var",
    "action",
    "initial",
    "invariant",
    "lemma",
    "sometimes",
    "spec_of",
    "step_invariant",
]

MEDIA = ("memory", "os-cache", "disk")
RESERVED = ("on", "via", "up")
_MISSING: Any = object()
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- declared types


class _DeclaredType:
    def resolve(self, ctx: _Resolver) -> ValueType:
        raise NotImplementedError


class Bool(_DeclaredType):
    """``True`` or ``False``.  ``Bool`` and ``Bool()`` are the same type."""

    def resolve(self, ctx: _Resolver) -> ValueType:
        return BoolType()

    def __repr__(self) -> str:
        return "Bool"


class Enum(_DeclaredType):
    """One of the given labels: ``Enum("working", "prepared")``."""

    def __init__(self, *labels: str) -> None:
        if not labels:
            raise ModelError("Enum() needs at least one label")
        bad = [lab for lab in labels if not isinstance(lab, str)]
        if bad:
            raise ModelError(f"Enum labels are strings; got {bad[0]!r}")
        if len(set(labels)) != len(labels):
            raise ModelError(f"Enum{labels} repeats a label")
        self.labels = labels

    def resolve(self, ctx: _Resolver) -> ValueType:
        return FinType(self.labels)

    def __repr__(self) -> str:
        return f"Enum{self.labels}"


class Int(_DeclaredType):
    """An integer in ``lo..hi`` inclusive; bounds may be scalar constants (``Int(0, N)``)."""

    def __init__(self, lo: Any, hi: Any) -> None:
        self.lo, self.hi = lo, hi

    def resolve(self, ctx: _Resolver) -> ValueType:
        lo, hi = ctx.scalar(self.lo), ctx.scalar(self.hi)
        if lo > hi:
            raise ModelError(f"Int({lo}, {hi}) is empty: the lower bound exceeds the upper bound")
        return IntType(lo, hi)


class Elem(_DeclaredType):
    """One element of a domain: ``Elem(NODE)``."""

    def __init__(self, domain: Any) -> None:
        self.domain = domain

    def resolve(self, ctx: _Resolver) -> ValueType:
        return ctx.domain(self.domain)


class SetOf(_DeclaredType):
    """A subset of a domain: ``SetOf(ORDER)``."""

    def __init__(self, domain: Any) -> None:
        self.domain = domain

    def resolve(self, ctx: _Resolver) -> ValueType:
        return SetType(ctx.domain(self.domain))


class MapOf(_DeclaredType):
    """A total function from a domain to a type: ``MapOf(NODE, SetOf(ORDER))``."""

    def __init__(self, domain: Any, value: Any) -> None:
        self.domain, self.value = domain, value

    def resolve(self, ctx: _Resolver) -> ValueType:
        return MapType(ctx.domain(self.domain), ctx.type(self.value))


# ----------------------------------------------------------------------------- declarations


class Const:
    """A constant of the model, like a TLA+ CONSTANT.

    The default is a tuple of values (a domain), a scalar, or a function of the
    model (``Const(lambda m: ...)``) deriving it from other constants.  Each
    instance may override it: ``TwoPhase(RM=("a", "b"))``.
    """

    def __init__(self, default: Any = _MISSING, *, doc: str = "") -> None:
        self.default = default
        self.doc = doc
        self.name = ""
        self.location = _caller_location()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj._ordercheck_constants[self.name]

    def __repr__(self) -> str:
        return f"Const({self.name})"


class OneOf:
    """Several initial values for a variable: each starts a separate initial state."""

    def __init__(self, *values: Any) -> None:
        if not values:
            raise ModelError("OneOf() needs at least one value")
        self.values = values


class EachOf:
    """For a map: every entry starts at any of ``values``, independently of the others."""

    def __init__(self, values: Any) -> None:
        self.values = tuple(values)
        if not self.values:
            raise ModelError("EachOf() needs at least one value")


class Var:
    """A state variable: its type, its initial value and (for node-indexed data) its medium."""

    def __init__(self, type: Any, init: Any = _MISSING, *, medium: str | None = None, lost: Any = _MISSING, doc: str = "") -> None:
        if medium is not None and medium not in MEDIA:
            raise ModelError(f"unknown medium {medium!r}; a medium is one of {', '.join(MEDIA)}")
        self.type = type
        self.init = init
        self.medium = medium
        self.lost = lost
        self.doc = doc
        self.name = ""
        self.location = _caller_location()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Var({self.name})"


@dataclass
class _Decl:
    kind: str  # action | initial | invariant | step | sometimes
    fn: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    on: Any = None
    via: Any = None
    name: str = ""
    # The name a property is reported under, when it is not a Python identifier (design files).
    label: str = ""
    lemma: bool = False

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    @property
    def location(self) -> SourceLocation:
        code = self.fn.__code__
        return SourceLocation(code.co_filename, code.co_firstlineno, f"def {self.fn.__name__}(...)")


def _decorator(kind: str, fn: Any, params: dict[str, Any], on: Any = None, via: Any = None) -> Any:
    def wrap(f: Callable[..., Any]) -> _Decl:
        if not callable(f):
            raise ModelError(f"@{kind} decorates a function")
        return _Decl(kind, f, dict(params), on, via, f.__name__)

    if fn is not None:
        if not callable(fn):
            raise ModelError(f"@{kind}(...) takes parameter domains as keywords, like @{kind}(rm=RM)")
        return wrap(fn)
    return wrap


def action(fn: Any = None, /, *, on: Any = None, via: Any = None, **params: Any) -> Any:
    """Declare an action; keyword arguments give each parameter's domain: ``@action(rm=RM)``.

    The body is traced once per binding of the parameters.  ``on=`` and ``via=``
    name the node an action runs on and the link it crosses (see the durability
    domain).
    """
    return _decorator("action", fn, params, on, via)


def initial(fn: Any = None, /, **params: Any) -> Any:
    """Declare an initial-state function; each binding of its parameters gives initial states."""
    return _decorator("initial", fn, params)


def invariant(fn: Any = None, /) -> Any:
    """Declare a property that must hold in every reachable state."""
    return _decorator("invariant", fn, {})


def lemma(fn: Any = None, /) -> Any:
    """Declare a strengthening invariant: checked like any invariant, and assumed (and proved) by k-induction."""
    decl = _decorator("invariant", fn, {})
    if isinstance(decl, _Decl):
        decl.lemma = True
        return decl

    def wrap(f: Callable[..., Any]) -> _Decl:
        inner = decl(f)
        inner.lemma = True
        return inner

    return wrap


def step_invariant(fn: Any = None, /) -> Any:
    """Declare a property of every transition: ``def f(s, t)`` reads the pre-state ``s`` and post-state ``t``."""
    return _decorator("step", fn, {})


def sometimes(fn: Any = None, /) -> Any:
    """Declare a reachability goal: some reachable state must satisfy it (else it is violated)."""
    return _decorator("sometimes", fn, {})


# ----------------------------------------------------------------------------- the model class


def spec_of(model: Model) -> Spec:
    """The traced :class:`Spec` of a model instance."""
    if not isinstance(model, Model):
        raise TypeError(f"expected an instance of an ordercheck Model, got {type(model).__name__}")
    return model._ordercheck_spec


class ModelExtension:
    """A declaration in a model body that adds state, actions and action guards.

    The durability domain's ``Faults`` is one: it adds the ``up`` map, the
    fault budget and the fault actions, and gives ``on=`` / ``via=`` their
    meaning.  The language itself knows nothing of durability.
    """

    name = ""
    location: SourceLocation | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def extend(self, ctx: ExtensionContext) -> None:
        raise NotImplementedError


class ExtensionContext:
    """What a :class:`ModelExtension` may see and add while a model instance is built."""

    def __init__(self, builder: _Builder, user_vars: list[Var]) -> None:
        self._builder = builder
        self.model = builder.name
        self.constants = builder.constants
        self.user_vars = list(user_vars)
        self.added_vars: list[Var] = []
        self.added_actions: list[_Decl] = []
        self.on_guard: Callable[..., Any] | None = None
        self.via_guard: Callable[..., Any] | None = None
        self.options = builder.options
        # Facts for engines and reports (which faults, which budget), copied into Spec.extra.
        self.extra: dict[str, Any] = {}

    def resolve_type(self, declared: Any) -> ValueType:
        return self._builder.resolver.type(declared)

    def resolve_domain(self, ref: Any) -> FinType:
        return self._builder.resolver.domain(ref)

    def add_var(self, name: str, var: Var) -> None:
        taken = {v.name for v in self.user_vars + self.added_vars}
        if name in taken and name not in RESERVED:
            raise ModelError(f"{name!r} is a name the durability framework needs; call the variable something else")
        var.name = name
        self.added_vars.append(var)

    def add_action(self, name: str, fn: Callable[..., Any], **params: Any) -> None:
        decl = _Decl("action", fn, dict(params), None, None, name)
        self.added_actions.append(decl)


class Model:
    """Base class of models.  Subclass it, declare state and actions, instantiate to trace."""

    _ordercheck_constants: dict[str, Any]
    _ordercheck_overrides: dict[str, Any]
    _ordercheck_options: dict[str, Any]
    _ordercheck_spec: Spec

    def __init__(self, **constants: Any) -> None:
        # Options for extensions (the tolerance search re-instantiates with another budget or k).
        options = constants.pop("_ordercheck_options", {})
        self._ordercheck_overrides = dict(constants)
        self._ordercheck_options = dict(options)
        self._ordercheck_constants = _resolve_constants(type(self), constants)
        self._ordercheck_spec = _Builder(self, tuple(constants), options).build()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={describe_value(v)}" for k, v in self._ordercheck_constants.items())
        return f"{type(self).__name__}({inner})"


def _declarations(cls: type) -> dict[str, Any]:
    """Every Const, Var and decorated function of ``cls`` and its bases, in definition order."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, Model):
            continue
        for name, value in vars(klass).items():
            if isinstance(value, (Const, Var, _Decl, ModelExtension)):
                found.pop(name, None)
                found[name] = value
            elif name in found:
                del found[name]
    return found


def _caller_location() -> SourceLocation | None:
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            import linecache

            return SourceLocation(filename, frame.f_lineno, linecache.getline(filename, frame.f_lineno).strip())
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _normalise_constant(value: Any, name: str, model: str) -> Any:
    if isinstance(value, Domain):
        return value
    if hasattr(value, "as_domain"):
        return value.as_domain(name)
    if isinstance(value, range):
        value = tuple(value)
    if isinstance(value, (set, frozenset)):
        raise ModelError(f"constant {name} is a set; give a tuple or list so that its order is fixed", model=model)
    if isinstance(value, (list, tuple)):
        items = tuple(_freeze(v) for v in value)
        seen: list[Any] = []
        for item in items:
            if any(item == s and type(item) is type(s) for s in seen):
                raise ModelError(f"constant {name} lists {describe_value(item)} twice; elements of a domain are distinct", model=model)
            seen.append(item)
        return Domain(items, name)
    if isinstance(value, (int, str, bool)):
        return value
    raise ModelError(f"constant {name} must be a tuple of values or a scalar, got {type(value).__name__}", model=model)


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _resolve_constants(cls: type, overrides: dict[str, Any]) -> dict[str, Any]:
    decls = {n: d for n, d in _declarations(cls).items() if isinstance(d, Const)}
    model = cls.__name__
    for name in overrides:
        if name not in decls:
            known = ", ".join(decls) or "none"
            raise ModelError(f"{model} has no constant {name!r} (its constants: {known})", model=model)
    resolved: dict[str, Any] = {}
    active: list[str] = []

    class View:
        def __getattr__(self, attr: str) -> Any:
            if attr not in decls:
                raise ModelError(f"a derived constant reads {attr!r}, which is not a constant of {model}", model=model)
            return get(attr)

    def get(name: str) -> Any:
        if name in resolved:
            return resolved[name]
        if name in active:
            cycle = " -> ".join(active[active.index(name) :] + [name])
            raise ModelError(f"constants depend on each other in a cycle: {cycle}", model=model, context=f"constant {name}",
                             location=decls[name].location)
        active.append(name)
        raw = overrides.get(name, decls[name].default)
        if raw is _MISSING:
            raise ModelError(f"constant {name} has no value: give {name}=... when creating {model}", model=model)
        try:
            if callable(raw) and not hasattr(raw, "as_domain"):
                try:
                    raw = raw(View())
                except ModelError:
                    raise
                except Exception as exc:
                    raise ModelError(f"deriving constant {name} failed: {type(exc).__name__}: {exc}") from None
            resolved[name] = _normalise_constant(raw, name, model)
        except ModelError as exc:
            exc.model = exc.model or model
            exc.context = exc.context or f"constant {name}"
            exc.location = exc.location or decls[name].location
            raise
        active.pop()
        return resolved[name]

    for name in decls:
        get(name)
    return {name: resolved[name] for name in decls}


class _Resolver:
    """Resolves domain references and declared types against one model's constants."""

    def __init__(self, model: str, constants: dict[str, Any]) -> None:
        self.model = model
        self.constants = constants

    def _value(self, ref: Any) -> Any:
        if isinstance(ref, Const):
            return self.constants[ref.name]
        return ref

    def domain(self, ref: Any) -> FinType:
        value = self._value(ref)
        if isinstance(value, (list, tuple)) or hasattr(value, "as_domain"):
            value = _normalise_constant(value, getattr(value, "name", ""), self.model)
        if not isinstance(value, Domain):
            raise ModelError(f"{describe_value(value)} is not a domain (a tuple of values or a Const holding one)", model=self.model)
        if not value:
            raise ModelError(f"domain {value.name or value!r} is empty", model=self.model)
        return FinType(tuple(value), value.name)

    def scalar(self, ref: Any) -> int:
        value = self._value(ref)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ModelError(f"an integer bound must be an int or a scalar Const, got {describe_value(value)}", model=self.model)
        return value

    def type(self, decl: Any) -> ValueType:
        if decl is Bool:
            return BoolType()
        if isinstance(decl, _DeclaredType):
            return decl.resolve(self)
        raise ModelError(f"{decl!r} is not a type; use Bool, Enum(...), Int(lo, hi), Elem(D), SetOf(D) or MapOf(D, T)", model=self.model)


# ----------------------------------------------------------------------------- tracing


class _Disabled(Exception):
    """A ``require`` that is false while tracing: this binding has no transition."""


class _Tracer:
    """Records guards, checks and writes while one action, property or initial function runs."""

    def __init__(self, builder: _Builder, mode: str, current: list[ir.Expr], post: list[ir.Expr] | None = None) -> None:
        self.builder = builder
        self.mode = mode
        self.current = current
        self.post = post
        self.guards: list[ir.Expr] = []
        self.checks: list[Check] = []
        self.property_name: str | None = None

    def add_check(self, cond: ir.Expr, message: str) -> None:
        self.checks.append(Check(cond, message, _caller_location()))

    def require(self, cond: ir.Expr) -> None:
        if self.mode not in ("action", "initial"):
            raise ModelError("require() belongs in actions; a property returns its condition")
        if cond.is_const:
            if not cond.data:
                raise _Disabled()
            return
        if self.mode == "initial":
            raise ModelError("require() in an @initial function must be decided by its parameters alone")
        self.guards.append(cond)

    def read(self, name: str, post: bool = False) -> Any:
        info = self.builder.var_info[name]
        exprs = (self.post if post else self.current)
        assert exprs is not None
        chunk: list[Any] = list(exprs[info.first : info.first + info.count])
        if any(e is None for e in chunk):
            if self.mode != "initial" or not isinstance(info.type, MapType):
                raise ModelError(f"{name} is read before it has an initial value")
            # An @initial function may build a map entry by entry (`for i in s.Node: s.m[i] = ...`):
            # the entries not written yet are placeholders that refuse to be read.
            chunk = [UnsetVal(self.builder.slots[info.first + j].name) if e is None else e for j, e in enumerate(chunk)]
        return from_leaves(info.type, chunk, (name, ()))

    def write(self, name: str, keys: tuple[Any, ...], value: Any) -> None:
        if self.mode not in ("action", "initial"):
            raise ModelError(f"a property cannot assign to {name}; properties only read the state")
        if in_branch():
            raise ModelError(f"assigning to {name} inside an ite branch: assign the ite's value instead, {name} = ite(c, lambda: ..., ...)")
        info = self.builder.var_info[name]
        t: ValueType = info.type
        targets: list[tuple[int, ir.Expr]] = [(info.first, ir.TRUE)]
        path = name
        for key in keys:
            assert isinstance(t, MapType)
            width = _slot_count(t.value)
            if isinstance(key, ir.Expr):
                targets = [(start + i * width, ir.and_(cond, ir.eq(key, ir.const(t.domain, i))))
                           for start, cond in targets for i in range(len(t.domain.values))]
                path += "[...]"
            else:
                targets = [(start + key * width, cond) for start, cond in targets]
                path += f"[{describe_value(t.domain.values[key])}]"
            t = t.value
        new = leaves(coerce(value, t, f"assigning to {path}"))
        for start, cond in targets:
            for j, expr in enumerate(new):
                old = self.current[start + j]
                self.current[start + j] = expr if (cond.is_const and cond.data) or old is None else ir.ite(cond, expr, old)


def _slot_count(t: ValueType) -> int:
    if isinstance(t, MapType):
        return len(t.domain.values) * _slot_count(t.value)
    return 1


class _StateView:
    """The ``s`` (and ``t``) an action or property receives."""

    __slots__ = ("_post", "_tracer")

    def __init__(self, tracer: _Tracer, post: bool = False) -> None:
        object.__setattr__(self, "_tracer", tracer)
        object.__setattr__(self, "_post", post)

    def __getattr__(self, name: str) -> Any:
        tracer: _Tracer = object.__getattribute__(self, "_tracer")
        builder = tracer.builder
        if name in builder.var_info:
            return tracer.read(name, object.__getattribute__(self, "_post"))
        if name in builder.constants:
            return builder.constants[name]
        if name in builder.extra_attributes:
            return builder.extra_attributes[name](tracer)
        attr = getattr(builder.cls, name, _MISSING)
        if isinstance(attr, _Decl):
            return functools.partial(attr.fn, self)
        if inspect.isfunction(attr):
            return functools.partial(attr, self)
        if attr is not _MISSING and not name.startswith("_"):
            return attr
        import difflib

        known = list(builder.var_info) + list(builder.constants)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; declare it in the class body ({name} = Var(...) or Const(...))"
        raise ModelError(f"{builder.name} has no variable, constant or helper named {name!r}{hint}")

    def __setattr__(self, name: str, value: Any) -> None:
        tracer: _Tracer = object.__getattribute__(self, "_tracer")
        builder = tracer.builder
        if object.__getattribute__(self, "_post"):
            raise ModelError("the post-state of a step property is read-only")
        if name in builder.var_info:
            tracer.write(name, (), value)
        elif name in builder.constants:
            raise ModelError(f"{name} is a constant and cannot be assigned; declare a Var for state that changes")
        else:
            raise ModelError(f"assignment to undeclared variable {name!r}: declare it in the class body, {name} = Var(type, init=...)")


def _assigned_parameters(fn: Callable[..., Any], names: list[str]) -> list[tuple[str, int]]:
    """Parameters that the body of ``fn`` assigns to (a mistake: parameters are fixed per binding)."""
    try:
        lines, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return []
    found = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.comprehension)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and sub.id in names:
                    found.append((sub.id, first + getattr(sub, "lineno", 1) - 1))
    return found


class _Builder:
    """Builds the :class:`Spec` of one model instance."""

    def __init__(self, model: Model, overrides: tuple[str, ...] = (), options: dict[str, Any] | None = None) -> None:
        self.model = model
        self.overrides = overrides
        self.options = dict(options or {})
        self.on_guard: Callable[..., Any] | None = None
        self.via_guard: Callable[..., Any] | None = None
        self.generated_actions: list[_Decl] = []
        self.extra: dict[str, Any] = {}
        self.cls = type(model)
        self.name = self.cls.__name__
        self.constants = model._ordercheck_constants
        self.decls = _declarations(self.cls)
        self.resolver = _Resolver(self.name, self.constants)
        self.var_info: dict[str, VarInfo] = {}
        self.slots: list[Slot] = []
        # Attributes of `s` contributed by extensions (the durability domain's `up`).
        self.extra_attributes: dict[str, Callable[[_Tracer], Any]] = {}

    def fail(self, exc: ModelError, context: str | None, location: SourceLocation | None = None) -> ModelError:
        exc.model = exc.model or self.name
        exc.context = exc.context or context
        if exc.location is None:
            exc.location = location or user_location(exc.__traceback__)
        return exc

    def build(self) -> Spec:
        vars_ = [d for d in self.decls.values() if isinstance(d, Var)]
        for v in vars_:
            if v.name in RESERVED:
                raise self.fail(ModelError(f"{v.name!r} is a reserved name; call the variable something else"), None, v.location)
        extensions = [d for d in self.decls.values() if isinstance(d, ModelExtension)]
        ctx = ExtensionContext(self, vars_)
        for ext in extensions:
            try:
                ext.extend(ctx)
            except ModelError as exc:
                raise self.fail(exc, ext.name or type(ext).__name__, ext.location) from None
        vars_ = vars_ + ctx.added_vars
        self.on_guard, self.via_guard = ctx.on_guard, ctx.via_guard
        self.generated_actions = ctx.added_actions
        self.extra = dict(ctx.extra)
        for v in vars_:
            try:
                t = self.resolver.type(v.type)
            except ModelError as exc:
                raise self.fail(exc, f"variable {v.name}", v.location) from None
            first = len(self.slots)
            self._add_slots(v.name, (), t)
            self.var_info[v.name] = VarInfo(v.name, t, first, len(self.slots) - first, v.medium, v.location)
        if not vars_:
            raise ModelError(f"{self.name} declares no state variables; declare some with name = Var(type, init=...)", model=self.name)
        init_states = self._initial_states(vars_)
        bindings = self._actions()
        properties = self._properties()
        code = getattr(self.cls, "__module__", "")
        module = sys.modules.get(code)
        location = None
        if module is not None and getattr(module, "__file__", None):
            try:
                location = SourceLocation(module.__file__ or "", inspect.getsourcelines(self.cls)[1])
            except (OSError, TypeError):
                location = SourceLocation(module.__file__ or "", 0)
        return Spec(
            name=self.name,
            constants=dict(self.constants),
            vars=tuple(self.var_info.values()),
            slots=tuple(self.slots),
            init_states=init_states,
            bindings=bindings,
            properties=properties,
            location=location,
            derived=tuple(n for n, d in self.decls.items() if isinstance(d, Const) and callable(d.default) and n not in self.overrides),
            extra=self.extra,
        )

    def _add_slots(self, var: str, keys: tuple[Any, ...], t: ValueType) -> None:
        if isinstance(t, MapType):
            for k in t.domain.values:
                self._add_slots(var, keys + (k,), t.value)
            return
        offset = self.slots[-1].offset + self.slots[-1].width if self.slots else 0
        self.slots.append(Slot(var, keys, t, offset))

    # -- initial states

    def _concrete(self, value: Any, t: ValueType, what: str) -> tuple[Any, ...]:
        exprs = leaves(coerce(value, t, what))
        if not all(e.is_const for e in exprs):
            raise ModelError(f"{what}: an initial value must be a constant")
        return tuple(e.data for e in exprs)

    def _init_value(self, value: Any) -> Any:
        """An ``init=`` value with constants resolved: a ``Const`` or ``lambda m: ...`` of the constants."""
        if isinstance(value, Const):
            return self.constants[value.name]
        if callable(value) and not isinstance(value, (_DeclaredType, type)):
            constants = self.constants

            class View:
                def __getattr__(self, attr: str) -> Any:
                    if attr not in constants:
                        raise ModelError(f"an initial value reads {attr!r}, which is not a constant")
                    return constants[attr]

            return value(View())
        return value

    def _alternatives(self, v: Var) -> list[tuple[Any, ...]] | None:
        info = self.var_info[v.name]
        what = f"initial value of {v.name}"
        try:
            init = self._init_value(v.init)
            if init is _MISSING:
                return None
            if isinstance(init, OneOf):
                return _dedupe([self._concrete(self._init_value(x), info.type, what) for x in init.values])
            if isinstance(init, EachOf):
                if not isinstance(info.type, MapType):
                    raise ModelError(f"EachOf is for maps (each entry chosen independently); use OneOf for {v.name}")
                per_entry = _dedupe([self._concrete(self._init_value(x), info.type.value, what) for x in init.values])
                combos = itertools.product(per_entry, repeat=len(info.type.domain.values))
                return [tuple(itertools.chain.from_iterable(combo)) for combo in combos]
            return [self._concrete(init, info.type, what)]
        except ModelError as exc:
            raise self.fail(exc, f"variable {v.name}", v.location) from None

    def _initial_states(self, vars_: list[Var]) -> tuple[tuple[Any, ...], ...]:
        alternatives = {v.name: self._alternatives(v) for v in vars_}
        initials = [d for d in self.decls.values() if isinstance(d, _Decl) and d.kind == "initial"]
        states: list[tuple[Any, ...]] = []
        if not initials:
            for v in vars_:
                if alternatives[v.name] is None:
                    raise self.fail(ModelError(f"variable {v.name} has no initial value: give init=... or set it in an @initial function"), None, v.location)
            for combo in itertools.product(*(alternatives[v.name] or [] for v in vars_)):
                states.append(tuple(itertools.chain.from_iterable(combo)))
            return tuple(_dedupe(states))
        defaults = [v for v in vars_ if alternatives[v.name] is not None]
        for decl in initials:
            for params in self._bindings_of(decl):
                for combo in itertools.product(*(alternatives[v.name] or [] for v in defaults)):
                    current: list[Any] = [None] * len(self.slots)
                    for v, values in zip(defaults, combo):
                        info = self.var_info[v.name]
                        for j, value in enumerate(values):
                            current[info.first + j] = ir.const(self.slots[info.first + j].type, value)
                    tracer = _Tracer(self, "initial", current)
                    if self._run(tracer, decl, params) is False:
                        continue
                    unset = [i for i, e in enumerate(tracer.current) if e is None]
                    if unset:
                        info = self.var_info[self.slots[unset[0]].var]
                        written = any(e is not None for e in tracer.current[info.first : info.first + info.count])
                        what = self.slots[unset[0]].name if written else f"variable {info.name}"
                        message = f"{what} has no initial value: set it in this function or give init=..."
                        raise self.fail(ModelError(message), _describe_binding(decl, params), decl.location)
                    states.append(tuple(e.data for e in tracer.current))
        return tuple(_dedupe(states))

    # -- actions

    def _bindings_of(self, decl: _Decl) -> Iterator[dict[str, Any]]:
        names = list(decl.params)
        signature = list(inspect.signature(decl.fn).parameters)
        expected = signature[1:]
        if sorted(expected) != sorted(names):
            raise self.fail(
                ModelError(f"@{decl.kind} declares parameters ({', '.join(names) or 'none'}) but {decl.fn.__name__} takes "
                           f"({', '.join(expected) or 'only the state'}); declare each one with a domain, "
                           f"like @{decl.kind}({expected[0] if expected else 'p'}=DOMAIN)"),
                f"{decl.kind} {decl.name}", decl.location)
        for name in names:
            if name in RESERVED:
                raise self.fail(ModelError(f"{name!r} is a reserved name; call the parameter something else"), f"{decl.kind} {decl.name}", decl.location)
        for name, line in _assigned_parameters(decl.fn, names):
            raise self.fail(ModelError(f"parameter {name!r} is assigned to; a parameter is fixed for each binding, so compute a new name instead"),
                            f"{decl.kind} {decl.name}", SourceLocation(decl.fn.__code__.co_filename, line))
        domains = []
        for name in names:
            try:
                domains.append(self.resolver.domain(decl.params[name]))
            except ModelError as exc:
                raise self.fail(exc, f"{decl.kind} {decl.name}, parameter {name}", decl.location) from None
        for values in itertools.product(*(d.values for d in domains)):
            yield dict(zip(names, values))

    def _run(self, tracer: _Tracer, decl: _Decl, params: dict[str, Any], post_view: bool = False) -> Any:
        """Run ``decl`` under ``tracer``; False if a require was concretely false, else its return value or True."""
        token = ACTIVE_SINK.set(tracer)
        try:
            views = [_StateView(tracer)] + ([_StateView(tracer, post=True)] if post_view else [])
            if decl.on is not None or decl.via is not None:
                self._placement_guards(tracer, views[0], decl, params)
            result = decl.fn(*views, **params)
        except _Disabled:
            return False
        except ModelError as exc:
            raise self.fail(exc, _describe_binding(decl, params)) from None
        except RecursionError as exc:  # a helper that calls itself without end, named with its line; else a deep expression
            error = user_code_error(exc, "tracing") if recursion_site(exc.__traceback__) else ModelError("the expression is nested too deeply to trace")
            raise self.fail(error, _describe_binding(decl, params)) from None
        except Exception as exc:
            # A plain Python mistake in the model's code (a misspelt name, an index out of range):
            # report it where it happened, like any other model error.
            error = ModelError(f"{type(exc).__name__}: {exc}")
            error.location = user_location(exc.__traceback__)
            raise self.fail(error, _describe_binding(decl, params)) from None
        finally:
            ACTIVE_SINK.reset(token)
        return result

    def _placement_guards(self, tracer: _Tracer, view: Any, decl: _Decl, params: dict[str, Any]) -> None:
        """The guards that ``on=`` (the node is up) and ``via=`` (both ends up and linked) add."""

        def node(ref: Any, what: str) -> Any:
            if isinstance(ref, str):
                if ref not in params:
                    raise ModelError(f"{what}={ref!r} names no parameter of {decl.name}; name a parameter or give a function of (s, params...)")
                return params[ref]
            if callable(ref):
                return ref(view, **params)
            raise ModelError(f"{what}= takes a parameter name or a function of the state and parameters, not {ref!r}")

        if decl.on is not None:
            assert self.on_guard is not None
            tracer.require(to_bool(self.on_guard(view, node(decl.on, "on"))))
        if decl.via is not None:
            assert self.via_guard is not None
            if not (isinstance(decl.via, tuple) and len(decl.via) == 2):
                raise ModelError("via= takes a pair, via=(\"src\", \"dst\")")
            tracer.require(to_bool(self.via_guard(view, node(decl.via[0], "via"), node(decl.via[1], "via"))))

    def _actions(self) -> tuple[Binding, ...]:
        out = []
        pre = [ir.var(i, s.type) for i, s in enumerate(self.slots)]
        decls = [d for d in self.decls.values() if isinstance(d, _Decl) and d.kind == "action"] + self.generated_actions
        # Every action by name, even one with no transition at all (coverage reports it as never enabled), and
        # those the framework generates (fault actions: not the model's own steps).
        self.extra["actions"] = list(dict.fromkeys(d.name for d in decls))
        self.extra["generated_actions"] = list(dict.fromkeys(d.name for d in self.generated_actions))
        for decl in decls:
            if (decl.on is not None and self.on_guard is None) or (decl.via is not None and self.via_guard is None):
                raise self.fail(ModelError("on= and via= need the durability domain: declare faults = Faults(...) with a topology as the node domain"),
                                f"action {decl.name}", decl.location)
            for params in self._bindings_of(decl):
                tracer = _Tracer(self, "action", list(pre))
                if self._run(tracer, decl, params) is False:
                    continue
                guard = ir.and_(*tracer.guards)
                if guard.is_const and not guard.data:
                    continue
                updates = tuple((i, e) for i, e in enumerate(tracer.current) if e != pre[i])
                out.append(Binding(decl.name, tuple(params.items()), guard, updates, tuple(tracer.checks), decl.location))
        return tuple(out)

    # -- properties

    def _properties(self) -> tuple[Property, ...]:
        out = []
        pre = [ir.var(i, s.type) for i, s in enumerate(self.slots)]
        post = [ir.post(i, s.type) for i, s in enumerate(self.slots)]
        for decl in self.decls.values():
            if not (isinstance(decl, _Decl) and decl.kind in ("invariant", "step", "sometimes")):
                continue
            expected = 2 if decl.kind == "step" else 1
            if len(inspect.signature(decl.fn).parameters) != expected:
                shape = "(s, t)" if decl.kind == "step" else "(s)"
                kind = "step_invariant" if decl.kind == "step" else decl.kind
                raise self.fail(ModelError(f"a @{kind} function takes {shape}"), f"property {decl.name}", decl.location)
            tracer = _Tracer(self, "property", list(pre), post)
            tracer.property_name = decl.label or decl.name
            result = self._run(tracer, decl, {}, post_view=decl.kind == "step")
            if result is None:
                raise self.fail(ModelError(f"property {decl.name} returns nothing: end it with `return <condition>`"),
                                f"property {decl.name}", decl.location)
            try:
                expr = to_bool(result)
            except ModelError:
                raise self.fail(ModelError(f"property {decl.name} must return a condition (a Boolean expression), not {type(result).__name__}"),
                                f"property {decl.name}", decl.location) from None
            out.append(Property(decl.label or decl.name, decl.kind, expr, tuple(tracer.checks), decl.location,
                                inspect.getdoc(decl.fn) or "", decl.lemma))
        return tuple(out)


def _describe_binding(decl: _Decl, params: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={describe_value(v)}" for k, v in params.items())
    kind = {"step": "property", "sometimes": "property", "invariant": "property"}.get(decl.kind, decl.kind)
    return f"{kind} {decl.name}({inner})" if kind in ("action", "initial") else f"{kind} {decl.name}"


def _dedupe(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
