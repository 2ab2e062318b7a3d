"""Misuse: an assignment to an action parameter."""

from ordercheck import Const, Elem, Model, Var, action


class BadAssignParam(Model):
    NODE = Const(("db1", "db2"))

    primary = Var(Elem(NODE), init="db1")

    @action(n=NODE)
    def promote(s, n):
        n = "db2"  # <- error here
        s.primary = n
