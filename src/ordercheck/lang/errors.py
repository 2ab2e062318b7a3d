"""Errors in a model or in the input, reported with where they come from.

A :class:`ModelError` names the model, the action (or property) and the source
line of the user's code, and says what to do instead.  The command line prints
it without a traceback and exits with code 2.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "InputError", "Interrupted", "ModelError", "OrdercheckError", "SourceLocation",
    "interruption_in_c", "recursion_site", "user_code_error", "user_location",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class SourceLocation:
    """A file and line in the user's code, with the text of that line."""

    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def user_location(tb: TracebackType | None) -> SourceLocation | None:
    """The innermost frame of ``tb`` that lies outside the ordercheck package."""
    found = None
    for frame in traceback.extract_tb(tb):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            found = SourceLocation(frame.filename, frame.lineno or 0, (frame.line or "").strip())
    return found


class OrdercheckError(Exception):
    """Base class of the errors that the command line reports with exit code 2."""


@dataclass
class ModelError(OrdercheckError):
    """A mistake in a model: where it is, what is wrong, and what to write instead.

    ``trace`` is set when the mistake shows only in a reachable state (an
    out-of-range assignment, a tuple outside its domain); it leads there.
    """

    message: str
    model: str | None = None
    context: str | None = None
    location: SourceLocation | None = None
    trace: Any = field(default=None)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = []
        if self.model:
            where.append(f"model {self.model}")
        if self.context:
            where.append(self.context)
        head = f"{self.location}: " if self.location else ""
        text = f"{head}{'; '.join(where)}: {self.message}" if where else f"{head}{self.message}"
        if self.location and self.location.text:
            text += f"\n    {self.location.text}"
        return text


class InputError(OrdercheckError):
    """Bad input outside a model: a file that cannot be read, an option with a wrong value."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, raised by the command line's signal handler.

    The engines catch it as any ``KeyboardInterrupt`` and report a partial, inconclusive result.
    Its own type tells a real signal from user code that raises ``KeyboardInterrupt`` itself,
    which is a mistake in the model.
    """


def recursion_site(tb: TracebackType | None) -> tuple[str, SourceLocation] | None:
    """The user function that recursed without end: the frame outside ordercheck that repeats most.

    Returns ``(function name, where it recurses)``, or None when no user frame repeats (the depth
    came from ordercheck's own code, or from an expression nested too deeply).
    """
    frames = [f for f in traceback.extract_tb(tb) if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)]
    counts = Counter((f.filename, f.lineno, f.name) for f in frames)
    if not counts:
        return None
    (file, line, name), times = counts.most_common(1)[0]
    if times < 10:
        return None
    text = next((f.line or "" for f in frames if (f.filename, f.lineno) == (file, line)), "")
    return name, SourceLocation(file, line or 0, text.strip())


def user_code_error(exc: BaseException, what: str) -> ModelError:
    """The :class:`ModelError` for an exception of any kind that user code raised while ``what``.

    ``SystemExit``, ``KeyboardInterrupt`` and every other ``BaseException`` from a model file is a
    mistake in the model, never the end of the run: the error names the file and line (the
    innermost frame outside ordercheck), and for a ``RecursionError`` the function that recursed.

    Examples
    --------
    >>> try:
    ...     raise SystemExit(0)
    ... except SystemExit as e:
    ...     print(user_code_error(e, "importing m.py").message)
    importing m.py raised SystemExit(0): a model file must not exit; remove the call to sys.exit() or exit()
    """
    if isinstance(exc, RecursionError):
        site = recursion_site(exc.__traceback__)
        if site is not None:
            name, location = site
            return ModelError(f"{what}: {name}() calls itself without end (RecursionError); give the recursion a base case "
                              "or write it as a loop over a domain", location=location)
    if isinstance(exc, SystemExit):
        message = f"{what} raised SystemExit({exc.code!r}): a model file must not exit; remove the call to sys.exit() or exit()"
    elif isinstance(exc, KeyboardInterrupt):
        message = f"{what} raised KeyboardInterrupt itself; a model file must not raise it"
    else:
        detail = f": {exc}" if str(exc) else ""
        message = f"{what} failed: {type(exc).__name__}{detail}"
    return ModelError(message, location=user_location(exc.__traceback__))


def interruption_in_c(exc: BaseException) -> bool:
    """Whether ``exc`` is an interruption that ctypes wrapped: Ctrl-C or SIGTERM arriving while an argument was converted.

    Z3's Python bindings call C through ctypes; a signal handler's :class:`Interrupted` (or a
    plain ``KeyboardInterrupt``) raised during the conversion of an argument reaches the caller as
    ``ctypes.ArgumentError("argument 2: Interrupted: SIGINT")``, the original named only in the message.

    >>> import ctypes
    >>> interruption_in_c(ctypes.ArgumentError("argument 2: Interrupted: SIGINT"))
    True
    >>> interruption_in_c(ctypes.ArgumentError("argument 1: TypeError: wrong type"))
    False
    """
    import ctypes
    import re

    return isinstance(exc, ctypes.ArgumentError) and re.match(r"argument \d+: (Interrupted|KeyboardInterrupt)\b", str(exc)) is not None
