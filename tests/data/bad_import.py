"""Misuse: a model file that fails while it is imported (an undefined name at class level)."""

from ordercheck import Int, Model, Var


class BadImport(Model):
    x = Var(Int(0, 3), init=zero)  # <- error here  # noqa: F821
