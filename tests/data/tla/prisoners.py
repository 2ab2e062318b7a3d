"""The prisoners and the two switches: Prisoners.tla (tlaplus/Examples, specifications/Prisoners).

Ported by hand, written the way the TLA+ spec is: one counting prisoner, the others each move
switch A up at most twice; ``IF ... THEN ... ELSE`` inside an action becomes ``ite``.
TLC's result for Prisoners.cfg (Prisoner = {p1, p2, p3, p4}, Counter = p1), as recorded in the
repository's manifest.json: 214 distinct states, depth 14, every invariant holds.
"""

from ordercheck import Bool, Const, Int, MapOf, Model, OneOf, Var, action, forall, implies, invariant, ite


class Prisoners(Model):
    Prisoner = Const(("p1", "p2", "p3", "p4"))
    Counter = Const("p1")
    OtherPrisoner = Const(lambda m: [p for p in m.Prisoner if p != m.Counter])
    MaxCount = Const(lambda m: 2 * len(m.Prisoner) - 1)

    switch_a_up = Var(Bool, init=OneOf(False, True))   # switchAUp \in BOOLEAN
    switch_b_up = Var(Bool, init=OneOf(False, True))
    times_switched = Var(MapOf(OtherPrisoner, Int(0, 2)), init=0)
    count = Var(Int(0, MaxCount), init=0)

    def done(s):
        return s.count == 2 * (len(s.Prisoner) - 1)

    @action
    def counter_step(s):
        """CounterStep: if switch A is up, move it down and count; otherwise flip switch B."""
        up = s.switch_a_up
        s.switch_a_up = ite(up, False, s.switch_a_up)
        s.count = ite(up, s.count + 1, s.count)
        s.switch_b_up = ite(up, s.switch_b_up, ~s.switch_b_up)

    @action(i=OtherPrisoner)
    def non_counter_step(s, i):
        """NonCounterStep(i): move switch A up (at most twice in all); otherwise flip switch B."""
        move_a = ~s.switch_a_up & (s.times_switched[i] < 2)
        s.switch_a_up = ite(move_a, True, s.switch_a_up)
        s.times_switched[i] = ite(move_a, s.times_switched[i] + 1, s.times_switched[i])
        s.switch_b_up = ite(move_a, s.switch_b_up, ~s.switch_b_up)

    @invariant
    def safety(s):
        """Done => every other prisoner has been in the room."""
        return implies(s.done(), forall(s.OtherPrisoner, lambda i: s.times_switched[i] > 0))

    @invariant
    def count_invariant(s):
        total = sum(s.times_switched[p] for p in s.OtherPrisoner)
        one_if_up = ite(s.switch_a_up, 1, 0)
        return (s.count == total - one_if_up) | (s.count == total - one_if_up + 1)
