"""Counterexamples as readable text: the initial state compactly, then only what changed.

The first block lists what the initial state holds: every variable that is not
empty, false or 0 (a map shows only such entries, and a map whose entries are all
equal prints as ``{every key: value}``); one closing line names the variables left
out.  ``full_states=True`` lists every variable of every state instead.  Each
later block names the action (with its parameters) and lists only the variables
that changed: a scalar as ``old -> new``, a map entry by entry
(``rm_state[r1]: 'working' -> 'prepared'``), a set as its new value with the
elements added and removed.  Sets print their elements in a fixed order
(:func:`value_sort_key`), so the same trace always renders to the same text.

Examples
--------
>>> from ordercheck.report.trace import Step, Trace
>>> t = Trace("Counter", "small", "invariant", (
...     Step(None, (), {"x": 0, "seen": frozenset()}),
...     Step("inc", (("by", 2),), {"x": 2, "seen": frozenset({2})}),
... ))
>>> print(render_text(t))
Invariant small is violated
Model: Counter
<BLANKLINE>
State 1: initial state
  empty, false or 0: x, seen
<BLANKLINE>
State 2: inc(by=2)
  x: 0 -> 2
  seen = {2}  (+2)
"""

from __future__ import annotations

from typing import Any

from ..lang.types import Domain, describe_value
from .trace import Trace, state_title

__all__ = ["format_value", "headline", "initial_lines", "is_blank", "render_text", "sorted_elements", "value_sort_key"]


def value_sort_key(value: Any) -> tuple[Any, ...]:
    """A total, deterministic sort key for decoded values of mixed types.

    Values of different kinds order by kind (bools, ints, strings, tuples,
    sets, maps, anything else); within a kind ints order numerically, strings
    lexically, tuples element by element, sets and maps by their sorted
    contents.  Unlike ``repr`` it does not depend on hash order.

    Parameters
    ----------
    value : Any
        A decoded value: bool, int, str, tuple, frozenset, dict, or any other
        value (ordered by type name and ``repr``).

    Returns
    -------
    tuple
        A key comparable with the key of any other value.

    Examples
    --------
    >>> sorted([("b",), 10, "a", 9, True], key=value_sort_key)
    [True, 9, 10, 'a', ('b',)]
    """
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, tuple):
        return (3, tuple(value_sort_key(v) for v in value))
    if isinstance(value, (frozenset, set)):
        return (4, tuple(sorted(value_sort_key(v) for v in value)))
    if isinstance(value, dict):
        return (5, tuple(sorted((value_sort_key(k), value_sort_key(v)) for k, v in value.items())))
    return (6, type(value).__name__, repr(value))


def sorted_elements(values: Any) -> list[Any]:
    """The elements of a set (or any iterable) in the order of :func:`value_sort_key`.

    Examples
    --------
    >>> sorted_elements(frozenset({("p", "r2"), ("c",), ("p", "r1")}))
    [('c',), ('p', 'r1'), ('p', 'r2')]
    """
    return sorted(values, key=value_sort_key)


def _format_key(key: Any) -> str:
    """A map key inside brackets: a label that is an identifier prints bare."""
    if isinstance(key, str) and key.isidentifier():
        return key
    return format_value(key)


