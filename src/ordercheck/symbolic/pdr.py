"""Unbounded proofs without lemmas: IC3/PDR (Z3's Spacer) over constrained Horn clauses.

k-induction (:mod:`ordercheck.symbolic.induction`) proves an invariant only
when it is inductive, or made so by lemmas the user writes.  PDR finds the
strengthening itself: Spacer (Komuro, Gurfinkel, Chockler, CAV 2014), the
IC3/PDR engine of Z3's fixedpoint module, solves the constrained Horn clauses

.. code-block:: text

    Inv(x)          <-  init(x)
    Inv(y)          <-  Inv(x) and trans(x, y)
    false           <-  Inv(x) and not P(x)          (one clause: every obligation)

over the same bit-vector encoding as the other Z3 engines
(:class:`~ordercheck.symbolic.encode.Encoding`).  ``unsat`` means a
solution ``Inv`` exists: an inductive invariant that implies the obligations.
``sat`` means a violation is reachable.

Nothing Spacer answers is taken on trust (mypyvy's rule: every symbolic
answer is re-checked):

- **holds** only with the inductive invariant Spacer returns, re-proved here
  with three fresh Z3 solvers: ``init => Inv``, ``Inv and trans => Inv'``
  (the model's transitions, model errors included) and ``Inv => P`` for every
  obligation (the selected properties, the absence of model errors, and no
  deadlock when asked).  When the re-check fails, Spacer is asked once more
  without the tail simplifier's propagation of variable equalities (with
  z3-solver 5.4.1 it once answered ``unsat`` with the invariant ``False`` for a
  reachable violation); a second failure, or ``unknown``, makes the verdict
  ``inconclusive``, never ``holds``;
- **violated** only with a counterexample found by bounded model checking
  (the unrolling of :mod:`ordercheck.symbolic.bmc`, so it is a shortest one)
  and replayed on the reference semantics like every trace;
- ``unknown``, the time bound and Ctrl-C give **inconclusive**.

Each property is asked about on its own (with the absence of model errors),
so that a hard one does not keep the easy ones from their proofs; under a
time bound each gets a fair share of what is left.  The invariant is reported
in terms of the model's variables (:func:`describe_invariant`), one clause a
line.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, require
>>> class Even(Model):
...     x = Var(Int(0, 10), init=0)
...     @action
...     def add2(s):
...         require(s.x <= 8)
...         s.x = s.x + 2
...     @invariant
...     def not_seven(s):
...         return s.x != 7
>>> r = pdr(Even())
>>> r.verdict, r.property("not_seven").reason
('holds', 'proved by PDR (Spacer): an inductive invariant implies it, re-checked')
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> r = pdr(Up())
>>> r.verdict, len(r.counterexample)
('violated', 3)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from ..lang.errors import InputError, ModelError
from ..lang.model import Model
from ..lang.spec import Spec
from ..lang.types import BoolType, FinType, IntType, SetType
from ..report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats
from .bmc import STOPPED_EARLY, DepthStats, Unrolling, as_spec, property_obligations
from .encode import Encoding
from .path import NO_ERROR, Obligation

__all__ = ["Invariant", "describe_invariant", "pdr", "recheck_invariant"]

PROVED = "proved by PDR (Spacer): an inductive invariant implies it, re-checked"


@dataclass
class Invariant:
    """An inductive invariant found by Spacer: the formula over the template pre-state and its clauses as text."""

    formula: z3.BoolRef
    clauses: list[str]

    def __str__(self) -> str:
        return "\n".join(self.clauses)


class _Stop(Exception):
    """The run's time bound, or Ctrl-C: whatever is open becomes inconclusive with this reason."""


