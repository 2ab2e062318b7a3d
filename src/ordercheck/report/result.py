"""Results of a check: a verdict per property, statistics, and a counterexample.

Verdicts are three-valued: ``holds`` is earned by exploring every reachable
state (or by a proof), ``violated`` comes with a replayed counterexample, and
``inconclusive`` says which bound was hit and how far the search got.

Examples
--------
>>> r = Result("M", {}, "explicit", [PropertyResult("safe", "invariant", HOLDS)], Stats(3, 4, 2, 0.0))
>>> r.verdict, r.exit_code
('holds', 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .trace import Trace

__all__ = ["EXIT_CODES", "HOLDS", "INCONCLUSIVE", "VIOLATED", "PropertyResult", "Result", "Stats", "combine_verdicts"]

HOLDS = "holds"
VIOLATED = "violated"
INCONCLUSIVE = "inconclusive"
EXIT_CODES = {HOLDS: 0, VIOLATED: 1, INCONCLUSIVE: 3}


@dataclass
class Stats:
    """Search statistics in TLC's conventions.

    ``distinct_states`` counts the initial states too; ``generated_states`` is
    initial states plus every successor computed (duplicates included);
    ``depth`` is the number of BFS levels, the initial states being level 1.
    """

    distinct_states: int
    generated_states: int
    depth: int
    seconds: float
    queue: int = 0

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0


@dataclass
class PropertyResult:
    """The verdict on one property, with its counterexample or the reason it is inconclusive."""

    name: str
    kind: str
    verdict: str
    counterexample: Trace | None = None
    reason: str = ""


def combine_verdicts(verdicts: list[str]) -> str:
    """The overall verdict: violated if any is, else inconclusive if any is, else holds."""
    if VIOLATED in verdicts:
        return VIOLATED
    if INCONCLUSIVE in verdicts:
        return INCONCLUSIVE
    return HOLDS


@dataclass
class Result:
    """The outcome of checking one model instance."""

    model: str
    constants: dict[str, Any]
    engine: str
    properties: list[PropertyResult]
    stats: Stats
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if not self.properties:
            return INCONCLUSIVE if self.reason else HOLDS
        return combine_verdicts([p.verdict for p in self.properties])

    @property
    def counterexample(self) -> Trace | None:
        """The trace of the first violated property, if any."""
        for p in self.properties:
            if p.counterexample is not None:
                return p.counterexample
        return None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def property(self, name: str) -> PropertyResult:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)
