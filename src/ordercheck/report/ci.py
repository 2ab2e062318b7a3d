"""Reports for CI: JUnit XML, SARIF 2.1.0 and a Markdown summary.

Each takes the list of what was checked (:class:`Checked`: a model or design, and its
:class:`~ordercheck.report.result.Result` or the error that stopped it):

- :func:`junit_xml`: one ``<testsuite>`` per model or design, one ``<testcase>`` per property.
  A violated property is a ``<failure>`` whose text is the counterexample (the text rendering)
  and its explanation; an inconclusive one is an ``<error type="inconclusive">`` (never a pass);
  a model that could not be checked is one ``<error type="model-error">`` test case.
- :func:`sarif_log`: SARIF 2.1.0, one rule per property and one result per violated (``error``)
  or inconclusive (``warning``) property, located at the property's definition: the line of the
  ``@invariant`` in a Python model, the ``[[property]]`` table in a property-set file (or the
  design) for a TOML design.  The counterexample is a code flow whose steps point at the
  actions' definitions.
- :func:`markdown_summary`: a table of model x property x verdict for a CI job's summary page,
  then each counterexample explained, with its Mermaid diagram.

Paths are written relative to ``root`` (the current directory by default) when the file is under
it.  The same results give the same bytes, timings aside; ``timings=False`` leaves them out.

Examples
--------
>>> from ordercheck import Model, Var, Int, action, invariant, require, check
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> done = [Checked("up.py", "Up", check(Up()))]
>>> print(markdown_summary(done, timings=False).splitlines()[0])
## ordercheck: 1 violated
>>> '<failure message="Invariant small is violated" type="violated">' in junit_xml(done, timings=False)
True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..lang.errors import SourceLocation
from ..lang.spec import Spec
from .escape import markdown_safe, xml_chars
from .explain import explain_trace
from .mermaid import render_mermaid
from .result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result
from .text import headline, render_text
from .trace import state_title

__all__ = ["SARIF_SCHEMA", "Checked", "junit_xml", "markdown_summary", "md_text", "property_locations", "sarif_log", "sarif_text", "write_reports"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_FAULTS = ("crash", "power_loss", "disk_loss", "partition", "heal", "restart")


@dataclass
class Checked:
    """One model or design that was checked: where it came from, and its result or the error that stopped it.

    ``path`` is the model file or design file; ``model`` the model class's name (a design's
    model is named after the design); ``spec`` the model's spec, for explanations and source
    locations; ``design`` the loaded :class:`~ordercheck.design.Design`, for a TOML design;
    ``title`` what reports call it (the design's name, or the model's).
    """

    path: str | os.PathLike[str]
    model: str
    result: Result | None = None
    error: str = ""
    spec: Spec | None = None
    design: Any = None
    title: str = ""
    locations: dict[str, tuple[Path, int]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.title or self.model


def _rel(path: str | os.PathLike[str], root: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix() if not p.is_absolute() else p.resolve().as_posix()


def _uri(path: str | os.PathLike[str], root: Path) -> tuple[str, bool]:
    """A SARIF artifact URI: relative to ``root`` (and marked so) when the file is under it."""
    p = Path(path)
    try:
        return quote(p.resolve().relative_to(root.resolve()).as_posix()), True
    except ValueError:
        return p.resolve().as_uri(), False


def _clean(text: str) -> str:
    """Text that XML 1.0 can hold: control characters other than tab and newline become U+FFFD."""
    return xml_chars(text)


def _failure_text(p: PropertyResult, spec: Spec | None) -> str:
    assert p.counterexample is not None
    text = render_text(p.counterexample)
    sentences = explain_trace(p.counterexample, spec)
    return text + "\n\nIn plain words:\n" + "\n".join(f"  {s}" for s in sentences)


# ----------------------------------------------------------------------------- locations


_TABLE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^\s*(name|kind)\s*=")


def _tables(text: str, name: str) -> list[int]:
    """The line of each ``[[name]]`` table in ``text`` (its ``name =`` or ``kind =`` line when it has one)."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = _TABLE.match(line)
        if not m or m.group(1) != name:
            continue
        best = i + 1
        for j in range(i + 1, len(lines)):
            if _HEADER.match(lines[j]):
                break
            km = _KEY.match(lines[j])
            if km:
                best = j + 1
                if km.group(1) == "name":
                    break
        found.append(best)
    return found


