"""Misuse: Python `and` on state expressions."""

from ordercheck import Bool, Int, Model, Var, action, require


class BadAnd(Model):
    x = Var(Int(0, 3), init=0)
    ready = Var(Bool, init=True)

    @action
    def step(s):
        require(s.ready and s.x < 3)  # <- error here
        s.x = s.x + 1
