"""Computing a spanning tree by relaxing distances: SpanTree.tla (tlaplus/Examples,
specifications/SpanningTree).

Ported by hand.  The graph's edges are two-element sets, so ``Nbrs(n)`` is computed from the
constants in Python; ``\\E m \\in Nbrs(n), d \\in (dist[m]+1)..(dist[n]-1)`` are action parameters
with guards.  TLC's result for SpanTree.cfg (five nodes, seven edges, MaxCardinality = 6,
Root = n1), as recorded in the repository's manifest.json: 1,236 distinct states, 10,278 states
generated, depth 6.  (Its temporal properties are not ported: they need ENABLED.)
"""

from ordercheck import Const, Elem, Int, MapOf, Model, Var, action, require


class SpanTree(Model):
    Nodes = Const(("n1", "n2", "n3", "n4", "n5"))
    Edges = Const((("n1", "n2"), ("n1", "n3"), ("n2", "n3"), ("n2", "n4"), ("n3", "n4"), ("n3", "n5"), ("n4", "n5")))
    MaxCardinality = Const(6)
    Root = Const("n1")
    Distance = Const(lambda m: range(m.MaxCardinality + 1))

    mom = Var(MapOf(Nodes, Elem(Nodes)), init=lambda m: {n: n for n in m.Nodes})
    dist = Var(MapOf(Nodes, Int(0, MaxCardinality)), init=lambda m: {n: 0 if n == m.Root else m.MaxCardinality for n in m.Nodes})

    def nbrs(s, n):
        return [m for m in s.Nodes if (m, n) in s.Edges or (n, m) in s.Edges]

    @action(n=Nodes, m=Nodes, d=Distance)
    def next(s, n, m, d):
        require(m in s.nbrs(n))
        require(s.dist[m] < 1 + s.dist[n])
        require((s.dist[m] + 1 <= d) & (d <= s.dist[n] - 1))
        s.dist[n] = d
        s.mom[n] = m