def _left(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Stop("time bound reached")
    return left


class _Horn:
    """The Horn clauses of one query: reachable states ``Inv`` and a goal relation ``Goal`` over them."""

    def __init__(self, enc: Encoding, deadline: float | None, careful: bool = False) -> None:
        self.enc = enc
        self.deadline = deadline
        self.fp = z3.Fixedpoint()
        self.fp.set(engine="spacer")
        # Keep Inv's signature as declared: slicing or inlining it would make the solution Spacer reports
        # (get_cover_delta) range over the transformed relation's arguments, not the slots.
        self.fp.set("xform.slice", False)
        self.fp.set("xform.inline_linear", False)
        self.fp.set("xform.inline_eager", False)
        if careful:
            # With z3-solver 5.4.1 the tail simplifier's propagation of variable equalities made Spacer answer
            # unsat, with the invariant False, for a reachable violation (hospital-2 with two orders; the re-check
            # caught it).  Without it the answer is right, and slower: it is the second try, after a re-check fails.
            self.fp.set("xform.tail_simplifier_pve", False)
        self.inv = z3.Function("Inv", *[v.sort() for v in enc.x], z3.BoolSort())
        self.goal = z3.Function("Goal", z3.BoolSort())
        self.fp.register_relation(self.inv, self.goal)
        self.fp.declare_var(*enc.x, *enc.y, *enc.fire)
        self.y_valid = enc.at(enc.valid, enc.y)
        self.fp.rule(self.inv(*enc.x), z3.And(enc.init, enc.valid))
        self.fp.rule(self.inv(*enc.y), [self.inv(*enc.x), enc.valid, self.y_valid, enc.trans_ok])

    def add_goal(self, state_cond: z3.BoolRef | None, step_cond: z3.BoolRef | None) -> None:
        """``Goal`` when a reachable state satisfies ``state_cond``, or a step from one satisfies ``step_cond``."""
        enc = self.enc
        if state_cond is not None:
            self.fp.rule(self.goal(), [self.inv(*enc.x), enc.valid, state_cond])
        if step_cond is not None:
            self.fp.rule(self.goal(), [self.inv(*enc.x), enc.valid, self.y_valid, enc.trans_ok, step_cond])

    def query(self) -> z3.CheckSatResult:
        left = _left(self.deadline)
        if left is not None:
            self.fp.set(timeout=max(1, int(left * 1000)))
        try:
            result = self.fp.query(self.goal())
        except KeyboardInterrupt:
            raise _Stop("interrupted") from None
        except z3.Z3Exception as exc:  # Spacer reports its timeout, and Ctrl-C, as "canceled"
            raise _Stop(self._why(str(exc))) from None
        if result == z3.unknown:
            raise _Stop(self._why(self.fp.reason_unknown()))
        return result

    def _why(self, reason: str) -> str:
        if "timeout" in reason or (self.deadline is not None and time.monotonic() >= self.deadline - 0.05):
            return "time bound reached"
        if "cancel" in reason:
            return "interrupted"
        return f"Spacer returned unknown ({reason})"

    def invariant(self) -> z3.BoolRef:
        """The interpretation of ``Inv`` that Spacer found, over the template pre-state ``x``."""
        cover = self.fp.get_cover_delta(-1, self.inv)
        xs = self.enc.x
        return z3.substitute_vars(cover, *xs) if xs else cover  # type: ignore[no-any-return]


def _obligation_parts(enc: Encoding, obligations: Sequence[Obligation]) -> tuple[z3.BoolRef | None, z3.BoolRef | None]:
    """The negations of the state obligations and of the step obligations (over ``x`` and ``y``)."""
    state: list[z3.BoolRef] = []
    step: list[z3.BoolRef] = []
    for ob in obligations:
        cond = ob.cond if ob.ok is None else z3.And(ob.ok, ob.cond)
        (step if ob.is_step else state).append(cond)
    return (z3.Not(z3.And(state)) if state else None), (z3.Not(z3.And(step)) if step else None)


def recheck_invariant(enc: Encoding, inv: z3.BoolRef, obligations: Sequence[Obligation], deadline: float | None = None,
                      goal: z3.BoolRef | None = None) -> str:
    """Re-prove that ``inv`` (over ``x``) is an inductive invariant implying the obligations; ``""`` if so, else why not.

    Each question is asked of a fresh solver: ``init => inv``; ``inv and trans => inv'`` over the model's
    transitions (``trans``, not ``trans_ok``: a model error from an ``inv`` state is ruled out by the
    no-error obligation instead); ``inv => ob`` for each obligation (over a transition for a step property);
    and, with ``goal``, that no ``inv`` state satisfies it.
    """
    x_inv = inv
    y_inv = enc.at(inv, enc.y)
    questions: list[tuple[str, list[z3.BoolRef]]] = [
        ("the initial states satisfy it", [enc.init, enc.valid, z3.Not(x_inv)]),
        ("it is preserved by every transition", [enc.valid, x_inv, enc.at(enc.valid, enc.y), enc.trans, z3.Not(y_inv)]),
    ]
    for ob in obligations:
        cond = ob.cond if ob.ok is None else z3.And(ob.ok, ob.cond)
        if ob.is_step:
            questions.append((f"it implies {ob.name}", [enc.valid, x_inv, enc.at(enc.valid, enc.y), enc.trans, z3.Not(cond)]))
        else:
            questions.append((f"it implies {ob.name}", [enc.valid, x_inv, z3.Not(cond)]))
    if goal is not None:
        questions.append(("no state satisfying it reaches the goal", [enc.valid, x_inv, goal]))
    for what, formulas in questions:
        solver = z3.Solver()
        try:
            left = _left(deadline)
        except _Stop:
            return f"the time bound was reached while re-checking that {what}"
        if left is not None:
            solver.set("timeout", max(1, int(left * 1000)))
        solver.add(*formulas)
        result = solver.check()
        if result == z3.sat:
            return f"the invariant Spacer returned does not re-check: it is not true that {what}"
        if result == z3.unknown:
            return f"re-checking that {what} gave unknown ({solver.reason_unknown()})"
    return ""


def pdr(model: Model | Spec, *, properties: list[str] | None = None, keep_going: bool = False, deadlock: bool = False,
        timeout_s: float | None = None, progress: Callable[[DepthStats], None] | None = None) -> Result:
    """Prove or refute the invariants and step properties of ``model`` with IC3/PDR (Z3's Spacer), without lemmas.

    Parameters
    ----------
    model : Model or Spec
        A model instance (or its traced spec).
    properties : list of str, optional
        Check only these properties (all by default).  A ``sometimes`` goal is ``holds`` when BMC (first, with
        half its share of the time) or Spacer reaches a state satisfying it, ``violated`` when Spacer proves
        (and the re-check confirms) that none is reachable.
    keep_going : bool
        After a violation, go on proving or refuting the other properties (each violation its own shortest trace).
    deadlock : bool
        Also prove that no reachable state is a deadlock (a result named ``deadlock``).
    timeout_s : float, optional
        Wall-clock budget for the whole run; when it runs out, what is open is ``inconclusive``.
    progress : callable, optional
        Called after each Spacer query and each BMC depth with a :class:`~ordercheck.symbolic.bmc.DepthStats`.

    Returns
    -------
    Result
        Engine ``"pdr"``.  ``holds`` only with an inductive invariant that was re-checked (its clauses, in the
        model's variables, are in ``extra["invariants"][name]``; each property is asked about on its own); ``violated`` with a shortest
        trace from bounded model checking, replayed; ``inconclusive`` with the reason otherwise.
        ``stats.depth`` is the length of the longest counterexample (0 when none).

    Raises
    ------
    ModelError
        A model error (a failed run-time check, an integer out of range) is reachable; its trace leads there.
    """
    if timeout_s is not None and timeout_s <= 0:
        raise InputError(f"timeout_s must be positive, got {timeout_s}")
    spec = as_spec(model)
    start = time.monotonic()
    deadline = None if timeout_s is None else start + timeout_s
    enc = Encoding(spec)
    targets, goals = property_obligations(spec, enc, properties, deadlock)
    no_error = enc.no_error()
    error_ob = None if z3.is_true(z3.simplify(no_error)) else Obligation(NO_ERROR, "no-error", no_error, role="no-error")
    results: dict[str, PropertyResult] = {}
    stop_reason = ""
    invariants: dict[str, Invariant] = {}
    queries = 0
    retries: list[str] = []  # re-checks that failed on the first try (then Spacer is asked again, carefully)
    errors_proved = error_ob is None
    bmc_run = Unrolling(spec, enc, list(targets), [], keep_going=True, timeout_s=None)

    def report(what: int) -> None:
        if progress is not None:
            progress(DepthStats("pdr", what, 0.0, queries, time.monotonic() - start, len(targets) + len(goals) - len(results)))

    def ask(checked: list[Obligation], until: float | None, goal: z3.BoolRef | None = None) -> z3.BoolRef | None:
        """Spacer's re-checked invariant for ``checked`` (or against ``goal``), or ``None`` when a violation is reachable."""
        nonlocal queries
        for careful in (False, True):
            horn = _Horn(enc, until, careful)
            horn.add_goal(*(_obligation_parts(enc, checked) if goal is None else (goal, None)))
            queries += 1
            answer = horn.query()
            report(queries)
            if answer == z3.sat:
                return None
            formula = horn.invariant()
            why = recheck_invariant(enc, formula, checked, until, goal=goal)
            if not why:
                return formula
            if careful:
                raise _Stop(why)
            retries.append(why)
        raise AssertionError("unreachable")

    try:
        # One query per property (each with the absence of model errors), so that a hard property does not keep
        # the easy ones from their proofs; with a time bound each gets a fair share of what is left, and what runs
        # out of its share is tried again with the rest.
        # A sometimes goal is a unit of its own: reached (Spacer's sat) or proved out of reach.
        units: list[list[Obligation]] = [[ob] for ob in targets] or ([[]] if error_ob is not None else [])
        units += [[goal] for goal in goals]
        stopped = False
        for _round in (1, 2):
            timed_out: list[list[Obligation]] = []
            for i, unit in enumerate(units):
                if stopped or any(ob.name in results for ob in unit):
                    continue
                until = None if deadline is None else time.monotonic() + max(0.0, deadline - time.monotonic()) / (len(units) - i)
                try:
                    if unit and unit[0].kind == "sometimes":
                        goal = unit[0]
                        if _bmc_reaches(spec, enc, goal, until):  # a goal a few steps away: BMC finds it sooner than Spacer
                            results[goal.name] = PropertyResult(goal.name, goal.kind, HOLDS,
                                                                reason="a state satisfying the goal is reachable (BMC)")
                        elif ask([], until, goal=goal.cond) is None:
                            results[goal.name] = PropertyResult(goal.name, goal.kind, HOLDS, reason="a state satisfying the goal is reachable (Spacer)")
                        else:
                            results[goal.name] = PropertyResult(goal.name, goal.kind, VIOLATED,
                                                                reason="no reachable state satisfies the goal (proved by PDR, re-checked)")
                        continue
                    checked = unit + ([error_ob] if error_ob is not None else [])
                    formula = ask(checked, until)
                except _Stop as stop:
                    if str(stop) == "time bound reached" and deadline is not None and time.monotonic() < deadline - 0.05:
                        timed_out.append(unit)
                        continue
                    raise
                if formula is not None:
                    errors_proved = True
                    for ob in unit:
                        results[ob.name] = PropertyResult(ob.name, ob.kind, HOLDS, reason=PROVED)
                        invariants[ob.name] = Invariant(formula, describe_invariant(enc, formula))
                    if not unit:
                        invariants[NO_ERROR] = Invariant(formula, describe_invariant(enc, formula))
                    continue
                # a violation (or a model error, raised from there) is reachable: bounded model checking finds a shortest one
                while not unit or not all(ob.name in results for ob in unit):
                    found = _bmc_until_violation(bmc_run, deadline, report)
                    if not found:
                        raise _Stop("Spacer reports a reachable violation that bounded model checking did not confirm")
                    for name in found:
                        results[name] = bmc_run.violations[name]
                    if not keep_going:
                        stopped = True
                        break
            units = timed_out
            if not units:
                break
        if stopped:
            for ob in targets + goals:
                if ob.name not in results:
                    results[ob.name] = PropertyResult(ob.name, ob.kind, INCONCLUSIVE, reason=STOPPED_EARLY)
        if units:
            raise _Stop("time bound reached")
    except _Stop as stop:
        stop_reason = str(stop)
        if stop_reason == "time bound reached" and timeout_s is not None:
            stop_reason = f"time bound {timeout_s:g} s reached"
    for ob in targets + goals:
        if ob.name not in results:
            results[ob.name] = PropertyResult(ob.name, ob.kind, INCONCLUSIVE, reason=stop_reason or "not decided")
    order = {p.name: i for i, p in enumerate(spec.properties)}
    ordered = sorted(results.values(), key=lambda r: order.get(r.name, len(order)))
    longest = max((len(r.counterexample) for r in ordered if r.counterexample is not None), default=0)
    stats = Stats(0, 0, longest, time.monotonic() - start)
    clauses = list(dict.fromkeys(c for inv in invariants.values() for c in inv.clauses))
    extra: dict[str, Any] = {"derived_constants": spec.derived, "queries": queries,
                             "invariants": {name: list(inv.clauses) for name, inv in invariants.items()},
                             "invariant": "\n".join(clauses) if clauses else None, "invariant_clauses": clauses,
                             "model_errors_proved_impossible": errors_proved,
                             "bmc_depth": bmc_run.depth, "spacer_retries": retries}
    return Result(spec.name, dict(spec.constants), "pdr", ordered, stats, stop_reason, extra)


def _bmc_reaches(spec: Spec, enc: Encoding, goal: Obligation, until: float | None) -> bool:
    """Whether bounded model checking reaches ``goal`` within half the time to ``until`` (no time bound: 20 states)."""
    stop = None if until is None else time.monotonic() + max(0.0, until - time.monotonic()) / 2
    run = Unrolling(spec, enc, [], [goal], timeout_s=None)
    while not run.done and (len(run.path) < 20 if stop is None else time.monotonic() < stop):
        run.timed.deadline, run.timed.timeout_s = stop, None if stop is None else max(0.001, stop - time.monotonic())
        try:
            run.advance()
        except ModelError:
            return False  # a model error is reported by the properties' queries, with its trace
        except KeyboardInterrupt:
            raise _Stop("interrupted") from None
    return goal.name in run.reached


def _bmc_until_violation(run: Unrolling, deadline: float | None, report: Callable[[int], None]) -> list[str]:
    """Advance ``run`` a depth at a time until it finds violations; their names (empty if it ran out of executions)."""
    before = set(run.violations)
    while True:
        left = _left(deadline)
        run.timed.deadline = None if left is None else time.monotonic() + left
        run.timed.timeout_s = left
        try:
            run.advance()
        except KeyboardInterrupt:
            raise _Stop("interrupted") from None
        report(len(run.path))
        if run.unknown:
            out_of_time = deadline is not None and time.monotonic() >= deadline - 0.05
            raise _Stop("time bound reached" if out_of_time else run.unknown)
        found = [name for name in run.violations if name not in before]
        if found:
            return found
        if run.exhausted:
            return []


# ----------------------------------------------------------------------------- the invariant as text


def describe_invariant(enc: Encoding, formula: z3.BoolRef) -> list[str]:
    """The clauses of ``formula`` (over ``x``) in the model's terms: slot names, labels, elements and integer values.

    >>> from ordercheck.lang import Model, Var, Enum, spec_of
    >>> class L(Model):
    ...     light = Var(Enum("red", "green"), init="red")
    >>> enc = Encoding(spec_of(L()))
    >>> describe_invariant(enc, enc.x[0] == 1)
    ['light == green']
    """
    slots = {v.get_id(): i for i, v in enumerate(enc.x)}
    simplified = z3.simplify(formula)
    conjuncts = list(simplified.children()) if z3.is_and(simplified) else [simplified]
    return [_text(enc, slots, c) for c in conjuncts if not z3.is_true(c)] or ["true"]


def _text(enc: Encoding, slots: dict[int, int], e: z3.ExprRef) -> str:
    def slot_of(t: z3.ExprRef) -> int | None:
        return slots.get(t.get_id()) if z3.is_const(t) else None

    def value(i: int, raw: int) -> str:
        t = enc.spec.slots[i].type
        if isinstance(t, IntType):
            return str(raw + t.lo)
        if isinstance(t, FinType):
            return str(t.values[raw]) if raw < len(t.values) else f"<index {raw}>"
        if isinstance(t, SetType):
            return "{" + ", ".join(str(v) for j, v in enumerate(t.domain.values) if (raw >> j) & 1) + "}"
        return str(raw)

    def bit(t: z3.ExprRef) -> str | None:
        """``elem in set`` for a one-bit extract of a set slot."""
        if z3.is_app_of(t, z3.Z3_OP_EXTRACT):
            hi, lo = t.params()
            i = slot_of(t.arg(0))
            if i is not None and hi == lo and isinstance(enc.spec.slots[i].type, SetType):
                domain = enc.spec.slots[i].type.domain.values  # type: ignore[union-attr]
                return f"{domain[lo]} in {enc.spec.slots[i].name}"
        return None

    if z3.is_and(e):
        return " & ".join(_wrap(enc, slots, c) for c in e.children())
    if z3.is_or(e):
        return " | ".join(_wrap(enc, slots, c) for c in e.children())
    if z3.is_not(e):
        inner = e.arg(0)
        if z3.is_eq(inner):
            return _text(enc, slots, inner).replace(" == ", " != ", 1) if " == " in _text(enc, slots, inner) else f"~({_text(enc, slots, inner)})"
        return f"~{_wrap(enc, slots, inner)}"
    if z3.is_app_of(e, z3.Z3_OP_BIT2BOOL):
        i = slot_of(e.arg(0))
        if i is not None and isinstance(enc.spec.slots[i].type, SetType):
            j = e.params()[0]
            return f"{enc.spec.slots[i].type.domain.values[j]} in {enc.spec.slots[i].name}"  # type: ignore[union-attr]
    if z3.is_eq(e):
        a, b = e.arg(0), e.arg(1)
        if z3.is_bv_value(a):
            a, b = b, a
        i = slot_of(a)
        if i is not None and z3.is_bv_value(b):
            return f"{enc.spec.slots[i].name} == {value(i, b.as_long())}"
        found = bit(a)
        if found is not None and z3.is_bv_value(b):
            return found if b.as_long() == 1 else found.replace(" in ", " not in ", 1)
        i, j = slot_of(a), slot_of(b)
        if i is not None and j is not None:
            return f"{enc.spec.slots[i].name} == {enc.spec.slots[j].name}"
    if z3.is_app_of(e, z3.Z3_OP_ULEQ) or z3.is_app_of(e, z3.Z3_OP_ULT):
        op = "<=" if z3.is_app_of(e, z3.Z3_OP_ULEQ) else "<"
        a, b = e.arg(0), e.arg(1)
        i, j = slot_of(a), slot_of(b)
        if i is not None and z3.is_bv_value(b) and isinstance(enc.spec.slots[i].type, (IntType, FinType)):
            return f"{enc.spec.slots[i].name} {op} {value(i, b.as_long())}"
        if j is not None and z3.is_bv_value(a) and isinstance(enc.spec.slots[j].type, (IntType, FinType)):
            return f"{value(j, a.as_long())} {op} {enc.spec.slots[j].name}"
    i = slot_of(e)
    if i is not None and isinstance(enc.spec.slots[i].type, BoolType):
        return enc.spec.slots[i].name
    # anything else: Z3's own rendering, with the template prefix dropped from the slot names
    return str(e).replace("x.", "")


def _wrap(enc: Encoding, slots: dict[int, int], e: z3.ExprRef) -> str:
    text = _text(enc, slots, e)
    return f"({text})" if z3.is_and(e) or z3.is_or(e) else text
