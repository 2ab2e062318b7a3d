"""Misuse: a tuple literal outside its product domain (a typo in a message name)."""

from ordercheck import Const, Model, SetOf, Var, action


class BadTupleElement(Model):
    NODE = Const(("db1", "db2"))
    MSG = Const(lambda m: [("Prepared", n) for n in m.NODE])
    msgs = Var(SetOf(MSG), init=())

    @action(n=NODE)
    def send(s, n):
        s.msgs = s.msgs.add(("Prepard", n))  # <- error here
