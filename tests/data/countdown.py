"""A countdown that stops: it deadlocks, by design, at 0 (for --deadlock).

``n`` starts at 2 and ``tick`` decrements it while it is positive.  By hand: the states are
2, 1, 0 (3 states, 3 BFS levels); in 0 no action is enabled, so the deadlock trace is
init, tick, tick (3 states).  Its one invariant holds.
"""

from ordercheck import Int, Model, Var, action, invariant, require


class Countdown(Model):
    n = Var(Int(0, 2), init=2)

    @action
    def tick(s):
        require(s.n > 0)
        s.n = s.n - 1

    @invariant
    def in_range(s):
        return s.n <= 2
