"""The theme format: a layout's ``theme.yaml`` in, a validated :class:`Theme` out; and its deep partial,
:data:`ThemeOverrides`, the type of a spec's ``theme:`` key.

A theme says everything visual that is not structure: paper, margins and columns per page template,
fonts per script, colours, named text styles, header/footer and page numbering.  Lengths are in mm,
font sizes in pt.  The models here are the single source of truth for theme.yaml, its JSON Schema
(``docgen schema --theme``) and the overrides; merging overrides into a layout's theme is the layout
stage's job (docgen/layout/theme.py).
"""
from __future__ import annotations

import ntpath
import os
import re
import types
from pathlib import Path, PurePath, PureWindowsPath
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_serializer, model_validator

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "A3": (297.0, 420.0), "B5": (176.0, 250.0),
            "Letter": (215.9, 279.4)}


# Field checks are Annotated types, not @field_validator methods, so that the overrides' partial models
# (built from these field types below) check a value the moment a spec gives it, with its file:line.
def _known_paper(v: str) -> str:
    if v not in PAPER_MM:
        raise ValueError("expected one of " + ", ".join(PAPER_MM))
    return v


def _hex_colors(v: dict[str, str]) -> dict[str, str]:
    for k, c in v.items():
        if not _HEX.fullmatch(c):
            raise ValueError(f"{k}: {c!r} is not a colour (#rgb or #rrggbb)")
    return v


Paper = Annotated[str, AfterValidator(_known_paper)]
Colors = Annotated[dict[str, str], AfterValidator(_hex_colors)]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FamilySpec(_M):
    """Font files for one family: bundled names (docgen/fonts) or paths relative to the layout folder."""

    regular: str
    bold: str | None = None
    italic: str | None = None
    bold_italic: str | None = None


# The typeface roles of official documents (GB/T 9704-2012 7.3): 正文 仿宋, 标题 小标宋, 一级标题 黑体,
# 二级标题 楷体.  A font set plays a role; a theme (or a spec) names the licensed fonts of each role.
FontRole = Literal["fangsong", "xiaobiaosong", "heiti", "kaiti"]
FONT_ROLES: tuple[str, ...] = get_args(FontRole)


class FontSet(_M):
    """Per-script fallback chains: the first family that covers a character sets it."""

    latin: list[FamilySpec] = Field(min_length=1)
    cjk: list[FamilySpec] = Field(min_length=1)
    role: FontRole | None = Field(None, description="the typeface role this set plays: the fonts of "
                                  "fonts.roles.<role> come first in its cjk chain")


class Fonts(_M):
    body: FontSet
    heading: FontSet | None = None
    mono: FamilySpec | None = None
    extra: dict[str, FontSet] = Field(default_factory=dict, description="more named font sets, for a style's "
                                      "font: (e.g. the 楷体 and 小标宋 of official documents)")
    roles: dict[FontRole, list[str | FamilySpec]] = Field(
        default_factory=dict, description="licensed fonts per typeface role, a fallback chain each: font files "
        "(a bundled name, a path inside the layout's or spec's folder, or a file in a system font folder such as "
        "/usr/share/fonts, ~/Library/Fonts or C:\\Windows\\Fonts). An entry not installed on this machine is "
        "skipped with a warning, so one spec serves several systems; the set's own cjk chain follows")
    system_fallback: bool = Field(True, description="search every installed font, by coverage, for characters no "
                                  "theme font covers")


# ---- where a theme's font paths may point ----------------------------------------------------------------
# A font path is a bundled font's name, a path inside the theme's root (the layout's folder, or the spec's
# for a spec's overrides), or a file in one of these system font folders: nothing else is opened, so a spec
# cannot probe or embed arbitrary files.  DOCGEN_FONT_DIRS (os.pathsep-separated) adds folders.
def system_font_dirs() -> list[Path]:
    """This machine's font folders (Linux, macOS and, on Windows, the system's and the user's) and those
    named in ``DOCGEN_FONT_DIRS``."""
    home = Path.home()
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".fonts",
            home / ".local" / "share" / "fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts"),
            home / "Library" / "Fonts"]
    if os.name == "nt":
        dirs = [Path(str(d)) for d in windows_font_dirs(os.environ)]
    extra = [Path(p).expanduser() for p in os.environ.get("DOCGEN_FONT_DIRS", "").split(os.pathsep) if p]
    return extra + dirs


