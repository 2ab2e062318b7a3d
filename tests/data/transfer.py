"""An action whose parameters are declared in non-alphabetical order (``to`` before ``amount``).

``total`` starts at 0; ``move(to, amount)`` adds 1 or 2 while the total stays within 3.
By hand: ``small`` (total < 3) fails first after two moves (1 + 2 or 2 + 1; 3 states).
"""

from ordercheck import Const, Elem, Int, Model, Var, action, invariant, require


class Transfer(Model):
    NODE = Const(("a", "b"))

    at = Var(Elem(NODE), init="a")
    total = Var(Int(0, 3), init=0)

    @action(to=NODE, amount=(1, 2))
    def move(s, to, amount):
        require(s.total + amount <= 3)
        s.at = to
        s.total = s.total + amount

    @invariant
    def small(s):
        return s.total < 3
