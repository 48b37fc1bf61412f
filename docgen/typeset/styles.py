"""From theme to typesetting parameters: a Theme and inline spans in, font stacks, TextStyles and Runs out.

Font files are loaded (and registered with ReportLab) once per process; a theme's stacks are cached by
the theme's font settings, so rendering many documents pays for fonts once.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..spec.inline import Span
from ..layout.theme import FamilySpec, Style, Theme
from ..layout.tree import plain_language
from .fonts import Family, FontStack, family, role_families
from .text import ParaFormat, Run, TextStyle


def _family(spec: FamilySpec, base_dir: Path | None) -> Family:
    return family(spec.regular, spec.bold, spec.italic, spec.bold_italic, base_dir=base_dir)


@lru_cache(maxsize=64)
def _stacks(fonts_json: str, base_dir: str | None) -> tuple[dict[str, FontStack], tuple[str, ...]]:
    """The stack of every font set a style can name, and the warnings resolving them gave (a role's font
    that is not installed here)."""
    from ..layout.theme import Fonts
    fonts = Fonts.model_validate_json(fonts_json)
    bd = Path(base_dir) if base_dir else None
    mono = _family(fonts.mono, bd) if fonts.mono else None
    notes: list[str] = []
    roles: dict[str, tuple[Family, ...]] = {}
    for role, entries in fonts.roles.items():
        fams, why = role_families(role, [e if isinstance(e, str) else e.model_dump() for e in entries], bd)
        roles[role] = tuple(fams)
        notes += why

    def stack(fs, latin=None):
        # a set that plays a role draws CJK in the role's licensed fonts first, its own chain after them
        cjk = (roles.get(fs.role, ()) if fs.role else ()) + tuple(_family(f, bd) for f in fs.cjk)
        return FontStack(latin=latin or tuple(_family(f, bd) for f in fs.latin),
                         cjk=cjk, mono=mono, allow_system=fonts.system_fallback)

    # one stack per font set a style can name: body, heading, mono (Latin in the mono family, CJK as the
    # body's) and every extra set of the theme
    out = {"body": stack(fonts.body), "heading": stack(fonts.heading or fonts.body)}
    out["mono"] = stack(fonts.body, latin=(mono,)) if mono else out["body"]
    for name, fs in fonts.extra.items():
        out[name] = stack(fs)
    return out, tuple(notes)


_CANONICAL: dict = {}         # a text style or paragraph format -> the one instance of its value in the process
_CANONICAL_MAX = 10000


def _canonical(v):
    """The process's one instance equal to ``v``: the breaker's caches and the break memo look styles up by
    value, and a look-up that finds the very object it is given skips comparing them field by field (a
    render's Styler makes its styles anew)."""
    got = _CANONICAL.get(v)
    if got is None:
        if len(_CANONICAL) >= _CANONICAL_MAX:
            _CANONICAL.clear()
        got = _CANONICAL.setdefault(v, v)
    return got


class Styler:
    """Turns named theme styles into TextStyle/ParaFormat for one render."""

    def __init__(self, theme: Theme, layout_dir: Path | None):
        self.theme = theme
        self.stacks, self.notes = _stacks(json.dumps(theme.fonts.model_dump(), sort_keys=True),
                                          str(layout_dir) if layout_dir else None)
        self._cache: dict = {}

    def style(self, name: str) -> Style:
        return self.theme.style(name)

    def text_style(self, st: Style, color: str | None = None, scale: float = 1.0) -> TextStyle:
        key = (id(st), color, scale)
        ts = self._cache.get(key)
        if ts is None:
            ts = TextStyle(fonts=self.stacks[st.font], size=st.size * scale,
                           color=self.theme.color(color or st.color), bold=st.bold, italic=st.italic)
            ts = self._cache[key] = _canonical(ts)
        return ts

    def runs(self, spans: list[Span], base: TextStyle) -> list[Run]:
        out = []
        for s in spans:
            if not (s.bold or s.italic or s.code or s.href):
                out.append(Run(s.text, base))
                continue
            out.append(Run(s.text, TextStyle(
                fonts=base.fonts, size=base.size * (0.92 if s.code else 1), color=
                self.theme.color("accent") if s.href else base.color, bold=base.bold or s.bold,
                italic=base.italic or s.italic, mono=s.code, href=s.href, underline=bool(s.href))))
        return out

    def para_format(self, st: Style, lang: str, *, align: str | None = None, indent: bool = True) -> ParaFormat:
        key = ("pf", id(st), lang, align, indent)
        pf = self._cache.get(key)
        if pf is None:
            pf = self._cache[key] = _canonical(self._para_format(st, lang, align, indent))
        return pf

    def _para_format(self, st: Style, lang: str, align: str | None, indent: bool) -> ParaFormat:
        em = st.size
        ind = (st.indent_em if lang == "zh" else st.indent_em_en) * em if indent else 0.0
        al = align or st.align
        # display lines (titles, headings, captions) are set ragged and never hyphenated
        return ParaFormat(align=al, lang="zh" if lang == "zh" else "en", first_indent=ind,
                          hang_punct=st.hang_punct, hyphenate=al == "justify",
                          compress_end=st.line_end_compression, balance=st.balance)


def lang_of(lang: str, spans: list[Span], languages: Sequence[str] = ("zh",)) -> str:
    """The language that governs line breaking: the text's own, or for shared text the one
    :func:`docgen.layout.tree.plain_language` gives in a document of ``languages`` (the default, a
    Chinese document's rule, is the one the 公文 layout sets its text by)."""
    if lang in ("zh", "en"):
        return lang
    return plain_language(spans[0].text if len(spans) == 1 else "".join(s.text for s in spans), languages)
