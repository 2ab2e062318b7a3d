"""The Die Hard jugs puzzle: Lamport's DieHard.tla, written in ordercheck's modelling language.

Source: Leslie Lamport, the TLA+ video course (lecture 4) and DieHard.tla in the
tlaplus/Examples repository (specifications/DieHard/DieHard.tla); the puzzle is from the film
*Die Hard with a Vengeance* (1995).

With a 5-gallon jug, a 3-gallon jug and a tap, measure exactly 4 gallons.  The jugs can be
filled from the tap, emptied onto the ground, or poured one into the other until the source is
empty or the target full.  The invariant ``not_solved`` (TLA+'s ``NotSolved``, ``big # 4``) is
*meant* to be violated: the counterexample is the solution.  The shortest one has 7 states
(6 moves): fill big, pour big into small, empty small, pour big into small, fill big, pour big
into small, which leaves 4 gallons in the big jug.
"""

from ordercheck import Int, Model, Var, action, invariant, ite


class DieHard(Model):
    """The two jugs of Die Hard: ``big`` holds 0..5 gallons, ``small`` 0..3; both start empty.

    As in DieHard.tla, the actions have no enabling conditions: filling a full jug or pouring
    from an empty one leaves the state unchanged.
    """

    big = Var(Int(0, 5), init=0)
    small = Var(Int(0, 3), init=0)

    @action
    def fill_small(s):
        """Fill the small jug from the tap (FillSmallJug)."""
        s.small = 3

    @action
    def fill_big(s):
        """Fill the big jug from the tap (FillBigJug)."""
        s.big = 5

    @action
    def empty_small(s):
        """Empty the small jug onto the ground (EmptySmallJug)."""
        s.small = 0

    @action
    def empty_big(s):
        """Empty the big jug onto the ground (EmptyBigJug)."""
        s.big = 0

    @action
    def small_to_big(s):
        """Pour the small jug into the big one until the small is empty or the big full (SmallToBig)."""
        poured = ite(s.big + s.small <= 5, s.small, 5 - s.big)
        s.big = s.big + poured
        s.small = s.small - poured

    @action
    def big_to_small(s):
        """Pour the big jug into the small one until the big is empty or the small full (BigToSmall)."""
        poured = ite(s.big + s.small <= 3, s.big, 3 - s.small)
        s.small = s.small + poured
        s.big = s.big - poured

    @invariant
    def not_solved(s):
        """The big jug does not hold exactly 4 gallons (NotSolved); its violation solves the puzzle."""
        return s.big != 4
