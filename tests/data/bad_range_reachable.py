"""Misuse: an out-of-range assignment that only a reachable state shows.

``x`` is 0..2; ``bump`` has no guard, so from x = 2 (reached in two steps) it
assigns 3.  The trace that reaches it: x = 0, bump, x = 1, bump, x = 2.
"""

from ordercheck import Int, Model, Var, action


class BadRangeReachable(Model):
    x = Var(Int(0, 2), init=0)

    @action
    def bump(s):
        s.x = s.x + 1  # <- error here
