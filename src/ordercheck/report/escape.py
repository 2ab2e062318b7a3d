"""Names made safe for each place they are written: the terminal, XML, Markdown, Mermaid.

Node, model, action, property and design names come from users' files and may hold any
character.  Written raw, an ESC sequence (``"\\x1b[2J"``) clears the reader's screen, a NUL or
an ESC makes XML ill-formed (XML 1.0 cannot hold most control characters, escaped or not), a
newline ends a Markdown ``<summary>`` line or a Mermaid label, and a bidi override reverses the
text around it.  One function per target, used wherever a name is written to that target:

======================  =====================================================================
function                what it does
======================  =====================================================================
:func:`terminal_safe`   control, format and bidi characters shown as ``\\x1b``-style escapes
:func:`xml_safe`        characters XML 1.0 cannot hold replaced by U+FFFD, then ``&<>"'`` escaped
:func:`markdown_safe`   one line, HTML-escaped, Markdown punctuation backslashed, controls escaped
:func:`mermaid_safe`    one line; all but letters, digits and plain punctuation as ``#code;``
======================  =====================================================================

Examples
--------
>>> terminal_safe("db\\x1b[2J1")
'db\\\\x1b[2J1'
>>> xml_safe('a\\x00<b> & "c"')
'a\\ufffd&lt;b&gt; &amp; &quot;c&quot;'
>>> markdown_safe("a|b <c>")
'a\\\\|b &lt;c&gt;'
>>> mermaid_safe('a;b"%%c')
'a#59;b#34;#37;#37;c'
"""

from __future__ import annotations

import re
import unicodedata
from typing import TextIO

__all__ = ["TerminalStream", "markdown_safe", "mermaid_safe", "terminal_safe", "xml_chars", "xml_safe"]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _unsafe(ch: str, newlines: bool) -> bool:
    if ch in "\n\t":
        return not newlines
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: object, *, newlines: bool = False) -> str:
    """``text`` with every control, format (bidi overrides included) and unassigned character as an escape.

    ``newlines=True`` keeps ``\\n`` and tabs (for multi-line text); a backslash is kept as is.
    """
    s = str(text)
    if s.isprintable() and "\n" not in s:
        return s
    return "".join(_escaped(ch) if _unsafe(ch, newlines) else ch for ch in s)


def xml_chars(text: object) -> str:
    """``text`` with the characters XML 1.0 cannot hold (most controls, surrogates, U+FFFE/FFFF) as U+FFFD."""
    return _XML_INVALID.sub("\ufffd", str(text))


def xml_safe(text: object) -> str:
    """Text for XML (and SVG, HTML) content or attribute values: :func:`xml_chars`, then ``&<>"'`` escaped."""
    s = xml_chars(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;")
    # In an attribute a raw newline or tab would be normalised to a space: keep them as references.
    return s.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def markdown_safe(text: object) -> str:
    """Text for a Markdown table cell, paragraph or ``<summary>``: one line, HTML-escaped, punctuation backslashed."""
    s = terminal_safe(" ".join(str(text).split(" ")))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,()'=+*/[]:!?@$^~")


def mermaid_safe(text: object, *, colon: bool = True) -> str:
    """Text for a Mermaid label, participant alias or note: one line; outside a safe set, ``#code;`` entities.

    ``colon=False`` codes ``:`` too (a participant's name).  A comment (``%% ...``) takes
    :func:`terminal_safe` text without ``%``.
    """
    out = []
    for ch in " ".join(str(text).split()):
        out.append(ch if ch in _MERMAID_SAFE and (colon or ch != ":") else f"#{ord(ch)};")
    return "".join(out)


class TerminalStream:
    """A text stream that writes :func:`terminal_safe` text (newlines kept) to ``target``.

    The command line writes through it, so no name from a model, design or trace reaches the
    terminal raw, whichever rendering formatted it.
    """

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(terminal_safe(text, newlines=True))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())