def _line_of(text: str, pattern: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(pattern, line):
            return i
    return 1


def property_locations(design_path: str | os.PathLike[str]) -> dict[str, tuple[Path, int]]:
    """Where each property of a TOML design is defined: its ``[[property]]`` table in a property-set file, or in the design.

    Keys are the names properties are reported under; the design's own reachability check
    (``an order can be acknowledged``) is located at the design's ``[check]`` table.  A design
    that cannot be read gives an empty map.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "p.toml").write_text('[[property]]\\nkind = "never_lost"\\n\\n[[property]]\\nname = "two"\\nkind = "survives"\\nk = 2\\n')
    >>> _ = (folder / "d.toml").write_text('name = "d"\\n[check]\\nproperties = ["p.toml"]\\n')
    >>> {k: (p.name, line) for k, (p, line) in property_locations(folder / "d.toml").items()}
    {'never_lost': ('p.toml', 2), 'two': ('p.toml', 5), 'an order can be acknowledged': ('d.toml', 2)}
    """
    from ..protocols.family import PropertySpec

    path = Path(design_path)
    out: dict[str, tuple[Path, int]] = {}
    try:
        text = path.read_text()
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError):
        return out
    check: dict[str, Any] = data["check"] if isinstance(data.get("check"), dict) else {}

    def label(entry: Any) -> str | None:
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            return None
        domain = entry.get("domain", "node")
        try:
            return PropertySpec(entry["kind"], str(entry.get("name", "")), int(entry.get("k", 1)),
                                tuple(domain) if isinstance(domain, list) else domain).label
        except (TypeError, ValueError):
            return None

    for name in check.get("properties", []) if isinstance(check.get("properties"), list) else []:
        target = (path.parent / str(name)).resolve()
        try:
            set_text = target.read_text()
            entries = tomllib.loads(set_text).get("property", [])
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for entry, line in zip(entries if isinstance(entries, list) else [], _tables(set_text, "property")):
            key = label(entry)
            if key is not None:
                out.setdefault(key, (target, line))
    inline = check.get("property", [])
    for entry, line in zip(inline if isinstance(inline, list) else [], _tables(text, "check.property")):
        key = label(entry)
        if key is not None:
            out.setdefault(key, (path.resolve(), line))
    out.setdefault("an order can be acknowledged", (path.resolve(), _line_of(text, r"^\s*\[check\]")))
    return out


def _outside_package(location: SourceLocation | None) -> bool:
    if location is None or not location.file:
        return False
    try:
        Path(location.file).resolve().relative_to(_PACKAGE_DIR)
    except ValueError:
        return True
    return False


def _property_location(item: Checked, name: str) -> tuple[Path, int]:
    """The file and line where property ``name`` of ``item`` is defined (the model file, line 1, if unknown)."""
    if item.design is not None or str(item.path).endswith(".toml"):
        if not item.locations:
            item.locations = property_locations(item.path)
        if name in item.locations:
            return item.locations[name]
        return Path(item.path), 1
    if item.spec is not None:
        try:
            location = item.spec.property(name).location
        except KeyError:
            location = None
        if _outside_package(location) and location is not None:
            return Path(location.file), max(location.line, 1)
        if _outside_package(item.spec.location) and item.spec.location is not None:
            return Path(item.spec.location.file), max(item.spec.location.line, 1)
    return Path(item.path), 1


def _action_location(item: Checked, action: str | None, fallback: tuple[Path, int]) -> tuple[Path, int]:
    """Where an action of a trace is defined: its ``@action`` in a Python model; for a design, its protocol or faults line."""
    if item.design is not None or str(item.path).endswith(".toml"):
        try:
            text = Path(item.path).read_text()
        except OSError:
            return fallback
        if action in _FAULTS:
            return Path(item.path).resolve(), _line_of(text, r"^\s*faults\s*=")
        if action is None:
            return Path(item.path).resolve(), _line_of(text, r"^\s*\[\[node\]\]")
        return Path(item.path).resolve(), _line_of(text, r"^\s*\[protocol\]")
    if item.spec is not None and action is not None:
        for b in item.spec.bindings:
            if b.action == action and _outside_package(b.location) and b.location is not None:
                return Path(b.location.file), max(b.location.line, 1)
    if item.spec is not None and _outside_package(item.spec.location) and item.spec.location is not None:
        return Path(item.spec.location.file), max(item.spec.location.line, 1)
    return fallback


# ----------------------------------------------------------------------------- JUnit


