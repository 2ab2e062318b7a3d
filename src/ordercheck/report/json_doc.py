"""The ``--json FILE`` document: a check's verdicts, statistics and counterexamples as JSON.

Its keys are exactly ``model``, ``file``, ``constants``, ``engine``, ``verdict``,
``reason``, ``properties``, ``stats`` and ``counterexample``; counterexamples
are ITF documents (:mod:`ordercheck.report.itf`).  ``docs/json-schema.md``
describes every key.  Two runs that reach the same result write the same
bytes, except for the timings (``stats.seconds`` and
``stats.states_per_second``).

Examples
--------
>>> from ordercheck.report.result import HOLDS, PropertyResult, Result, Stats
>>> r = Result("M", {"N": 3}, "explicit", [PropertyResult("safe", "invariant", HOLDS)], Stats(3, 4, 2, 0.5))
>>> doc = result_to_json(r)
>>> list(doc)
['model', 'file', 'constants', 'engine', 'verdict', 'reason', 'properties', 'stats', 'counterexample']
>>> doc["verdict"], doc["stats"]["states_per_second"], doc["counterexample"]
('holds', 6.0, None)
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from .itf import trace_to_itf
from .result import PropertyResult, Result, Stats
from .text import sorted_elements

__all__ = ["KEYS", "constant_to_json", "json_dumps", "result_to_json", "write_json"]

KEYS = ("model", "file", "constants", "engine", "verdict", "reason", "properties", "stats", "counterexample")


def constant_to_json(value: Any) -> Any:
    """A constant as plain JSON: tuples (domains too) and sets as arrays, maps as objects.

    Sets are sorted; a map whose keys are not all strings becomes an array of
    ``[key, value]`` pairs; a value of any other type becomes its ``repr``.

    Examples
    --------
    >>> from ordercheck.lang.types import Domain
    >>> constant_to_json(Domain((("Prepared", "r1"), ("Commit",)), "MSG"))
    [['Prepared', 'r1'], ['Commit']]
    >>> constant_to_json({1: frozenset({"b", "a"})})
    [[1, ['a', 'b']]]
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        return [constant_to_json(v) for v in value]
    if isinstance(value, (frozenset, set)):
        return [constant_to_json(v) for v in sorted_elements(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: constant_to_json(v) for k, v in value.items()}
        return [[constant_to_json(k), constant_to_json(v)] for k, v in value.items()]
    return repr(value)


def _seconds(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _stats(stats: Stats) -> dict[str, Any]:
    return {
        "distinct_states": stats.distinct_states,
        "generated_states": stats.generated_states,
        "depth": stats.depth,
        "seconds": _seconds(stats.seconds),
        "states_per_second": _seconds(stats.states_per_second),
    }


def _property(p: PropertyResult, tolerance: Any = None) -> dict[str, Any]:
    doc = {
        "name": p.name,
        "kind": p.kind,
        "verdict": p.verdict,
        "reason": p.reason,
        "counterexample": None if p.counterexample is None else trace_to_itf(p.counterexample),
    }
    if tolerance is not None:
        # Only when it was measured (--tolerance): the largest k that holds and what breaks k + 1.
        doc["tolerance"] = {
            "measure": tolerance.measure,
            "k": tolerance.k,
            "verdict": tolerance.verdict,
            "reason": tolerance.reason,
            "failure_set": list(tolerance.failure_set),
        }
    return doc


def result_to_json(result: Result, file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The JSON document of a result.

    Parameters
    ----------
    result : Result
        The outcome of a check.
    file : str or path, optional
        The design or model file the result is for (``"file"``; ``null`` when not given).

    Returns
    -------
    dict
        The keys of :data:`KEYS`, in that order; ``counterexample`` is the ITF
        document of the first violated property's trace, or ``None``.

    Examples
    --------
    >>> from ordercheck.report.result import INCONCLUSIVE, PropertyResult, Result, Stats
    >>> r = Result("M", {}, "bmc", [PropertyResult("safe", "invariant", INCONCLUSIVE, reason="depth 10 reached")],
    ...            Stats(0, 0, 10, 0.0), reason="depth 10 reached")
    >>> d = result_to_json(r)
    >>> d["verdict"], d["reason"], d["properties"][0]["reason"]
    ('inconclusive', 'depth 10 reached', 'depth 10 reached')
    """
    cex = result.counterexample
    return {
        "model": result.model,
        "file": None if file is None else os.fspath(file),
        "constants": {name: constant_to_json(value) for name, value in result.constants.items()},
        "engine": result.engine,
        "verdict": result.verdict,
        "reason": result.reason,
        "properties": [_property(p, result.extra.get("tolerance", {}).get(p.name)) for p in result.properties],
        "stats": _stats(result.stats),
        "counterexample": None if cex is None else trace_to_itf(cex),
    }


def json_dumps(result: Result, file: str | os.PathLike[str] | None = None) -> str:
    """The JSON text of a result: indented, with a trailing newline.

    Keys keep the fixed order of :func:`result_to_json` (and of the ITF
    documents inside) rather than being sorted: the order of an action's
    parameters is part of a trace, and a fixed order is just as deterministic.

    Examples
    --------
    >>> from ordercheck.report.result import HOLDS, PropertyResult, Result, Stats
    >>> r = Result("M", {"RM": ("r1", "r2")}, "explicit", [PropertyResult("safe", "invariant", HOLDS)], Stats(3, 4, 2, 0.0))
    >>> print(json_dumps(r), end="")
    {
      "model": "M",
      "file": null,
      "constants": {
        "RM": [
          "r1",
          "r2"
        ]
      },
      "engine": "explicit",
      "verdict": "holds",
      "reason": "",
      "properties": [
        {
          "name": "safe",
          "kind": "invariant",
          "verdict": "holds",
          "reason": "",
          "counterexample": null
        }
      ],
      "stats": {
        "distinct_states": 3,
        "generated_states": 4,
        "depth": 2,
        "seconds": 0.0,
        "states_per_second": 0.0
      },
      "counterexample": null
    }
    """
    return json.dumps(result_to_json(result, file), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(result: Result, path: str | os.PathLike[str], file: str | os.PathLike[str] | None = None) -> None:
    """Write the JSON document of a result to ``path``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from ordercheck.report.result import HOLDS, PropertyResult, Result, Stats
    >>> r = Result("M", {}, "explicit", [PropertyResult("safe", "invariant", HOLDS)], Stats(3, 4, 2, 0.0))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_json(r, pathlib.Path(d) / "r.json")
    ...     json.loads((pathlib.Path(d) / "r.json").read_text())["verdict"]
    'holds'
    """
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json_dumps(result, file))
