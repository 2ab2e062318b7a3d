"""A resource allocator: SimpleAllocator.tla (tlaplus/Examples, specifications/allocator).

Ported by hand.  ``\\E S \\in SUBSET Resources`` is an action parameter ranging over a derived
constant holding every subset (as tuples); ``S # {}`` and ``S \\subseteq ...`` read as in TLA+.
TLC's result for SimpleAllocator.cfg (Clients = {c1, c2, c3}, Resources = {r1, r2}), as recorded
in the repository's manifest.json: 400 distinct states, depth 6; ResourceMutex holds.
"""

import functools
import itertools
import operator

from ordercheck import Const, MapOf, Model, SetOf, Var, action, forall, implies, invariant, require


def subsets(values):
    return [c for k in range(len(values) + 1) for c in itertools.combinations(values, k)]


class SimpleAllocator(Model):
    Clients = Const(("c1", "c2", "c3"))
    Resources = Const(("r1", "r2"))
    SubsetOfResources = Const(lambda m: subsets(m.Resources))

    unsat = Var(MapOf(Clients, SetOf(Resources)), init=())
    alloc = Var(MapOf(Clients, SetOf(Resources)), init=())

    def available(s):
        return s.Resources - functools.reduce(operator.or_, [s.alloc[c] for c in s.Clients])

    @action(c=Clients, S=SubsetOfResources)
    def request(s, c, S):
        require(s.unsat[c].is_empty() & s.alloc[c].is_empty())
        require(S != ())
        s.unsat[c] = S

    @action(c=Clients, S=SubsetOfResources)
    def allocate(s, c, S):
        require(S != ())
        require(S <= s.available() & s.unsat[c])
        s.alloc[c] = s.alloc[c] | S
        s.unsat[c] = s.unsat[c] - S

    @action(c=Clients, S=SubsetOfResources)
    def ret(s, c, S):
        require(S != ())
        require(S <= s.alloc[c])
        s.alloc[c] = s.alloc[c] - S

    @invariant
    def resource_mutex(s):
        return forall(s.Clients, lambda c1: forall(s.Clients, lambda c2:
            implies(c1 != c2, (s.alloc[c1] & s.alloc[c2]).is_empty())))
