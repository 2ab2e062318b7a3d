"""Peterson's mutual exclusion for two processes: Peterson.tla (tlaplus/Examples,
specifications/locks_auxiliary_vars), the PlusCal translation with labels a0..a4 and cs.

Ported by hand: each label is an action of ``self``; ``pc`` is a map to the labels.
TLC's result for Peterson.cfg, as recorded in the repository's manifest.json: 42 distinct
states, depth 11; Inv holds.
"""

from ordercheck import Bool, Const, Elem, Enum, MapOf, Model, Var, action, forall, implies, invariant, require

LABELS = Enum("a0", "a1", "a2", "a3", "cs", "a4")


def other(p):
    return 2 if p == 1 else 1


class Peterson(Model):
    ProcSet = Const((1, 2))

    pc = Var(MapOf(ProcSet, LABELS), init="a0")
    c = Var(MapOf(ProcSet, Bool), init=False)
    turn = Var(Elem(ProcSet), init=1)

    @action(self=ProcSet)
    def a0(s, self):
        require(s.pc[self] == "a0")
        s.pc[self] = "a1"

    @action(self=ProcSet)
    def a1(s, self):
        require(s.pc[self] == "a1")
        s.c[self] = True
        s.pc[self] = "a2"

    @action(self=ProcSet)
    def a2(s, self):
        require(s.pc[self] == "a2")
        s.turn = other(self)
        s.pc[self] = "a3"

    @action(self=ProcSet)
    def a3(s, self):
        require(s.pc[self] == "a3")
        require(~s.c[other(self)] | (s.turn == self))
        s.pc[self] = "cs"

    @action(self=ProcSet)
    def cs(s, self):
        require(s.pc[self] == "cs")
        s.pc[self] = "a4"

    @action(self=ProcSet)
    def a4(s, self):
        require(s.pc[self] == "a4")
        s.c[self] = False
        s.pc[self] = "a0"

    def in_cs(s, p):
        return (s.pc[p] == "cs") | (s.pc[p] == "a4")

    @invariant
    def inv(s):
        flags = forall(s.ProcSet, lambda p: s.c[p] == ((s.pc[p] == "a2") | (s.pc[p] == "a3") | s.in_cs(p)))
        turn = forall(s.ProcSet, lambda p: implies(
            s.in_cs(p), (s.turn == p) | (s.pc[other(p)] == "a0") | (s.pc[other(p)] == "a1") | (s.pc[other(p)] == "a2")))
        mutex = ~(s.in_cs(1) & s.in_cs(2))
        return flags & turn & mutex
