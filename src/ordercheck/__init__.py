"""ordercheck: a model checker for the durability of orders.

Describe a model (or a design), and :func:`check` explores every
interleaving of its actions, reporting ``holds``, ``violated`` with a
shortest counterexample, or ``inconclusive`` with the bound that was hit.
"""

from .api import check
from .lang import (
    Bool,
    Const,
    EachOf,
    Elem,
    Enum,
    InputError,
    Int,
    MapOf,
    Model,
    ModelError,
    OneOf,
    SetOf,
    Var,
    action,
    exists,
    forall,
    implies,
    initial,
    invariant,
    ite,
    lemma,
    max_of,
    min_of,
    require,
    sometimes,
    spec_of,
    step_invariant,
)
from .report.result import Result, Stats
from .report.trace import Step, Trace

__all__ = [
    "Bool",
    "Const",
    "EachOf",
    "Elem",
    "Enum",
    "InputError",
    "Int",
    "MapOf",
    "Model",
    "ModelError",
    "OneOf",
    "Result",
    "SetOf",
    "Stats",
    "Step",
    "Trace",
    "Var",
    "action",
    "check",
    "exists",
    "forall",
    "implies",
    "initial",
    "invariant",
    "ite",
    "lemma",
    "max_of",
    "min_of",
    "require",
    "sometimes",
    "spec_of",
    "step_invariant",
]

__version__ = "0.1.0"
