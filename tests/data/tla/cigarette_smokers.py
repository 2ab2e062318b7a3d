"""The cigarette smokers problem (Patil, 1971): CigaretteSmokers.tla (tlaplus/Examples,
specifications/CigaretteSmokers).

Ported by hand.  ``smokers`` is a record-valued map with one field, so one map of booleans;
``dealer \\in Offers`` is a parameter over the offers, assigned to a set-valued variable; the
``CHOOSE`` of the one smoker who is smoking is a parameter with a guard (the spec's ``AtMostOne``
makes it the same smoker).  TLC's result for CigaretteSmokers.cfg, as recorded in the
repository's manifest.json: 6 distinct states, depth 2; AtMostOne holds.
"""

from ordercheck import Bool, Const, MapOf, Model, SetOf, Var, action, initial, invariant, ite, require


class CigaretteSmokers(Model):
    Ingredients = Const(("matches", "paper", "tobacco"))
    Offers = Const((("matches", "paper"), ("matches", "tobacco"), ("paper", "tobacco")))

    smoking = Var(MapOf(Ingredients, Bool), init=False)
    dealer = Var(SetOf(Ingredients))

    @initial(offer=Offers)
    def init(s, offer):
        s.dealer = offer

    @action
    def start_smoking(s):
        require(~s.dealer.is_empty())
        for r in s.Ingredients:
            s.smoking[r] = (s.dealer | {r}) == s.Ingredients
        s.dealer = ()

    @action(r=Ingredients, offer=Offers)
    def stop_smoking(s, r, offer):
        require(s.dealer.is_empty())
        require(s.smoking[r])
        s.smoking[r] = False
        s.dealer = offer

    @invariant
    def at_most_one(s):
        """Cardinality({r \\in Ingredients : smokers[r].smoking}) <= 1."""
        return sum(ite(s.smoking[r], 1, 0) for r in s.Ingredients) <= 1
