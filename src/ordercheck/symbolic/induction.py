"""k-induction: proving that an invariant holds at every depth, with lemmas.

For ``k = 1, 2, ...`` two questions are asked, each on its own incremental solver:

- the **base case**: no execution of at most ``k`` states violates the
  obligations (bounded model checking; a violation found here is a real,
  replayed counterexample);
- the **induction step**: no path of ``k + 1`` states, the first ``k`` of them
  pairwise distinct (a *simple path*) and satisfying the obligations, each
  step a transition of the model, ends in a violation.  The states need not
  be reachable.

When both hold, the obligations hold in every reachable state.  The
obligations are proved jointly: the selected properties, the *lemmas*
(strengthening invariants, assumed in every state of the step and proved
too), and the absence of model errors (no enabled action fails a run-time
check; a property is only ``holds`` when that is proved as well).  Where the
step fails for some obligations only, they are set aside and the rest are
tried again at the same ``k`` (Houdini's algorithm), so one non-inductive
property does not block the proof of the others; whatever is proved is
assumed from then on.

A property still unproved at ``max_k`` is ``inconclusive``, with a
counterexample to induction: a :class:`~ordercheck.report.trace.Trace` of
kind ``induction`` holding the ``k + 1`` states of the failed step (checked
on the reference semantics: each step is a transition, the property holds
in the first ``k`` states and not in the last).  It shows what the missing
lemma must rule out.

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
...     @invariant
...     def even(s):
...         return s.x % 2 == 0
>>> r = induction(Even(), properties=["not_seven"], max_k=3)
>>> r.verdict, r.counterexample.kind, [step.state["x"] for step in r.counterexample.steps]
('inconclusive', 'induction', [1, 3, 5, 7])
>>> r = induction(Even(), properties=["not_seven"], lemmas=["even"])
>>> r.verdict, r.property("not_seven").reason
('holds', 'proved by 1-induction (lemmas: even)')
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from ..lang import ir
from ..lang.errors import InputError, ModelError, interruption_in_c
from ..lang.interpret import CheckFailed, ReplayMismatch, enabled, fire
from ..lang.model import Model
from ..lang.spec import Property, Spec, State
from ..report.result import HOLDS, INCONCLUSIVE, PropertyResult, Result, Stats
from ..report.trace import Step, Trace
from .bmc import DepthStats, Unrolling, as_spec, property_obligations
from .encode import Encoding
from .path import NO_ERROR, Obligation, Path, RawPath, TimedSolver, obligation_holds, obligation_of

__all__ = ["Proof", "induction", "prove"]


@dataclass(eq=False)
class Proof:
    """The outcome of :func:`prove` for a set of obligations and goals.

    ``proved`` maps a proved obligation's name to its ``k``; ``ctis`` an unproved one's
    to its counterexample to induction (raw path and ``k``); the base case (an
    :class:`~ordercheck.symbolic.bmc.Unrolling`) holds the violations and the goals reached.
    """

    base: Unrolling
    max_k: int
    proved: dict[str, int] = field(default_factory=dict)
    ctis: dict[str, tuple[RawPath, int]] = field(default_factory=dict)
    unknown: str = ""
    k: int = 0
    step_seconds: float = 0.0


def prove(spec: Spec, enc: Encoding, obligations: list[Obligation], goals: Sequence[Obligation] = (), *, max_k: int = 10,
          timeout_s: float | None = None, progress: Callable[[DepthStats], None] | None = None) -> Proof:
    """k-induction of ``obligations`` (jointly, Houdini-style) with the base case up to ``max_k`` states.

    ``goals`` are looked for in the base case.  Raises
    :class:`~ordercheck.lang.errors.ModelError` when the base case reaches a model error.
    """
    start = time.monotonic()
    base = Unrolling(spec, enc, list(obligations), list(goals), keep_going=True, timeout_s=timeout_s)
    proof = Proof(base, max_k)
    step = TimedSolver(timeout_s)
    step.deadline = base.timed.deadline  # one budget for the base case and the step together
    path = Path(enc, step.solver, "t", initial=False, simple=True)
    use = {ob.name: z3.Bool(f"use.{ob.name}") for ob in obligations}
    open_ = list(obligations)

    def assume_inner(i: int) -> None:
        """State ``i`` of the step path is an inner one: every obligation (while its literal is on) holds there."""
        for ob in obligations:
            cond = ob.kept_at(enc, path.states, i)
            if cond is not None:
                step.solver.add(z3.Implies(use[ob.name], cond))

    k = 0
    try:
        for k in range(1, max_k + 1):
            before, checks = base.timed.seconds + step.seconds, base.timed.checks + step.checks
            base.advance()  # base case: every execution of k states
            open_ = [ob for ob in open_ if ob.name not in base.violations]
            if base.unknown:
                proof.unknown = base.unknown
                break
            if base.exhausted:
                for ob in open_:
                    proof.proved[ob.name] = k
                open_ = []
                break
            proof.k = k
            while len(path) < k + 1:
                path.extend()
                if len(path) >= 2:
                    assume_inner(len(path) - 2)
            candidates = list(open_)
            while candidates:
                proved_lits = [use[name] for name in proof.proved]
                terms = [(ob, cond) for ob in candidates if (cond := ob.kept_at(enc, path.states, k)) is not None]
                result, model = step.query(z3.Or([z3.Not(c) for _, c in terms]), *proved_lits, *(use[ob.name] for ob in candidates))
                if result == z3.unknown:
                    proof.unknown = f"{step.reason_unknown} in the induction step at k = {k}"
                    break
                if result == z3.unsat:
                    for ob in candidates:
                        proof.proved[ob.name] = k
                        proof.ctis.pop(ob.name, None)
                    open_ = [ob for ob in open_ if ob.name not in proof.proved]
                    break
                assert model is not None
                raw = path.decode(model)
                dropped = [ob for ob, c in terms if z3.is_false(model.eval(c, model_completion=True))]
                assert dropped, "a model of the induction step violates nothing"
                for ob in dropped:
                    proof.ctis[ob.name] = (raw, k)
                    candidates.remove(ob)
            if progress is not None:
                spent = base.timed.seconds + step.seconds - before
                still_open = len(open_) + len(base.open_goals)
                progress(DepthStats("induction", k, spent, base.timed.checks + step.checks - checks, time.monotonic() - start, still_open))
            if proof.unknown or not (open_ or base.open_goals):
                break
    except (KeyboardInterrupt, ctypes.ArgumentError) as exc:  # Ctrl-C or SIGTERM: what was proved so far, inconclusive beyond it
        if not isinstance(exc, KeyboardInterrupt) and not interruption_in_c(exc):
            raise
        proof.unknown = f"interrupted at k = {k}"
    proof.step_seconds = step.seconds
    return proof


def _lemma_properties(spec: Spec, lemmas: Sequence[str | Property] | None) -> list[Property]:
    if lemmas is None:
        # The model's @lemma invariants, as check(engine="induction") and --engine induction use them.
        lemmas = [p for p in spec.properties if p.lemma]
    out: list[Property] = []
    for lemma in lemmas:
        if isinstance(lemma, Property):
            prop = lemma
        else:
            try:
                prop = spec.property(lemma)
            except KeyError:
                names = ", ".join(p.name for p in spec.properties) or "none"
                raise InputError(f"model {spec.name} has no property {lemma!r} to use as a lemma (its properties: {names})") from None
        if prop.kind not in ("invariant", "step"):
            raise InputError(f"lemma {prop.name!r} is a {prop.kind} property; a lemma is an invariant (or a step invariant)")
        if any(ir_node.op == "post" for ir_node in ir.walk([prop.expr])) and prop.kind != "step":
            raise InputError(f"lemma {prop.name!r} reads the post-state; declare it as a step invariant")
        out.append(prop)
    return out


def cti_trace(spec: Spec, ob: Obligation, raw: RawPath, k: int, lemmas: Sequence[str]) -> Trace:
    """The counterexample to induction of ``ob``, checked on the reference semantics.

    Raises :class:`~ordercheck.lang.interpret.ReplayMismatch` if the path is not made of transitions
    of the model, or ``ob`` does not hold before the last step and fail after it.
    """
    for (_, before), (index, after) in zip(raw, raw[1:]):
        assert index is not None
        binding = spec.bindings[index]
        try:
            ok = enabled(binding, before) and fire(spec, binding, before) == after
        except ModelError:
            ok = False
        if not ok:
            raise ReplayMismatch(f"the counterexample to induction of {ob.name} takes {binding.label}, which is not a transition there")
    states = [state for _, state in raw]

    def kept(before: State, after: State | None = None) -> bool:
        try:
            return obligation_holds(ob, spec, before, after)
        except CheckFailed:  # a failed run-time check of the property breaks it as much as a false condition
            return False

    good = [kept(a, b) for a, b in zip(states, states[1:])] if ob.is_step else [kept(s) for s in states]
    if not all(good[:-1]) or good[-1]:
        raise ReplayMismatch(f"the counterexample to induction of {ob.name} does not show a step from states satisfying it to a violation")
    steps = [Step(None, (), spec.decode(states[0]))]
    for index, state in raw[1:]:
        assert index is not None
        b = spec.bindings[index]
        steps.append(Step(b.action, b.params, spec.decode(state)))
    with_lemmas = f" together with the lemmas {', '.join(lemmas)}" if lemmas else ""
    if ob.kind == "no-error":
        what = "no enabled action fails a run-time check"
    elif ob.is_step:
        what = f"{ob.name} holds on each of the first {k - 1} steps" if k > 1 else "the first state is any state"
    else:
        what = f"{ob.name} holds in the first {k} states" if k > 1 else f"{ob.name} holds in the first state"
    message = (f"Counterexample to {k}-induction (the states need not be reachable): {what}{with_lemmas}, "
               f"and the last step breaks it. A lemma that rules out the first state would make the proof go through.")
    return Trace(spec.name, ob.name, "induction", tuple(steps), message, dict(spec.constants))


def induction(model: Model | Spec, *, max_k: int = 10, properties: list[str] | None = None, lemmas: Sequence[str | Property] | None = None,
              deadlock: bool = False, timeout_s: float | None = None, progress: Callable[[DepthStats], None] | None = None) -> Result:
    """Prove the invariants and step properties of ``model`` by k-induction, for ``k`` up to ``max_k``.

    Parameters
    ----------
    model : Model or Spec
        A model instance (or its traced spec).
    max_k : int
        The largest ``k`` tried; the base case checks executions of up to ``max_k`` states.
    properties : list of str, optional
        Prove only these properties (all by default).  ``sometimes`` goals are looked for in the
        base case: ``holds`` if reached within ``max_k`` states, else ``inconclusive``.
    lemmas : list of str or Property, optional
        Strengthening invariants: names of invariants (or step invariants) of the model, or
        :class:`~ordercheck.lang.spec.Property` objects; by default the model's ``@lemma``
        invariants, and ``[]`` for none.  They are assumed in every state of the
        induction step and proved with the properties; their own verdicts are in ``extra["lemmas"]``
        (name to verdict) and ``extra["lemma_results"]`` (name to ``PropertyResult``, with the trace
        that refutes a false lemma).
    deadlock : bool
        Also prove that no reachable state is a deadlock (a result named ``deadlock``).
    timeout_s : float, optional
        Wall-clock budget for the whole proof (base case and step together).
    progress : callable, optional
        Called after each ``k`` with a :class:`~ordercheck.symbolic.bmc.DepthStats`.

    Returns
    -------
    Result
        Engine ``"induction"``: ``holds`` (reason ``"proved by k-induction ..."``), ``violated``
        (a real counterexample found by the base case), or ``inconclusive`` with a counterexample
        to induction (``kind == "induction"``) or the reason.  ``stats.depth`` is the last ``k`` tried.

    Raises
    ------
    ModelError
        The base case reaches a model error.
    """
    if max_k <= 0:
        raise InputError(f"max_k must be positive, got {max_k}")
    if timeout_s is not None and timeout_s <= 0:
        raise InputError(f"timeout_s must be positive, got {timeout_s}")
    spec = as_spec(model)
    start = time.monotonic()
    enc = Encoding(spec)
    targets, goals = property_obligations(spec, enc, properties, deadlock)
    names = {ob.name for ob in targets}
    lemma_props = _lemma_properties(spec, lemmas)
    lemma_names = [p.name for p in lemma_props]
    lemma_obs = [obligation_of(enc, p, in_spec=any(q is p or q == p for q in spec.properties), role="lemma") for p in lemma_props if p.name not in names]
    obligations = targets + lemma_obs
    no_error = enc.no_error()
    error_ob = None
    if not z3.is_true(z3.simplify(no_error)):
        error_ob = Obligation(NO_ERROR, "no-error", no_error, role="no-error")
        obligations.append(error_ob)
    proof = prove(spec, enc, obligations, goals, max_k=max_k, timeout_s=timeout_s, progress=progress)
    base = proof.base
    by_name = {ob.name: ob for ob in obligations}
    used = [n for n in lemma_names if n in proof.proved]
    errors_open = error_ob is not None and NO_ERROR not in proof.proved

    def result_for(ob: Obligation) -> PropertyResult:
        if ob.name in base.violations:
            return base.violations[ob.name]
        if ob.kind == "sometimes":
            return base.verdict(ob, max_k)
        if ob.name in proof.proved:
            k = proof.proved[ob.name]
            how = base.exhausted_reason() if base.exhausted else f"proved by {k}-induction" + (f" (lemmas: {', '.join(used)})" if used else "")
            if errors_open:
                cex = _cti(spec, by_name[NO_ERROR], proof, lemma_names)
                return PropertyResult(ob.name, ob.kind, INCONCLUSIVE, cex,
                                      reason=f"{how}, but that no action fails a run-time check (a model error) is not proved")
            return PropertyResult(ob.name, ob.kind, HOLDS, reason=how)
        if ob.name in proof.ctis:
            return PropertyResult(ob.name, ob.kind, INCONCLUSIVE, _cti(spec, ob, proof, lemma_names),
                                  reason=f"not proved by k-induction up to k = {proof.k}: the induction step fails (counterexample to induction)")
        return PropertyResult(ob.name, ob.kind, INCONCLUSIVE, reason=proof.unknown or f"not proved up to k = {proof.k}")

    results = [result_for(ob) for ob in targets + goals]
    order = {p.name: i for i, p in enumerate(spec.properties)}
    results.sort(key=lambda r: order.get(r.name, len(order)))
    lemma_details = {ob.name: result_for(ob) for ob in lemma_obs}
    lemma_details.update({n: result_for(by_name[n]) for n in lemma_names if n in names})
    lemma_results = {name: r.verdict for name, r in lemma_details.items()}
    stats = Stats(0, 0, proof.k, time.monotonic() - start)
    reason = proof.unknown
    extra = {"derived_constants": spec.derived, "k": proof.k, "lemmas": lemma_results, "lemma_results": lemma_details, "base_seconds": base.timed.seconds,
             "step_seconds": proof.step_seconds, "model_errors_proved_impossible": not errors_open}
    return Result(spec.name, dict(spec.constants), "induction", results, stats, reason, extra)


def _cti(spec: Spec, ob: Obligation, proof: Proof, lemmas: Sequence[str]) -> Trace | None:
    if ob.name not in proof.ctis:
        return None
    raw, k = proof.ctis[ob.name]
    return cti_trace(spec, ob, raw, k, [n for n in lemmas if n != ob.name])
