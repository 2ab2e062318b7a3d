"""The documentation is tested: its examples run and its links resolve.

* Every fenced ```python block in ``docs/*.md`` runs.  The blocks of one file
  run in order in one fresh namespace, so a later block may use what an
  earlier one defined; a block whose first line is ``# doctest: skip`` is
  skipped.  Blocks check their own results with ``assert``.  They run from the
  repository root, and are compiled with the markdown file's name and line
  numbers, so a failure (and any ``ModelError`` location) points into the
  markdown file.
* Every relative link in ``docs/*.md`` and ``README.md`` points to an existing
  file, and a ``#fragment`` into a markdown file names one of its headings.
* ``docs/index.md`` links every other page of ``docs/``.
* The examples of the language reference stand alone, as its introduction
  promises: each block also runs by itself.
"""

from __future__ import annotations

import re
import sys
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP_MARK = "# doctest: skip"
STANDALONE = ("language.md",)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def linked_files() -> list[Path]:
    readme = ROOT / "README.md"
    return doc_files() + ([readme] if readme.exists() else [])


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, first code line (1-based) and text."""

    path: Path
    lang: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def skipped(self) -> bool:
        first = self.text.lstrip("\n").split("\n", 1)[0]
        return first.strip() == SKIP_MARK


def blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a markdown file (or of ``text``, as if it were that file), in order."""
    out: list[Block] = []
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang = (m["info"].strip().split() or [""])[0].lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = _FENCE.match(lines[j])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) and not close["info"].strip():
                break
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        out.append(Block(path, lang, i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return out


def python_blocks(path: Path, text: str | None = None) -> list[Block]:
    return [b for b in blocks(path, text) if b.lang in ("python", "py", "python3")]


def run_block(block: Block, namespace: dict[str, object]) -> None:
    """Run ``block`` in ``namespace``, with the markdown file's name and line numbers."""
    source = "\n" * (block.line - 1) + textwrap.dedent(block.text)
    try:
        code = compile(source, str(block.path), "exec")
    except SyntaxError as exc:
        pytest.fail(f"{block.where}: the example does not compile: {exc}")
    exec(code, namespace)


def fresh_namespace(path: Path) -> dict[str, object]:
    # A module name that is in no sys.modules: the block's classes belong to no importable module.
    module = "docs_example_" + re.sub(r"\W", "_", path.stem)
    return {"__name__": module, "__builtins__": __builtins__}


# ----------------------------------------------------------------------------- the examples run


@pytest.mark.parametrize("path", linked_files(), ids=lambda p: p.name)
def test_python_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["docs-example"])
    namespace = fresh_namespace(path)
    for block in python_blocks(path):
        if block.skipped:
            continue
        try:
            run_block(block, namespace)
        except Exception as exc:
            raise AssertionError(f"the example at {block.where} fails: {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize("name", STANDALONE)
def test_language_examples_stand_alone(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = DOCS / name
    if not path.exists():
        pytest.skip(f"docs/{name} is not there")
    monkeypatch.chdir(ROOT)
    for block in python_blocks(path):
        if block.skipped:
            continue
        try:
            run_block(block, fresh_namespace(path))
        except Exception as exc:
            raise AssertionError(f"the example at {block.where} does not run on its own: {type(exc).__name__}: {exc}") from exc


def test_block_parser() -> None:
    text = textwrap.dedent(
        """\
        intro
        ```python
        x = 1
        ```
        ````text
        ```python
        not code
        ```
        ````
        - a list item:

          ```python
          # doctest: skip
          y = 2
          ```
        """
    )
    found = python_blocks(DOCS / "example.md", text)
    assert [(b.line, b.text, b.skipped) for b in found] == [(3, "x = 1\n", False), (13, "# doctest: skip\ny = 2\n", True)]


# ----------------------------------------------------------------------------- the links resolve

_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"  # [text] or ![alt], one level of nested brackets
    r"\(\s*(?P<target><[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"  # (target, which may hold balanced parentheses
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"  # and an optional "title")
)
_REFERENCE_DEF = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*(?P<target><[^>]*>|\S+)", re.MULTILINE)
_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose(markdown: str, code_spans: bool = False) -> str:
    """Markdown without its fenced blocks and (unless ``code_spans``) its inline code: links there are not links."""
    lines = markdown.splitlines()
    kept: list[str] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m and not (m["fence"][0] == "`" and "`" in m["info"]):
            fence = m["fence"]
            kept.append("")
            continue
        if fence is not None:
            if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence) and not m["info"].strip():
                fence = None
            kept.append("")
            continue
        kept.append(line)
    text = "\n".join(kept)
    if code_spans:
        return text
    return re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: " " * len(m.group(0)), text)


