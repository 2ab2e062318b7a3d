"""ordercheck's pytest plugin: the designs and models in ``model/`` as tests, and :func:`assert_holds`.

Installing ordercheck registers this plugin with pytest (the ``pytest11`` entry point
``ordercheck``).  It does two things:

**Designs and models as test items (opt-in).**  With ``pytest --ordercheck``, or with the ini
setting ``ordercheck_models`` (say ``ordercheck_models = model`` under ``[tool.pytest.ini_options]``
in ``pyproject.toml``), every TOML design (``*.toml``) and Python model file (``*.py``) in those
folders is collected, one test item per model and property::

    model/racks.py::AckOnPrimaryDisk::survive_one_disk_loss FAILED
    model/hospital-4-corrected.toml::Hypothesis4Corrected::no acknowledged order is lost PASSED

Each model is checked once, with ``--continue`` semantics (every property gets its own verdict
and shortest counterexample) and the bounds a design declares.  A violated property fails with
the text counterexample and its plain-sentence explanation; an inconclusive one fails too
(inconclusive is never a pass).  The folder is the ``model`` folder nearest to the directory
pytest runs in (that directory's, else its parent's, up to the rootdir), the way
``ordercheck check`` reads ``./model``; ``--ordercheck-models DIR`` (repeatable, relative to the
current directory) or the ini setting (relative to the ini file) names others.  Collection is off by
default so that installing ordercheck never adds slow tests to a project that did not ask for
them; ``-p no:ordercheck`` turns the plugin off altogether.  The items carry the ``ordercheck``
marker (``-m "not ordercheck"`` leaves them out).

When pytest is given no paths (it uses ``testpaths`` or the current directory), the model
folders are added to what it collects; when it is given paths, only model files under those
paths are collected.

**assert_holds for tests written by hand.**  :func:`assert_holds` checks a model instance and
raises ``AssertionError`` with the counterexample when a property is violated or inconclusive.

Examples
--------
>>> from ordercheck import Model, Var, Int, action, invariant, require
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def bounded(s):
...         return s.x <= 3
...     @invariant
...     def small(s):
...         return s.x < 2
>>> assert_holds(Up(), "bounded").verdict
'holds'
>>> try:
...     assert_holds(Up())
... except AssertionError as exc:
...     print(str(exc).splitlines()[0])
Up: small is violated
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .lang.model import Model
    from .lang.spec import Spec
    from .report.result import PropertyResult, Result
    from .sources import ModelSource

__all__ = [
    "OrdercheckFailure",
    "OrdercheckFile",
    "OrdercheckModel",
    "OrdercheckProperty",
    "assert_holds",
    "describe_problem",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
]

_DEFAULT_FOLDER = "model"


def describe_problem(model: str, p: PropertyResult, spec: Spec | None = None, reason: str = "") -> str:
    """Why a property is not a pass: the counterexample and its explanation, or why it is inconclusive.

    Examples
    --------
    >>> from ordercheck.report.result import PropertyResult
    >>> print(describe_problem("M", PropertyResult("p", "invariant", "inconclusive", reason="max_states reached")))
    M: p is inconclusive (max_states reached); inconclusive is not a pass
    """
    from .report.explain import explain_trace
    from .report.text import render_text

    if p.counterexample is not None:
        explanation = "\n".join(f"  {s}" for s in explain_trace(p.counterexample, spec))
        return f"{model}: {p.name} is violated\n\n{render_text(p.counterexample)}\n\nIn plain words:\n{explanation}"
    if p.verdict == "violated":
        return f"{model}: {p.name} is violated" + (f" ({p.reason})" if p.reason else "")
    why = p.reason or reason or "a bound was hit"
    return f"{model}: {p.name} is {p.verdict} ({why}); inconclusive is not a pass"


def assert_holds(model: Model, *properties: str, **check_options: Any) -> Result:
    """Check ``model`` and raise ``AssertionError`` unless every property (or every one named) holds.

    Parameters
    ----------
    model : Model
        A model instance.
    *properties : str
        Check only these properties (default: all of them).
    **check_options
        Passed on to :func:`ordercheck.check` (``max_states=``, ``symmetry=``, ...).  Every property
        is checked to the end (``keep_going=True``) unless ``keep_going=False`` is given.

    Returns
    -------
    Result
        The result, when every property holds.

    Raises
    ------
    AssertionError
        With each violated property's counterexample (text, then in plain sentences) and each
        inconclusive property's reason.
    """
    from .api import check
    from .lang.model import spec_of
    from .report.result import HOLDS

    check_options.setdefault("keep_going", True)
    result = check(model, properties=list(properties) or None, **check_options)
    problems = [p for p in result.properties if p.verdict != HOLDS]
    if problems or result.verdict != HOLDS:
        spec = spec_of(model)
        texts = [describe_problem(result.model, p, spec, result.reason) for p in problems]
        if not texts:
            texts = [f"{result.model}: {result.verdict} ({result.reason})"]
        raise AssertionError("\n\n".join(texts))
    return result


# ----------------------------------------------------------------------------- configuration


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ordercheck", "ordercheck: designs and models as tests")
    group.addoption("--ordercheck", action="store_true", default=False,
                    help="collect the designs (*.toml) and models (*.py) in the model folders as tests, one per property")
    group.addoption("--ordercheck-models", action="append", default=[], metavar="DIR",
                    help="a folder of designs and models to collect (repeatable; default: the ordercheck_models ini setting, else 'model')")
    parser.addini("ordercheck_models", "folders of designs and models that ordercheck collects as tests; setting it turns collection on",
                  type="paths", default=[])


def _folders(config: pytest.Config) -> list[Path]:
    here = Path(config.invocation_params.dir)
    named = [here / d for d in config.getoption("ordercheck_models", default=[]) or []]
    if named:
        return [p.resolve() for p in named]
    ini = config.getini("ordercheck_models")
    if ini:
        return [Path(p).resolve() for p in ini]
    return [_default_folder(here.resolve(), Path(config.rootpath).resolve())]


def _default_folder(here: Path, rootdir: Path) -> Path:
    """The ``model`` folder nearest to where pytest runs, looking up to the rootdir (as ``ordercheck check`` reads ``./model``).

    A project folder inside another project (the tutorial's ``shop/`` inside a clone of
    ordercheck, whose ``pyproject.toml`` makes the clone pytest's rootdir) checks its own designs,
    not the enclosing project's.
    """
    if here == rootdir or rootdir in here.parents:
        for folder in (here, *here.parents):
            if (folder / _DEFAULT_FOLDER).is_dir():
                return folder / _DEFAULT_FOLDER
            if folder == rootdir:
                break
    return rootdir / _DEFAULT_FOLDER


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("ordercheck", default=False) or config.getoption("ordercheck_models", default=[])
                or config.getini("ordercheck_models"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ordercheck: a property of a design or model in the model folders, checked by ordercheck")
    if not _enabled(config):
        return
    config.stash[_FOLDERS] = _folders(config)
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    walked = [Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args]
    for folder in config.stash[_FOLDERS]:
        if folder.is_dir() and not any(folder == w or w in folder.parents for w in walked):
            config.args.append(str(folder))


_FOLDERS = pytest.StashKey[list[Path]]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    folders = config.stash.get(_FOLDERS, None)
    if not folders or file_path.suffix not in (".py", ".toml") or file_path.name.startswith(("_", ".")):
        return None
    resolved = file_path.resolve()
    if not any(f in resolved.parents for f in folders):
        return None
    collector: OrdercheckFile = OrdercheckFile.from_parent(parent, path=file_path)
    return collector


# ----------------------------------------------------------------------------- collection


class OrdercheckFailure(Exception):
    """A property that is not a pass: its text is what pytest shows."""


class OrdercheckFile(pytest.File):
    """A design or model file: one :class:`OrdercheckModel` per model it defines."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from .lang.errors import OrdercheckError
        from .sources import sources_in

        try:
            sources = sources_in(self.path)
        except OrdercheckError as exc:
            raise self.CollectError(f"ordercheck cannot load {self.path}: {exc}") from None
        for source in sources:
            yield OrdercheckModel.from_parent(self, name=source.cls.__name__, source=source)


class OrdercheckModel(pytest.Collector):
    """One model (or a design's model): one :class:`OrdercheckProperty` per property; checked once, on first use."""

    def __init__(self, *, source: ModelSource, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self._model: Model | None = None
        self._result: Result | None = None
        self._error: str | None = None

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from .lang.errors import OrdercheckError
        from .lang.model import spec_of

        try:
            self._model = self.source.cls()
            spec = spec_of(self._model)
        except OrdercheckError as exc:
            raise self.CollectError(f"ordercheck cannot build {self.name} from {self.path}: {exc}") from None
        for prop in spec.properties:
            line = prop.location.line if prop.location is not None and Path(prop.location.file).resolve() == self.path.resolve() else 0
            yield OrdercheckProperty.from_parent(self, name=prop.name, line=line)

    def result(self) -> Result:
        """The check's result, computed on first use; a model error raises :class:`OrdercheckFailure`."""
        if self._error is not None:
            raise OrdercheckFailure(self._error)
        if self._result is None:
            from .api import check
            from .lang.errors import OrdercheckError

            design = self.source.design
            assert self._model is not None
            try:
                self._result = check(self._model, keep_going=True, max_states=design.max_states if design else None,
                                     max_seconds=design.max_seconds if design else None)
            except OrdercheckError as exc:
                self._error = f"{self.name}: the check stopped with an error: {exc}"
                raise OrdercheckFailure(self._error) from None
        return self._result

    def spec(self) -> Spec | None:
        from .lang.model import spec_of

        return spec_of(self._model) if self._model is not None else None


class OrdercheckProperty(pytest.Item):
    """One property of one model: passes when it holds, fails with the counterexample otherwise."""

    def __init__(self, *, line: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line
        self.add_marker("ordercheck")

    def runtest(self) -> None:
        from .report.result import HOLDS

        parent = self.parent
        assert isinstance(parent, OrdercheckModel)
        result = parent.result()
        outcome = result.property(self.name)
        if outcome.verdict != HOLDS:
            raise OrdercheckFailure(describe_problem(parent.name, outcome, parent.spec(), result.reason))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, OrdercheckFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.line - 1 if self.line else None), f"ordercheck {self.parent.name if self.parent else ''}: {self.name}"
