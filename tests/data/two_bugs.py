"""Two counters and two invariants, violated at different depths (for --continue and --property).

``x`` and ``y`` start at 0 and each action increments one of them.  By hand:

- ``x_below_2`` fails when x = 2: the shortest trace is init, inc_x, inc_x (3 states);
- ``y_below_3`` fails when y = 3: the shortest trace is init, inc_y, inc_y, inc_y (4 states).

Every pair (x, y) in 0..3 x 0..3 is reachable: 16 states, 7 BFS levels.
"""

from ordercheck import Int, Model, Var, action, invariant, require


class TwoBugs(Model):
    x = Var(Int(0, 3), init=0)
    y = Var(Int(0, 3), init=0)

    @action
    def inc_x(s):
        require(s.x < 3)
        s.x = s.x + 1

    @action
    def inc_y(s):
        require(s.y < 3)
        s.y = s.y + 1

    @invariant
    def x_below_2(s):
        return s.x < 2

    @invariant
    def y_below_3(s):
        return s.y < 3
