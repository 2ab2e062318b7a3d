"""Misuse: Python `not` on a state expression."""

from ordercheck import Bool, Model, Var, action, require


class BadNot(Model):
    done = Var(Bool, init=False)

    @action
    def finish(s):
        require(not s.done)  # <- error here
        s.done = True
