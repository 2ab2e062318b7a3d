"""Dijkstra's termination detection in a ring: EWD840.tla (tlaplus/Examples, specifications/ewd840).

Ported by hand.  ``active \\in [Node -> BOOLEAN]`` is ``init=EachOf(...)``; ``tpos \\in Node`` is
``init=OneOf(...)`` over the nodes; ``\\E j \\in Node \\ {i}`` is a second action parameter.
TLC's result for EWD840.cfg (N = 3, CHECK_DEADLOCK FALSE), as recorded in the repository's
manifest.json: 302 distinct states, depth 10; TerminationDetection and Inv hold.
"""

from ordercheck import Bool, Const, EachOf, Elem, Enum, MapOf, Model, OneOf, Var, action, exists, forall, implies, invariant, ite, require

COLOR = Enum("white", "black")


class EWD840(Model):
    N = Const(3)
    Node = Const(lambda m: range(m.N))

    active = Var(MapOf(Node, Bool), init=EachOf((False, True)))
    color = Var(MapOf(Node, COLOR), init=EachOf(("white", "black")))
    tpos = Var(Elem(Node), init=lambda m: OneOf(*m.Node))
    tcolor = Var(COLOR, init="black")

    @action
    def initiate_probe(s):
        require(s.tpos == 0)
        require((s.tcolor == "black") | (s.color[0] == "black"))
        s.tpos = s.N - 1
        s.tcolor = "white"
        s.color[0] = "white"

    @action(i=Node)
    def pass_token(s, i):
        require(i != 0)
        require(s.tpos == i)
        require(~s.active[i] | (s.color[i] == "black") | (s.tcolor == "black"))
        s.tpos = i - 1
        s.tcolor = ite(s.color[i] == "black", "black", s.tcolor)
        s.color[i] = "white"

    @action(i=Node, j=Node)
    def send_msg(s, i, j):
        require(i != j)
        require(s.active[i])
        s.active[j] = True
        if j > i:
            s.color[i] = "black"

    @action(i=Node)
    def deactivate(s, i):
        require(s.active[i])
        s.active[i] = False

    def terminated(s):
        return forall(s.Node, lambda i: ~s.active[i])

    def termination_detected(s):
        return (s.tpos == 0) & (s.tcolor == "white") & (s.color[0] == "white") & ~s.active[0]

    @invariant
    def termination_detection(s):
        return implies(s.termination_detected(), s.terminated())

    @invariant
    def inv(s):
        p0 = forall(s.Node, lambda i: implies(s.tpos < i, ~s.active[i]))
        p1 = exists(s.Node, lambda j: (j <= s.tpos) & (s.color[j] == "black"))
        p2 = s.tcolor == "black"
        return p0 | p1 | p2
