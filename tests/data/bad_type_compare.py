"""Misuse: comparing values of different kinds (an integer with a Boolean)."""

from ordercheck import Bool, Int, Model, Var, action, require


class BadTypeCompare(Model):
    x = Var(Int(0, 3), init=0)
    flag = Var(Bool, init=False)

    @action
    def mix(s):
        require(s.x == s.flag)  # <- error here
        s.x = 1
