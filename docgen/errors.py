"""Errors docgen reports to users: each prints as a clear message (no traceback) and maps to an exit code."""
from __future__ import annotations

from dataclasses import dataclass


class DocgenError(Exception):
    """Base class for errors docgen reports to users (printed without a traceback)."""

    exit_code = 1


class FontError(DocgenError):
    """A font file is missing, unreadable, or cannot be embedded."""


class ModelError(DocgenError):
    """The image model cannot be loaded or run (weights, GPU, optional libraries)."""


class LayoutError(DocgenError):
    """A layout folder, its template or its theme is broken (the layout author's mistake)."""


class RenderError(DocgenError):
    """The document could not be typeset (e.g. content that does not fit a fixed frame)."""


class OutputError(DocgenError):
    """An output path cannot be written: a folder, a FIFO, a device, a symlink, or no permission."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem in the user's input: where (field path, file:line) and what."""

    path: str                 # dotted field path, e.g. "body.3.generate.aspect"
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line} " if self.file and self.line else (f"{self.file}: " if self.file else "")
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class SpecError(DocgenError):
    """The document spec is invalid; carries every problem found, each with its field path."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):            # pickled whole (a render in a child process): the problems, not the text
        return (type(self), (self.problems,))
