"""Misuse: an assignment to a constant."""

from ordercheck import Const, Int, Model, Var, action, require


class BadAssignConst(Model):
    N = Const(3)

    x = Var(Int(0, N), init=0)

    @action
    def grow(s):
        require(s.x < s.N)
        s.N = 4  # <- error here
