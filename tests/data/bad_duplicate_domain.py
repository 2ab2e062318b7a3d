"""Misuse: a domain that lists an element twice."""

from ordercheck import Const, Elem, Model, Var, action


class BadDuplicateDomain(Model):
    NODE = Const(("db1", "db2", "db1"))  # <- error here

    primary = Var(Elem(NODE), init="db1")

    @action(n=NODE)
    def promote(s, n):
        s.primary = n
