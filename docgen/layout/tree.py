"""The layout tree: what a layout template's markup means, as plain dataclasses.

Input: the markup the template wrote (parsed by :mod:`docgen.layout.markup`).  Output for the typesetter:
a flat list of blocks, each holding its text per language as inline spans.  ``"*"`` as a language key
means text shared by every language (a plain string in the spec).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Sequence

from ..spec.inline import Span, parse

Texts = dict[str, list[Span]]          # language ("zh", "en" or "*") -> spans


def _any_cjk(text: str) -> bool:
    """Whether ``text`` has a character from the CJK blocks on (U+2E80 and up): its largest one tells
    (a regular expression for the range takes ~5 ms to compile, more than a process's calls cost)."""
    return bool(text) and max(text) >= "\u2e80"


_CJK_WORD = None


def _cjk_words(text: str) -> int:
    """Han characters (and kana, hangul) in ``text``: each counts as a word, Chinese words being one to two
    characters long.  The class over these blocks is compiled at the first text that needs counting (~3 ms:
    a render whose shared texts are all ASCII or all one script never pays it)."""
    global _CJK_WORD
    if _CJK_WORD is None:
        _CJK_WORD = re.compile("[\u2e80-\u2fdf\u3040-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
                               "\uf900-\ufaff\U00020000-\U0003ffff]")
    return len(_CJK_WORD.findall(text))


_LATIN_WORD = re.compile("[A-Za-z\u00c0-\u024f]+")


def plain_language(text: str, languages: Sequence[str]) -> str:
    """The language a plain string (text shared by every language, ``"*"``) is set in, ``zh`` or ``en``.

    The document's languages decide first: in an English document a string is English (a Han name in it
    stays in its sentence) unless it holds no Latin word at all; in a Chinese one it is Chinese unless it
    holds no CJK character.  With both languages the majority script decides: Latin words against CJK
    characters (a Chinese sentence naming one English product is Chinese, and the other way round); a
    tie goes to the first language."""
    if text.isascii():                  # no CJK character: English whatever the languages (the rules below)
        return "en"
    langs = tuple(languages)
    if langs == ("en",):
        return "zh" if not _LATIN_WORD.search(text) and _cjk_words(text) else "en"
    if langs == ("zh",) or not _any_cjk(text):
        return "zh" if _any_cjk(text) else "en"
    cjk, latin = _cjk_words(text), len(_LATIN_WORD.findall(text))
    if cjk == latin:
        return langs[0] if langs[0] in ("zh", "en") else "zh"
    return "zh" if cjk > latin else "en"


def plain_of(texts: Texts, lang: str) -> str:
    spans = texts.get(lang) or texts.get("*") or []
    return "".join(s.text for s in spans)


@dataclass
class Para:
    texts: Texts
    style: str = "body"
    once: bool = False                 # text the same in every language set once, not in each column
    ref: str = ""                      # the block's id (field path), when the markup names it: for warnings


@dataclass
class Heading:
    texts: Texts
    level: int = 1
    toc: bool = True
    style: str = ""                    # default h{level}
    ref: str = ""


@dataclass
class ListNode:
    items: list[Texts]
    ordered: bool = False
    style: str = "list"
    ref: str = ""


@dataclass(frozen=True)
class PictureRequest:
    """What a generated picture must show: the spec's ``generate:`` request, resolved for one edition."""

    prompt: str
    seed: int = 0
    negative_prompt: str = ""
    text: tuple[tuple[str, str], ...] = ()   # (language, text) the picture must carry, edition's languages
    aspect: float = 16 / 9                   # width / height asked for (from aspect or size)
    size: tuple[int, int] | None = None      # pixels asked for
    language: str = "zh"                     # the document's primary language (prompt suffixes)


@dataclass
class Figure:
    """A picture: an image file, or a generated region (``region`` = the id of its generate request)."""

    src: str | None = None             # asset path (image)
    region: str | None = None          # region id (generate): the block's id, or "cover"
    request: PictureRequest | None = None   # for a region: what to generate
    frame_width: float = 0.0           # mm: width of the frame (or page, full bleed) the figure is set in
    width: float = 1.0                 # fraction of the frame width
    height: float | None = None        # mm; None = from the picture's aspect
    caption: Texts = field(default_factory=dict)
    style: str = "caption"
    full_bleed: bool = False
    alt: Texts = field(default_factory=dict)   # alternate description (the spec's alt:), for the Figure tag


@dataclass
class TableNode:
    header: list[Texts]
    rows: list[list[Texts]]
    caption: Texts = field(default_factory=dict)
    widths: list[float] | None = None
    align: list[str] | None = None
    style: str = "table"
    ref: str = ""


@dataclass
class PageBreak:
    template: str | None = None        # page template of the following pages


@dataclass
class Toc:
    title: Texts = field(default_factory=dict)
    style: str = "toc"


@dataclass
class Spacer:
    height: float                      # mm


@dataclass
class Element:
    """Any other markup element (charts, official-document parts …): its tag, attributes, text and
    children, handed to the typesetter's extension registered for the tag.  A ``<block ref=…>`` becomes
    an Element whose tag is the block's kind and whose ``data`` is the block's template mapping."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    texts: Texts = field(default_factory=dict)
    children: list["Element"] = field(default_factory=list)
    data: dict = field(default_factory=dict)


def texts_of(value) -> Texts:
    """A text value of a block's template mapping (a string, or ``{lang: text}``) as Texts."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"*": parse(value)}
    return {lg: parse(v) for lg, v in value.items()}


@dataclass(frozen=True)
class DocumentInfo:
    """The document's information as plain strings for one edition: PDF metadata and running heads."""

    title: str = ""
    author: str = ""
    subject: str = ""
    keywords: str = ""
    lang: str = "zh-CN"
    running_title: str = ""            # {title} in headers: the primary language's in single editions
    date: _dt.datetime | None = None   # creation date (meta.date, else SOURCE_DATE_EPOCH); None = fixed default
    document_id: str = ""              # uuid:… from the spec's content (XMP)


@dataclass
class LayoutTree:
    blocks: list = field(default_factory=list)
    first_template: str = "body"
    languages: tuple[str, ...] = ("zh", "en")   # languages shown, in order
    mode: str = "stacked"              # parallel | stacked | zh | en
    info: DocumentInfo = field(default_factory=DocumentInfo)

    def figures(self) -> list[tuple[Figure, str]]:
        """Every Figure with the page template it is set on, in order."""
        out, template = [], self.first_template
        for b in self.blocks:
            if isinstance(b, PageBreak) and b.template:
                template = b.template
            elif isinstance(b, Figure):
                out.append((b, template))
        return out
