"""Output names: a pattern such as ``out/{id}.pdf`` and a row's values in, a path that cannot escape out.

The pattern is filled by the restricted formatter (plain names, no attribute or index access).  Each
value is made a safe file-name part first: path separators, control characters and leading dots are
replaced, so a row whose ``id`` is ``../../etc/passwd`` writes ``out/.._.._etc_passwd.pdf`` at worst —
inside the pattern's folder, never above it.  The result must end in ``.pdf``.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from ..data.placeholders import fill
from ..errors import Problem, SpecError

# separators, control characters and the bidi controls that make a name read differently from what it is
# (U+202E shows "report\u202efdp.exe" as "reportexe.pdf")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


class _Safe:
    """A value whose str() and format() are a safe file-name part."""

    def __init__(self, v: Any):
        self.v = v

    def __format__(self, spec: str) -> str:
        if isinstance(self.v, (_dt.date, int, float)) and spec:
            s = format(self.v, spec)
        else:
            s = str(self.v) if self.v is not None else ""
        s = _UNSAFE.sub("_", s).strip()
        s = s.lstrip(".") or "_"
        return s[:120]


class OutputPattern:
    def __init__(self, pattern: str, base: Path | None = None):
        if not pattern or not pattern.endswith(".pdf"):
            raise SpecError(Problem("out", f"{pattern!r}: the output pattern must end in .pdf"))
        self.pattern = pattern
        cwd = (base or Path.cwd())
        static = pattern.split("{", 1)[0]
        folder = static.rsplit("/", 1)[0] if "/" in static else "."
        self.root = (cwd / folder).resolve()
        self._cwd = cwd

    def path(self, values: dict[str, Any], where: str = "out") -> Path:
        try:
            name = fill(self.pattern, {k: _Safe(v) for k, v in values.items()})
        except ValueError as e:
            raise SpecError(Problem(where, f"{self.pattern!r}: {e}")) from None
        p = (self._cwd / name).resolve()
        if not p.is_relative_to(self.root) or p == self.root:
            raise SpecError(Problem(where, f"{name!r} is outside {self.root}"))
        return p
