"""Errors in a model or in the input, reported with where they come from.

A :class:`ModelError` names the model, the action (or property) and the source
line of the user's code, and says what to do instead.  The command line prints
it without a traceback and exits with code 2.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["InputError", "ModelError", "OrdercheckError", "SourceLocation", "user_location"]

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