def links(markdown: str) -> list[str]:
    """The targets of the inline links, images and reference definitions of ``markdown``."""
    text = prose(markdown)
    found = [m["target"] for m in _INLINE_LINK.finditer(text)] + [m["target"] for m in _REFERENCE_DEF.finditer(text)]
    return [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in found]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The fragment names that the headings (and explicit ``<a id=...>`` anchors) of ``markdown`` define."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in prose(markdown, code_spans=True).splitlines():
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m["text"])
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    for m in re.finditer(r"<a\s+(?:name|id)=\"([^\"]+)\"", markdown):
        out.add(m.group(1))
    return out


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path.read_text(encoding="utf-8")):
        if not target or _SCHEME.match(target) or target.startswith("//"):
            continue
        file_part, _, fragment = target.partition("#")
        file_part = unquote(file_part.split("?", 1)[0])
        dest = (ROOT / file_part.lstrip("/")) if file_part.startswith("/") else (path.parent / file_part if file_part else path)
        if not dest.exists():
            problems.append(f"{target}: no such file {dest.resolve().relative_to(ROOT) if dest.resolve().is_relative_to(ROOT) else dest}")
        elif fragment and dest.is_file() and dest.suffix == ".md" and unquote(fragment) not in anchors(dest.read_text(encoding="utf-8")):
            problems.append(f"{target}: {dest.name} has no heading with the anchor #{fragment}")
    return problems