def windows_font_dirs(env) -> list[PureWindowsPath]:
    """C:\\Windows\\Fonts (``%WINDIR%``) and ``%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts``, the folder
    fonts installed for one user go to; without the variables, their usual places."""
    windir = PureWindowsPath(env.get("WINDIR") or env.get("SystemRoot") or "C:\\Windows")
    dirs = [windir / "Fonts"]
    local = env.get("LOCALAPPDATA")
    if local:
        dirs.append(PureWindowsPath(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|%[A-Za-z_]+%[\\/])")


def is_windows_path(name: str) -> bool:
    """Whether ``name`` is written as an absolute Windows path (``C:\\…``, ``\\\\server\\…``,
    ``%LOCALAPPDATA%\\…``), whatever system reads it."""
    return bool(_WINDOWS_ABS.match(name))


def in_windows_font_dir(name: str, env=None) -> bool:
    """Whether the Windows path ``name`` names a file inside a Windows font folder: C:\\Windows\\Fonts or
    a user's ``…\\AppData\\Local\\Microsoft\\Windows\\Fonts`` (``%LOCALAPPDATA%`` and ``%WINDIR%`` are
    expanded).  Compared as Windows does — case-insensitively, ``/`` and ``\\`` alike — and a ``..``
    anywhere is refused.  Pure path logic, so it answers the same on every system."""
    env = os.environ if env is None else env
    name = re.sub(r"(?i)%LOCALAPPDATA%", lambda m: env.get("LOCALAPPDATA") or "C:\\Users\\_\\AppData\\Local", name)
    name = re.sub(r"(?i)%(WINDIR|SYSTEMROOT)%", lambda m: env.get("WINDIR") or "C:\\Windows", name)
    p = PureWindowsPath(name)
    if ".." in p.parts or not p.is_absolute():
        return False
    parts = [x.lower() for x in p.parts]
    if len(parts) > 8 and parts[1] == "users" and parts[3:8] == ["appdata", "local", "microsoft", "windows", "fonts"]:
        return True
    return any(_inside(p, d) for d in windows_font_dirs(env))


def _inside(p: PurePath, d: PurePath) -> bool:
    return p != d and p.is_relative_to(d)


def in_system_font_dir(path: Path) -> bool:
    """Whether the absolute ``path`` (symlinks resolved by the caller) lies in a system font folder."""
    return any(_inside(path, d.resolve()) for d in system_font_dirs())


def font_path_problem(name: str) -> str | None:
    """Why a theme's absolute font path ``name`` is refused, or None when it names a system font folder."""
    if is_windows_path(name) and os.name != "nt":
        if in_windows_font_dir(name):
            return None
        return "a Windows font path must be in C:\\Windows\\Fonts or %LOCALAPPDATA%\\Microsoft\\Windows\\Fonts"
    p = Path(ntpath.expandvars(name) if os.name == "nt" else name).expanduser().resolve()
    if in_system_font_dir(p):
        return None
    return ("an absolute font path must be in a system font folder (" +
            ", ".join(str(d) for d in system_font_dirs()) + ")")


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
    # CLREQ 3.1.6: a full-width mark at a justified line's end is set in half width (its ink at the edge)
    line_end_compression: bool = True
    grid: bool = False                   # character grid (fixed pitch)
    balance: bool = Field(False, description="display text (titles, covers): broken into balanced lines at "
                          "word boundaries, never 7 + 2 characters")

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


class Captions(_M):
    """Where captions go (the Chinese convention: 表题在表上, 图题在图下)."""

    table: Literal["above", "below"] = "above"
    figure: Literal["above", "below"] = "below"


class Theme(_M):
    """A layout's theme.yaml."""

    name: str = ""
    description: str = ""
    editions: list[Literal["parallel", "stacked", "zh", "en"]] | None = Field(
        None, description="the editions this layout typesets (default: all); another is refused with this list")
    paper: Paper = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    page_templates: dict[str, PageTemplate] = Field(default_factory=lambda: {"body": PageTemplate()})
    fonts: Fonts
    colors: Colors = Field(default_factory=lambda: {"text": "#1a1a1a"})
    styles: dict[str, Style]
    header: dict[str, Running] = Field(default_factory=dict, description="per edition: zh, en, parallel, stacked, *")
    footer: dict[str, Running] = Field(default_factory=dict)
    folio: Folio | None = Field(None, description="page number below the type area, outside header/footer")
    stacked_secondary: str = Field("muted", description="colour of the second language in stacked mode")
    parallel_gap: float = 8.0            # mm between the zh and en columns
    region_label: bool = False           # visible "AI 生成 · AI-generated" label under generated regions
    toc_depth: int = 2
    captions: Captions = Field(default_factory=Captions, description="caption above or below tables, figures")

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


# ---- the overrides: a deep partial of Theme, generated from the models above ---------------------------
class _Partial(_M):
    """An override: only the fields given are set, and only those are dumped (an unset field overrides
    nothing, so ``model_dump()`` gives back exactly what the spec said)."""

    @model_serializer(mode="wrap")
    def _given_only(self, handler):
        if not isinstance(self, _Partial):
            return None          # an unset field's None, passed through here and then dropped by its parent
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set}


def _no_default(schema: dict) -> None:
    schema.pop("default", None)          # "not given" is not a value a spec can write


_PARTIALS: dict[type, type[_Partial]] = {}


def _partial_type(tp):
    """The override type of a field type: models and mapping values become partial (the merge merges
    them key by key); a list replaces the layout's whole list, so its items stay complete."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return partial(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return Union[tuple(_partial_type(a) for a in get_args(tp))]
    if origin is dict:
        key, value = get_args(tp)
        return dict[key, _partial_type(value)]
    return tp


def partial(model: type[BaseModel], doc: str | None = None) -> type[_Partial]:
    """``model`` with every field optional and unset by default, nested models partial too.  Field
    constraints and checks (ranges, paper names, colour syntax) carry over; the whole-theme checks
    (colour and font references) run after the merge, on the full Theme."""
    if model not in _PARTIALS:
        fields = {}
        for name, f in model.model_fields.items():
            tp = _partial_type(f.annotation)
            if f.metadata:
                tp = Annotated[(tp, *f.metadata)]
            fields[name] = (tp, Field(None, description=f.description, json_schema_extra=_no_default))
        _PARTIALS[model] = create_model(f"{model.__name__}Override", __base__=_Partial,
                                        __doc__=doc or f"Overrides of {model.__name__}: every field optional.",
                                        __module__=__name__, **fields)
    return _PARTIALS[model]


ThemeOverrides = partial(Theme, "Overrides of the layout's theme.yaml: any part of it, nested; unknown keys are errors.")

__all__ = ["FONT_ROLES", "PAPER_MM", "FamilySpec", "Folio", "FontRole", "FontSet", "Fonts",
           "Grid", "Margins", "PageTemplate", "Running",
           "Style", "Theme", "ThemeOverrides", "partial"]
