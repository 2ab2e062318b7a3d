"""Traces in the Informal Trace Format (ITF), the JSON trace format of Apalache and Quint.

The format is specified by Apalache's ADR-015
(https://apalache-mc.org/docs/adr/015adr-trace.html).  A trace is a JSON
object with ``#meta``, ``vars`` and ``states``; each state is an object with
its own ``#meta`` and one value per variable.  Values are written as

=========================  =============================================
decoded Python value       ITF expression
=========================  =============================================
``bool``                   JSON ``true`` / ``false``
``int``                    ``{"#bigint": "-12"}`` (as Quint writes them)
``str`` (a label)          JSON string
``tuple``                  ``{"#tup": [...]}``
``frozenset`` (a set)      ``{"#set": [...]}``, elements sorted
``dict`` (a map)           ``{"#map": [[key, value], ...]}``, domain order
=========================  =============================================

Reading also accepts plain JSON integers (the spec allows them), JSON arrays
(sequences, read as tuples) and records (JSON objects, read as dicts).

ordercheck's own metadata: the top-level ``#meta`` names the model, the
property, the kind of trace, the message and the constants; each state's
``#meta`` holds its ``index`` (from 0), the ``action`` that led to it
(``null`` for the initial state) and the action's ``params`` (an object in
declaration order).

Examples
--------
>>> from ordercheck.report.trace import Step, Trace
>>> t = Trace("M", "safe", "invariant", (
...     Step(None, (), {"x": 0}),
...     Step("inc", (("by", 1),), {"x": 1}),
... ))
>>> doc = trace_to_itf(t)
>>> doc["vars"], doc["states"][1]
(['x'], {'#meta': {'index': 1, 'action': 'inc', 'params': {'by': {'#bigint': '1'}}}, 'x': {'#bigint': '1'}})
>>> itf_to_trace(doc) == t
True
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from .text import sorted_elements
from .trace import Step, Trace

__all__ = [
    "FORMAT_DESCRIPTION",
    "MAX_TRACE_BYTES",
    "decode_value",
    "encode_value",
    "itf_dumps",
    "itf_to_trace",
    "read_itf",
    "trace_to_itf",
    "write_itf",
]

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"

_BIGINT = re.compile(r"-?[0-9]+")

# The largest trace file read: far more than any counterexample ordercheck writes (a few hundred states).
MAX_TRACE_BYTES = 256 * 2**20

# Quint's model-based-testing variables: the action taken and its nondeterministic picks.
_MBT_ACTION = "mbt::actionTaken"
_MBT_PICKS = "mbt::nondetPicks"


def encode_value(value: Any, *, lenient: bool = False) -> Any:
    """The ITF expression of a decoded value.

    Parameters
    ----------
    value : Any
        A bool, int, str, tuple (a domain too), frozenset or dict, nested freely.
    lenient : bool
        Write a value of any other type as ``{"#unserializable": repr}``
        instead of raising (used for constants, which are only metadata).

    Returns
    -------
    Any
        A JSON-ready value.

    Raises
    ------
    TypeError
        For a value of another type, unless ``lenient``.

    Examples
    --------
    >>> encode_value({"r1": frozenset({("P", 2), ("C",)})})
    {'#map': [['r1', {'#set': [{'#tup': ['C']}, {'#tup': ['P', {'#bigint': '2'}]}]}]]}
    """
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, tuple):
        return {"#tup": [encode_value(v, lenient=lenient) for v in value]}
    if isinstance(value, (frozenset, set)):
        return {"#set": [encode_value(v, lenient=lenient) for v in sorted_elements(value)]}
    if isinstance(value, dict):
        return {"#map": [[encode_value(k, lenient=lenient), encode_value(v, lenient=lenient)] for k, v in value.items()]}
    if lenient:
        return {"#unserializable": repr(value)}
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) in ITF: expected bool, int, str, tuple, frozenset or dict")


def _hashable(value: Any, where: str) -> Any:
    try:
        hash(value)
    except TypeError:
        raise ValueError(f"{where}: a map cannot be a set element or a map key in ordercheck traces") from None
    return value


def decode_value(expr: Any, where: str = "value", *, lenient: bool = False) -> Any:
    """The decoded Python value of an ITF expression (the inverse of :func:`encode_value`).

    Parameters
    ----------
    expr : Any
        A value as ``json.load`` returns it.
    where : str
        Where the value sits in the document, for error messages.
    lenient : bool
        Read ``{"#unserializable": text}`` as the string ``text`` instead of
        raising (used for constants).

    Returns
    -------
    Any
        bool, int, str, tuple, frozenset or dict.

    Raises
    ------
    ValueError
        For anything that is not a well-formed ITF expression of a finite value.

    Examples
    --------
    >>> decode_value({"#set": [{"#bigint": "2"}, 1]})
    frozenset({1, 2})
    >>> decode_value({"#set": 3})
    Traceback (most recent call last):
    ...
    ValueError: value: "#set" must hold a JSON array, not 3
    """
    if isinstance(expr, (bool, str)):
        return expr
    if isinstance(expr, int):
        return expr
    if isinstance(expr, list):
        return tuple(decode_value(v, f"{where}[{i}]", lenient=lenient) for i, v in enumerate(expr))
    if not isinstance(expr, dict):
        kind = "null" if expr is None else f"{type(expr).__name__} {expr!r}"
        raise ValueError(f"{where}: {kind} is not an ITF value (expected a boolean, string, integer, array or object)")
    tags = [k for k in expr if k.startswith("#")]
    if not tags:  # a record
        return {k: decode_value(v, f"{where}.{k}", lenient=lenient) for k, v in expr.items()}
    if len(expr) != 1:
        raise ValueError(f"{where}: an object with {tags[0]!r} must have no other key, found {sorted(expr)}")
    tag, body = tags[0], expr[tags[0]]
    if tag == "#bigint":
        if not isinstance(body, str) or not _BIGINT.fullmatch(body):
            raise ValueError(f'{where}: "#bigint" must hold a string of decimal digits with an optional "-", not {body!r}')
        return int(body)
    if tag == "#unserializable":
        if lenient:
            return str(body)
        raise ValueError(f"{where}: the value {body!r} was not serializable, so a trace holding it cannot be read")
    if tag not in ("#tup", "#set", "#map"):
        raise ValueError(f"{where}: unknown ITF tag {tag!r} (expected #bigint, #tup, #set or #map)")
    if not isinstance(body, list):
        raise ValueError(f"{where}: {json.dumps(tag)} must hold a JSON array, not {body!r}")
    if tag == "#tup":
        return tuple(decode_value(v, f"{where}[{i}]", lenient=lenient) for i, v in enumerate(body))
    if tag == "#set":
        items = [_hashable(decode_value(v, f"{where}{{{i}}}", lenient=lenient), f"{where}{{{i}}}") for i, v in enumerate(body)]
        return frozenset(items)
    result: dict[Any, Any] = {}
    for i, pair in enumerate(body):
        at = f"{where}#map[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{at}: a map entry must be a [key, value] array, not {pair!r}")
        key = _hashable(decode_value(pair[0], f"{at}.key", lenient=lenient), f"{at}.key")
        if key in result:
            raise ValueError(f"{at}: the key {pair[0]!r} appears twice")
        result[key] = decode_value(pair[1], f"{at}.value", lenient=lenient)
    return result


def trace_to_itf(trace: Trace) -> dict[str, Any]:
    """The ITF document of a trace.

    Parameters
    ----------
    trace : Trace
        The trace; every state must define the variables of the first.

    Returns
    -------
    dict
        ``{"#meta": ..., "vars": [...], "states": [...]}``, its keys in a fixed
        order, ready for ``json.dumps``.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> doc = trace_to_itf(Trace("M", None, "deadlock", (Step(None, (), {"on": True}),)))
    >>> doc["#meta"]["kind"], doc["states"]
    ('deadlock', [{'#meta': {'index': 0, 'action': None, 'params': {}}, 'on': True}])
    """
    names = list(trace.steps[0].state) if trace.steps else []
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": FORMAT_DESCRIPTION,
        "source": trace.model,
        "description": "Created by ordercheck",
        "model": trace.model,
        "property": trace.property,
        "kind": trace.kind,
        "message": trace.message,
        "constants": {name: encode_value(value, lenient=True) for name, value in trace.constants.items()},
    }
    states = []
    for index, step in enumerate(trace.steps):
        if set(step.state) != set(names):
            raise ValueError(f"state {index} defines {sorted(step.state)}, but the trace's variables are {sorted(names)}")
        state: dict[str, Any] = {
            "#meta": {"index": index, "action": step.action, "params": {k: encode_value(v) for k, v in step.params}},
        }
        for name in names:
            state[name] = encode_value(step.state[name])
        states.append(state)
    return {"#meta": meta, "vars": names, "states": states}


def _action_from_mbt(state: dict[str, Any], index: int) -> tuple[str | None, tuple[tuple[str, Any], ...]]:
    """The action and parameters Quint records in ``mbt::actionTaken`` and ``mbt::nondetPicks``."""
    if index == 0:  # Quint names its init action here; an ordercheck trace starts with no action
        return None, ()
    where = f"states[{index}]"
    action = state.get(_MBT_ACTION)
    if not isinstance(action, str):
        raise ValueError(f'{where}: "{_MBT_ACTION}" must be a string, not {action!r}')
    params: list[tuple[str, Any]] = []
    picks = state.get(_MBT_PICKS, {})
    if not isinstance(picks, dict):
        raise ValueError(f'{where}: "{_MBT_PICKS}" must be a record, not {picks!r}')
    for name, pick in picks.items():
        if isinstance(pick, dict) and pick.get("tag") == "Some":
            params.append((name, decode_value(pick.get("value"), f"{where}.{_MBT_PICKS}.{name}")))
    return action, tuple(params)


def itf_to_trace(doc: Any) -> Trace:
    """The trace an ITF document describes (the inverse of :func:`trace_to_itf`).

    Documents written by other tools are read too: ``model``, ``property`` and
    ``kind`` default to the ``source`` (or ``""``), ``None`` and ``""``; the
    action of a state comes from its ``#meta`` or from Quint's
    ``mbt::actionTaken`` and ``mbt::nondetPicks`` variables.

    Parameters
    ----------
    doc : Any
        The document, as ``json.load`` returns it.

    Returns
    -------
    Trace

    Raises
    ------
    ValueError
        With the place of the problem, when the document is not a finite ITF
        trace whose states after the first each name the action taken.

    Examples
    --------
    >>> itf_to_trace({"vars": ["x"], "states": [{"#meta": {"index": 0}, "x": 1}]}).steps
    (Step(action=None, params=(), state={'x': 1}),)
    >>> itf_to_trace({"vars": ["x"], "states": [{"y": 1}]})
    Traceback (most recent call last):
    ...
    ValueError: states[0]: variable 'x' has no value
    """
    if not isinstance(doc, dict):
        raise ValueError(f"an ITF trace is a JSON object, not {type(doc).__name__}")
    for key in ("vars", "states"):
        if key not in doc:
            raise ValueError(f'an ITF trace needs "{key}"; found only {sorted(doc)}')
    if doc.get("loop") is not None:
        raise ValueError('this ITF trace is a lasso ("loop" is set); ordercheck reads finite traces only')
    meta = doc.get("#meta", {})
    if not isinstance(meta, dict):
        raise ValueError(f'"#meta" must be an object, not {meta!r}')
    names = doc["vars"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f'"vars" must be an array of strings, not {names!r}')
    if len(set(names)) != len(names):
        raise ValueError(f'"vars" names a variable twice: {names!r}')
    states = doc["states"]
    if not isinstance(states, list):
        raise ValueError(f'"states" must be an array of state objects, not {type(states).__name__}')
    mbt = _MBT_ACTION in names
    state_names = [n for n in names if n not in (_MBT_ACTION, _MBT_PICKS)]
    steps = []
    for index, state in enumerate(states):
        where = f"states[{index}]"
        if not isinstance(state, dict):
            raise ValueError(f"{where}: a state must be a JSON object, not {state!r}")
        smeta = state.get("#meta", {})
        if not isinstance(smeta, dict):
            raise ValueError(f'{where}: "#meta" must be an object, not {smeta!r}')
        if "index" in smeta and smeta["index"] != index:
            raise ValueError(f'{where}: "#meta" gives index {smeta["index"]!r}, but it is state {index} of the array')
        for name in names:
            if name not in state:
                raise ValueError(f"{where}: variable {name!r} has no value")
        extra = [k for k in state if not k.startswith("#") and k not in names]
        if extra:
            raise ValueError(f'{where}: {extra[0]!r} is not one of the "vars" {names!r}')
        values = {name: decode_value(state[name], f"{where}.{name}") for name in state_names}
        action: str | None
        params: tuple[tuple[str, Any], ...]
        if "action" in smeta:
            action = smeta["action"]
            if action is not None and not isinstance(action, str):
                raise ValueError(f'{where}: "#meta".action must be a string or null, not {action!r}')
            raw = smeta.get("params", {})
            if not isinstance(raw, dict):
                raise ValueError(f'{where}: "#meta".params must be an object, not {raw!r}')
            params = tuple((k, decode_value(v, f"{where}.#meta.params.{k}")) for k, v in raw.items())
        elif mbt:
            action, params = _action_from_mbt(state, index)
        else:
            action, params = None, ()
        if action is None and index > 0:
            raise ValueError(f'{where}: a state after the first must name the action that led to it in "#meta".action')
        if action is None and params:
            raise ValueError(f"{where}: the initial state has no action, so it cannot have params")
        steps.append(Step(action, params, values))
    raw_constants = meta.get("constants", {})
    if not isinstance(raw_constants, dict):
        raise ValueError(f'"#meta".constants must be an object, not {raw_constants!r}')
    constants = {k: decode_value(v, f"#meta.constants.{k}", lenient=True) for k, v in raw_constants.items()}
    fields = {}
    for key, default in (("model", meta.get("source", "")), ("kind", ""), ("message", "")):
        value = meta.get(key, default)
        if not isinstance(value, str):
            raise ValueError(f'"#meta".{key} must be a string, not {value!r}')
        fields[key] = value
    prop = meta.get("property")
    if prop is not None and not isinstance(prop, str):
        raise ValueError(f'"#meta".property must be a string or null, not {prop!r}')
    return Trace(fields["model"], prop, fields["kind"], tuple(steps), message=fields["message"], constants=constants)


def itf_dumps(trace: Trace) -> str:
    """The ITF text of a trace: indented JSON with a trailing newline, the same bytes for the same trace.

    Keys are written in a fixed order rather than sorted, because the order of
    an action's parameters is part of the trace.

    Examples
    --------
    >>> from ordercheck.report.trace import Step, Trace
    >>> print(itf_dumps(Trace("M", None, "deadlock", (Step(None, (), {"on": True}),))), end="")
    {
      "#meta": {
        "format": "ITF",
        "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "M",
        "description": "Created by ordercheck",
        "model": "M",
        "property": null,
        "kind": "deadlock",
        "message": "",
        "constants": {}
      },
      "vars": [
        "on"
      ],
      "states": [
        {
          "#meta": {
            "index": 0,
            "action": null,
            "params": {}
          },
          "on": true
        }
      ]
    }
    """
    return json.dumps(trace_to_itf(trace), indent=2, ensure_ascii=False) + "\n"


def write_itf(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a trace to ``path`` as ITF JSON (by convention named ``*.itf.json``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ordercheck.report.trace import Step, Trace
    >>> t = Trace("M", "safe", "invariant", (Step(None, (), {"s": frozenset({"a"})}),))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_itf(t, pathlib.Path(d) / "cex.itf.json")
    ...     read_itf(pathlib.Path(d) / "cex.itf.json") == t
    True
    """
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(itf_dumps(trace))


def read_itf(path: str | os.PathLike[str]) -> Trace:
    """Read a trace from an ITF JSON file; ``ValueError`` (naming the file) if it is not one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "bad.itf.json"
    ...     _ = p.write_text("[1, 2]")
    ...     read_itf(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...bad.itf.json: an ITF trace is a JSON object, not list
    """
    if os.path.isdir(path):
        raise ValueError(f"{os.fspath(path)}: is a directory, not a trace file")
    with open(path, "rb") as f:
        data = f.read(MAX_TRACE_BYTES + 1)
    if len(data) > MAX_TRACE_BYTES:
        raise ValueError(f"{os.fspath(path)}: larger than {MAX_TRACE_BYTES // 2**20} MiB, too large for a trace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{os.fspath(path)}: not UTF-8 text (byte {e.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{os.fspath(path)}: not JSON: {e}") from None
    except RecursionError:
        raise ValueError(f"{os.fspath(path)}: the JSON is nested too deeply to be a trace") from None
    try:
        return itf_to_trace(doc)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)}: {e}") from None
    except RecursionError:
        raise ValueError(f"{os.fspath(path)}: a value is nested too deeply to be a state of a model") from None
