"""Misuse: an Enum label the variable's type does not have (a typo)."""

from ordercheck import Enum, Model, Var, action, require


class BadLabel(Model):
    phase = Var(Enum("working", "prepared", "committed"), init="working")

    @action
    def prepare(s):
        require(s.phase == "working")
        s.phase = "prepard"  # <- error here
