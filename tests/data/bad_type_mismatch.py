"""Misuse: a value of the wrong kind (a label assigned to an integer variable)."""

from ordercheck import Int, Model, Var, action


class BadTypeMismatch(Model):
    count = Var(Int(0, 3), init=0)

    @action
    def reset(s):
        s.count = "zero"  # <- error here
