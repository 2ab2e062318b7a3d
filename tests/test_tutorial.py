"""docs/tutorial.md works as written: every command runs, with the exit code and the output it shows.

The tutorial's fenced blocks are turned into one shell script, run where the tutorial puts the
reader: a folder laid out like a clone of the repository (its ``pyproject.toml`` and ``model/``),
in which step 2 makes the project folder:

* each line of a ```` ```sh ```` block is a command; it must exit 0, or the code a trailing
  ``# exits N`` comment gives.  Commands run in one shell, so ``cd`` carries over.
* a ```` ```toml ```` (or python) block whose first line is a comment naming a file
  (``# model/shop.toml: ...``) is that file's content: the script writes it there, at that point,
  as the reader saves it.
* a ```` ```text ```` or ```` ```mermaid ```` block after a command is that command's output:
  its lines must appear in the output in order and next to each other; a line ``...`` stands for
  any number of lines, and ``...`` inside a line for any text.
* the installation block (the one with ``pip install``) is the install that ``.ci/run`` performs
  on a fresh machine before the tests run; here it is only checked to match ``.ci/run``, and the
  commands run with the environment the tests run in (its ``ordercheck`` and ``python``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from test_docs import Block, blocks

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
SHELL = ("sh", "bash", "shell")
OUTPUT = ("text", "mermaid")
_FILE = re.compile(r"^#\s*(?P<path>[\w./-]+\.(?:toml|py))\b")
_EXITS = re.compile(r"#\s*exits\s+(?P<code>\d+)")


def _commands(block: Block) -> list[tuple[str, int]]:
    out = []
    for line in block.text.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        m = _EXITS.search(text)
        out.append((text, int(m["code"]) if m else 0))
    return out


def _matches(expected: list[str], actual: list[str]) -> str | None:
    """None if ``expected`` (with ``...`` gaps and wildcards) matches ``actual``, else what went wrong."""
    pattern = []
    for line in expected:
        if line.strip() == "...":
            pattern.append(None)
        else:
            pattern.append(re.compile("^" + ".*".join(re.escape(part) for part in line.rstrip().split("...")) + "$"))
    actual = [a.rstrip() for a in actual]

    def match(p: int, a: int) -> bool:
        if p == len(pattern):
            return a == len(actual)
        if pattern[p] is None:
            return any(match(p + 1, k) for k in range(a, len(actual) + 1))
        return a < len(actual) and bool(pattern[p].match(actual[a])) and match(p + 1, a + 1)

    if match(0, 0):
        return None
    return "expected:\n" + "\n".join(expected) + "\n\ngot:\n" + "\n".join(actual)


def test_tutorial_exists_and_is_linked() -> None:
    assert TUTORIAL.exists()
    assert "tutorial.md" in (ROOT / "docs" / "index.md").read_text()


def test_the_install_block_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    install = [b for b in blocks(TUTORIAL) if b.lang in SHELL and "pip install" in b.text]
    assert len(install) == 1, "the tutorial has one installation block"
    for command, _ in _commands(install[0]):
        if command.startswith("python3 -m venv"):
            assert "python3 -m venv .venv" in ci
        elif "pip install" in command:
            assert re.search(r"\.venv/bin/pip install -q -e '\.\[[a-z,]*test", ci) or re.search(r"\.venv/bin/pip install -q -e '\.\[[a-z,]*dev", ci)
        else:
            assert command == ". .venv/bin/activate", command


def test_every_command_of_the_tutorial_runs(tmp_path: Path) -> None:
    # Where the tutorial puts the reader: step 1 installs in a clone of the repository and step 2
    # makes the project folder from there, so the commands run inside a copy of the clone's pytest
    # configuration (pyproject.toml, which makes the clone pytest's rootdir) and its own model/.
    work = tmp_path / "clone"
    work.mkdir()
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    shutil.copytree(ROOT / "model", work / "model")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    script = ["set -u"]
    commands: list[tuple[str, int]] = []
    expectations: list[tuple[Block, int]] = []
    for block in blocks(TUTORIAL):
        if block.lang in SHELL:
            if "pip install" in block.text:
                continue
            for command, code in _commands(block):
                n = len(commands)
                commands.append((command, code))
                script.append(f"{{ {command}\n}} > {shlex.quote(str(outputs / f'{n}.out'))} 2>&1; rc=$?")
                script.append(f"if [ $rc -ne {code} ]; then cat {shlex.quote(str(outputs / f'{n}.out'))}; "
                              f"echo {shlex.quote(f'{block.where}: {command}')} exited $rc, expected {code} >&2; exit 1; fi")
        elif block.lang in OUTPUT:
            assert commands, f"{block.where}: an output block before any command"
            expectations.append((block, len(commands) - 1))
        else:
            m = _FILE.match(block.text.lstrip("\n"))
            if m:
                script.append(f"cat > {shlex.quote(m['path'])} <<'ORDERCHECK_TUTORIAL_EOF'\n{block.text}ORDERCHECK_TUTORIAL_EOF")
    assert len(commands) >= 8
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    for block, n in expectations:
        actual = (outputs / f"{n}.out").read_text().splitlines()
        problem = _matches(block.text.rstrip("\n").splitlines(), actual)
        assert problem is None, f"{block.where}: the output of `{commands[n][0]}` differs\n{problem}"
    assert (work / "shop" / "report.html").exists() and (work / "shop" / "shop.svg").exists()
    assert (work / "shop" / "junit.xml").exists() and (work / "shop" / "ordercheck.sarif").exists()


def test_output_matching() -> None:
    assert _matches(["a", "...", "c"], ["a", "b", "b", "c"]) is None
    assert _matches(["a", "c"], ["a", "b", "c"]) is not None
    assert _matches(["...", "4 passed in ..."], ["....", "4 passed in 0.12s"]) is None
    assert _matches(["x"], ["x", "y"]) is not None