def junit_xml(checked: list[Checked], *, root: str | os.PathLike[str] | None = None, timings: bool = True) -> str:
    """JUnit XML: one test suite per model or design, one test case per property.

    Parameters
    ----------
    checked : list of Checked
        What was checked, in order.
    root : path, optional
        Paths are written relative to it (default: the current directory).
    timings : bool
        Write the check's time (seconds); ``False`` writes ``0`` for a byte-identical report.

    Returns
    -------
    str
        The XML document, ending with a newline.
    """
    base = Path(root) if root is not None else Path.cwd()
    totals: dict[str, int] = {"tests": 0, "failures": 0, "errors": 0}
    top = ET.Element("testsuites", {"name": "ordercheck"})
    total_time = 0.0
    for item in checked:
        where = _rel(item.path, base)
        suite = ET.SubElement(top, "testsuite", {"name": f"{where}::{item.name}"})
        counts: dict[str, int] = {"tests": 0, "failures": 0, "errors": 0}
        seconds = item.result.stats.seconds if (item.result is not None and timings) else 0.0
        if item.result is None:
            case = ET.SubElement(suite, "testcase", {"classname": f"{where}::{item.model}", "name": "(model)", "file": where, "time": "0"})
            error = ET.SubElement(case, "error", {"type": "model-error", "message": _clean(item.error.splitlines()[0] if item.error else "error")})
            error.text = _clean(item.error)
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            r = item.result
            props = ET.SubElement(suite, "properties")
            for key, value in (("engine", r.engine), ("verdict", r.verdict), ("distinct_states", str(r.stats.distinct_states)),
                               ("depth", str(r.stats.depth))):
                ET.SubElement(props, "property", {"name": key, "value": _clean(value)})
            share = seconds / max(len(r.properties), 1)
            for p in r.properties:
                file, line = _property_location(item, p.name)
                attrs = {"classname": f"{where}::{item.model}", "name": _clean(p.name), "file": _rel(file, base), "line": str(line),
                         "time": f"{share:.3f}" if timings else "0"}
                case = ET.SubElement(suite, "testcase", attrs)
                counts["tests"] += 1
                if p.verdict == VIOLATED:
                    counts["failures"] += 1
                    message = headline(p.counterexample) if p.counterexample is not None else f"{p.name} is violated"
                    failure = ET.SubElement(case, "failure", {"message": _clean(message), "type": "violated"})
                    failure.text = _clean(_failure_text(p, item.spec) if p.counterexample is not None else p.reason)
                elif p.verdict == INCONCLUSIVE:
                    counts["errors"] += 1
                    error = ET.SubElement(case, "error", {"message": _clean(f"inconclusive: {p.reason or r.reason}"), "type": "inconclusive"})
                    error.text = _clean(f"{p.name} is inconclusive, which is not a pass: {p.reason or r.reason}")
        for kind, count in counts.items():
            suite.set(kind, str(count))
            totals[kind] += count
        suite.set("skipped", "0")
        suite.set("time", f"{seconds:.3f}" if timings else "0")
        total_time += seconds
    for kind, count in totals.items():
        top.set(kind, str(count))
    top.set("time", f"{total_time:.3f}" if timings else "0")
    for element in top.iter():  # every name and message: only characters XML 1.0 can hold
        element.attrib = {k: xml_chars(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml_chars(element.text)
    ET.indent(top)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"


# ----------------------------------------------------------------------------- SARIF


def _physical(path: Path, line: int, base: Path) -> dict[str, Any]:
    uri, relative = _uri(path, base)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": max(int(line), 1)}}}


def sarif_log(checked: list[Checked], *, root: str | os.PathLike[str] | None = None, version: str = "") -> dict[str, Any]:
    """A SARIF 2.1.0 log of the violated and inconclusive properties, located at their definitions.

    Parameters
    ----------
    checked : list of Checked
        What was checked, in order.
    root : path, optional
        Artifact URIs are relative to it (``uriBaseId`` ``%SRCROOT%``); default: the current directory.
    version : str
        The tool version to record (default: the installed ordercheck's).

    Returns
    -------
    dict
        The log, ready for ``json.dumps``.

    Examples
    --------
    >>> log = sarif_log([])
    >>> log["version"], log["runs"][0]["tool"]["driver"]["name"], log["runs"][0]["results"]
    ('2.1.0', 'ordercheck', [])
    """
    base = Path(root) if root is not None else Path.cwd()
    if not version:
        try:
            from importlib.metadata import version as installed

            version = installed("ordercheck")
        except Exception:
            version = "0"
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []

    def rule(rule_id: str, text: str, full: str) -> int:
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append({"id": rule_id, "name": _rule_name(rule_id), "shortDescription": {"text": text}, "fullDescription": {"text": full},
                          "defaultConfiguration": {"level": "error"},
                          "help": {"text": "ordercheck explores every interleaving of the design's steps and faults; this property must hold in all of them."}})
        return index[rule_id]

    for item in checked:
        if item.result is None:
            i = rule("ordercheck/model-error", "the model or design could not be checked", "An error in the model or design stopped the check.")
            results.append({"ruleId": "ordercheck/model-error", "ruleIndex": i, "level": "error", "kind": "fail",
                            "message": {"text": f"{item.name}: {item.error or 'error'}"},
                            "locations": [_physical(Path(item.path), 1, base)],
                            "partialFingerprints": {"ordercheckProperty/v1": _fingerprint(item, "(model)")}})
            continue
        for p in item.result.properties:
            if p.verdict == HOLDS:
                continue
            doc = ""
            if item.spec is not None:
                try:
                    doc = item.spec.property(p.name).doc
                except KeyError:
                    doc = ""
            i = rule(p.name, p.name, doc or f"{p.kind} {p.name}")
            file, line = _property_location(item, p.name)
            entry: dict[str, Any] = {"ruleId": p.name, "ruleIndex": i, "locations": [_physical(file, line, base)],
                                     "partialFingerprints": {"ordercheckProperty/v1": _fingerprint(item, p.name)},
                                     "properties": {"model": item.model, "design": item.name, "verdict": p.verdict}}
            if p.verdict == VIOLATED and p.counterexample is not None:
                trace = p.counterexample
                sentences = explain_trace(trace, item.spec)
                prefix = f"{item.name}: " if item.name != item.model else ""
                entry.update({"level": "error", "kind": "fail", "message": {"text": prefix + " ".join(sentences)}})
                entry["properties"]["traceLength"] = len(trace)
                steps = []
                for number, step in enumerate(trace.steps, start=1):
                    where = _action_location(item, step.action, (file, line))
                    loc = _physical(where[0], where[1], base)
                    loc["message"] = {"text": state_title(number, step)}
                    steps.append({"location": loc, "executionOrder": number})
                entry["codeFlows"] = [{"message": {"text": headline(trace)}, "threadFlows": [{"locations": steps}]}]
            else:
                reason = p.reason or item.result.reason
                entry.update({"level": "warning", "kind": "open",
                              "message": {"text": f"{item.name}: {p.name} is inconclusive ({reason}); inconclusive is not a pass."}})
            results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ordercheck", "version": version, "semanticVersion": version, "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _rule_name(rule_id: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", rule_id)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Property"


def _fingerprint(item: Checked, prop: str) -> str:
    return hashlib.sha256(f"{Path(item.path).as_posix()}\0{item.model}\0{prop}".encode()).hexdigest()[:32]


def sarif_text(checked: list[Checked], *, root: str | os.PathLike[str] | None = None, version: str = "") -> str:
    """:func:`sarif_log` as JSON text (two-space indent, ending with a newline)."""
    return json.dumps(sarif_log(checked, root=root, version=version), indent=2, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- Markdown


_ICONS = {HOLDS: "\u2705 holds", VIOLATED: "\u274c violated", INCONCLUSIVE: "\u26a0\ufe0f inconclusive", "error": "\U0001f4a5 error"}


def md_text(text: str) -> str:
    """Text for a Markdown table cell or paragraph: HTML-escaped, Markdown punctuation backslashed, on one line.

    Examples
    --------
    >>> md_text("a|b <script> *x*")
    'a\\\\|b &lt;script&gt; \\\\*x\\\\*'
    """
    return markdown_safe(" ".join(str(text).split()))


def markdown_summary(checked: list[Checked], *, root: str | os.PathLike[str] | None = None, timings: bool = True,
                     diagrams: bool = True) -> str:
    """A Markdown summary: counts, a table of model x property x verdict, and each counterexample explained.

    Parameters
    ----------
    checked : list of Checked
        What was checked, in order.
    root : path, optional
        Paths are written relative to it (default: the current directory).
    timings : bool
        Include each check's time.
    diagrams : bool
        Include each counterexample's Mermaid sequence diagram (code-hosting sites draw it).

    Returns
    -------
    str
        The Markdown text, ending with a newline.
    """
    base = Path(root) if root is not None else Path.cwd()
    counts = {VIOLATED: 0, INCONCLUSIVE: 0, HOLDS: 0, "error": 0}
    rows = []
    details = []
    for item in checked:
        where = _rel(item.path, base)
        title = f"{md_text(item.name)} (`{where.replace('`', '')}`)"
        if item.result is None:
            counts["error"] += 1
            rows.append(f"| {title} | | {_ICONS['error']} | {md_text(item.error.splitlines()[0] if item.error else '')} | | |")
            continue
        r = item.result
        for p in r.properties:
            counts[p.verdict] = counts.get(p.verdict, 0) + 1
            trace = f"{len(p.counterexample)} states" if p.counterexample is not None else md_text(p.reason) if p.verdict == INCONCLUSIVE else ""
            secs = f"{r.stats.seconds:.2f} s" if timings else ""
            rows.append(f"| {title} | {md_text(p.name)} | {_ICONS.get(p.verdict, p.verdict)} | {trace} | {r.stats.distinct_states:,} | {secs} |")
            if p.counterexample is not None:
                body = [f"<details><summary>{markdown_safe(item.name)}: {markdown_safe(p.name)}</summary>", ""]
                body += [f"- {md_text(s)}" for s in explain_trace(p.counterexample, item.spec)]
                if diagrams:
                    body += ["", "```mermaid", render_mermaid(p.counterexample, item.spec), "```"]
                body += ["", "</details>", ""]
                details.append("\n".join(body))
    parts = [f"{counts[k]} {label}" for k, label in ((VIOLATED, "violated"), ("error", "error"), (INCONCLUSIVE, "inconclusive"), (HOLDS, "hold"))
             if counts[k]]
    head = [f"## ordercheck: {', '.join(parts) if parts else 'nothing checked'}", ""]
    if counts[INCONCLUSIVE]:
        head += ["Inconclusive is not a pass: a bound was hit, or the search stopped at the first violation (check with `--continue`).", ""]
    table = ["| model or design | property | verdict | counterexample | states | time |", "|---|---|---|---|---:|---:|", *rows, ""]
    out = head + table
    if details:
        out += ["### Counterexamples", "", *details]
    return "\n".join(out).rstrip("\n") + "\n"


# ----------------------------------------------------------------------------- files


def _suffixed(path: Path, model: str) -> Path:
    """``topology.svg`` -> ``topology.Model.svg`` (one file per model when several are drawn)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model)
    return path.with_name(f"{path.stem}.{safe}{path.suffix}") if path.suffix else path.with_name(f"{path.name}.{safe}")


def write_reports(checked: list[Checked], *, html: str | None = None, junit: str | None = None, sarif: str | None = None,
                  markdown: str | None = None, svg: str | None = None, root: str | os.PathLike[str] | None = None) -> list[str]:
    """Write the reports asked for; returns one line per file written (or not), to print.

    ``html``: one viewer page with every counterexample; ``svg``: the topology of each model
    that has nodes, with its smallest failure set marked (``FILE.Model.svg`` when several are
    drawn); ``junit``, ``sarif``, ``markdown``: see :func:`junit_xml`, :func:`sarif_log` and
    :func:`markdown_summary`.
    """
    from .html import render_html
    from .svg import render_result_svg, scene_of_spec

    lines = []
    if html:
        traces = [(p.counterexample, item.spec) for item in checked if item.result is not None
                  for p in item.result.properties if p.counterexample is not None]
        Path(html).write_text(render_html(traces), encoding="utf-8")
        lines.append(f"HTML trace viewer written to {html} ({len(traces)} counterexample{'s' if len(traces) != 1 else ''})")
    if svg:
        drawable = [item for item in checked if item.result is not None and item.spec is not None and scene_of_spec(item.spec).nodes]
        for item in drawable:
            assert item.result is not None and item.spec is not None
            target = _suffixed(Path(svg), item.model) if len(drawable) > 1 else Path(svg)
            target.write_text(render_result_svg(item.spec, item.result, title=f"{item.name}: topology and failure set"), encoding="utf-8")
            lines.append(f"topology picture written to {target}")
        if not drawable:
            lines.append(f"no topology to draw: no model checked here has nodes ({svg} not written)")
    if junit:
        Path(junit).write_text(junit_xml(checked, root=root), encoding="utf-8")
        lines.append(f"JUnit report written to {junit}")
    if sarif:
        Path(sarif).write_text(sarif_text(checked, root=root), encoding="utf-8")
        lines.append(f"SARIF report written to {sarif}")
    if markdown:
        Path(markdown).write_text(markdown_summary(checked, root=root), encoding="utf-8")
        lines.append(f"Markdown summary written to {markdown}")
    return lines
