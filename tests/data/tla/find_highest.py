"""Finding the highest number in a sequence: FindHighest.tla with MCFindHighest.tla
(tlaplus/Examples, specifications/LearnProofs), the PlusCal translation.

Ported by hand.  ordercheck has no sequences: ``f`` is a map from positions 1..MaxLength with a
length, the entries past it 0, so that each sequence is one state.  ``f \\in Seq(Nat)`` with
MCConstraint's ``Len(f) <= MaxLength`` is an ``@initial`` function over every such sequence that
writes ``f`` entry by entry.  ``max(h, f[i])`` is ``max_of``.  In ``lb``'s ``IF i <= Len(f)``,
``f[i]`` is a lazy branch (``lambda: ...``): with ``i`` past the last position it would be a model
error, and, as in TLA+, it is evaluated only where the branch is taken.
TLC's result for MCFindHighest.cfg (MaxLength = 3, MaxNat = 4), as recorded in the repository's
manifest.json: 742 distinct states, depth 5; every invariant holds.
"""

import itertools

from ordercheck import Const, Enum, Int, MapOf, Model, Var, action, forall, implies, initial, invariant, ite, max_of, require


def sequences(values, max_length):
    return [seq for n in range(max_length + 1) for seq in itertools.product(values, repeat=n)]


class FindHighest(Model):
    MaxLength = Const(3)
    MaxNat = Const(4)
    Pos = Const(lambda m: range(1, m.MaxLength + 1))
    Seqs = Const(lambda m: sequences(range(m.MaxNat + 1), m.MaxLength))
    MaxIndex = Const(lambda m: m.MaxLength + 1)

    f = Var(MapOf(Pos, Int(0, MaxNat)))
    length = Var(Int(0, MaxLength))
    h = Var(Int(-1, MaxNat), init=-1)
    i = Var(Int(1, MaxIndex), init=1)
    pc = Var(Enum("lb", "Done"), init="lb")

    @initial(seq=Seqs)
    def init(s, seq):
        s.length = len(seq)
        for p in s.Pos:
            s.f[p] = seq[p - 1] if p <= len(seq) else 0

    @action
    def lb(s):
        require(s.pc == "lb")
        more = s.i <= s.length                                   # IF i <= Len(f)
        s.h = ite(more, lambda: max_of(s.h, s.f[s.i]), s.h)      # f[i] read only where i <= Len(f)
        s.i = ite(more, s.i + 1, s.i)
        s.pc = ite(more, "lb", "Done")

    @invariant
    def inductive_invariant(s):
        return forall(s.Pos, lambda idx: implies(idx <= s.i - 1, s.f[idx] <= s.h))

    @invariant
    def done_index_value(s):
        return implies(s.pc == "Done", s.i == s.length + 1)

    @invariant
    def correctness(s):
        return implies(s.pc == "Done", forall(s.Pos, lambda idx: implies(idx <= s.length, s.f[idx] <= s.h)))
