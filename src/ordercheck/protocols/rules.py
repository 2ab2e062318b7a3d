"""The acknowledgement rule: when is the client told "ok"?

A rule is a conjunction of clauses over roles and media::

    primary.disk                       the acting primary has it on disk
    app.memory                         an application node holds it (in memory or better)
    1 of sync.disk                     at least one synchronous replica has it on disk
    all of isr.os-cache                every in-sync replica has it at least in its OS cache
    majority.disk                      a majority of the data nodes have it on disk
    tail.disk                          the tail of the chain has it on disk

joined with ``and``.  Media are ordered memory < os-cache < disk: a copy on
disk also satisfies ``.memory``.

Examples
--------
>>> parse_rule("primary.disk and 1 of sync.disk")
(Clause(quantifier='one', count=1, group='primary', medium='disk'), Clause(quantifier='at-least', count=1, group='sync', medium='disk'))
>>> parse_rule("majority.disk")[0].quantifier
'majority'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GROUPS", "MEDIA_ORDER", "Clause", "RuleError", "parse_rule"]

MEDIA_ORDER = ("memory", "os-cache", "disk")
GROUPS = ("primary", "app", "replica", "sync", "async", "quorum", "isr", "data", "tail", "interface")


class RuleError(ValueError):
    """A rule that cannot be parsed or means nothing for the design; the message says which part."""


@dataclass(frozen=True)
class Clause:
    """``quantifier`` is ``one`` (a single role), ``at-least`` (``count`` of a group), ``all`` or ``majority``."""

    quantifier: str
    count: int
    group: str
    medium: str


_CLAUSE = re.compile(
    r"^(?:(?P<all>all\s+of)\s+|(?P<count>\d+)\s+of\s+)?(?P<group>[a-z][a-z0-9_-]*)\.(?P<medium>memory|os-cache|disk)$"
)


def parse_rule(text: str) -> tuple[Clause, ...]:
    """Parse an acknowledgement rule; :class:`RuleError` names the clause that is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the acknowledgement rule is empty; write e.g. \"primary.disk and 1 of sync.disk\"")
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        part = part.strip()
        match = _CLAUSE.match(part)
        if not match:
            raise RuleError(f"cannot read {part!r}: write ROLE.MEDIUM, N of GROUP.MEDIUM, all of GROUP.MEDIUM or majority.MEDIUM "
                            f"(media: {', '.join(MEDIA_ORDER)})")
        group, medium = match["group"], match["medium"]
        if group == "majority":
            if match["count"] or match["all"]:
                raise RuleError(f"{part!r}: majority takes no count")
            clauses.append(Clause("majority", 0, "data", medium))
        elif match["all"]:
            clauses.append(Clause("all", 0, group, medium))
        elif match["count"]:
            count = int(match["count"])
            if count < 1:
                raise RuleError(f"{part!r}: the count must be at least 1")
            clauses.append(Clause("at-least", count, group, medium))
        else:
            clauses.append(Clause("one", 1, group, medium))
    return tuple(clauses)
