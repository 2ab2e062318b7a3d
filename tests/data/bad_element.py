"""Misuse: an element that is not in its domain (a typo in a literal)."""

from ordercheck import Const, Elem, Model, Var, action, require


class BadElement(Model):
    NODE = Const(("db1", "db2", "db3"))

    primary = Var(Elem(NODE), init="db1")

    @action(n=NODE)
    def promote(s, n):
        require(s.primary != "db9")  # <- error here
        s.primary = n
