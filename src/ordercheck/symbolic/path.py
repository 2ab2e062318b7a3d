"""What the symbolic engines share: obligations, a path unrolled on a solver, timed checks, model errors.

An :class:`Obligation` is something that must hold in every reachable state
(``invariant``, ``deadlock``, ``no-error``) or on every transition
(``step``); a *goal* (``sometimes``) is one to reach.  A :class:`Path` is a
sequence of states ``s0, s1, ...`` on one solver, extended one state at a
time, that decodes a Z3 model into the engine-neutral path format
``[(None, s0), (binding, s1), ...]`` that :func:`~ordercheck.report.build.build_trace`
replays.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 2), init=0)
...     @action
...     def inc(s):
...         require(s.x < 2)
...         s.x = s.x + 1
>>> spec = spec_of(Up())
>>> timed = TimedSolver(None)
>>> path = Path(Encoding(spec), timed.solver, "s")
>>> path.extend(); path.extend(); path.extend()
>>> timed.check() == z3.sat
True
>>> path.decode(timed.solver.model())
[(None, (0,)), (0, (1,)), (0, (2,))]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import z3

from ..lang import ir
from ..lang.errors import Interrupted, ModelError
from ..lang.interpret import CheckFailed, ReplayMismatch, evaluate, fire
from ..lang.spec import Property, Spec, State
from ..report.build import build_trace
from ..report.trace import Trace
from .encode import Encoding, StateVars

__all__ = ["DEADLOCK", "NO_ERROR", "Obligation", "Path", "RawPath", "TimedSolver", "model_error", "obligation_holds", "obligation_of", "violation_trace"]

DEADLOCK = "deadlock"
NO_ERROR = "no model error"

RawPath = list[tuple[int | None, State]]


@dataclass(eq=False)
class Obligation:
    """A condition to keep (or, for ``sometimes``, to reach), with its Z3 formula over the templates.

    ``kind`` is ``invariant``, ``step`` (over ``x`` and ``y``), ``sometimes``, ``deadlock``
    (``cond`` is "some binding is enabled") or ``no-error`` (no enabled binding fails a check).
    ``prop`` is the language's property, if any; ``in_spec`` says whether the spec has it by
    name (then the reference semantics can replay a violation of it by name).
    """

    name: str
    kind: str
    cond: z3.BoolRef
    ok: z3.BoolRef | None = None
    prop: Property | None = None
    in_spec: bool = False
    role: str = "property"

    @property
    def is_step(self) -> bool:
        return self.kind == "step"

    def at(self, enc: Encoding, states: list[StateVars], i: int) -> z3.BoolRef | None:
        """The condition at state ``i`` of ``states`` (for a step obligation: on the step into ``i``)."""
        if self.is_step:
            return enc.at(self.cond, states[i - 1], states[i]) if i >= 1 else None
        return enc.at(self.cond, states[i])  # type: ignore[no-any-return]

    def kept_at(self, enc: Encoding, states: list[StateVars], i: int) -> z3.BoolRef | None:
        """The condition *and* the property's run-time checks at ``i``: what an induction proves."""
        cond = self.at(enc, states, i)
        ok = self.ok_at(enc, states, i)
        return cond if ok is None or cond is None else z3.And(ok, cond)

    def ok_at(self, enc: Encoding, states: list[StateVars], i: int) -> z3.BoolRef | None:
        """Whether the property's run-time checks pass at ``i`` (``None`` when it has none)."""
        if self.ok is None:
            return None
        if self.is_step:
            return enc.at(self.ok, states[i - 1], states[i]) if i >= 1 else None
        return enc.at(self.ok, states[i])  # type: ignore[no-any-return]


def obligation_of(enc: Encoding, prop: Property, in_spec: bool, role: str = "property") -> Obligation:
    """The obligation of a language property."""
    ok = enc.prop_ok(prop) if prop.checks else None
    return Obligation(prop.name, prop.kind, enc.prop(prop), ok, prop, in_spec, role)


class TimedSolver:
    """One Z3 solver, with a wall-clock deadline shared by all its checks and the time spent in them."""

    def __init__(self, timeout_s: float | None) -> None:
        self.solver = z3.Solver()
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.seconds = 0.0
        self.checks = 0
        self.reason_unknown = ""

    def check(self, *assumptions: z3.BoolRef) -> z3.CheckSatResult:
        """``sat``, ``unsat`` or ``unknown`` (then :attr:`reason_unknown` says why)."""
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.reason_unknown = f"time bound {self.timeout_s:g} s reached"
                return z3.unknown
            self.solver.set("timeout", max(1, int(left * 1000)))
        start = time.monotonic()
        result = self.solver.check(*assumptions)
        self.seconds += time.monotonic() - start
        self.checks += 1
        if result == z3.unknown:
            reason = self.solver.reason_unknown()
            timed_out = self.deadline is not None and time.monotonic() >= self.deadline - 0.01
            if timed_out or (self.deadline is not None and reason in ("timeout", "canceled")):
                self.reason_unknown = f"time bound {self.timeout_s:g} s reached"
            elif reason.startswith("interrupted") or reason == "canceled":
                # Ctrl-C (Z3 catches SIGINT while it solves) or SIGTERM (the command line interrupts the context):
                # the engines turn this into their partial, inconclusive report
                raise Interrupted(reason)
            else:
                self.reason_unknown = f"Z3 returned unknown ({reason})"
        return result

    def query(self, formula: z3.BoolRef, *assumptions: z3.BoolRef) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """Check ``formula`` on top of what the solver holds, without keeping it; the model if ``sat``."""
        try:
            self.solver.push()
        except z3.Z3Exception as exc:  # an interrupt (SIGTERM) that reached Z3 between two checks cancels the next push
            if b"canceled" in (exc.value if isinstance(exc.value, bytes) else str(exc.value).encode()):
                raise Interrupted("canceled") from None
            raise
        try:
            self.solver.add(formula)
            result = self.check(*assumptions)
            return result, self.solver.model() if result == z3.sat else None
        finally:
            self.solver.pop()


