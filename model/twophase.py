"""Two-phase commit: Lamport's TwoPhase.tla, written in ordercheck's modelling language.

Source: Leslie Lamport and Jim Gray, "Consensus on Transaction Commit" (ACM TODS 31(1), 2006),
and its TLA+ specification TwoPhase.tla, which is distributed with the TLA+ tools and in the
tlaplus/Examples repository (specifications/transaction_commit/TwoPhase.tla).

A transaction manager (TM) coordinates resource managers (RMs).  Messages are never lost or
removed: ``msgs`` is the set of every message ever sent, and a receive action only tests
membership, exactly as in the TLA+ original.  The actions are one-to-one with the TLA+ ones:

====================  ====================
TLA+                  here
====================  ====================
TMRcvPrepared(rm)     tm_rcv_prepared(rm)
TMCommit              tm_commit()
TMAbort               tm_abort()
RMPrepare(rm)         rm_prepare(rm)
RMChooseToAbort(rm)   rm_choose_to_abort(rm)
RMRcvCommitMsg(rm)    rm_rcv_commit_msg(rm)
RMRcvAbortMsg(rm)     rm_rcv_abort_msg(rm)
TCConsistent          consistent (invariant)
====================  ====================

TLC reports 288 distinct states and a search depth of 11 for three RMs, 8,832 states and depth
17 for five, and 50,816 states for six; the tests compare against those numbers.
"""

from ordercheck import Const, Enum, MapOf, Model, SetOf, Var, action, exists, forall, implies, invariant, require


class TwoPhase(Model):
    """Lamport's two-phase commit protocol (TwoPhase.tla): a TM, resource managers and a message set.

    The constant ``RM`` is the set of resource managers (three by default); ``MSG`` is the set of
    every possible message, TLA+'s ``Message``: ``("Prepared", rm)`` for each RM, ``("Commit",)``
    and ``("Abort",)``.
    """

    RM = Const(("r1", "r2", "r3"), doc="the resource managers")
    MSG = Const(lambda m: [("Prepared", r) for r in m.RM] + [("Commit",), ("Abort",)], doc="every possible message")

    rm_state = Var(MapOf(RM, Enum("working", "prepared", "committed", "aborted")), init="working")
    tm_state = Var(Enum("init", "committed", "aborted"), init="init")
    tm_prepared = Var(SetOf(RM), init=())
    msgs = Var(SetOf(MSG), init=())

    # -- the transaction manager

    @action(rm=RM)
    def tm_rcv_prepared(s, rm):
        """The TM receives a Prepared message from ``rm`` (TMRcvPrepared)."""
        require(s.tm_state == "init")
        require(s.msgs.has(("Prepared", rm)))
        s.tm_prepared = s.tm_prepared.add(rm)

    @action
    def tm_commit(s):
        """The TM commits once every RM is prepared, and tells them so (TMCommit)."""
        require(s.tm_state == "init")
        require(s.tm_prepared == s.RM)
        s.tm_state = "committed"
        s.msgs = s.msgs.add(("Commit",))

    @action
    def tm_abort(s):
        """The TM spontaneously aborts the transaction (TMAbort)."""
        require(s.tm_state == "init")
        s.tm_state = "aborted"
        s.msgs = s.msgs.add(("Abort",))

    # -- the resource managers

    @action(rm=RM)
    def rm_prepare(s, rm):
        """``rm`` prepares and sends Prepared to the TM (RMPrepare)."""
        require(s.rm_state[rm] == "working")
        s.rm_state[rm] = "prepared"
        s.msgs = s.msgs.add(("Prepared", rm))

    @action(rm=RM)
    def rm_choose_to_abort(s, rm):
        """``rm``, still working, unilaterally aborts (RMChooseToAbort)."""
        require(s.rm_state[rm] == "working")
        s.rm_state[rm] = "aborted"

    @action(rm=RM)
    def rm_rcv_commit_msg(s, rm):
        """``rm`` receives the Commit message (RMRcvCommitMsg)."""
        require(s.msgs.has(("Commit",)))
        s.rm_state[rm] = "committed"

    @action(rm=RM)
    def rm_rcv_abort_msg(s, rm):
        """``rm`` receives the Abort message (RMRcvAbortMsg)."""
        require(s.msgs.has(("Abort",)))
        s.rm_state[rm] = "aborted"

    # -- properties

    @invariant
    def consistent(s):
        """No RM has aborted while another has committed (TCConsistent)."""
        return forall(s.RM, lambda a: forall(s.RM, lambda b: ~((s.rm_state[a] == "aborted") & (s.rm_state[b] == "committed"))))

    def inductive_invariant(s):
        """An inductive strengthening of ``consistent``: true initially and preserved by every action.

        This is ``IndInv`` of TwoPhaseTypedInv.tla in the tlaplus/Examples repository (the
        invariant Apalache uses to prove TCConsistent of TwoPhase by induction), without its
        ``TPTypeOK`` conjunct, which the types of the variables already enforce.  It is a plain
        helper, not an ``@invariant``, so that the properties checked by default stay those of
        TwoPhase.tla; it is meant to become a lemma.
        """
        commit_sent = s.msgs.has(("Commit",))
        abort_sent = s.msgs.has(("Abort",))

        def prepared_sent(rm):
            return s.msgs.has(("Prepared", rm))

        def per_rm(rm):
            return (
                implies(s.tm_prepared.has(rm), (s.rm_state[rm] != "working") & prepared_sent(rm))
                & implies(s.rm_state[rm] == "working", ~prepared_sent(rm))
                & implies(s.rm_state[rm] == "aborted", abort_sent | ~prepared_sent(rm))
            )

        return (
            s.consistent()
            & implies(exists(s.RM, lambda rm: s.rm_state[rm] == "committed"), s.tm_state == "committed")
            & implies(
                s.tm_state == "committed",
                (s.tm_prepared == s.RM) & forall(s.RM, lambda rm: (s.rm_state[rm] != "working") & (s.rm_state[rm] != "aborted")) & commit_sent,
            )
            & implies(s.tm_state == "aborted", abort_sent)
            & forall(s.RM, per_rm)
            & implies(
                abort_sent,
                (s.tm_state == "aborted") | exists(s.RM, lambda rm: (s.rm_state[rm] == "aborted") & ~s.tm_prepared.has(rm) & ~prepared_sent(rm)),
            )
            & implies(
                commit_sent,
                (s.tm_prepared == s.RM) & ((s.tm_state == "committed") | exists(s.RM, lambda rm: s.rm_state[rm] == "committed")),
            )
        )