def format_value(value: Any) -> str:
    """The text of a decoded value: sets sorted, maps as ``{key: value, ...}``.

    Scalars print as :func:`ordercheck.lang.types.describe_value` prints them;
    a domain prints as the tuple of its elements.  The empty set prints ``{}``.

    Examples
    --------
    >>> format_value({"r1": frozenset({"b", "a"}), "r2": frozenset()})
    "{r1: {'a', 'b'}, r2: {}}"
    >>> format_value(("Prepared", "r1"))
    "('Prepared', 'r1')"
    """
    if isinstance(value, Domain):
        return describe_value(tuple(value))
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(format_value(v) for v in sorted_elements(value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_format_key(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    return describe_value(value)


def headline(trace: Trace) -> str:
    """The first line of a rendered trace: what the trace shows.

    Examples
    --------
    >>> from ordercheck.report.trace import Trace
    >>> headline(Trace("TwoPhase", None, "deadlock", ()))
    'Deadlock reached'
    >>> headline(Trace("M", None, "model-error", (), message="x = 9 is outside Int(0, 5)"))
    'Model error: x = 9 is outside Int(0, 5)'
    """
    prop = trace.property or "?"
    if trace.kind == "invariant":
        return f"Invariant {prop} is violated"
    if trace.kind == "step":
        return f"Step property {prop} is violated by the last step"
    if trace.kind == "deadlock":
        return "Deadlock reached"
    if trace.kind == "model-error":
        return f"Model error: {trace.message}" if trace.message else "Model error"
    if trace.kind == "induction":
        return f"Invariant {prop} is not inductive: a step from a state that satisfies it to one that does not"
    return f"Trace ({trace.kind})" if trace.kind else "Trace"


def _set_delta(before: Any, after: Any) -> str:
    added = sorted_elements(after - before)
    removed = sorted_elements(before - after)
    parts = [f"+{format_value(v)}" for v in added] + [f"-{format_value(v)}" for v in removed]
    return f"  ({', '.join(parts)})" if parts else ""


def _changes(path: str, before: Any, after: Any) -> list[str]:
    """The lines describing how one variable (or map entry) at ``path`` changed."""
    if isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys():
        lines: list[str] = []
        for key, value in after.items():
            if not _same(before[key], value):
                lines.extend(_changes(f"{path}[{_format_key(key)}]", before[key], value))
        return lines
    if isinstance(before, (frozenset, set)) and isinstance(after, (frozenset, set)):
        return [f"{path} = {format_value(after)}{_set_delta(before, after)}"]
    return [f"{path}: {format_value(before)} -> {format_value(after)}"]


def _same(a: Any, b: Any) -> bool:
    """Equality that also tells ``True`` from ``1``."""
    return type(a) is type(b) and a == b


def is_blank(value: Any) -> bool:
    """Whether a value is empty, false or 0 (a map: every entry is), the values a compact state leaves out.

    Examples
    --------
    >>> is_blank({"a": frozenset(), "b": 0}), is_blank(True), is_blank({"a": frozenset({1})})
    (True, False, False)
    """
    if isinstance(value, dict):
        return all(is_blank(v) for v in value.values())
    if isinstance(value, (frozenset, set, tuple, str)):
        return not value
    if isinstance(value, bool):
        return not value
    return isinstance(value, int) and value == 0


def _compact(value: Any) -> str:
    """A non-blank value with its blank map entries left out (``{db1: {'o1'}, others: {}}``)."""
    if not isinstance(value, dict) or len(value) < 2:
        return format_value(value)
    entries = list(value.values())
    if all(_same(entries[0], v) for v in entries[1:]):
        return "{every key: " + format_value(entries[0]) + "}"
    shown = {k: v for k, v in value.items() if not is_blank(v)}
    if len(shown) == len(value):
        return format_value(value)
    rest = {format_value(v) for k, v in value.items() if k not in shown}
    other = rest.pop() if len(rest) == 1 else "empty"
    return "{" + ", ".join(f"{_format_key(k)}: {_compact(v)}" for k, v in shown.items()) + f", others: {other}" + "}"


def initial_lines(state: dict[str, Any], full_states: bool = False) -> list[str]:
    """The lines of the initial state: every variable with ``full_states``, else only what it holds.

    Examples
    --------
    >>> initial_lines({"up": {"a": True, "b": True}, "disk": {"a": frozenset({"o1"}), "b": frozenset()}, "n": 0})
    ['  up = {every key: True}', "  disk = {a: {'o1'}, others: {}}", '  empty, false or 0: n']
    """
    if full_states:
        return [f"  {name} = {format_value(value)}" for name, value in state.items()]
    lines = [f"  {name} = {_compact(value)}" for name, value in state.items() if not is_blank(value)]
    blank = [name for name, value in state.items() if is_blank(value)]
    if blank:
        lines.append(f"  empty, false or 0: {', '.join(blank)}")
    return lines


def render_text(trace: Trace, full_states: bool = False) -> str:
    """Render a counterexample as text, showing only what changed at each step.

    Parameters
    ----------
    trace : Trace
        The trace to render.
    full_states : bool
        List every variable of every state (the initial state in full, and after each step the
        unchanged variables too), instead of the initial state's non-empty variables and each
        step's changes.

    Returns
    -------
    str
        The text, without a trailing newline.  The same trace always gives
        the same text, byte for byte.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("TwoPhase", "consistent", "invariant", (
    ...     Step(None, (), {"rm_state": {"r1": "working", "r2": "working"}}),
    ...     Step("rm_prepare", (("rm", "r1"),), {"rm_state": {"r1": "prepared", "r2": "working"}}),
    ... ), constants={"RM": ("r1", "r2")})
    >>> print(render_text(t))
    Invariant consistent is violated
    Model: TwoPhase
    Constants: RM = ('r1', 'r2')
    <BLANKLINE>
    State 1: initial state
      rm_state = {every key: 'working'}
    <BLANKLINE>
    State 2: rm_prepare(rm='r1')
      rm_state[r1]: 'working' -> 'prepared'
    """
    lines = [headline(trace)]
    if trace.model:
        lines.append(f"Model: {trace.model}")
    if trace.constants:
        lines.append("Constants: " + ", ".join(f"{name} = {format_value(value)}" for name, value in trace.constants.items()))
    if trace.message and trace.kind != "model-error":
        lines.append(trace.message)
    before: dict[str, Any] | None = None
    for number, step in enumerate(trace.steps, start=1):
        lines.append("")
        label = step.label
        if trace.kind == "induction" and step.action is None:
            label = "any state satisfying the assumptions (not necessarily reachable)"
        lines.append(f"State {number}: {label}" if label != step.label else state_title(number, step))
        if before is None:
            body = initial_lines(step.state, full_states)
        else:
            body = []
            for name, value in step.state.items():
                if name not in before or (full_states and _same(before[name], value)):
                    body.append(f"  {name} = {format_value(value)}")
                elif not _same(before[name], value):
                    body.extend("  " + line for line in _changes(name, before[name], value))
            if not body:
                body = ["  (no change)"]
        lines.extend(body)
        before = step.state
    return "\n".join(lines)
