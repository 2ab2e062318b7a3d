"""A model file that does not compile: a `return` outside any function (a syntax error that ruff can still parse).

The test suite also writes a file with a missing colon at test time (tests/test_errors.py), which
would make this file unparsable for the linters.
"""

from ordercheck import Int, Model, Var, action


class Broken(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def bump(s):
        s.x = s.x + 1

    return x  # <- error here  # noqa: F706
