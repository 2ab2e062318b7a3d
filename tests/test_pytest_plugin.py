"""The pytest plugin: designs and models in ``model/`` as test items (opt-in), and ``assert_holds``.

Each test builds a small project with ``pytester`` and runs pytest on it in-process; the plugin
is loaded there as a user gets it, through the ``pytest11`` entry point of the installed
package.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

DESIGN = """\
name = "shop"
orders = 1

[[node]]
name = "db1"
role = "primary"

[[node]]
name = "db2"
role = "replica"
replication = "async"

[protocol]
family = "replicated-log"
ack = "primary.disk"

[check]
faults = { kinds = ["disk-loss"], budget = 1 }

[[check.property]]
kind = "never_lost"
"""

MODEL = """\
from ordercheck import Model, Var, Int, action, invariant, require


class Counter(Model):
    x = Var(Int(0, 3), init=0)

    @action
    def inc(s):
        require(s.x < 3)
        s.x = s.x + 1

    @invariant
    def bounded(s):
        return s.x <= 3

    @invariant
    def small(s):
        return s.x < 2
"""

TEST = """\
def test_plain():
    assert True
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkdir("model")
    (pytester.path / "model" / "shop.toml").write_text(DESIGN)
    (pytester.path / "model" / "counter.py").write_text(MODEL)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_plain.py").write_text(TEST)
    return pytester


def test_models_are_not_collected_unless_asked(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_ordercheck_option_collects_one_item_per_property(project: pytest.Pytester) -> None:
    result = project.runpytest("--ordercheck", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines([
        "*model/counter.py::Counter::bounded PASSED*",
        "*model/counter.py::Counter::small FAILED*",
        "*model/shop.toml::Shop::never_lost FAILED*",
        "*model/shop.toml::Shop::an order can be acknowledged PASSED*",
    ])
    text = result.stdout.str()
    assert "Counter: small is violated" in text and "State 1: initial state" in text and "State 3: inc()" in text
    assert "Shop: never_lost is violated" in text and "In plain words:" in text
    assert "No surviving node holds o1." in text


def test_ini_setting_turns_collection_on(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nordercheck_models = model\n")
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)
    result = project.runpytest("-p", "no:cacheprovider", "-m", "not ordercheck")
    result.assert_outcomes(passed=1, deselected=4)


def test_explicit_paths_choose_what_is_collected(project: pytest.Pytester) -> None:
    project.runpytest("--ordercheck", "tests", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    project.runpytest("--ordercheck", "model/counter.py", "-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)


def test_other_model_folders(project: pytest.Pytester) -> None:
    (project.path / "model").rename(project.path / "designs")
    project.runpytest("--ordercheck", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    project.runpytest("--ordercheck-models", "designs", "-p", "no:cacheprovider").assert_outcomes(passed=3, failed=2)


def test_a_broken_model_file_is_a_collection_error(project: pytest.Pytester) -> None:
    (project.path / "model" / "broken.py").write_text("from ordercheck import Model\n\nclass Broken(Model)\n    pass\n")
    result = project.runpytest("--ordercheck", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # pytest stops at a collection error, as for a broken test module
    result.stdout.fnmatch_lines(["*ordercheck cannot load*broken.py*syntax error*"])


def test_an_inconclusive_property_fails(project: pytest.Pytester) -> None:
    design = DESIGN.replace("[check]\n", "[check]\nmax_states = 3\n")
    (project.path / "model" / "shop.toml").write_text(design)
    (project.path / "model" / "counter.py").unlink()
    result = project.runpytest("--ordercheck", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*is inconclusive*inconclusive is not a pass*"])


def test_assert_holds_in_a_hand_written_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_counter=MODEL + textwrap.dedent("""

        from ordercheck.pytest_plugin import assert_holds


        def test_bounded():
            result = assert_holds(Counter(), "bounded")
            assert result.verdict == "holds"


        def test_everything():
            assert_holds(Counter())
    """))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: Counter: small is violated*", "*State 3: inc()*"])


def _pytest_in(folder, *args: str):
    """Run pytest as a reader types it, in ``folder`` (a subprocess: the rootdir is what pytest finds from there)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_a_project_inside_another_checks_its_own_model_folder(tmp_path) -> None:
    """The tutorial's layout: ``shop/`` made inside a clone whose pyproject.toml makes the clone the rootdir.

    The clone's own model/ holds a violated model; shop/model/ holds the Counter model, whose
    ``bounded`` passes and ``small`` fails.  From shop/, exactly shop's two items run.
    """
    clone = tmp_path / "clone"
    (clone / "model").mkdir(parents=True)
    (clone / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-q"\n')
    (clone / "model" / "other.py").write_text(MODEL.replace("Counter", "Other"))
    shop = clone / "shop"
    (shop / "model").mkdir(parents=True)
    (shop / "model" / "counter.py").write_text(MODEL)
    done = _pytest_in(shop, "--ordercheck", "-p", "no:cacheprovider", "-rA")
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "Counter::small" in done.stdout and "Other" not in done.stdout
    # From the clone itself, the clone's model/ is the nearest.
    done = _pytest_in(clone, "--ordercheck", "-p", "no:cacheprovider", "-rA", "model")
    assert "1 failed, 1 passed" in done.stdout and "Other::small" in done.stdout, done.stdout + done.stderr


def test_ordercheck_models_is_relative_to_the_current_directory(tmp_path) -> None:
    clone = tmp_path / "clone"
    (clone / "shop" / "designs").mkdir(parents=True)
    (clone / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (clone / "shop" / "designs" / "counter.py").write_text(MODEL)
    done = _pytest_in(clone / "shop", "--ordercheck-models", "designs", "-p", "no:cacheprovider")
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