class Path:
    """States ``prefix0, prefix1, ...`` on ``solver``: each in range, connected by error-free transitions.

    With ``initial`` the first state is an initial state (a bounded execution);
    without it the path may start anywhere (the step case of induction).
    With ``simple`` every state but the last differs from every other state.
    """

    def __init__(self, enc: Encoding, solver: z3.Solver, prefix: str, initial: bool = True, simple: bool = False) -> None:
        self.enc = enc
        self.solver = solver
        self.prefix = prefix
        self.initial = initial
        self.simple = simple
        self.states: list[StateVars] = []
        self.fires: list[list[z3.BoolRef]] = []
        self._packed: list[z3.ExprRef] = []

    def __len__(self) -> int:
        return len(self.states)

    def extend(self) -> None:
        """Add one state (and the transition into it)."""
        enc, i = self.enc, len(self.states)
        s = enc.new_state(f"{self.prefix}{i}")
        self.solver.add(enc.at(enc.valid, s))
        if i == 0 and self.initial:
            self.solver.add(enc.at(enc.init, s))
        if i > 0:
            f = enc.new_fire(f"{self.prefix}{i - 1}>{i}")
            self.solver.add(enc.at(enc.trans_ok, self.states[-1], s, f))
            self.fires.append(f)
        if self.simple and i >= 2:
            # the state before the new one is now an inner state: it differs from every earlier state
            inner = self._pack(self.states[-1])
            for earlier in self._packed[:-1]:
                self.solver.add(inner != earlier)
        self.states.append(s)
        self._packed.append(self._pack(s) if self.simple else s[0] if s else z3.BoolVal(True))

    def _pack(self, s: StateVars) -> z3.ExprRef:
        parts = [z3.If(v, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)) if isinstance(v, z3.BoolRef) else v for v in s]
        if not parts:
            return z3.BitVecVal(0, 1)
        return parts[0] if len(parts) == 1 else z3.Concat(parts)

    def decode(self, model: z3.ModelRef, n: int | None = None) -> RawPath:
        """The first ``n`` states (all by default) as ``[(None, s0), (binding, s1), ...]``."""
        n = len(self.states) if n is None else n
        out: RawPath = []
        for i in range(n):
            state = self.enc.decode(model, self.states[i])
            out.append((None if i == 0 else self.enc.fired(model, self.fires[i - 1]), state))
        return out


def obligation_holds(ob: Obligation, spec: Spec, before: State, after: State | None = None) -> bool:
    """Whether ``ob`` holds, by the reference semantics, in ``before`` (a step obligation: on ``before -> after``).

    Raises :class:`~ordercheck.lang.interpret.CheckFailed` when a run-time check of the property fails.
    """
    if ob.kind == DEADLOCK:
        return any(evaluate(b.guard, before) for b in spec.bindings)
    if ob.kind == "no-error":
        for b in spec.bindings:
            if evaluate(b.guard, before):
                try:
                    fire(spec, b, before)
                except ModelError:
                    return False
        return True
    assert ob.prop is not None
    memo: dict[ir.Expr, Any] = {}
    for check in ob.prop.checks:
        if not evaluate(check.cond, before, after, memo):
            raise CheckFailed(check, f"property {ob.prop.name}")
    return bool(evaluate(ob.prop.expr, before, after, memo))


def violation_trace(spec: Spec, ob: Obligation, path: RawPath) -> Trace:
    """The replayed trace of a reachable violation of ``ob`` (the last state, or the last step, violates it)."""
    if ob.kind == DEADLOCK:
        return build_trace(spec, path, None, DEADLOCK, "Deadlock: no action is enabled")
    if ob.in_spec:
        return build_trace(spec, path, ob.name, ob.kind)
    # a lemma or a vacuity claim that the spec does not have by name: replay the path, then check the claim here
    trace = build_trace(spec, path, None, ob.kind)
    last = path[-1][1]
    holds_ = obligation_holds(ob, spec, path[-2][1], last) if ob.is_step else obligation_holds(ob, spec, last)
    if holds_:
        raise ReplayMismatch(f"{ob.name} holds at the end of the trace that Z3 reported as violating it")
    return replace(trace, property=ob.name)


def model_error(spec: Spec, path: RawPath, binding: int | None = None, prop: Obligation | None = None, post: State | None = None) -> ModelError:
    """The model error that the last state of ``path`` makes, reproduced on the reference semantics, with its trace.

    ``binding``: the binding whose check fails (or whose written integer is out of range) in the last state;
    ``prop``: the property whose check fails there (on the step to ``post`` for a step property).
    """
    state = path[-1][1]
    try:
        if prop is not None:
            obligation_holds(prop, spec, state, post)
        else:
            assert binding is not None
            fire(spec, spec.bindings[binding], state)
    except ModelError as exc:
        error = exc
    else:
        raise ReplayMismatch("Z3 reported a model error that the reference semantics does not confirm (a bug in ordercheck's encoding)")
    error.model = error.model or spec.name
    error.trace = build_trace(spec, path, None, "model-error", str(error.message))
    return error
