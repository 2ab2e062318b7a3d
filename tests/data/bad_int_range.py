"""Misuse: an integer literal outside the variable's range."""

from ordercheck import Int, Model, Var, action


class BadIntRange(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def overfill(s):
        s.x = 7  # <- error here
