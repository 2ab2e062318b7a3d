"""Misuse: an initial value that is not an element of the domain."""

from ordercheck import Const, Elem, Model, Var, action


class BadInitElement(Model):
    NODE = Const(("db1", "db2"))
    primary = Var(Elem(NODE), init="db9")  # <- error here

    @action(n=NODE)
    def promote(s, n):
        s.primary = n
