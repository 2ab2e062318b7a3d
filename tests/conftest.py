"""Shared test helpers.

``load_model_module(name)`` loads ``model/<name>.py`` by path: ``model/`` holds the shipped
designs and is not a package, the way a user's own ``model/`` folder is not.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

MODEL_DIR = Path(__file__).resolve().parent.parent / "model"


def load_model_module(name: str) -> ModuleType:
    """The module of ``model/<name>.py``, loaded once and registered as ``ordercheck_model_<name>``.

    Registering it in ``sys.modules`` lets ``inspect`` find the source of its classes, so that
    model errors name the right file and line.
    """
    module_name = f"ordercheck_model_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = MODEL_DIR / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no model file {path}")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
