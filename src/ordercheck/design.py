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
import difflib
import math
import re
import reprlib
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .domain.topology import KNOWN_FAILURE_DOMAINS, RESERVED_ATTRIBUTES, Topology
from .lang.errors import InputError, ModelError
from .lang.model import Model
from .protocols.family import (
    BUILTIN_PROPERTY_NAMES,
    FAULT_KIND_NAMES,
    FSYNC_POLICIES,
    PROMOTE_RULES,
    PROPERTY_KINDS,
    REPLICATION_MODES,
    FaultSettings,
    PropertySpec,
    Protocol,
    design_model,
)
from .protocols.presets import PRESETS, apply_preset

__all__ = ["KNOWN_ROLES", "MAX_FILE_BYTES", "Design", "DesignError", "design_from_data", "load_design", "load_property_set"]

PROTOCOL_KNOBS = tuple(f.name for f in fields(Protocol))
TOP_KEYS = ("name", "description", "orders", "failure_domains", "node", "protocol", "check")
CHECK_KEYS = ("properties", "property", "faults", "max_states", "max_seconds", "lemma")
LEMMA_KEYS = ("name", "expr", "description")
FAULT_KEYS = ("kinds", "budget", "domain")
PROPERTY_KEYS = ("name", "kind", "k", "domain", "description")
NODE_KEYS = ("name", "role", "replication")
# The roles the protocol family gives a meaning to; a node may have any other role (it then only stores).
KNOWN_ROLES = ("app", "primary", "replica", "interface")
# Design and property-set files are read whole; anything larger is not a design (and /dev/zero never ends).
MAX_FILE_BYTES = 16 * 1024 * 1024
# When tomllib runs out of stack, the error points at the first line nested deeper than this.
MAX_NESTING = 64
# Names a property may not take: the built-in goal and the deadlock check (--deadlock).
RESERVED_PROPERTY_NAMES = (*BUILTIN_PROPERTY_NAMES, "deadlock")

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 2, 60, 60, 4, 4


def _show(value: Any) -> str:
    """A short ``repr`` of a value read from a file: nesting, long strings and long lists are cut."""
    return _SHORT.repr(value)


def _did_you_mean(word: Any, options: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the option closest to a misspelt ``word``, or nothing."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _one_of(reader: _Reader, value: Any, choices: tuple[str, ...], at: tuple[Any, ...], name: str) -> None:
    """``value`` is one of ``choices``, or a located error listing them (with the closest)."""
    if not isinstance(value, str) or value not in choices:
        raise reader.error(at, f"{name} = {_show(value)} is not one of {', '.join(choices)}{_did_you_mean(value, choices)}")


class DesignError(InputError):
    """An error in a design or property-set file, with the file, line and key."""

    def __init__(self, path: Path, line: int, key: str, message: str) -> None:
        self.path, self.line, self.key = path, line, key
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class _Lines:
    """Finds the line of a key in a TOML file (tomllib gives values, not positions).

    One pass over the lines, each matched by anchored patterns, so the cost is linear in the
    size of the file (a 10 MB string value is read once).  Lines inside multi-line strings and
    the continuation lines of multi-line arrays are skipped (an array element ``["a"]`` on a line
    of its own is not a table header); a dotted key (``faults.budget = 2``) is recorded under its
    dotted name and its first part.
    """

    _TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_.-]+)\s*=")
    # A key inside an inline table: the lookbehind starts a match only at the start of a name.
    _INLINE_KEY = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_-]+)\s*=")
    _STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'")

    @classmethod
    def _balance(cls, text: str) -> int:
        """Brackets and braces opened minus closed on a line, outside strings and comments."""
        code = cls._STRING.sub("", text).partition("#")[0]
        return code.count("[") + code.count("{") - code.count("]") - code.count("}")

    def __init__(self, text: str) -> None:
        self.positions: dict[tuple[Any, ...], int] = {}
        counters: dict[str, int] = {}
        table: tuple[Any, ...] = ()
        open_string, open_brackets = "", 0
        # TOML ends lines at \n only (str.splitlines would also split at \x0c or \u2028 inside strings).
        for number, line in enumerate(text.split("\n"), start=1):
            if open_string:
                if line.count(open_string) % 2:
                    open_string = ""
                continue
            if open_brackets > 0:
                open_brackets += self._balance(line)
                continue
            for quote in ('"""', "'''"):
                if line.count(quote) % 2:
                    open_string = quote
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
                raw = match.group(1)
                key = raw.strip('"').strip("'")
                path = table + (key,)
                self.positions.setdefault(path, number)
                if raw[0] not in "\"'" and "." in key:
                    # Its first part and the whole path (shorter prefixes fall back to the first part).
                    dotted = tuple(key.split("."))
                    self.positions.setdefault(table + dotted[:1], number)
                    self.positions.setdefault(table + dotted, number)
                rest = line[match.end():].lstrip()
                if rest.startswith(("[", "{")):
                    open_brackets = self._balance(rest)
                if rest.startswith("{"):
                    # Keys of an inline table on the same line.
                    for inner in self._INLINE_KEY.findall(rest):
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
    return out if len(out) <= 120 else out[:100] + "..." + out[-17:]


