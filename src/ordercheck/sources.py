"""Finding and loading the models a user points ordercheck at.

A path is a Python model file, or a directory whose ``*.py`` files are model
files (``ordercheck check`` with no path looks in ``./model``, the way pytest
finds ``tests/``).  Every :class:`~ordercheck.lang.model.Model` subclass that a
file defines, and whose name does not start with ``_``, is a model to check.

Examples
--------
>>> parse_constant("RM=r1,r2,r3", default=("a",))
('RM', ('r1', 'r2', 'r3'))
>>> parse_constant("N=4", default=3)
('N', 4)
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .lang.errors import InputError, Interrupted, ModelError, OrdercheckError, SourceLocation, user_code_error
from .lang.model import Const, Model, _declarations, _resolve_constants

__all__ = [
    "ModelSource", "constant_overrides", "find_model_files", "instantiate", "load_module", "models_in", "parse_constant", "sources_in",
]


@dataclass(frozen=True)
class ModelSource:
    """A model class and the file it came from (a Python model file, or a TOML design with its ``design``)."""

    cls: type[Model]
    path: Path
    design: Any = None


def find_model_files(path: Path) -> list[Path]:
    """The model files at ``path``: the file itself, or a directory's ``*.py`` models and ``*.toml`` designs in name order."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".py", ".toml") and not p.name.startswith(("_", ".")))
        if not files:
            raise InputError(f"{path}: no model files (*.py) or designs (*.toml) in this directory")
        return files
    if path.suffix not in (".py", ".toml"):
        raise InputError(f"{path}: not a Python model file (*.py) or a design (*.toml)")
    return [path]


def sources_in(path: Path) -> list[ModelSource]:
    """Every model class a model file defines, or the model of a design file."""
    if path.suffix == ".toml":
        from .design import load_design

        design = load_design(path)
        return [ModelSource(design.model_class, path, design)]
    return models_in(load_module(path), path)


def load_module(path: Path) -> ModuleType:
    """Import a model file by path; errors in it become a :class:`ModelError` naming the file and line."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"ordercheck_models_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ModelError:
        raise
    except SyntaxError as exc:
        raise ModelError(f"syntax error: {exc.msg}", location=SourceLocation(str(path), exc.lineno or 0, (exc.text or "").strip())) from None
    except Interrupted:
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, ... from a model file are model errors
        sys.modules.pop(name, None)
        error = user_code_error(exc, f"importing {path.name}")
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == str(path.resolve())]
        if frames and not isinstance(exc, RecursionError):
            error.location = SourceLocation(str(path), frames[-1].lineno or 0, (frames[-1].line or "").strip())
        raise error from None
    return module


def instantiate(cls: type[Model], constants: dict[str, Any]) -> Model:
    """``cls(**constants)``: the model traced, with anything its code raises made a :class:`ModelError`.

    Tracing runs the user's actions, helpers and derived constants; a ``sys.exit()``, a
    ``KeyboardInterrupt`` or a helper that recurses without end there is a mistake in the model
    (located, exit 2), never the end of the run.
    """
    try:
        return cls(**constants)
    except (OrdercheckError, Interrupted):
        raise
    except BaseException as exc:  # see the docstring
        error = user_code_error(exc, f"building model {cls.__name__}")
        error.model = cls.__name__
        raise error from None


def models_in(module: ModuleType, path: Path) -> list[ModelSource]:
    """The model classes a module defines, in source order."""
    found = [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Model) and obj is not Model
        and obj.__module__ == module.__name__ and not obj.__name__.startswith("_")
    ]

    def line(cls: type) -> int:
        try:
            return inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            return 0

    return [ModelSource(cls, path) for cls in sorted(found, key=line)]


def _parse_scalar(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def parse_constant(text: str, default: Any = None) -> tuple[str, Any]:
    """Parse ``NAME=V1,V2,...`` (a domain) or ``NAME=V`` (a scalar, unless the constant is a domain)."""
    if "=" not in text:
        raise InputError(f"--const {text!r}: write NAME=VALUE or NAME=V1,V2,...")
    name, _, raw = text.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise InputError(f"--const {text!r}: {name!r} is not a constant name")
    items = [item.strip() for item in raw.split(",")] if raw.strip() else []
    if any(item == "" for item in items):
        raise InputError(f"--const {text!r}: an empty value between commas")
    is_domain = "," in raw or isinstance(default, (tuple, list)) or not items
    if is_domain:
        return name, tuple(_parse_scalar(i) for i in items)
    return name, _parse_scalar(items[0])


def constant_overrides(cls: type[Model], texts: list[str]) -> dict[str, Any]:
    """The ``--const`` values that apply to ``cls`` (those naming one of its constants)."""
    consts = {name: d for name, d in _declarations(cls).items() if isinstance(d, Const)}
    out: dict[str, Any] = {}
    derived: list[tuple[str, str]] = []
    for text in texts:
        name = text.partition("=")[0].strip()
        if name in consts:
            default = consts[name].default
            if callable(default) and not hasattr(default, "as_domain"):
                derived.append((name, text))
                continue
            _, value = parse_constant(text, default)
            out[name] = value
    for name, text in derived:
        # A derived constant's kind (a domain or a scalar) is that of the value it derives: `--const MSG=m1` on a
        # derived domain is a one-element domain, not the scalar "m1".
        _, value = parse_constant(text, _derived_default(cls, name, out))
        out[name] = value
    return out


def _derived_default(cls: type[Model], name: str, overrides: dict[str, Any]) -> Any:
    """The value a derived constant takes with ``overrides`` (None if it cannot be derived: the model reports that itself)."""
    try:
        return _resolve_constants(cls, overrides)[name]
    except Exception:  # the model's own error, reported with its location when the model is built
        return None
