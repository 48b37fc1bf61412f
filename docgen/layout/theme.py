"""Themes: a layout's ``theme.yaml`` (merged with the spec's ``theme:`` overrides) in, a validated Theme out.

A theme says everything visual that is not structure: paper, margins and columns per page template,
fonts per script, colours, named text styles, header/footer and page numbering.  Lengths are in mm,
font sizes in pt.
"""
from __future__ import annotations

import copy
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "A3": (297.0, 420.0), "B5": (176.0, 250.0),
            "Letter": (215.9, 279.4)}


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FamilySpec(_M):
    """Font files for one family: bundled names (docgen/fonts) or paths relative to the layout folder."""

    regular: str
    bold: str | None = None
    italic: str | None = None
    bold_italic: str | None = None


class FontSet(_M):
    """Per-script fallback chains: the first family that covers a character sets it."""

    latin: list[FamilySpec] = Field(min_length=1)
    cjk: list[FamilySpec] = Field(min_length=1)


class Fonts(_M):
    body: FontSet
    heading: FontSet | None = None
    mono: FamilySpec | None = None
    extra: dict[str, FontSet] = Field(default_factory=dict, description="more named font sets, for a style's "
                                      "font: (e.g. the 楷体 and 小标宋 of official documents)")
    system_fallback: bool = Field(True, description="search system fonts for characters no theme font covers")


class Margins(_M):
    top: float = 25
    bottom: float = 25
    inner: float = 22
    outer: float = 22


class Grid(_M):
    """A fixed grid over the type area: ``lines`` rows of equal pitch, ``chars`` cells a line."""

    lines: int = Field(ge=1, le=200)
    chars: int = Field(ge=1, le=200)


class PageTemplate(_M):
    margins: Margins = Margins()
    columns: int = Field(1, ge=1, le=3)
    gap: float = 8.0
    header: bool = True
    footer: bool = True
    background: str | None = None       # colour of a full-bleed background
    grid: Grid | None = None            # a line and character grid over the type area


class Style(_M):
    font: str = Field("body", description="body, heading, mono or a name in fonts.extra")
    size: float = Field(10.5, gt=2, lt=200)
    leading: float | None = Field(None, description="line pitch in pt (default 1.6 × size)")
    bold: bool = False
    italic: bool = False
    color: str = "text"
    align: Literal["justify", "left", "center", "right"] = "justify"
    indent_em: float = 0.0               # first-line indent of Chinese text, in em (body text: 2)
    indent_em_en: float = 0.0            # first-line indent of English text, in em
    space_before: float = 0.0            # pt
    space_after: float = 6.0             # pt
    keep_with_next: bool = False
    hang_punct: bool = False
    grid: bool = False                   # character grid (fixed pitch)

    def leading_pt(self) -> float:
        return self.leading or round(self.size * 1.6, 2)


class Running(_M):
    """Header or footer line: text with {title} {section} {page} {pages} placeholders, per edition."""

    left: str = ""
    center: str = ""
    right: str = ""
    style: str = "running"
    rule: bool = False
    offset: float = 10.0                 # mm from the type area


class Folio(_M):
    """A page number drawn below the type area (official documents: "— 1 —", odd pages right, even left)."""

    format: str = "{page}"
    style: str = "running"
    offset: float = Field(7.0, description="mm from the type area's bottom edge to the top of the number")
    align: Literal["center", "left", "right", "outside", "inside"] = "center"
    indent_em: float = Field(0.0, description="space kept from the type area's edge, in em of the style")
    skip_blank: bool = Field(True, description="no number on pages that hold nothing")


class Theme(_M):
    name: str = ""
    description: str = ""
    paper: str = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    page_templates: dict[str, PageTemplate] = Field(default_factory=lambda: {"body": PageTemplate()})
    fonts: Fonts
    colors: dict[str, str] = Field(default_factory=lambda: {"text": "#1a1a1a"})
    styles: dict[str, Style]
    header: dict[str, Running] = Field(default_factory=dict, description="per edition: zh, en, parallel, stacked, *")
    footer: dict[str, Running] = Field(default_factory=dict)
    folio: Folio | None = Field(None, description="page number below the type area, outside header/footer")
    stacked_secondary: str = Field("muted", description="colour of the second language in stacked mode")
    parallel_gap: float = 8.0            # mm between the zh and en columns
    region_label: bool = False           # visible "AI 生成 · AI-generated" label under generated regions
    toc_depth: int = 2

    @field_validator("paper")
    @classmethod
    def _paper(cls, v):
        if v not in PAPER_MM:
            raise ValueError("expected one of " + ", ".join(PAPER_MM))
        return v

    @field_validator("colors")
    @classmethod
    def _hex_colors(cls, v):
        for k, c in v.items():
            if not _HEX.fullmatch(c):
                raise ValueError(f"{k}: {c!r} is not a colour (#rgb or #rrggbb)")
        return v

    @model_validator(mode="after")
    def _color_refs(self):
        """Every colour a style, the stacked mode or a page names is a colour of the theme or a hex value."""
        refs = [(f"styles.{n}.color", st.color) for n, st in self.styles.items()]
        refs.append(("stacked_secondary", self.stacked_secondary))
        refs += [(f"page_templates.{n}.background", pt.background) for n, pt in self.page_templates.items()
                 if pt.background]
        for where, ref in refs:
            if ref not in self.colors and not _HEX.fullmatch(ref):
                raise ValueError(f"{where}: {ref!r} is neither a colour of the theme "
                                 f"({', '.join(sorted(self.colors))}) nor #rgb/#rrggbb")
        return self

    @model_validator(mode="after")
    def _style_fonts(self):
        known = {"body", "heading", "mono", *self.fonts.extra}
        for name, st in self.styles.items():
            if st.font not in known:
                raise ValueError(f"styles.{name}.font: {st.font!r} is not one of {sorted(known)}")
        return self

    def page_size_mm(self) -> tuple[float, float]:
        w, h = PAPER_MM[self.paper]
        return (h, w) if self.orientation == "landscape" else (w, h)

    def color(self, name: str) -> tuple[float, float, float]:
        v = self.colors.get(name, name)
        v = v.lstrip("#")
        if len(v) == 3:
            v = "".join(c * 2 for c in v)
        try:
            return tuple(int(v[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            return (0.1, 0.1, 0.1)

    def style(self, name: str) -> Style:
        return self.styles.get(name) or self.styles["body"]

    def running(self, which: str, edition: str) -> Running | None:
        table = self.header if which == "header" else self.footer
        return table.get(edition) or table.get("*")


def merge(base: dict, over: dict) -> dict:
    """Deep-merge the spec's theme overrides into the layout's theme (mappings merge, others replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
