"""Inline text syntax: a spec string with ``**bold**``, ``*italic*``, ``[links](https://…)`` and
```code``` in, a list of styled :class:`Span` out.  ``\\`` escapes the next character.

User text is data: nothing else in it has meaning (``<b>``, ``&amp;`` or ``<font>`` print literally).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str | None = None


_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


_MARKERS = frozenset("*[`\\")


def parse(text: str) -> list[Span]:
    """Parse the inline syntax.  Unmatched markers are kept as literal text."""
    if _MARKERS.isdisjoint(text):
        return [Span(text)] if text else []
    spans: list[Span] = []
    buf: list[str] = []
    bold = italic = False
    i, n = 0, len(text)

    def flush(href=None, code=False, s=None):
        if s is None:
            s = "".join(buf)
            buf.clear()
        if s:
            spans.append(Span(s, bold, italic, code, href))

    def closes(marker: str, start: int) -> bool:
        # an opener must touch its text and have a closer that touches it too (CommonMark's flanking rule)
        if start >= n or text[start].isspace():
            return False
        j = text.find(marker, start)
        while j != -1:
            if not text[j - 1].isspace() and (marker == "**" or not text.startswith("**", j)):
                return True
            j = text.find(marker, j + 1)
        return False

    def may_close(at: int) -> bool:
        return at > 0 and not text[at - 1].isspace()

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            buf.append(text[i + 1])
            i += 2
            continue
        if c == "`":
            j = text.find("`", i + 1)
            if j > i + 1:
                flush()
                flush(code=True, s=text[i + 1:j])
                i = j + 1
                continue
        if c == "[":
            m = _LINK.match(text, i)
            if m and m.group(2).startswith(SAFE_SCHEMES):
                flush()
                for sp in parse(m.group(1)):
                    spans.append(Span(sp.text, bold or sp.bold, italic or sp.italic, sp.code, m.group(2)))
                i = m.end()
                continue
        if text.startswith("**", i) and ((bold and may_close(i)) or (not bold and closes("**", i + 2))):
            flush()
            bold = not bold
            i += 2
            continue
        if c == "*" and not text.startswith("**", i) and (
                (italic and may_close(i)) or (not italic and closes("*", i + 1))):
            flush()
            italic = not italic
            i += 1
            continue
        buf.append(c)
        i += 1
    flush()
    return spans


_SPECIAL = re.compile(r"([\\*\[`])")


def escape(text: str) -> str:
    """``text`` as literal inline text: its markers backslash-escaped, so values from data or parameters
    never turn into bold, links or code."""
    return _SPECIAL.sub(r"\\\1", text)


def plain(text: str) -> str:
    """The text a reader sees (markers removed) — what the PDF's text layer must hold."""
    return "".join(s.text for s in parse(text))
