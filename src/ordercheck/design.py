"""Design files: a topology, a commit protocol and the properties it must meet, in TOML.

A design is validated whole before anything runs; every error names the
file, the line and the key.  See ``docs/designs.md`` for the format.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "d.toml").write_text('''
... name = "two copies"
... orders = 1
... [[node]]
... name = "db1"
... role = "primary"
... [[node]]
... name = "db2"
... role = "replica"
... replication = "sync"
... [protocol]
... family = "replicated-log"
... ack = "primary.disk and 1 of sync.disk"
... [check]
... faults = { kinds = ["disk-loss"], budget = 1 }
... [[check.property]]
... kind = "never_lost"
... ''')
>>> d = load_design(folder / "d.toml")
>>> d.name, [p.label for p in d.properties]
('two copies', ['never_lost'])
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .domain.topology import Topology
from .lang.errors import InputError, ModelError
from .lang.model import Model
from .protocols.family import FAULT_KIND_NAMES, PROPERTY_KINDS, FaultSettings, PropertySpec, Protocol, design_model
from .protocols.presets import PRESETS, apply_preset

__all__ = ["Design", "DesignError", "load_design", "load_property_set"]

PROTOCOL_KNOBS = tuple(f.name for f in fields(Protocol))
TOP_KEYS = ("name", "description", "orders", "node", "protocol", "check")
CHECK_KEYS = ("properties", "property", "faults", "max_states", "max_seconds", "lemma")
LEMMA_KEYS = ("name", "expr", "description")
FAULT_KEYS = ("kinds", "budget", "domain")
PROPERTY_KEYS = ("name", "kind", "k", "domain", "description")


class DesignError(InputError):
    """An error in a design or property-set file, with the file, line and key."""

    def __init__(self, path: Path, line: int, key: str, message: str) -> None:
        self.path, self.line, self.key = path, line, key
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class _Lines:
    """Finds the line of a key in a TOML file (tomllib gives values, not positions)."""

    _TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_.-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.positions: dict[tuple[Any, ...], int] = {}
        counters: dict[str, int] = {}
        table: tuple[Any, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            match = self._TABLE.match(line)
            if match:
                name = match.group(2).strip()
                parts: tuple[Any, ...] = tuple(p.strip().strip('"') for p in name.split("."))
                if match.group(1) == "[[":
                    index = counters.get(name, 0)
                    counters[name] = index + 1
                    self.positions.setdefault(parts, number)
                    parts = parts + (index,)
                table = parts
                self.positions.setdefault(table, number)
                continue
            match = self._KEY.match(line)
            if match:
                key = match.group(1).strip('"').strip("'")
                path = table + (key,)
                self.positions.setdefault(path, number)
                # Keys of an inline table on the same line.
                for inner in re.findall(r"([A-Za-z0-9_.-]+)\s*=", line[match.end():]):
                    self.positions.setdefault(path + (inner,), number)

    def line(self, *path: Any) -> int:
        for end in range(len(path), 0, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return 0


def _key_text(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Design:
    """A loaded, validated design: everything needed to build and check its model."""

    path: Path
    name: str
    description: str
    orders: int
    topology: Topology
    protocol: Protocol
    replication: dict[str, str]
    faults: FaultSettings
    properties: list[PropertySpec]
    max_states: int | None = None
    max_seconds: float | None = None
    lemmas: list[tuple[str, str]] = field(default_factory=list)
    model_class: type[Model] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.model_class = design_model(self.name, self.topology, self.protocol, orders=self.orders, faults=self.faults,
                                        properties=self.properties, replication=self.replication)
        if self.lemmas:
            self.model_class = _with_lemmas(self.model_class, self.lemmas)

    def model(self) -> Model:
        return self.model_class()


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.text = path.read_text()
        except OSError as exc:
            raise DesignError(path, 0, "", f"cannot be read: {exc.strerror or exc}") from None
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", 0) or int((re.search(r"line (\d+)", str(exc)) or [0, 0])[1])
            raise DesignError(path, line, "", f"not valid TOML: {exc}") from None
        self.lines = _Lines(self.text)

    def error(self, path: tuple[Any, ...], message: str) -> DesignError:
        return DesignError(self.path, self.lines.line(*path), _key_text(path), message)

    def unknown_keys(self, table: dict[str, Any], allowed: tuple[str, ...], at: tuple[Any, ...], extra: str = "") -> None:
        for key in table:
            if key not in allowed:
                raise self.error(at + (key,), f"unknown key (known keys: {', '.join(allowed)}){extra}")

    def typed(self, value: Any, kind: type | tuple[type, ...], at: tuple[Any, ...], what: str) -> Any:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(at, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self.error(at, f"expected {what}, got {value!r}")
        return value


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Product settings with dots in their names (``min.insync.replicas = 2``) read back as one key each."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in ("stores",):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _check_domain(reader: _Reader, topology: Topology | None, kind: str, at: tuple[Any, ...]) -> None:
    """A failure-domain kind that every node has (``node`` always exists)."""
    if topology is None or kind == "node":
        return
    try:
        topology.domain_values(kind)
    except ModelError as exc:
        raise reader.error(at, f"{exc.message} (domains: {', '.join(('node', *topology.domain_kinds))})") from None


def load_property_set(path: Path, topology: Topology | None = None) -> list[PropertySpec]:
    """The ``[[property]]`` entries of a property-set file (checked against ``topology`` when given)."""
    reader = _Reader(path)
    reader.unknown_keys(reader.data, ("property", "description"), ())
    entries = reader.data.get("property")
    if not isinstance(entries, list) or not entries:
        raise reader.error(("property",), "a property set lists at least one [[property]] table")
    return [_property(reader, entry, ("property", i), topology) for i, entry in enumerate(entries)]


def _property(reader: _Reader, entry: Any, at: tuple[Any, ...], topology: Topology | None = None) -> PropertySpec:
    if not isinstance(entry, dict):
        raise reader.error(at, "each property is a table")
    reader.unknown_keys(entry, PROPERTY_KEYS, at)
    kind = entry.get("kind")
    if kind not in PROPERTY_KINDS:
        raise reader.error(at + ("kind",), f"kind = {kind!r} is not one of {', '.join(PROPERTY_KINDS)}")
    name = reader.typed(entry.get("name", ""), str, at + ("name",), "a string")
    k = reader.typed(entry.get("k", 1), int, at + ("k",), "a number of failures")
    if k < 0:
        raise reader.error(at + ("k",), "k is a number of failures, 0 or more")
    domain = entry.get("domain", "node")
    if isinstance(domain, list):
        domain = tuple(reader.typed(d, str, at + ("domain",), "failure-domain names") for d in domain)
    else:
        reader.typed(domain, str, at + ("domain",), "a failure-domain name such as \"node\" or \"rack\"")
    if kind != "survives" and ("k" in entry or "domain" in entry):
        raise reader.error(at + ("k" if "k" in entry else "domain",), f"only survives takes k and domain; {kind} does not")
    for domain_kind in (domain,) if isinstance(domain, str) else domain:
        _check_domain(reader, topology, domain_kind, at + ("domain",))
    return PropertySpec(kind, name, k, domain)


def load_design(path: Path | str) -> Design:
    """Load and validate a design file; :class:`DesignError` names the file, line and key of any mistake."""
    path = Path(path)
    reader = _Reader(path)
    data = reader.data
    if "node" not in data and "protocol" not in data:
        raise DesignError(path, 1, "", "not a design file (*.toml): a design has [[node]] tables and a [protocol] table")
    reader.unknown_keys(data, TOP_KEYS, ())
    name = reader.typed(data.get("name", path.stem), str, ("name",), "a string")
    description = reader.typed(data.get("description", ""), str, ("description",), "a string")
    orders = reader.typed(data.get("orders", 1), int, ("orders",), "a number of orders")
    if not 1 <= orders <= 4:
        raise reader.error(("orders",), "explore between 1 and 4 concurrent orders (each more multiplies the states)")
    topology = _topology(reader)
    data_nodes = [n for n in topology.nodes if topology.role(n) in ("primary", "replica")]
    primary = next((n for n in topology.nodes if topology.role(n) == "primary"), "")
    protocol, replication = _protocol(reader, data_nodes, primary)
    faults, properties, limits = _check(reader, topology)
    lemmas = _lemmas(reader)
    try:
        design = Design(path, name, description, orders, topology, protocol, replication, faults, properties, *limits, lemmas=lemmas)
        if lemmas:
            design.model()  # trace now, so that a lemma that is not a condition over the design's variables is located
        return design
    except ModelError as exc:
        key = tuple(getattr(exc, "key", ("protocol",)))
        key = next((("check", "lemma", i, "expr") for i, (label, _) in enumerate(lemmas) if f"lemma {label!r}" in exc.message), key)
        if len(key) >= 2 and key[0] == "node" and isinstance(key[1], str):
            # The family names nodes; the file numbers its [[node]] tables.
            key = ("node", list(topology.nodes).index(key[1]), *key[2:])
        raise reader.error(key, exc.message) from None


def _topology(reader: _Reader) -> Topology:
    nodes = reader.data.get("node")
    if not isinstance(nodes, list) or not nodes:
        raise reader.error(("node",), "a design lists its servers as [[node]] tables (name, role, failure domains)")
    table: dict[str, dict[str, Any]] = {}
    for i, node in enumerate(nodes):
        at: tuple[Any, ...] = ("node", i)
        if not isinstance(node, dict):
            raise reader.error(at, "each node is a table")
        name = node.get("name")
        if not isinstance(name, str) or not name:
            raise reader.error(at + ("name",), "every node has a name")
        if name in table:
            raise reader.error(at + ("name",), f"node {name!r} is listed twice")
        if "role" not in node or not isinstance(node["role"], str):
            raise reader.error(at + ("role",), "every node has a role (app, primary, replica, interface, or any other name)")
        attrs = {}
        for key, value in node.items():
            if key == "name":
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise reader.error(at + (key,), f"a node attribute is a name or a number, got {value!r}")
            attrs[key] = value
        if "replication" in attrs and attrs["role"] != "replica":
            raise reader.error(at + ("replication",), "only replicas have a replication mode")
        table[name] = attrs
    try:
        return Topology.from_nodes(table)
    except ModelError as exc:
        raise reader.error(("node",), exc.message) from None


def _protocol(reader: _Reader, data_nodes: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    section = reader.data.get("protocol")
    if not isinstance(section, dict):
        raise reader.error(("protocol",), "a design has a [protocol] table (family = \"replicated-log\" and its knobs, or a preset)")
    family = section.get("family", "replicated-log")
    if family != "replicated-log":
        raise reader.error(("protocol", "family"), f"unknown protocol family {family!r} (families: replicated-log)")
    preset = section.get("preset")
    knobs = {k: v for k, v in section.items() if k in PROTOCOL_KNOBS}
    product = _flatten({k: v for k, v in section.items() if k not in PROTOCOL_KNOBS and k not in ("family", "preset")})
    replication: dict[str, str] = {}
    if preset is not None:
        if preset not in PRESETS:
            raise reader.error(("protocol", "preset"), f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
        try:
            protocol, replication = apply_preset(preset, product, data_nodes, primary)
        except ModelError as exc:
            # Preset messages start with the setting they are about ("acks = ...") or name it ("no setting 'x'").
            named = re.match(r"^([A-Za-z0-9_.]+)\b", exc.message) or re.search(r"no setting '([^']+)'", exc.message)
            if named and named.group(1) not in product:
                named = re.search(r"no setting '([^']+)'", exc.message)
            key = named.group(1) if named and named.group(1) in product else "preset"
            raise reader.error(("protocol", *key.split(".")[:1]) if key != "preset" else ("protocol", "preset"), exc.message) from None
    else:
        if product:
            key = next(iter(product))
            raise reader.error(("protocol", key), f"unknown key (knobs: {', '.join(PROTOCOL_KNOBS)}; product settings need a preset)")
        protocol = Protocol()
    for key, value in knobs.items():
        default = getattr(Protocol(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise reader.error(("protocol", key), f"expected true or false, got {value!r}")
        if isinstance(default, str) and not isinstance(value, str):
            raise reader.error(("protocol", key), f"expected a string, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and (isinstance(value, bool) or not isinstance(value, int)):
            raise reader.error(("protocol", key), f"expected a number, got {value!r}")
        if key == "stores":
            if not isinstance(value, dict):
                raise reader.error(("protocol", key), "stores maps each role to a medium: { app = \"memory\", primary = \"disk\" }")
            for role, medium in value.items():
                if medium not in ("memory", "os-cache", "disk"):
                    raise reader.error(("protocol", key, role), f"{medium!r} is not a medium (memory, os-cache, disk)")
    changes: dict[str, Any] = {k: (dict(protocol.stores, **v) if k == "stores" else v) for k, v in knobs.items()}
    protocol = replace(protocol, **changes)
    return protocol, replication


def _check(reader: _Reader, topology: Topology) -> tuple[FaultSettings, list[PropertySpec], tuple[int | None, float | None]]:
    section = reader.data.get("check", {})
    if not isinstance(section, dict):
        raise reader.error(("check",), "[check] is a table")
    reader.unknown_keys(section, CHECK_KEYS, ("check",))
    faults_table = section.get("faults", {})
    if not isinstance(faults_table, dict):
        raise reader.error(("check", "faults"), "faults = { kinds = [...], budget = N, domain = \"node\" }")
    reader.unknown_keys(faults_table, FAULT_KEYS, ("check", "faults"))
    kinds = faults_table.get("kinds", ["crash", "power-loss", "disk-loss"])
    if not isinstance(kinds, list):
        raise reader.error(("check", "faults", "kinds"), "kinds is a list of fault kinds")
    for kind in kinds:
        if kind not in FAULT_KIND_NAMES:
            raise reader.error(("check", "faults", "kinds"), f"unknown fault kind {kind!r} (kinds: {', '.join(FAULT_KIND_NAMES)})")
    budget = reader.typed(faults_table.get("budget", 1), int, ("check", "faults", "budget"), "a number of faults")
    if budget < 0:
        raise reader.error(("check", "faults", "budget"), "the budget is a number of faults, 0 or more")
    domain = reader.typed(faults_table.get("domain", "node"), str, ("check", "faults", "domain"), "a failure-domain name")
    _check_domain(reader, topology, domain, ("check", "faults", "domain"))
    properties: list[PropertySpec] = []
    files = section.get("properties", [])
    if not isinstance(files, list):
        raise reader.error(("check", "properties"), "properties is a list of property-set files")
    for name in files:
        if not isinstance(name, str):
            raise reader.error(("check", "properties"), f"a property-set file name is a string, got {name!r}")
        target = (reader.path.parent / name).resolve()
        if not target.exists():
            raise reader.error(("check", "properties"), f"no property-set file {name!r} (looked for {target})")
        properties.extend(load_property_set(target, topology))
    inline = section.get("property", [])
    if not isinstance(inline, list):
        raise reader.error(("check", "property"), "write each property as a [[check.property]] table")
    properties.extend(_property(reader, entry, ("check", "property", i), topology) for i, entry in enumerate(inline))
    if not properties:
        raise reader.error(("check",), "a design checks at least one property: list property-set files in properties = [...]")
    labels = [p.label for p in properties]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate:
        raise reader.error(("check",), f"two properties are both called {duplicate!r}; give one a name")
    max_states = section.get("max_states")
    if max_states is not None:
        reader.typed(max_states, int, ("check", "max_states"), "a number of states")
    max_seconds = section.get("max_seconds")
    if max_seconds is not None:
        reader.typed(max_seconds, (int, float), ("check", "max_seconds"), "a number of seconds")
    return FaultSettings(tuple(kinds), budget, domain), properties, (max_states, max_seconds)


def _lemmas(reader: _Reader) -> list[tuple[str, str]]:
    """The ``[[check.lemma]]`` tables: a name and a condition over the design model's variables, for ``--engine induction``."""
    section = reader.data.get("check", {})
    entries = section.get("lemma", []) if isinstance(section, dict) else []
    if not isinstance(entries, list):
        raise reader.error(("check", "lemma"), "write each lemma as a [[check.lemma]] table with name and expr")
    out: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        at: tuple[Any, ...] = ("check", "lemma", i)
        if not isinstance(entry, dict):
            raise reader.error(at, "each lemma is a table with name and expr")
        reader.unknown_keys(entry, LEMMA_KEYS, at)
        name = reader.typed(entry.get("name", f"lemma {i + 1}"), str, at + ("name",), "a string")
        if "expr" not in entry:
            raise reader.error(at, "a lemma needs expr = \"...\": a condition over the design's variables, such as \"acked <= submitted\"")
        text = reader.typed(entry["expr"], str, at + ("expr",), "a condition written as a string")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise reader.error(at + ("expr",), f"not an expression: {exc.msg}") from None
        for node in ast.walk(tree):
            named = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
            if named.startswith("_"):
                raise reader.error(at + ("expr",), f"{named!r}: names starting with _ are not part of a design")
            if isinstance(node, ast.BoolOp | ast.Not):
                raise reader.error(at + ("expr",), "use &, | and ~ (and, or and not cannot combine conditions over states)")
        if name in [n for n, _ in out]:
            raise reader.error(at + ("name",), f"two lemmas are both called {name!r}")
        out.append((name, text.strip()))
    return out


