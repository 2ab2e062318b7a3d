"""Grid files: which design keys a sweep varies, the values it tries, and the cost model.

A grid file is TOML::

    [grid]
    "protocol.synchronous_commit" = ["off", "local", "on"]
    "check.faults.budget" = [1, 2]
    "node.db2.replication" = ["sync", "async"]

    [cost]                      # optional; see :mod:`ordercheck.sweep.cost`
    server = 1.0

Every combination of the values is a *variant*: the values are written into the design's parsed TOML
data at their dotted keys (``node.NAME.KEY`` names a ``[[node]]`` table by its ``name``) and the
design is built again from that data, so a variant is validated exactly as a design file is.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..design import Design, DesignError, _did_you_mean, _Reader, design_from_data
from ..lang.errors import OrdercheckError
from .cost import CostModel, read_cost

__all__ = ["Grid", "Variant", "apply_values", "build_variant", "load_grid"]

GRID_TABLES = ("grid", "cost")


@dataclass(frozen=True)
class Variant:
    """One combination of grid values: ``index`` orders the table; ``values`` pairs each key with its value."""

    index: int
    values: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{key}={_value_text(value)}" for key, value in self.values) or "(the design as written)"


@dataclass
class Grid:
    """A loaded grid file: its path, the keys and their values (in file order) and the cost model."""

    path: Path
    keys: dict[str, list[Any]]
    cost: CostModel = field(default_factory=CostModel)

    def variants(self) -> list[Variant]:
        """Every combination, the last key varying fastest (the order of the table)."""
        names = list(self.keys)
        combos = itertools.product(*(self.keys[name] for name in names))
        return [Variant(i, tuple(zip(names, combo))) for i, combo in enumerate(combos)]


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value).lower() if isinstance(value, bool) else repr(value)


def _node_tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = data.get("node")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def apply_values(data: dict[str, Any], values: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A deep copy of a design's TOML ``data`` with each dotted key set to its value.

    ``node.NAME.KEY`` sets ``KEY`` in the ``[[node]]`` table named ``NAME`` (a :class:`KeyError` names an
    unknown node); a key under ``protocol`` that the table already has with dots in its name
    (``"min.insync.replicas" = 2``) is set there, any other dotted key makes the nested tables it needs.
    """
    data = copy.deepcopy(data)
    for key, value in values:
        parts = key.split(".")
        table: dict[str, Any] = data
        if parts[0] == "node" and len(parts) >= 3:
            named = {str(n.get("name")): n for n in _node_tables(data)}
            if parts[1] not in named:
                raise KeyError(f"no [[node]] is named {parts[1]!r}{_did_you_mean(parts[1], named)} (nodes: {', '.join(named)})")
            table, parts = named[parts[1]], parts[2:]
        elif parts[0] == "protocol" and len(parts) > 2 and isinstance(data.get("protocol"), dict) and ".".join(parts[1:]) in data["protocol"]:
            table, parts = data["protocol"], [".".join(parts[1:])]
        for part in parts[:-1]:
            inner = table.get(part)
            if not isinstance(inner, dict):
                inner = table[part] = {}
            table = inner
        table[parts[-1]] = copy.deepcopy(value)
    return data


def build_variant(design_path: Path, data: dict[str, Any], variant: Variant) -> Design:
    """The design of one variant; a :class:`~ordercheck.lang.errors.OrdercheckError` says why it is invalid."""
    try:
        changed = apply_values(data, variant.values)
    except KeyError as exc:
        raise DesignError(design_path, 0, "", str(exc.args[0])) from None
    return design_from_data(changed, design_path)


def _design_key_path(data: dict[str, Any], key: str) -> str:
    """How a design's error names the grid key ``key`` (``node.db2.rack`` is ``node[1].rack`` there)."""
    parts = key.split(".")
    if parts[0] == "node" and len(parts) >= 3:
        names = [str(n.get("name")) for n in _node_tables(data)]
        if parts[1] in names:
            return f"node[{names.index(parts[1])}]." + ".".join(parts[2:])
    return key


def load_grid(path: Path | str, design_path: Path | str) -> Grid:
    """Read and check a grid file against the design it varies.

    Raises
    ------
    DesignError
        Naming the grid file, the line and the key: a table or key that is not known, a key with no
        list of values, a key the design does not have (with a suggestion), a node that does not exist.
    """
    path, design_path = Path(path), Path(design_path)
    reader = _Reader(path)
    reader.unknown_keys(reader.data, GRID_TABLES, ())
    table = reader.data.get("grid")
    if not isinstance(table, dict) or not table:
        raise reader.error(("grid",), "a grid file has a [grid] table mapping dotted design keys to lists of values "
                                      "(\"protocol.ack\" = [\"primary.disk\", \"primary.disk and 1 of sync.disk\"])")
    keys = _flat_keys(table)
    design_data = _Reader(design_path).data
    for key, values in keys.items():
        at = ("grid", key)
        if not isinstance(values, list) or not values:
            raise reader.error(at, f"expected a non-empty list of values to try, got {values!r}")
        _check_key(reader, design_path, design_data, key, values[0])
    return Grid(path, keys, read_cost(reader))


def _flat_keys(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[grid]`` keys written as dotted TOML keys (``protocol.ack = [...]``) come back as nested tables: flatten them."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat_keys(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _check_key(reader: _Reader, design_path: Path, design_data: dict[str, Any], key: str, value: Any) -> None:
    """A grid key the design does not know is a mistake in the grid file, not an invalid variant."""
    at = ("grid", key)
    try:
        changed = apply_values(design_data, ((key, value),))
    except KeyError as exc:
        raise reader.error(at, str(exc.args[0])) from None
    try:
        design_from_data(changed, design_path)
    except DesignError as exc:
        message = str(exc).split(f"{exc.key}: ", 1)[-1]
        if exc.key == _design_key_path(design_data, key) and ("unknown key" in message or "has no setting" in message):
            raise reader.error(at, f"not a key of design {design_path}: {message}") from None
    except OrdercheckError:
        pass  # any other problem belongs to the variants that have it
