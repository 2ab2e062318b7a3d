"""A barrier for N processes: Barrier.tla (tlaplus/Examples, specifications/barriers).

Ported by hand.  ``b1`` sets every entry of ``pc`` at once; ``BarrierProperty`` is a property of
every step (``[][...]_vars``), a step invariant reading the pre-state ``s`` and post-state ``t``.
TLC's result for Barrier.cfg (N = 6), as recorded in the repository's manifest.json: 64 distinct
states, 194 states generated, depth 7; BarrierProperty holds.
"""

from ordercheck import Const, Enum, MapOf, Model, Var, action, forall, implies, require, step_invariant


class Barrier(Model):
    N = Const(6)
    ProcSet = Const(lambda m: range(1, m.N + 1))

    pc = Var(MapOf(ProcSet, Enum("b0", "b1")), init="b0")

    @action(self=ProcSet)
    def b0(s, self):
        require(s.pc[self] == "b0")
        s.pc[self] = "b1"

    @action
    def b1(s):
        require(forall(s.ProcSet, lambda p: s.pc[p] == "b1"))
        s.pc = "b0"

    @step_invariant
    def barrier_property(s, t):
        return forall(s.ProcSet, lambda p: forall(s.ProcSet, lambda q:
            implies((s.pc[p] == "b0") & (s.pc[q] == "b1"), t.pc[q] == "b1")))
