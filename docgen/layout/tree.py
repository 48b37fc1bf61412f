"""The layout tree: what a layout template's markup means, as plain dataclasses.

Input: the markup the template wrote (parsed by :mod:`docgen.layout.markup`).  Output for the typesetter:
a flat list of blocks, each holding its text per language as inline spans.  ``"*"`` as a language key
means text shared by every language (a plain string in the spec).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..spec.inline import Span

Texts = dict[str, list[Span]]          # language ("zh", "en" or "*") -> spans


def plain_of(texts: Texts, lang: str) -> str:
    spans = texts.get(lang) or texts.get("*") or []
    return "".join(s.text for s in spans)


@dataclass
class Para:
    texts: Texts
    style: str = "body"


@dataclass
class Heading:
    texts: Texts
    level: int = 1
    toc: bool = True
    style: str = ""                    # default h{level}


@dataclass
class ListNode:
    items: list[Texts]
    ordered: bool = False
    style: str = "list"


@dataclass
class Figure:
    """A picture: an image file, or a generated region (``region`` = the spec path of its generate block)."""

    src: str | None = None             # asset path (image)
    region: str | None = None          # region id (generate)
    width: float = 1.0                 # fraction of the frame width
    height: float | None = None        # mm; None = from the picture's aspect
    caption: Texts = field(default_factory=dict)
    style: str = "caption"
    full_bleed: bool = False


@dataclass
class TableNode:
    header: list[Texts]
    rows: list[list[Texts]]
    caption: Texts = field(default_factory=dict)
    widths: list[float] | None = None
    align: list[str] | None = None
    style: str = "table"


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
    children, handed to the typesetter's extension registered for the tag."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    texts: Texts = field(default_factory=dict)
    children: list["Element"] = field(default_factory=list)


@dataclass
class LayoutTree:
    blocks: list = field(default_factory=list)
    first_template: str = "body"
    languages: tuple[str, ...] = ("zh", "en")   # languages shown, in order
    mode: str = "stacked"              # parallel | stacked | zh | en
