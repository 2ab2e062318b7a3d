"""Transaction commit: Lamport's TCommit.tla, written in ordercheck's modelling language.

Source: Leslie Lamport and Jim Gray, "Consensus on Transaction Commit" (ACM TODS 31(1), 2006),
and its TLA+ specification TCommit.tla, distributed with the TLA+ tools and in the
tlaplus/Examples repository (specifications/transaction_commit/TCommit.tla).  It is also the
example of Lamport's TLA+ video course (lecture 5).

TCommit is the *specification* that two-phase commit (``model/twophase.py``) implements: the
resource managers alone, with no transaction manager and no messages.  An RM prepares; it may
commit once every RM is prepared (or committed), and abort while no RM has committed.  The
invariant is TCConsistent: no RM has aborted while another has committed.

TLC reports 34 distinct states and a search depth of 7 for three RMs.
"""

from ordercheck import Const, Enum, MapOf, Model, Var, action, forall, invariant, require


class TCommit(Model):
    """The resource managers of a transaction and the rule for deciding it (TCommit.tla).

    The constant ``RM`` is the set of resource managers (three by default).  TLA+'s
    ``Decide(r)`` is a disjunction of two cases; each case is an action of its own here
    (``decide_commit`` and ``decide_abort``), which generates the same transitions.
    """

    RM = Const(("r1", "r2", "r3"), doc="the resource managers")

    rm_state = Var(MapOf(RM, Enum("working", "prepared", "committed", "aborted")), init="working")

    def can_commit(s):
        """Every RM is prepared or committed (canCommit)."""
        return forall(s.RM, lambda r: (s.rm_state[r] == "prepared") | (s.rm_state[r] == "committed"))

    def not_committed(s):
        """No RM has committed (notCommitted)."""
        return forall(s.RM, lambda r: s.rm_state[r] != "committed")

    @action(rm=RM)
    def prepare(s, rm):
        """``rm`` prepares (Prepare)."""
        require(s.rm_state[rm] == "working")
        s.rm_state[rm] = "prepared"

    @action(rm=RM)
    def decide_commit(s, rm):
        """A prepared ``rm`` commits, once every RM is prepared or committed (first case of Decide)."""
        require(s.rm_state[rm] == "prepared")
        require(s.can_commit())
        s.rm_state[rm] = "committed"

    @action(rm=RM)
    def decide_abort(s, rm):
        """A working or prepared ``rm`` aborts, while no RM has committed (second case of Decide)."""
        require((s.rm_state[rm] == "working") | (s.rm_state[rm] == "prepared"))
        require(s.not_committed())
        s.rm_state[rm] = "aborted"

    @invariant
    def consistent(s):
        """No RM has aborted while another has committed (TCConsistent)."""
        return forall(s.RM, lambda a: forall(s.RM, lambda b: ~((s.rm_state[a] == "aborted") & (s.rm_state[b] == "committed"))))
