"""Misuse: a Python `if` on a state expression."""

from ordercheck import Int, Model, Var, action


class BadIf(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def bump(s):
        if s.x < 3:  # <- error here
            s.x = s.x + 1