def _unreadable(path: Path) -> str:
    """Why ``path`` cannot be a design or property-set file (a NUL in its name, not a regular file), or ``""``."""
    if "\x00" in str(path):
        return "the file name contains a NUL byte"
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, a pipe or a socket)"
        return f"is {what}; a design or property set is a TOML file"
    if info.st_size > MAX_FILE_BYTES:
        return f"is {info.st_size:,} bytes; design and property-set files are read up to {MAX_FILE_BYTES // 2**20} MB"
    return ""


def _nesting_line(text: str) -> int:
    """The line where arrays or inline tables first nest deeper than :data:`MAX_NESTING` (0: nowhere).

    Brackets inside strings and comments are skipped, roughly (enough for a file tomllib cannot read).
    """
    depth, line, quote, comment, escaped = 0, 1, "", False, False
    for char in text:
        if char == "\n":
            line, comment = line + 1, False
        elif comment:
            continue
        elif escaped:
            escaped = False
        elif quote:
            if char == quote:
                quote = ""
            escaped = char == "\\" and quote == '"'
        elif char in "\"'":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
    return 0


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
        base = design_model(self.name, self.topology, self.protocol, orders=self.orders, faults=self.faults,
                            properties=self.properties, replication=self.replication)
        if self.lemmas:
            base = _with_lemmas(base, self.lemmas)

        def __init__(model: Model, **constants: Any) -> None:
            # ``--const NODE=a,b`` would replace the topology by bare names: say so in the design's terms.
            if "NODE" in constants:
                raise InputError("NODE cannot be changed (--const NODE, or a trace of other nodes): "
                                 "a design's nodes come from its [[node]] tables; edit the file")
            base.__init__(model, **constants)

        self.model_class = type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__, "__module__": base.__module__})

    def model(self) -> Model:
        return self.model_class()


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        problem = _unreadable(path)
        if problem:
            raise DesignError(path, 0, "", problem)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise DesignError(path, 0, "", f"cannot be read: {exc.strerror or exc}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise DesignError(path, 0, "", f"is larger than {MAX_FILE_BYTES // 2**20} MB, the limit for design and property-set files")
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise DesignError(path, line, "", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); TOML files are UTF-8") from None
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", 0) or int((re.search(r"line (\d+)", str(exc)) or [0, 0])[1])
            raise DesignError(path, line, "", f"not valid TOML: {exc}") from None
        except RecursionError:
            raise DesignError(path, _nesting_line(self.text), "",
                              "arrays or inline tables are nested too deeply to read (a design needs a few levels)") from None
        self.lines = _Lines(self.text)

    def error(self, path: tuple[Any, ...], message: str) -> DesignError:
        return DesignError(self.path, self.lines.line(*path), _key_text(path), message)

    def unknown_keys(self, table: dict[str, Any], allowed: Iterable[str], at: tuple[Any, ...], extra: str = "") -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                raise self.error(at + (key,), f"unknown key{_did_you_mean(key, allowed)} (known keys: {', '.join(allowed)}){extra}")

    def typed(self, value: Any, kind: type | tuple[type, ...], at: tuple[Any, ...], what: str) -> Any:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(at, f"expected {what}, got {_show(value)}")
        if not isinstance(value, kind):
            raise self.error(at, f"expected {what}, got {_show(value)}")
        return value

    def positive(self, value: Any, at: tuple[Any, ...], what: str, kind: type | tuple[type, ...] = int) -> Any:
        """A number above 0 (finite: TOML has ``inf`` and ``nan``)."""
        self.typed(value, kind, at, what)
        if not (math.isfinite(value) and value > 0):
            raise self.error(at, f"expected {what} above 0, got {_show(value)}")
        return value


def _flatten(table: dict[str, Any]) -> dict[str, Any]:
    """Product settings with dots in their names (``min.insync.replicas = 2``) read back as one key each.

    Iterative: a 3,000-part dotted key is 3,000 nested tables, deeper than Python recursion goes.
    """
    out: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = [(key, value) for key, value in reversed(table.items())]
    while pending:
        name, value = pending.pop()
        if isinstance(value, dict) and name not in ("stores",):
            pending.extend((f"{name}.{key}", inner) for key, inner in reversed(value.items()))
        else:
            out[name] = value
    return out


def _domain_names(topology: Topology) -> str:
    return ", ".join(("node", *topology.domain_kinds))


def _check_domain(reader: _Reader, topology: Topology | None, kind: str, at: tuple[Any, ...]) -> None:
    """A failure-domain kind that every node has (``node`` always exists)."""
    if topology is None or kind == "node":
        return
    if kind not in topology.domain_kinds:
        options = ("node", *topology.domain_kinds)
        raise reader.error(at, f"no node has a {kind!r} attribute{_did_you_mean(kind, options)} (domains: {_domain_names(topology)})")
    try:
        topology.domain_values(kind)
    except ModelError as exc:
        raise reader.error(at, f"{exc.message} (domains: {_domain_names(topology)})") from None


@dataclass(frozen=True)
class _Located:
    """A property and where it was written: the file's reader and its key path there."""

    spec: PropertySpec
    reader: _Reader
    at: tuple[Any, ...]


def load_property_set(path: Path, topology: Topology | None = None) -> list[PropertySpec]:
    """The ``[[property]]`` entries of a property-set file (checked against ``topology`` when given)."""
    return [located.spec for located in _property_set(Path(path), topology)]


def _property_set(path: Path, topology: Topology | None) -> list[_Located]:
    reader = _Reader(path)
    reader.unknown_keys(reader.data, ("property", "description"), ())
    entries = reader.data.get("property")
    if not isinstance(entries, list) or not entries:
        raise reader.error(("property",), "a property set lists at least one [[property]] table")
    return [_Located(_property(reader, entry, ("property", i), topology), reader, ("property", i)) for i, entry in enumerate(entries)]


def _property(reader: _Reader, entry: Any, at: tuple[Any, ...], topology: Topology | None = None) -> PropertySpec:
    if not isinstance(entry, dict):
        raise reader.error(at, "each property is a table")
    reader.unknown_keys(entry, PROPERTY_KEYS, at)
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in PROPERTY_KINDS:
        raise reader.error(at + ("kind",), f"kind = {_show(kind)} is not one of {', '.join(PROPERTY_KINDS)}{_did_you_mean(kind, PROPERTY_KINDS)}")
    name = reader.typed(entry.get("name", ""), str, at + ("name",), "a string")
    if name in RESERVED_PROPERTY_NAMES:
        raise reader.error(at + ("name",), f"{name!r} is the name of a check every design runs; give this property another name")
    reader.typed(entry.get("description", ""), str, at + ("description",), "a string")
    k = reader.typed(entry.get("k", 1), int, at + ("k",), "a number of failures")
    if k < 0:
        raise reader.error(at + ("k",), "k is a number of failures, 0 or more")
    domain = entry.get("domain", "node")
    if isinstance(domain, list):
        if not domain:
            raise reader.error(at + ("domain",), "name at least one failure domain (domain = \"node\", or a list such as [\"rack\", \"site\"])")
        domain = tuple(reader.typed(d, str, at + ("domain",), "failure-domain names") for d in domain)
        repeated = next((d for i, d in enumerate(domain) if d in domain[:i]), None)
        if repeated is not None:
            raise reader.error(at + ("domain",), f"the failure domain {repeated!r} is listed twice")
    else:
        reader.typed(domain, str, at + ("domain",), "a failure-domain name such as \"node\" or \"rack\"")
    if kind != "survives" and ("k" in entry or "domain" in entry):
        raise reader.error(at + ("k" if "k" in entry else "domain",), f"only survives takes k and domain; {kind} does not")
    for domain_kind in (domain,) if isinstance(domain, str) else domain:
        _check_domain(reader, topology, domain_kind, at + ("domain",))
    return PropertySpec(kind, name, k, domain)


def load_design(path: Path | str) -> Design:
    """Load and validate a design file; :class:`DesignError` names the file, line and key of any mistake."""
    return _design(_Reader(Path(path)))


def design_from_data(data: dict[str, Any], path: Path | str) -> Design:
    """Build a design from TOML data already parsed from ``path`` (and perhaps changed, as a sweep's variant is).

    Errors name ``path`` and the line of the key in that file where it has one; relative property-set
    paths are read from ``path``'s folder, as :func:`load_design` reads them.
    """
    reader = _Reader(Path(path))
    reader.data = data
    return _design(reader)


def _design(reader: _Reader) -> Design:
    path, data = reader.path, reader.data
    if "node" not in data and "protocol" not in data:
        raise DesignError(path, 1, "", "not a design file (*.toml): a design has [[node]] tables and a [protocol] table")
    reader.unknown_keys(data, TOP_KEYS, ())
    name = reader.typed(data.get("name", path.stem), str, ("name",), "a string")
    if not name.strip():
        raise reader.error(("name",), "a design's name is not empty (leave the key out to use the file's name)")
    description = reader.typed(data.get("description", ""), str, ("description",), "a string")
    orders = reader.typed(data.get("orders", 1), int, ("orders",), "a number of orders")
    if not 1 <= orders <= 4:
        raise reader.error(("orders",), "explore between 1 and 4 concurrent orders (each more multiplies the states)")
    topology = _topology(reader, _declared_domains(reader))
    data_nodes = [n for n in topology.nodes if topology.role(n) in ("primary", "replica")]
    primary = next((n for n in topology.nodes if topology.role(n) == "primary"), "")
    protocol, replication = _protocol(reader, data_nodes, primary, {topology.role(n) for n in topology.nodes})
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


def _declared_domains(reader: _Reader) -> tuple[str, ...]:
    """The failure domains the file declares (``failure_domains = ["cage"]``) beyond the known ones."""
    at = ("failure_domains",)
    declared = reader.typed(reader.data.get("failure_domains", []), list, at, "a list of failure-domain names")
    for i, kind in enumerate(declared):
        reader.typed(kind, str, at, "failure-domain names")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", kind):
            raise reader.error(at, f"{_show(kind)} is not a failure-domain name (a word: letters, digits, _ and -)")
        if kind in (*RESERVED_ATTRIBUTES, "node"):
            raise reader.error(at, f"{kind!r} is a node key, not a failure domain")
        if kind in declared[:i]:
            raise reader.error(at, f"{kind!r} is declared twice")
    return tuple(declared)


def _topology(reader: _Reader, declared: tuple[str, ...]) -> Topology:
    nodes = reader.data.get("node")
    if not isinstance(nodes, list) or not nodes:
        raise reader.error(("node",), "a design lists its servers as [[node]] tables (name, role, failure domains)")
    domains = (*KNOWN_FAILURE_DOMAINS, *declared)
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
        role = node.get("role")
        if not isinstance(role, str) or not role.strip():
            raise reader.error(at + ("role",), "every node has a role (app, primary, replica, interface, or any other name)")
        # A role of its own is allowed, so only one very close to a known role is taken for a typo
        # (similarity 0.8: `replca`, `apps`, `primry`; not `api`, `witness`).
        typo = _did_you_mean(role, KNOWN_ROLES, cutoff=0.8) if role not in KNOWN_ROLES else ""
        if typo:
            raise reader.error(at + ("role",), f"unknown role {role!r}{typo}; the roles the protocol "
                                               f"knows are {', '.join(KNOWN_ROLES)} (any other name is a node that only stores)")
        attrs = {}
        for key, value in node.items():
            if key == "name":
                continue
            if key not in NODE_KEYS and key not in domains:
                raise reader.error(at + (key,), f"unknown node key{_did_you_mean(key, (*NODE_KEYS, *domains))}: a node has "
                                                f"{', '.join(NODE_KEYS)} and failure domains ({', '.join(KNOWN_FAILURE_DOMAINS)}, "
                                                "or others declared in failure_domains = [...])")
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise reader.error(at + (key,), f"a node attribute is a name or a number, got {_show(value)}")
            attrs[key] = value
        if "replication" in attrs and attrs["role"] != "replica":
            raise reader.error(at + ("replication",), "only replicas have a replication mode")
        if "replication" in attrs:
            _one_of(reader, attrs["replication"], REPLICATION_MODES, at + ("replication",), f"node {name!r}: replication")
        table[name] = attrs
    used = {key for attrs in table.values() for key in attrs}
    unused = [kind for kind in declared if kind not in used]
    if unused:
        raise reader.error(("failure_domains",), f"no node has a {unused[0]!r} attribute; declare only failure domains the nodes use")
    try:
        return Topology.from_nodes(table)
    except ModelError as exc:
        raise reader.error(("node",), exc.message) from None


def _protocol(reader: _Reader, data_nodes: list[str], primary: str, roles: set[str]) -> tuple[Protocol, dict[str, str]]:
    section = reader.data.get("protocol")
    if not isinstance(section, dict):
        raise reader.error(("protocol",), "a design has a [protocol] table (family = \"replicated-log\" and its knobs, or a preset)")
    family = section.get("family", "replicated-log")
    if family != "replicated-log":
        raise reader.error(("protocol", "family"), f"unknown protocol family {_show(family)}{_did_you_mean(family, ('replicated-log',))} "
                                                   "(families: replicated-log)")
    preset = section.get("preset")
    knobs = {k: v for k, v in section.items() if k in PROTOCOL_KNOBS}
    product = _flatten({k: v for k, v in section.items() if k not in PROTOCOL_KNOBS and k not in ("family", "preset")})
    replication: dict[str, str] = {}
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise reader.error(("protocol", "preset"), f"unknown preset {_show(preset)}{_did_you_mean(preset, PRESETS)} (presets: {', '.join(PRESETS)})")
        for setting, value in product.items():
            if isinstance(value, (list, dict)):
                raise reader.error(("protocol", setting), f"a product setting is a name, a number or true/false, got {_show(value)}")
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
            known = (*PROTOCOL_KNOBS, "family", "preset")
            raise reader.error(("protocol", key), f"unknown key{_did_you_mean(key, known)} (knobs: {', '.join(PROTOCOL_KNOBS)}; "
                                                  "product settings need a preset)")
        protocol = Protocol()
    for key, value in knobs.items():
        default = getattr(Protocol(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise reader.error(("protocol", key), f"expected true or false, got {_show(value)}")
        if isinstance(default, str) and not isinstance(value, str):
            raise reader.error(("protocol", key), f"expected a string, got {_show(value)}")
        if isinstance(default, int) and not isinstance(default, bool) and (isinstance(value, bool) or not isinstance(value, int)):
            raise reader.error(("protocol", key), f"expected a number, got {_show(value)}")
        if key in ("fsync", "promote"):
            _one_of(reader, value, FSYNC_POLICIES if key == "fsync" else PROMOTE_RULES, ("protocol", key), key)
        if key == "stores":
            if not isinstance(value, dict):
                raise reader.error(("protocol", key), "stores maps each role to a medium: { app = \"memory\", primary = \"disk\" }")
            for role, medium in value.items():
                if role not in roles | set(KNOWN_ROLES):
                    raise reader.error(("protocol", key, role), f"stores names the role {role!r}, which no node has"
                                                                f"{_did_you_mean(role, roles)} (roles: {', '.join(sorted(roles))})")
                if not isinstance(medium, str) or medium not in ("memory", "os-cache", "disk"):
                    media = ("memory", "os-cache", "disk")
                    raise reader.error(("protocol", key, role), f"{_show(medium)} is not a medium{_did_you_mean(medium, media)} "
                                                                f"({', '.join(media)})")
    changes: dict[str, Any] = {k: (dict(protocol.stores, **v) if k == "stores" else v) for k, v in knobs.items()}
    protocol = replace(protocol, **changes)
    return protocol, replication


def _check(reader: _Reader, topology: Topology) -> tuple[FaultSettings, list[PropertySpec], tuple[int | None, float | None]]:
    section = reader.data.get("check", {})
    if not isinstance(section, dict):
        raise reader.error(("check",), "[check] is a table")
    reader.unknown_keys(section, CHECK_KEYS, ("check",))
    faults = _faults(reader, topology, section.get("faults", {}))
    located: list[_Located] = []
    files = section.get("properties", [])
    if not isinstance(files, list):
        raise reader.error(("check", "properties"), "properties is a list of property-set files")
    read: list[Path] = []
    for name in files:
        if not isinstance(name, str):
            raise reader.error(("check", "properties"), f"a property-set file name is a string, got {_show(name)}")
        if "\x00" in name:
            raise reader.error(("check", "properties"), f"the property-set file name {_show(name)} contains a NUL byte")
        try:
            target = (reader.path.parent / name).resolve()
            found = target.exists()
        except (OSError, RuntimeError) as exc:  # a name too long, a symbolic-link loop
            raise reader.error(("check", "properties"), f"the property set {_show(name)} cannot be read: "
                                                        f"{getattr(exc, 'strerror', None) or exc}") from None
        if not found:
            raise reader.error(("check", "properties"), f"no property-set file {_show(name)} (looked for {target})")
        problem = _unreadable(target)
        if problem:
            raise reader.error(("check", "properties"), f"the property set {_show(name)} {problem}")
        if target in read:
            raise reader.error(("check", "properties"), f"the property set {_show(name)} is listed twice")
        read.append(target)
        located.extend(_property_set(target, topology))
    inline = section.get("property", [])
    if not isinstance(inline, list):
        raise reader.error(("check", "property"), "write each property as a [[check.property]] table")
    located.extend(_Located(_property(reader, entry, ("check", "property", i), topology), reader, ("check", "property", i))
                   for i, entry in enumerate(inline))
    if not located:
        raise reader.error(("check",), "a design checks at least one property: list property-set files in properties = [...]")
    seen: dict[str, _Located] = {}
    for entry in located:
        label = entry.spec.label
        if label in seen:
            first = seen[label]
            where = f"{first.reader.path}:{first.reader.lines.line(*first.at, 'name' if first.spec.name else 'kind')}"
            key = entry.at + ("name" if entry.spec.name else "kind",)
            raise entry.reader.error(key, f"two properties are both called {label!r} (the other is at {where}); give one a name")
        seen[label] = entry
    max_states = section.get("max_states")
    if max_states is not None:
        reader.positive(max_states, ("check", "max_states"), "a number of states")
    max_seconds = section.get("max_seconds")
    if max_seconds is not None:
        reader.positive(max_seconds, ("check", "max_seconds"), "a number of seconds", (int, float))
    return faults, [entry.spec for entry in located], (max_states, max_seconds)


def _faults(reader: _Reader, topology: Topology, table: Any) -> FaultSettings:
    at: tuple[Any, ...] = ("check", "faults")
    if not isinstance(table, dict):
        raise reader.error(at, "faults = { kinds = [...], budget = N, domain = \"node\" }")
    reader.unknown_keys(table, FAULT_KEYS, at)
    kinds = table.get("kinds", ["crash", "power-loss", "disk-loss"])
    if not isinstance(kinds, list):
        raise reader.error(at + ("kinds",), "kinds is a list of fault kinds")
    for i, kind in enumerate(kinds):
        if not isinstance(kind, str) or kind not in FAULT_KIND_NAMES:
            raise reader.error(at + ("kinds",), f"unknown fault kind {_show(kind)}{_did_you_mean(kind, FAULT_KIND_NAMES)} "
                                                f"(kinds: {', '.join(FAULT_KIND_NAMES)})")
        if kind in kinds[:i]:
            raise reader.error(at + ("kinds",), f"the fault kind {kind!r} is listed twice")
    budget = reader.typed(table.get("budget", 1), int, at + ("budget",), "a number of faults")
    if budget < 0:
        raise reader.error(at + ("budget",), "the budget is a number of faults, 0 or more")
    domain = reader.typed(table.get("domain", "node"), str, at + ("domain",), "a failure-domain name")
    _check_domain(reader, topology, domain, at + ("domain",))
    return FaultSettings(tuple(kinds), budget, domain)


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
