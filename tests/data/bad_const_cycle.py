"""Misuse: derived constants that depend on each other."""

from ordercheck import Const, Elem, Model, Var, action


class BadConstCycle(Model):
    A = Const(lambda m: m.B)  # <- error here
    B = Const(lambda m: m.A)

    v = Var(Elem(A), init="x")

    @action(n=A)
    def pick(s, n):
        s.v = n
