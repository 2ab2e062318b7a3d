"""Misuse: a read of a variable that is not declared (a typo)."""

from ordercheck import Int, Model, Var, action, require


class BadUndeclaredRead(Model):
    count = Var(Int(0, 3), init=0)

    @action
    def bump(s):
        require(s.cuont < 3)  # <- error here
        s.count = s.count + 1
