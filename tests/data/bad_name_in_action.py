"""Misuse: a Python error inside an action body (a misspelt function name)."""

from ordercheck import Int, Model, Var, action


class BadNameInAction(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def bump(s):
        requir(s.x < 3)  # <- error here  # noqa: F821
        s.x = s.x + 1
