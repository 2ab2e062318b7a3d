"""Misuse: a derived constant whose function fails (an index past the end of a domain)."""

from ordercheck import Const, Elem, Model, Var, action


class BadDerivedConstError(Model):
    RM = Const(("a", "b"))
    LEADER = Const(lambda m: (m.RM[5],))  # <- error here

    leader = Var(Elem(LEADER), init="a")

    @action(n=LEADER)
    def pick(s, n):
        s.leader = n
