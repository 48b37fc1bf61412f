"""How much a spec may ask for: documented defaults that keep a render's time and memory bounded.

A value over a limit is a :class:`~docgen.errors.SpecError` naming its field, never a hang or a
``MemoryError``.  The defaults are far above any real document (a 300-page report uses a few percent of
each) and cost nothing to check: one pass over the spec's strings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

TEXT_CHARS = 200_000  # characters in one text field (a paragraph, a cell, a heading)
TOKEN_CHARS = 10_000  # characters in one unbroken run (no space, no CJK break opportunity)
BLOCKS = 20_000  # blocks in the body (attachments included)
TABLE_ROWS = 20_000  # rows of one table (data-bound tables after the data is read)
PAGES = 10_000  # pages of one rendered edition (Limits(pages=…) or --max-pages sets another)
PLACEHOLDER_CHARS = 5_000_000  # characters of the spec's text after {placeholders} are filled
PLACEHOLDER_WIDTH = 1_000  # the width in a placeholder's format, {x:>1000}
TEMPLATE_CHARS = 50_000_000  # characters a layout template may produce
TEMPLATE_SECONDS = 60.0  # seconds a layout template may run
TEMPLATE_LOOPS = 2_000_000  # range() items a layout template may iterate, all loops together

# control characters (tab, newline and carriage return are whitespace) and lone surrogates
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_TOKEN = None


def _token():
    """A run of characters with no line-break opportunity between them (spaces and CJK break anywhere),
    longer than the limit: compiled the first time a text is long enough to hold one (a class over the CJK
    blocks takes ~2 ms to compile)."""
    global _TOKEN
    if _TOKEN is None:
        _TOKEN = re.compile(
            r"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]{%d,}" % (TOKEN_CHARS + 1)
        )
    return _TOKEN


def text_problem(s: str) -> str | None:
    """Why ``s`` cannot be text of a document (None when it can)."""
    if len(s) > TEXT_CHARS:
        return f"text of {len(s):,} characters is over the limit of {TEXT_CHARS:,}"
    m = CONTROL.search(s)
    if m:
        c = ord(m.group())
        what = "lone surrogate" if 0xD800 <= c <= 0xDFFF else "control character"
        return f"{what} U+{c:04X} (at character {m.start() + 1}) is not allowed in text"
    m = _token().search(s) if len(s) > TOKEN_CHARS else None
    if m:
        return (
            f"an unbroken word of {len(m.group()):,} characters at character {m.start() + 1} is over the "
            f"limit of {TOKEN_CHARS:,} (add spaces)"
        )
    return None


def value_problems(v, path: tuple = (), out: list | None = None, limit: int = 20) -> list[tuple[tuple, str]]:
    """(field path, message) for every string and number in plain data (or models) that no document may
    hold: control characters, lone surrogates, texts and words over the limits, NaN and infinities."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(v, str):
        why = text_problem(v)
        if why:
            out.append((path, why))
    elif isinstance(v, bool) or v is None:
        pass
    elif isinstance(v, float):
        if not math.isfinite(v):
            out.append((path, f"{getattr(v, 'source', None) or v} is not a finite number"))
    elif isinstance(v, dict):
        for k, x in v.items():
            if isinstance(k, str) and (why := text_problem(k)):
                out.append((path + (k,), "in the key: " + why))
            value_problems(x, path + (str(k),), out, limit)
    elif isinstance(v, (list, tuple)):
        if path in (("body",),) and len(v) > BLOCKS:
            out.append((path, f"{len(v):,} blocks is over the limit of {BLOCKS:,}"))
            return out
        if path[-1:] == ("rows",) and len(v) > TABLE_ROWS:
            out.append((path, f"{len(v):,} rows is over the limit of {TABLE_ROWS:,}"))
            return out
        for i, x in enumerate(v):
            value_problems(x, path + (str(i),), out, limit)
    elif hasattr(type(v), "model_fields"):
        for name in type(v).model_fields:
            value_problems(getattr(v, name), path + (name,), out, limit)
    return out


@dataclass(frozen=True)
class Limits:
    """Limits of one render (``docgen.render(..., limits=Limits(seconds=60, memory=2 * 2**30, pages=500))``,
    ``docgen render --max-seconds 60 --max-memory 2G --max-pages 500``).  With ``seconds`` or ``memory``
    the render runs in a child process, stopped when it runs longer or needs more memory; ``pages``
    (default :data:`PAGES`) stops the typesetter at the first page over it.  Each is reported as a
    :class:`~docgen.errors.RenderError` naming the limit."""

    seconds: float | None = None  # wall-clock seconds
    memory: int | None = None  # bytes of address space
    pages: int | None = None  # pages of one edition; None = PAGES

    def __post_init__(self):
        if self.pages is not None and (
            isinstance(self.pages, bool) or not isinstance(self.pages, int) or self.pages < 1
        ):
            raise ValueError(f"Limits.pages must be a whole number of at least 1, not {self.pages!r}")

    @property
    def max_pages(self) -> int:
        return PAGES if self.pages is None else self.pages