def _with_lemmas(cls: type[Model], lemmas: list[tuple[str, str]]) -> type[Model]:
    """A subclass of a design's model with each lemma declared ``@lemma`` (checked as an invariant, assumed by induction)."""
    from .lang import lemma as lemma_decorator
    from .lang.model import Const, Var, _declarations

    # the design's variables and constants, and the framework's fault state
    names = [n for n, d in _declarations(cls).items() if isinstance(d, (Var, Const))] + ["up", "faults_spent", "disk_losses"]

    def make(label: str, code: Any) -> Any:
        def body(s: Any) -> Any:
            from .lang import exists, forall, implies, ite
            from .lang.values import to_bool

            scope = {"__builtins__": {}, "forall": forall, "exists": exists, "implies": implies, "ite": ite,
                     **{name: getattr(s, name) for name in names if name not in ("faults_spent", "disk_losses") or hasattr(s, name)}}
            try:
                result = eval(code, scope)
                to_bool(result)
                return result
            except ModelError as exc:
                raise ModelError(f"lemma {label!r}: {exc.message}") from None
            except Exception as exc:  # a name the design lacks, a wrong type: the lemma's mistake, located at its key
                known = f" (the design's variables and constants: {', '.join(names)})" if isinstance(exc, NameError) else ""
                raise ModelError(f"lemma {label!r}: {type(exc).__name__}: {exc}{known}") from None

        return body

    ns: dict[str, Any] = {}
    for i, (label, text) in enumerate(lemmas):
        body = make(label, compile(text, f"<lemma {label}>", "eval"))
        body.__name__ = f"lemma_{i}"
        body.__doc__ = f"{label} (a lemma of the design)"
        decl = lemma_decorator(body)
        decl.label = label
        ns[f"_design_lemma_{i}"] = decl
    return type(cls.__name__, (cls,), ns)
