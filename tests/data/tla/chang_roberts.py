"""Chang and Roberts' leader election in a ring: ChangRoberts.tla and MCChangRoberts.tla
(tlaplus/Examples, specifications/chang_roberts), the PlusCal translation.

Ported by hand.  ``initiator \\in [Node -> BOOLEAN]`` is ``init=EachOf(...)``; the initial
``state`` depends on it and is written entry by entry in an ``@initial`` function
(``IF initiator[n] THEN "cand" ELSE "lost"``); ``\\E id \\in msgs[self]`` is a parameter with a
membership guard.  MCChangRoberts uses ``Id == [i \\in 1..N |-> i]``.
TLC's result for MCChangRoberts.cfg (N = 3, CHECK_DEADLOCK FALSE), as recorded in the
repository's manifest.json: 137 distinct states, depth 10; Correctness holds.
"""

from ordercheck import Bool, Const, EachOf, Enum, MapOf, Model, SetOf, Var, action, forall, implies, initial, invariant, ite, require


class ChangRoberts(Model):
    N = Const(3)
    Node = Const(lambda m: range(1, m.N + 1))
    Id = Const(lambda m: range(1, m.N + 1))   # Id[i] = i

    msgs = Var(MapOf(Node, SetOf(Id)), init=())
    initiator = Var(MapOf(Node, Bool), init=EachOf((False, True)))
    state = Var(MapOf(Node, Enum("cand", "lost", "won")))
    pc = Var(MapOf(Node, Enum("n0", "n1", "Done")), init="n0")

    def succ(s, n):
        return 1 if n == s.N else n + 1

    def ident(s, n):
        return s.Id[n - 1]

    @initial
    def init(s):
        for n in s.Node:
            s.state[n] = ite(s.initiator[n], "cand", "lost")

    @action(self=Node)
    def n0(s, self):
        require(s.pc[self] == "n0")
        nxt = s.succ(self)
        s.msgs[nxt] = ite(s.initiator[self], s.msgs[nxt].add(s.ident(self)), s.msgs[nxt])
        s.pc[self] = "n1"

    @action(self=Node, id=Id)
    def n1(s, self, id):
        require(s.pc[self] == "n1")
        require(s.msgs[self].has(id))
        lost = s.state[self] == "lost"
        forward = lost | (id < s.ident(self))
        s.msgs[self] = s.msgs[self].remove(id)
        nxt = s.succ(self)
        s.msgs[nxt] = ite(forward, s.msgs[nxt].add(id), s.msgs[nxt])
        s.state[self] = ite(lost, s.state[self],
                            ite(id < s.ident(self), "lost", ite(id == s.ident(self), "won", s.state[self])))

    @invariant
    def correctness(s):
        return forall(s.Node, lambda n: implies(
            s.state[n] == "won",
            s.initiator[n] & forall([m for m in s.Node if m != n], lambda m:
                (s.state[m] == "lost") & implies(s.initiator[m], s.ident(m) > s.ident(n)))))
