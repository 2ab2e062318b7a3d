"""The dining philosophers with clean and dirty forks (Chandy and Misra): DiningPhilosophers.tla
(tlaplus/Examples, specifications/DiningPhilosophers), the PlusCal translation.

Ported by hand.  The record-valued ``forks`` map becomes two maps (holder and clean); the
initial holders are written entry by entry in an ``@initial`` function, and ``pc'`` is a
nested ``IF`` of labels (``ite`` of two labels, typed by the variable it is assigned to).
TLC's result for DiningPhilosophers.cfg (NP = 5), as recorded in the repository's
manifest.json: 67 distinct states, depth 29; ExclusiveAccess holds.
"""

from ordercheck import Bool, Const, Elem, Enum, MapOf, Model, Var, action, forall, implies, initial, invariant, ite, require


class DiningPhilosophers(Model):
    NP = Const(5)
    P = Const(lambda m: range(1, m.NP + 1))

    holder = Var(MapOf(P, Elem(P)))
    clean = Var(MapOf(P, Bool), init=False)
    hungry = Var(MapOf(P, Bool), init=True)
    pc = Var(MapOf(P, Enum("Loop", "Eat", "Think")), init="Loop")

    def left_fork(s, p):
        return p

    def right_fork(s, p):
        return 1 if p == s.NP else p + 1

    def left_philosopher(s, p):
        return s.NP if p == 1 else p - 1

    def right_philosopher(s, p):
        return 1 if p == s.NP else p + 1

    def can_eat(s, p):
        left, right = s.left_fork(p), s.right_fork(p)
        return (s.holder[left] == p) & (s.holder[right] == p) & s.clean[left] & s.clean[right]

    @initial
    def init(s):
        for fork in s.P:
            s.holder[fork] = 1 if fork == 2 else fork

    @action(self=P)
    def loop(s, self):
        require(s.pc[self] == "Loop")
        can_eat = s.can_eat(self)   # TLA+ reads the unprimed forks: take it before they change
        left, right = s.left_fork(self), s.right_fork(self)
        give_left = (s.holder[left] == self) & ~s.clean[left]
        give_right = ~give_left & (s.holder[right] == self) & ~s.clean[right]
        s.holder[left] = ite(give_left, s.left_philosopher(self), s.holder[left])
        s.clean[left] = s.clean[left] | give_left
        s.holder[right] = ite(give_right, s.right_philosopher(self), s.holder[right])
        s.clean[right] = s.clean[right] | give_right
        s.pc[self] = ite(s.hungry[self], ite(can_eat, "Eat", "Loop"), "Think")

    @action(self=P)
    def think(s, self):
        require(s.pc[self] == "Think")
        s.hungry[self] = True
        s.pc[self] = "Loop"

    @action(self=P)
    def eat(s, self):
        require(s.pc[self] == "Eat")
        s.hungry[self] = False
        s.clean[s.left_fork(self)] = False
        s.clean[s.right_fork(self)] = False
        s.pc[self] = "Loop"

    @invariant
    def exclusive_access(s):
        def share_fork(p, q):
            return bool({s.left_fork(p), s.right_fork(p)} & {s.left_fork(q), s.right_fork(q)})

        return forall(s.P, lambda p: forall(s.P, lambda q:
            implies(p != q and share_fork(p, q), ~((s.pc[p] == "Eat") & (s.pc[q] == "Eat")))))
