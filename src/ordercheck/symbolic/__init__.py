"""The Z3 engines: bounded model checking, k-induction and vacuity checks over the IR.

- :func:`bmc` (``--engine bmc --depth N``): incremental bounded model checking, shortest traces;
- :func:`induction` (``--engine induction``): k-induction with simple-path constraints and lemmas;
- :func:`pdr` (``--engine pdr``): IC3/PDR with Z3's Spacer, inductive invariants found and re-checked;
- :func:`vacuity`: findings about a model that passes for the wrong reason.

The encoding (:mod:`ordercheck.symbolic.encode`) covers every IR construct, and every
counterexample is replayed on the reference semantics before it is reported.
"""

from .bmc import DepthStats, bmc
from .encode import Encoding
from .induction import induction
from .pdr import pdr
from .vacuity import vacuity

__all__ = ["DepthStats", "Encoding", "bmc", "induction", "pdr", "vacuity"]
