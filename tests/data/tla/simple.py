"""Lamport's "teaching concurrency" example: Simple.tla (tlaplus/Examples,
specifications/TeachingConcurrency), the PlusCal translation.

Each process i sets ``x[i] := 1`` and then ``y[i] := x[(i-1) % N]``; when all are done, some
``y[i]`` is 1.  Ported by hand; ``(self - 1) % N`` is Python's flooring modulo, which agrees
with TLA+'s ``%`` for a positive modulus.
TLC's result for Simple.cfg (N = 5), as recorded in the repository's manifest.json:
723 distinct states, depth 11; PCorrect and Inv hold.
"""

from ordercheck import Const, Enum, Int, MapOf, Model, Var, action, exists, forall, implies, invariant, require


class Simple(Model):
    N = Const(5)
    ProcSet = Const(lambda m: range(m.N))

    x = Var(MapOf(ProcSet, Int(0, 1)), init=0)
    y = Var(MapOf(ProcSet, Int(0, 1)), init=0)
    pc = Var(MapOf(ProcSet, Enum("a", "b", "Done")), init="a")

    @action(self=ProcSet)
    def a(s, self):
        require(s.pc[self] == "a")
        s.x[self] = 1
        s.pc[self] = "b"

    @action(self=ProcSet)
    def b(s, self):
        require(s.pc[self] == "b")
        s.y[self] = s.x[(self - 1) % s.N]
        s.pc[self] = "Done"

    @invariant
    def p_correct(s):
        return implies(forall(s.ProcSet, lambda i: s.pc[i] == "Done"), exists(s.ProcSet, lambda i: s.y[i] == 1))

    @invariant
    def inv(s):
        done_ones = forall(s.ProcSet, lambda i: implies((s.pc[i] == "b") | (s.pc[i] == "Done"), s.x[i] == 1))
        return done_ones & (exists(s.ProcSet, lambda i: s.pc[i] != "Done") | exists(s.ProcSet, lambda i: s.y[i] == 1))