@pytest.mark.parametrize("path", linked_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    problems = broken_links(path)
    assert not problems, f"broken links in {path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


def test_index_lists_every_page() -> None:
    index = DOCS / "index.md"
    assert index.exists(), "docs/index.md is missing"
    listed = {(DOCS / unquote(t.partition("#")[0])).resolve() for t in links(index.read_text(encoding="utf-8")) if not _SCHEME.match(t)}
    missing = [p.name for p in doc_files() if p.name != "index.md" and p.resolve() not in listed]
    assert not missing, f"docs/index.md does not link {', '.join(missing)}"


def test_link_helpers() -> None:
    assert slug("7. Expressions: `ite`, `forall` & sets") == "7-expressions-ite-forall--sets"
    assert slug("Mistakes and what the error says") == "mistakes-and-what-the-error-says"
    assert anchors("# Title\n## Sub `code` & more\n```\n# not a heading\n```\n## Title\n") == {"title", "sub-code--more", "title-1"}
    text = 'See [a](a.md#x "title"), ![img](pic.png), [b](<with space.md>), `[c](code.md)`, [d](https://x.org).\n[ref]: other.md\n'
    assert links(text) == ["a.md#x", "pic.png", "with space.md", "https://x.org", "other.md"]


# ----------------------------------------------------------------------------- the docs agree with the code


def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| `")]


def test_designs_md_documents_every_key_the_loader_accepts() -> None:
    """Every key and value that a design file may hold is in docs/designs.md, taken from the loader's own lists."""
    from ordercheck import design
    from ordercheck.protocols import family

    page = (DOCS / "designs.md").read_text(encoding="utf-8")
    rows = _table_rows(page)
    first_cells = {row.split("|")[1].strip() for row in rows}
    missing = [k for k in design.PROTOCOL_KNOBS if f"`{k}`" not in first_cells]
    missing += [k for k in design.TOP_KEYS if f"`{k}`" not in first_cells and f"`[{k}]`" not in first_cells and f"`[[{k}]]`" not in first_cells]
    missing += [f"faults.{k}" for k in design.FAULT_KEYS if f"`faults.{k}`" not in first_cells]
    missing += [k for k in design.CHECK_KEYS if k != "faults" and not any(f"`{k}`" in c or f"`[[check.{k}]]`" in c for c in first_cells)]
    missing += [k for k in design.PROPERTY_KEYS if f"`{k}`" not in page]
    assert not missing, f"docs/designs.md does not document the design keys {missing}"
    knob_row = {row.split("|")[1].strip(): row for row in rows}
    for knob, values in (("promote", family.PROMOTE_RULES), ("fsync", family.FSYNC_POLICIES)):
        absent = [v for v in values if f"`{v}`" not in knob_row[f"`{knob}`"]]
        assert not absent, f"the {knob} row of docs/designs.md lacks {absent}"
    for values in (family.PROMOTE_RULES, family.REPLICATION_MODES, family.PROPERTY_KINDS):
        absent = [v for v in values if not any(c == f"`{v}`" or c.startswith((f"`{v}` (", f"`{v}`,")) for c in first_cells)]
        assert not absent, f"docs/designs.md has no row for {absent}"


def test_designs_md_default_protocol_is_the_code_default() -> None:
    """Section 5's ``[protocol]`` block says "These are the defaults": every knob, with Protocol()'s value."""
    import tomllib
    from dataclasses import asdict

    from ordercheck.protocols.family import Protocol

    page = (DOCS / "designs.md").read_text(encoding="utf-8")
    section = page[page.index("## 5. The protocol knobs") : page.index("## 6.")]
    assert "These are the defaults" in section
    block = next(b for b in blocks(DOCS / "designs.md", section) if b.lang == "toml")
    documented = tomllib.loads(block.text)["protocol"]
    documented.pop("family")
    assert documented == asdict(Protocol())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_help_texts_say_that_designs_are_checked_too() -> None:
    from ordercheck.cli import build_parser

    parser = build_parser()
    assert ".toml" in parser.format_help()
    subparsers = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    for name in ("check", "explain", "replay"):
        path = next(a for a in subparsers.choices[name]._actions if a.dest == "path")
        assert ".toml" in (path.help or ""), f"ordercheck {name} --help does not say PATH may be a design"


def test_cli_md_synopsis_matches_the_parser() -> None:
    """The synopsis at the top of docs/cli.md has a line per subcommand, and each names every option with its choices."""
    import argparse

    from ordercheck.cli import build_parser

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    synopsis = next(b for b in blocks(DOCS / "cli.md", page) if b.lang == "text").text
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parts = re.split(r"^(?=ordercheck )", synopsis, flags=re.MULTILINE)
    by_command = {p.split()[1]: " ".join(p.split()) for p in parts if p.strip()}
    assert sorted(by_command) == sorted(subparsers.choices), "docs/cli.md's synopsis lists other subcommands than the parser"
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if not action.option_strings or action.dest == "help":
                continue
            option = max(action.option_strings, key=len)
            if action.choices:
                option += " {" + ",".join(map(str, action.choices)) + "}"
            assert option in by_command[name], f"docs/cli.md's synopsis of `ordercheck {name}` lacks {option}"


def test_index_describes_every_subcommand_on_the_cli_page() -> None:
    from ordercheck.cli import build_parser

    row = next(line for line in (DOCS / "index.md").read_text(encoding="utf-8").splitlines() if "(cli.md)" in line)
    subcommands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert all(f"`ordercheck {name}`" in row for name in subcommands), row


def test_readme_names_no_file_outside_the_repository() -> None:
    """Every ``*.md`` file the README names in code spans exists here (newcomers have the repository, nothing beside it)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"`([\w./-]+\.md)`", text)
    absent = [n for n in named if not (ROOT / n).exists()]
    assert not absent, f"README.md names {absent}, which a clone does not have"
    assert " soon" not in text, "README.md promises something 'soon'"
