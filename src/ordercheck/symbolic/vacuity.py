"""Vacuity checks: a model that passes for the wrong reason.

A model can satisfy its invariants because it does nothing: no initial
state, an action whose guard is never true, an implication whose premise is
never reached.  :func:`vacuity` looks for each with the same machinery as
:func:`~ordercheck.symbolic.induction.induction`: a claim such as "binding
``b`` is never enabled" is refuted by bounded model checking (a reachable
state where it is enabled) or proved by k-induction; a claim neither refuted
nor proved is reported with the bound.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, implies, require
>>> class Stuck(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require((s.x >= 1) & (s.x < 3))
...         s.x = s.x + 1
...     @invariant
...     def safe(s):
...         return implies(s.x == 3, s.x > 2)
>>> for finding in vacuity(Stuck()):
...     print(finding)
action inc is never enabled in a reachable state (proved by 1-induction)
no action is ever enabled: the initial states are the only reachable states, so the invariants are checked on them alone
invariant safe holds vacuously: the premise of its implication 1 is never true in a reachable state (proved by 1-induction)
"""

from __future__ import annotations

from ..lang import ir
from ..lang.errors import ModelError
from ..lang.model import Model
from ..lang.spec import Property, Spec
from .bmc import as_spec
from .encode import Encoding
from .induction import prove
from .path import obligation_of

__all__ = ["implication_premises", "vacuity"]


def implication_premises(expr: ir.Expr) -> list[ir.Expr]:
    """The premises of the implications at the top of a condition.

    ``implies(p, q)`` is traced as ``or(not(p), q)``, with nested disjunctions flattened into
    it, so only the first disjunct is taken for the premise (``implies(a, b | ~c)`` has the
    premise ``a``, not ``a & c``): a finding is then never about a stronger condition than the
    one the user wrote.

    >>> from ordercheck.lang.types import BoolType
    >>> a, b, c = (ir.var(i, BoolType()) for i in range(3))
    >>> implication_premises(ir.and_(ir.implies(a, ir.or_(b, ir.not_(c))), b))
    [var(0)]
    """
    conjuncts = expr.args if expr.op == "and" else (expr,)
    out: list[ir.Expr] = []
    for c in conjuncts:
        if c.op == "or" and c.args[0].op == "not" and c.args[0].args[0] not in out:
            out.append(c.args[0].args[0])
    return out


def vacuity(model: Model | Spec, *, depth: int = 10, timeout_s: float | None = None) -> list[str]:
    """Findings about ``model`` that make its verdicts hollow; an empty list when there are none.

    Parameters
    ----------
    model : Model or Spec
        A model instance (or its traced spec).
    depth : int
        The bound for the search (executions of up to ``depth`` states) and the largest ``k`` of the proofs.
    timeout_s : float, optional
        Wall-clock budget for the whole search.

    Returns
    -------
    list of str
        One sentence per finding: no initial state; an action (or one binding of it) never enabled,
        proved or within the bound; no action enabled at all (only the initial states are reachable);
        an invariant whose implication has a premise that is never true.  A reachable model error
        is reported as a finding too (and ends the search).
    """
    spec = as_spec(model)
    if not spec.init_states:
        return ["the initial condition is unsatisfiable: the model has no initial state, so every property holds vacuously"]
    enc = Encoding(spec)
    claims: list[tuple[str, Property]] = []
    for i, b in enumerate(spec.bindings):
        claims.append((f"binding {i}", Property(f"never enabled: {b.label}", "invariant", ir.not_(b.guard))))
    premises: list[tuple[int, str]] = []
    for p in spec.properties:
        if p.kind != "invariant":
            continue
        for n, premise in enumerate(implication_premises(p.expr), start=1):
            premises.append((n, p.name))
            claims.append((f"premise {n} of {p.name}", Property(f"premise {n} of {p.name} never true", "invariant", ir.not_(premise))))
    obligations = [obligation_of(enc, prop, in_spec=False, role="claim") for _, prop in claims]
    try:
        proof = prove(spec, enc, obligations, max_k=depth, timeout_s=timeout_s)
    except ModelError as exc:
        return [f"a model error is reachable, so the search stopped: {exc}"]

    def status(prop: Property) -> str | None:
        """None when refuted (the thing happens), else how the claim stands."""
        if prop.name in proof.base.violations:
            return None
        if prop.name in proof.proved:
            k = proof.proved[prop.name]
            return "no execution is longer" if proof.base.exhausted else f"proved by {k}-induction"
        return f"within {proof.base.depth} states; not proved beyond" + (f": {proof.unknown}" if proof.unknown else "")

    findings: list[str] = []
    by_action: dict[str, list[tuple[int, str | None]]] = {}
    for i, b in enumerate(spec.bindings):
        by_action.setdefault(b.action, []).append((i, status(claims[i][1])))
    dead_everywhere = bool(spec.bindings)
    for action, items in by_action.items():
        dead = [(i, s) for i, s in items if s is not None]
        if len(dead) < len(items):
            dead_everywhere = False
        if not dead:
            continue
        if len(dead) == len(items) and len({s for _, s in dead}) == 1:
            findings.append(f"action {action} is never enabled in a reachable state ({dead[0][1]})")
            continue
        for i, s in dead:
            findings.append(f"{spec.bindings[i].label} is never enabled in a reachable state ({s})")
    if not spec.bindings:
        findings.append("the model has no action bindings (each guard is false while tracing): the initial states are the only reachable states")
    if dead_everywhere:
        findings.append("no action is ever enabled: the initial states are the only reachable states, so the invariants are checked on them alone")
    for (number, name), (_, prop) in zip(premises, claims[len(spec.bindings):]):
        how = status(prop)
        if how is not None:
            findings.append(f"invariant {name} holds vacuously: the premise of its implication {number} is never true in a reachable state ({how})")
    return findings
