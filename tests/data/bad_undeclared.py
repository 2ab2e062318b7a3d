"""Misuse: an assignment to a variable that is not declared."""

from ordercheck import Int, Model, Var, action, require


class BadUndeclared(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def bump(s):
        require(s.x < 3)
        s.x = s.x + 1
        s.total = s.x  # <- error here
