"""Typesetting a document: a LayoutTree, its Theme and the regions' pictures in, PDF bytes out.

Pure: no files are read or written here except font files (through the font loader); images arrive
as bytes.  When the layout needs facts only known after pagination (the total page count in a folio,
page numbers in the table of contents) the document is laid out twice: the first pass only paginates
(line breaks are reused by the second), the second draws.

A tagged document (the default) also gives its logical structure: each block names its element as its
flowables are made (typeset/structure.py), the drawing records the marked content, and
:attr:`TypesetResult.structure` hands the records to docgen/pdf, which writes the structure tree.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate
from reportlab.platypus.doctemplate import ActionFlowable, NextPageTemplate
from reportlab.platypus.flowables import PageBreak, Spacer

from ..errors import LayoutError, RenderError
from ..layout import geometry
from ..layout import tree as T
from ..spec.inline import Span
from ..spec import limits
from ..spec.models import Format
from ..layout.theme import Theme
from . import extensions
from .flowables import BREAK_MEMO, Figure, KeepWithNext, Pair, TextBlock, TocEntry
from .breaker import break_lines, missing_chars
from .fonts import font_label
from .text import ParaFormat, Run
from .textobject import draw_line
from .styles import Styler, lang_of
from .structure import BCP47, Structure, artifact
from .table import TextTable


@dataclass
class Picture:
    """A picture for a Figure: PNG bytes, plus what to draw over it."""

    png: bytes
    aspect: float                        # width / height of the region as requested
    overlay: str = ""                   # vector text over the picture (OCR fallback)
    overlay_rgb: tuple = (1.0, 1.0, 1.0)   # its colour, chosen for contrast with the picture
    overlay_plate: bool = False         # the picture is too busy behind it: set the text on a plate
    ai_generated: bool = False


@dataclass
class TypesetResult:
    pdf: bytes
    pages: int
    warnings: list[str] = field(default_factory=list)
    headings: list[tuple[int, str, int]] = field(default_factory=list)   # (level, text, page)
    structure: list[dict] | None = None      # a tagged document's elements (typeset/structure.py)


class _Doc(BaseDocTemplate):
    def __init__(self, buf, **kw):
        self.dry = False
        self.heading_pages: dict[str, int] = {}
        self.sections: list[tuple[int, bool, str]] = []   # level-1 headings: (page, first on it, title)
        self.page_content = 0                        # flowables with content drawn on the current page
        self.outline_level = -1
        self.blank_pages: set[int] = set()           # pages that ended with nothing on them
        self.unnumbered_pages: set[int] = set()      # pages a flowable asked to go without a folio
        self.structure: Structure | None = None      # what the drawing records, in a tagged document
        super().__init__(buf, **kw)
        # a heading keeps with the first lines of what follows, not all of it (flowables.KeepWithNext)
        self.keepTogetherClass = KeepWithNext.chain

    glyph_order: list = []                       # (ReportLab font, characters): codes assigned first, in this order

    def beforeDocument(self):
        # a CJK face's subsets fill in order of first use: its most used characters first, so that most text
        # is in its first subset or two (fewer font switches inside a line, smaller pages)
        for font, chars in self.glyph_order:
            font.splitString(chars, self.canv._doc)

    def beforePage(self):
        self.page_content = 0

    def afterFlowable(self, flowable):
        if not isinstance(flowable, (ActionFlowable, PageBreak, Spacer)):
            self.page_content += 1

    max_pages = limits.PAGES
    over_page_limit = False

    def handle_pageBegin(self):
        if self.page >= self.max_pages:        # bounded work: a runaway document stops here, not at the end
            self.over_page_limit = True        # (ReportLab rewrites the message of what is raised here)
            raise RenderError("page limit")
        super().handle_pageBegin()


def _fmt_running(text: str, values: dict) -> str:
    """A header/footer pattern with its placeholders filled."""
    out = []
    pos = 0
    for m in re.finditer(r"\{(title|section|page|pages)\}", text):
        if m.start() > pos:
            out.append(text[pos:m.start()])
        out.append(str(values.get(m.group(1), "")))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_BELOW_CJK = re.compile("[\x00-\u2e7f]+")   # what is not counted for a CJK face's subsets

_TOC_TITLE_MAX = 160          # characters of a heading shown in the contents (a few lines at most)

_KINDS = {"TextBlock": "a paragraph", "TocEntry": "a table of contents entry (a heading)", "Table": "a table row",
          "Image": "a picture", "Figure": "a picture",
          "TextTable": "a table's header row (it repeats on every page)"}


def _too_large(msg: str) -> str:
    """ReportLab's "Flowable <TextBlock at 0x…>(w x h) too large on page 3 in frame …" in a reader's words."""
    m = re.search(r"<(\w+)[^>]*>.*?\(([\d.]+) x ([\d.]+)\) too large on page (\d+).*?\(([\d.]+) x "
                  r"([\d.]+)", msg, re.S)
    if not m:
        return "content does not fit the page: a block is taller than the page's text area; shorten or split it"
    kind, h, page, fh = _KINDS.get(m.group(1), "a block"), float(m.group(3)), m.group(4), float(m.group(6))
    return (f"content does not fit the page: {kind} {h / 72 * 25.4:.0f} mm tall does not fit the "
            f"{fh / 72 * 25.4:.0f} mm text area (page {page}); shorten or split it")


class Typesetter:
    """A layout tree, its theme and the pictures in; :meth:`build` gives the PDF.

    Extension factories (typeset/extensions.py) receive the Typesetter and use only its public surface,
    listed there: the methods below without a leading underscore and the attributes set in ``__init__``
    without one."""

    max_pages = limits.PAGES          # the page limit (docgen.spec.limits): a RenderError at the first page over

    def __init__(self, tree: T.LayoutTree, theme: Theme, layout_dir, pictures: dict[str, Picture],
                 meta: dict, *, format_value: Callable[[Any, Format | None, str], str], tagged: bool = True):
        self.tree = tree
        self.tagged = tagged                           # record the logical structure (PDF/UA)
        self.structure: Structure | None = None        # this pass's, while flowables are made
        self.theme = theme
        self.layout_dir = layout_dir                   # fonts named relative to the layout folder
        self.sty = Styler(theme, layout_dir)
        self.pictures = pictures
        self.meta = meta                               # title per language, etc.
        # numbers as the spec formats them (value, Format, lang) -> text: handed in by the caller, so that
        # typesetting does not import the data stage
        self.format_value = format_value
        self.warnings: list[str] = list(self.sty.notes)     # e.g. a role's licensed font not installed here
        self.where = ""                                # the field path of the block being made, for warnings
        self.langs = tree.languages
        self.mode = tree.mode
        self.gap = theme.parallel_gap * mm
        self._missing: set[str] = set()
        self._substituted: set[tuple] = set()           # (character, font stack) warned about
        self._texts: dict[tuple, list[str]] = {}         # (font stack, bold, italic, mono) -> the text set in it
        self.headings: list[tuple[int, str, str]] = []   # (level, text, key)
        self.page_w, self.page_h = (v * mm for v in theme.page_size_mm())
        # line breaks by (runs, width, format), shared by every render of the process (see BREAK_MEMO)
        self._breaks = BREAK_MEMO
        self._state: dict[str, Any] = {}               # extensions' per-pass state (see state())

    # -- runs ------------------------------------------------------------------------------------------
    def runs(self, spans: list[Span], style_name: str, *, color=None, scale=1.0) -> list[Run]:
        """The runs of ``spans`` in the theme style ``style_name`` (``color``: a theme colour name or hex,
        ``scale``: of the style's size); characters no font covers become warnings."""
        st = self.sty.style(style_name)
        runs = self.sty.runs(spans, self.sty.text_style(st, color, scale))
        self.note_missing(runs, spans)
        texts = self._texts
        for r in runs:
            ts = r.style
            key = (ts.fonts, ts.bold, ts.italic, ts.mono)
            got = texts.get(key)
            if got is None:
                got = texts[key] = []
            got.append(r.text)
        return runs

    def _glyph_order(self) -> list[tuple[Any, str]]:
        """Per ReportLab font, the CJK characters (U+2E80 on) of the story's text that it draws in any
        language, most used first (ties in code point order): what ``_Doc.beforeDocument`` gives codes."""
        counts: dict[Any, Counter] = {}
        for (fonts, bold, italic, mono), texts in self._texts.items():
            for ch, n in Counter(_BELOW_CJK.sub("", "".join(texts))).items():
                face = fonts.face_for(ch, bold, italic, mono, "zh")
                if face is None or face is not fonts.face_for(ch, bold, italic, mono, "en"):
                    continue
                got = counts.get(face.reportlab_font)
                if got is None:
                    got = counts[face.reportlab_font] = Counter()
                got[ch] += n
        return [(font, "".join(sorted(c, key=lambda ch: (-c[ch], ch)))) for font, c in counts.items()]

    def note_missing(self, runs: list[Run], spans: list[Span]) -> None:
        """Warn once per document about each character of ``runs`` that no font covers, and each that a
        font outside the style's font set draws (found by coverage), naming that font, the block's field
        path and the character's position in the field (``spans``: the source text, quoted)."""
        # the usual case: every character was seen before in this font set and style, neither missing nor drawn
        # by a substitute (a set of those per set and style, kept with the set's other look-ups)
        fine = None
        for r in runs:
            st = r.style
            fine = st.fonts._cache.get(("fine", st.bold, st.italic, st.mono))
            if fine is None or not fine.issuperset(r.text):
                break
        else:
            return
        where = self.where
        for ch in missing_chars(runs):
            if ch not in self._missing:
                self._missing.add(ch)
                text = "".join(r.text for r in runs)
                quote = repr("".join(s.text for s in spans)[:30])
                at = f"{where}, character {text.index(ch)} ({quote})" if where else quote
                self.warnings.append(f"no font covers {ch!r} (U+{ord(ch):04X}) in {at}")
        pos = 0
        for r in runs:
            st = r.style
            for ch, face, primary in st.fonts.substitutions(r.text, st.bold, st.italic, st.mono):
                key = (ch, st.fonts)
                if key not in self._substituted:
                    self._substituted.add(key)
                    i = pos + r.text.index(ch)
                    at = f"{where}, character {i}" if where else f"{''.join(s.text for s in spans)[:30]!r}"
                    self.warnings.append(
                        f"{ch!r} (U+{ord(ch):04X}) in {at}: not in "
                        f"{font_label(primary) if primary else 'the font set'}; drawn in {font_label(face)}")
            pos += len(r.text)
        for r in runs:
            st = r.style
            if missing_chars([r]) or st.fonts.substitutions(r.text, st.bold, st.italic, st.mono):
                continue                            # a run with a character to warn about: not all fine
            st.fonts._cache.setdefault(("fine", st.bold, st.italic, st.mono), set()).update(r.text)

    def state(self, key: str, factory: Callable[[], Any]) -> Any:
        """An extension's state for the current layout pass: ``factory()`` the first time ``key`` is asked
        for in a pass (a two-pass document starts over in the second), the same object afterwards."""
        got = self._state.get(key)
        if got is None:
            got = self._state[key] = factory()
        return got

    def element(self, role: str, parent: int | None = 0, **attrs) -> int | None:
        """A structure element for content about to be made (None in an untagged document): ``role`` a
        standard structure type (P, H1, LI, TD…), ``parent`` its parent element (0: the Document),
        ``attrs`` its lang, alt, scope.  Extensions tag their text by passing it to :meth:`block`."""
        if self.structure is None:
            return None
        return self.structure.element(role, parent or 0, **attrs)

    def block(self, spans, lang, style_name, *, color=None, scale=1.0, keep=None, space_before=None,
               space_after=None, align=None, indent=True, on_draw=None, label=None, left=0.0,
               bullet=None, role="P", parent=None, tag=None) -> TextBlock:
        """A paragraph of ``spans`` in language ``lang`` and theme style ``style_name``; the keywords
        override the style (``keep``: keep with next; ``indent``: first-line indent; ``on_draw(canvas,
        block)``: called when it is drawn; ``label``/``left``/``bullet``: a list item's marker; ``role``,
        ``parent``: its structure element's type and parent element; ``tag``: an element made already)."""
        st = self.sty.style(style_name)
        lg = lang_of(lang, spans, self.langs)
        label_tag = None
        if self.structure is not None and tag is None:
            if role == "LI":               # a list item: LI holding Lbl (when there is a label) and LBody
                li = self.structure.element("LI", parent or 0, lang=BCP47[lg])
                label_tag = self.structure.element("Lbl", li) if label else None
                tag = self.structure.element("LBody", li)
            else:
                tag = self.structure.element(role, parent or 0, lang=BCP47[lg])
        return TextBlock(
            self.runs(spans, style_name, color=color, scale=scale),
            self.sty.para_format(st, lg, align=align, indent=indent),
            size=st.size * scale, leading=st.leading_pt() * scale,
            space_before=st.space_before if space_before is None else space_before,
            space_after=st.space_after if space_after is None else space_after,
            keep_with_next=st.keep_with_next if keep is None else keep, on_draw=on_draw,
            label_runs=label, left=left, bullet=bullet, memo=self._breaks, tag=tag, label_tag=label_tag)

    def languages_of(self, texts: T.Texts) -> list[tuple[str, list[Span]]]:
        """(language, spans) of ``texts`` in the edition's language order; ("*", spans) for text that is
        the same in every language."""
        if "*" in texts:
            return [("*", texts["*"])]
        return [(lg, texts[lg]) for lg in self.langs if lg in texts]

    def bilingual(self, texts: T.Texts, make) -> list:
        """Arrange one block's languages by the edition's mode; make(lang, spans, secondary) -> flowable."""
        items = self.languages_of(texts)
        if not items:
            return []
        if self.mode == "parallel":
            if len(items) == 1 and items[0][0] == "*":
                spans = items[0][1]
                return [Pair(make("zh", spans, False), make("en", spans, False), self.gap)]
            d = dict(items)
            left = make("zh", d["zh"], False) if "zh" in d else None
            right = make("en", d["en"], False) if "en" in d else None
            return [Pair(left, right, self.gap)]
        out = []
        for i, (lg, spans) in enumerate(items):
            out.append(make(lg, spans, i > 0))
        return out

    # -- blocks --------------------------------------------------------------------------------------------
    def flowables(self) -> list:
        story: list = []
        sec_color = self.theme.stacked_secondary
        for b in self.tree.blocks:
            self.where = getattr(b, "ref", "")
            if isinstance(b, T.Para):
                # the second language of a stacked edition in the secondary colour; a style coloured on
                # purpose (white on a cover's colour) keeps its colour
                sec = sec_color if self.sty.style(b.style).color == "text" else None

                def mk(lg, spans, second, b=b, sec=sec):
                    return self.block(spans, lg, b.style, color=sec if second else None)
                if b.once and self.mode == "parallel" and list(b.texts) == ["*"]:
                    parts = [mk("*", b.texts["*"], False)]     # a byline, a date: once, across both columns
                else:
                    parts = self.bilingual(b.texts, mk)
                if self.mode == "stacked" and len(parts) == 2:
                    # the translation follows close, and its first lines never start a page alone
                    parts[0].spaceAfter = min(parts[0].spaceAfter, 3)
                    parts[0].keepWithNext = True
                story += parts
            elif isinstance(b, T.Heading):
                story += self._heading(b)
            elif isinstance(b, T.ListNode):
                story += self._list(b)
            elif isinstance(b, T.Figure):
                story += self._figure(b)
            elif isinstance(b, T.TableNode):
                story += self._table(b)
            elif isinstance(b, T.Toc):
                story += self._toc(b)
            elif isinstance(b, T.PageBreak):
                if b.template:
                    story.append(NextPageTemplate(b.template))
                story.append(PageBreak())
            elif isinstance(b, T.Spacer):
                story.append(Spacer(1, b.height * mm))
            elif isinstance(b, T.Element):
                self.where = b.attrs.get("ref", "")
                make = extensions.get(b.tag)
                if make is None:
                    raise LayoutError(f"unknown element <{b.tag}> in layout markup (known extensions: "
                                      f"{', '.join(sorted(extensions.names())) or 'none'})")
                story += make(self, b)
        # A keep-with-next at the end has nothing to keep with, and ReportLab (4.x–5.x) wraps a trailing
        # keepWithNext flowable taller than the frame in KeepTogether again on every try: a render that
        # never returns.  Drop the flag from the last flowables that carry content.
        for f in reversed(story):
            for part in (f, getattr(f, "left", None), getattr(f, "right", None)):   # a Pair's sides too:
                if part is not None and getattr(part, "keepWithNext", False):      # its split halves
                    part.keepWithNext = False                                      # take the flag from them
            if not isinstance(f, (PageBreak, NextPageTemplate, Spacer)):
                break
        return story

    def _heading(self, b: T.Heading) -> list:
        style = b.style or f"h{b.level}"
        key = f"h{len(self.headings)}"
        items = self.languages_of(b.texts)
        title = " · ".join("".join(s.text for s in sp) for _, sp in items)
        self.headings.append((b.level, title, key))

        def mark(canv, blk, key=key, title=title, level=b.level):
            doc = canv._doctemplate
            page = canv.getPageNumber()
            if key not in doc.heading_pages:
                doc.heading_pages[key] = page
                if level == 1:
                    doc.sections.append((page, doc.page_content == 0, title))
                if not doc.dry:
                    canv.bookmarkPage(key)
                    lvl = min(level - 1, doc.outline_level + 1)
                    doc.outline_level = lvl
                    canv.addOutlineEntry(title, key, level=lvl, closed=False)

        first = [True]

        def mk(lg, spans, second):
            on = mark if first[0] else None
            first[0] = False
            role = f"H{min(b.level, 6)}"
            if second and self.mode == "stacked":
                return self.block(spans, lg, style, color=self.theme.stacked_secondary, scale=0.8,
                                   space_before=0, keep=True, on_draw=on, role=role)
            return self.block(spans, lg, style, on_draw=on, role=role,
                               keep=True, space_after=2 if self.mode == "stacked" and len(items) > 1 else None)

        return self.bilingual(b.texts, mk)

    def _list(self, b: T.ListNode) -> list:
        out = []
        st = self.sty.style(b.style)
        lst = self.element("L", numbering="Decimal" if b.ordered else "Disc")
        for i, it in enumerate(b.items, 1):
            if b.ref:
                self.where = f"{b.ref} item {i}"          # the block's field path and the item, for warnings
            def mk(lg, spans, second, i=i):
                lab = self.runs([Span(f"{i}.")], b.style) if b.ordered else None
                return self.block(spans, lg, b.style, color=self.theme.stacked_secondary if second else None,
                                   indent=False, label=lab, left=st.size * (2.0 if b.ordered else 1.4),
                                   bullet=None if b.ordered else self.theme.color("accent"),
                                   align="left" if lang_of(lg, spans, self.langs) == "en" else None, role="LI",
                                   parent=lst)
            parts = self.bilingual(it, mk)
            if self.mode == "stacked" and len(parts) == 2:
                parts[0].keepWithNext = True               # an item's translation never starts a page alone
            out += parts
        if out:
            out[-1].spaceAfter = max(out[-1].spaceAfter, self.sty.style("body").space_after)
        return out

    def caption(self, texts: T.Texts, style: str, parent: int | None = None, *, keep: bool = False) -> list:
        """One unindented block per language of ``texts`` in theme style ``style`` (tagged as a Caption of
        ``parent``, or of the Document); ``keep``: kept with what follows (a caption above its table)."""
        out = []
        items = self.languages_of(texts)
        for i, (lg, spans) in enumerate(items):
            # a stacked caption's first language keeps with its second
            out.append(self.block(spans, lg, style, indent=False, role="Caption", parent=parent,
                                  keep=True if keep or i < len(items) - 1 else None))
        return out

    def alt_text(self, b: T.Figure) -> str:
        """A figure's alternate description: its ``alt:`` in the edition's languages; for a generated
        picture without one, the text it carries or a description from its prompt; else its caption."""
        parts = ["".join(s.text for s in spans) for _, spans in self.languages_of(b.alt)]
        if not any(parts) and b.request is not None:
            parts = [t for _, t in b.request.text] or [b.request.prompt[:200]]
        if not any(parts):
            parts = ["".join(s.text for s in spans) for _, spans in self.languages_of(b.caption)]
        return " / ".join(p.strip() for p in parts if p.strip()) or (self.meta.get("title") or "picture")

    def _frame_height(self) -> float:
        return geometry.min_frame_height(self.theme) * mm * 0.96

    def _figure(self, b: T.Figure) -> list:
        key = b.region or b.src or ""
        pic = self.pictures.get(key)
        if pic is None:
            raise RenderError(f"layout asks for a picture {key!r} that the spec does not provide")
        overlay = None
        if pic.overlay:
            ts = self.sty.text_style(self.sty.style("title"), None)
            size = max(14.0, min(ts.size, 40.0))
            from .text import TextStyle
            overlay = [Run(pic.overlay, TextStyle(fonts=ts.fonts, size=size, color=pic.overlay_rgb, bold=True))]
        label = None
        if pic.ai_generated and self.theme.region_label:
            label = self.runs([Span("AI 生成 · AI-generated")], "caption", color="#ffffff", scale=0.85)
        # the caption is the figure's sibling (a reader gives a Figure's Alt instead of its content), before
        # or after it in reading order as it is on the page
        above = self.theme.captions.figure == "above"
        caption = self.caption(b.caption, b.style) if above else []
        tag = self.element("Figure", alt=self.alt_text(b))
        caption = caption if above else self.caption(b.caption, b.style)
        fig = Figure(pic.png, None, b.height * mm if b.height else None, pic.aspect, b.width,
                     caption=caption, overlay=overlay, label=label, tag=tag, caption_above=above,
                     overlay_plate=pic.overlay_plate,
                     full_bleed=b.full_bleed, max_h=self._frame_height(),
                     space_after=self.sty.style(b.style).space_after)
        return [fig]

    def _table(self, b: T.TableNode) -> list:
        table = self.element("Table")
        if self.theme.captions.table == "above":      # the Chinese convention: 表题在表上, kept with the table
            caption = self.caption(b.caption, "caption", parent=table, keep=True)
            return caption + [_TableBox(self, b, table)]
        return [_TableBox(self, b, table)] + self.caption(b.caption, "caption", parent=table)

    def _toc(self, b: T.Toc) -> list:
        out = []
        toc = self.element("TOC")
        for lg, spans in self.languages_of(b.title)[:1] if self.mode != "stacked" else self.languages_of(b.title):
            out.append(self.block(spans, lg, "toc-title", indent=False, role="Caption", parent=toc,
                                   space_after=self.sty.style("toc-title").space_after))
        if self.mode == "parallel" and len(self.languages_of(b.title)) > 1:
            out = [self.block(sum((sp + [Span(" · ")] for _, sp in self.languages_of(b.title)), [])[:-1],
                               "zh", "toc-title", indent=False, role="Caption", parent=toc)]
        st = self.sty.style(b.style)
        depth = self.theme.toc_depth
        for level, title, key in self._toc_headings():
            if level > depth:
                continue
            if len(title) > _TOC_TITLE_MAX:      # a contents line points at the heading; it need not hold it all
                title = title[:_TOC_TITLE_MAX - 1].rstrip() + "…"
            runs = self.runs([Span(title)], b.style)
            fmt = ParaFormat(align="left", lang="zh")
            def number_runs(s: str, n: str = b.style) -> list[Run]:
                return self.runs([Span(s)], n)
            out.append(TocEntry(runs, fmt, key, level, st.leading_pt(), st.size,
                                page_of=self._page_of, number_runs=number_runs,
                                tag=self.element("TOCI", toc, lang=BCP47[lang_of("*", [Span(title)], self.langs)])))
        return out

    def _toc_headings(self):
        # headings are known before pagination: collect them from the tree in order
        out = []
        k = 0
        for b in self.tree.blocks:
            if isinstance(b, T.Heading):
                items = self.languages_of(b.texts)
                title = " · ".join("".join(s.text for s in sp) for _, sp in items)
                if b.toc:
                    out.append((b.level, title, f"h{k}"))
                k += 1
        return out

    def _page_of(self, key):
        return self._pages_known.get(key)

    # -- pages ---------------------------------------------------------------------------------------------
    def _templates(self, doc: _Doc) -> list[PageTemplate]:
        out = []
        for name, pt in self.theme.page_templates.items():
            frames = [Frame(f.x * mm, f.y * mm, f.width * mm, f.height * mm, leftPadding=0, rightPadding=0,
                            topPadding=0, bottomPadding=0, id=f"{name}{i}")
                      for i, f in enumerate(geometry.frames(self.theme, pt, self.mode))]
            out.append(PageTemplate(id=name, frames=frames, pagesize=(self.page_w, self.page_h),
                                    onPageEnd=lambda c, d, pt=pt: self._running(c, d, pt),
                                    onPage=lambda c, d, pt=pt: self._background(c, d, pt)))
        return out

    def _background(self, canv, doc, pt):
        canv._docgen_structure = doc.structure          # what this page's drawing records into
        if pt.background and not doc.dry:
            with artifact(canv, "Background"):
                canv.saveState()
                canv.setFillColorRGB(*self.theme.color(pt.background))
                canv.rect(0, 0, self.page_w, self.page_h, stroke=0, fill=1)
                canv.restoreState()

    def _running(self, canv, doc, pt):
        if doc.dry:
            return
        with artifact(canv, "Pagination"):         # running heads, rules and folios are not the text
            self._running_parts(canv, doc, pt)

    def _running_parts(self, canv, doc, pt):
        page = canv.getPageNumber()
        edition = self.mode
        sec = self._section_at(page)
        values = {"title": self.meta.get("title", ""), "section": sec, "page": page,
                  "pages": self._pages_total or ""}
        area = geometry.type_area(self.theme, pt)
        x0, w = area.x * mm, area.width * mm
        for which, show in (("header", pt.header), ("footer", pt.footer)):
            r = self.theme.running(which, edition)
            if r is None or not show:
                continue
            st = self.sty.style(r.style)
            if which == "header":
                base = (area.y + area.height) * mm + r.offset * mm
            else:
                base = area.y * mm - r.offset * mm
            for align, pattern in (("left", r.left), ("center", r.center), ("right", r.right)):
                if not pattern:
                    continue
                text = _fmt_running(pattern, values)
                runs = self.runs([Span(text)], r.style)
                lines = break_lines(runs, w, ParaFormat(align=align, lang="zh"))
                if lines:
                    draw_line(canv, lines[0], x0, base)
            if r.rule:
                canv.saveState()
                canv.setStrokeColorRGB(*self.theme.color("rule"))
                canv.setLineWidth(0.4)
                y = base - st.size * 0.5 if which == "header" else base + st.leading_pt()
                canv.line(x0, y, x0 + w, y)
                canv.restoreState()
        if self.theme.folio is not None:
            self._folio(canv, doc, pt, values)

    def _folio(self, canv, doc, pt, values):
        """The page number below the type area; blank pages (and pages a flowable marked, such as an
        official document's 版记 page after a blank page) go unnumbered."""
        f = self.theme.folio
        page = values["page"]
        if doc.frame is not None and doc.frame._atTop:
            doc.blank_pages.add(page)
            if f.skip_blank:
                return
        if page in doc.unnumbered_pages:
            return
        st = self.sty.style(f.style)
        runs = self.runs([Span(_fmt_running(f.format, values))], f.style)
        # Latin rules keep the spaces of "— 1 —" (Chinese rules would collapse them)
        lines = break_lines(runs, self.page_w, ParaFormat(align="left", lang="en", hyphenate=False))
        if not lines:
            return
        line = lines[0]
        area = geometry.type_area(self.theme, pt)
        x0, w = area.x * mm, area.width * mm
        gap = f.indent_em * st.size
        side = {"outside": "right" if page % 2 else "left", "inside": "left" if page % 2 else "right"}.get(
            f.align, f.align)
        x = {"left": x0 + gap, "right": x0 + w - gap - line.width,
             "center": x0 + (w - line.width) / 2}[side]
        # the number's top (its em box, as PDF readers measure it) sits offset mm below the type area
        face = line.pieces[0].face
        top = area.y * mm - f.offset * mm
        draw_line(canv, line, x, top - st.size + face.descent * st.size)

    def _section_at(self, page: int) -> str:
        """The section a page's running head names: the one its text at the top belongs to — a level-1
        heading that starts the page, else the section in force from an earlier page (a page that ends
        one section and opens the next is still the first's); before any section, the first the page
        opens."""
        best = ""
        for p, first, title in self._sections:
            if p < page or (p == page and first):
                best = title
            elif p == page and not best:
                return title
            elif p > page:
                break
        return best

    # -- build ---------------------------------------------------------------------------------------------
    def _needs_two_passes(self) -> bool:
        if any(isinstance(b, T.Toc) for b in self.tree.blocks):
            return True
        if self.theme.folio is not None and "{pages}" in self.theme.folio.format:
            return True
        for table in (self.theme.header, self.theme.footer):
            for r in table.values():
                if any("{pages}" in s or "{section}" in s for s in (r.left, r.center, r.right)):
                    return True
        return False

    def _build_once(self, dry: bool, meta_pdf: dict) -> tuple[bytes, _Doc]:
        buf = io.BytesIO()
        doc = _Doc(buf, pagesize=(self.page_w, self.page_h), invariant=1, title=meta_pdf.get("title", ""),
                   author=meta_pdf.get("author", ""), subject=meta_pdf.get("subject", ""),
                   keywords=meta_pdf.get("keywords", ""), creator="docgen",
                   initialFontName=self.sty.stacks["body"].latin[0].regular.name)
        doc.dry = dry
        doc.max_pages = self.max_pages
        templates = self._templates(doc)
        first = self.tree.first_template
        names = [t.id for t in templates]
        if first not in names:
            raise RenderError(f"the template starts on page template {first!r}; the theme has {names}")
        templates.sort(key=lambda t: t.id != first)
        doc.addPageTemplates(templates)
        self.headings = []
        self._state = {}
        self.structure = doc.structure = Structure() if self.tagged and not dry else None
        self._texts = {}
        story = self.flowables()
        doc.glyph_order = self._glyph_order()
        try:
            doc.build(story)
        except Exception as e:   # ReportLab's LayoutError and friends: content that cannot be placed
            if type(e).__name__ == "LayoutError":
                raise RenderError(_too_large(str(e))) from None
            if doc.over_page_limit:
                raise RenderError(f"the document runs past {doc.max_pages:,} pages, the page limit "
                                  "(docgen.Limits(pages=…), --max-pages)") from None
            raise
        return buf.getvalue(), doc

    def build(self, meta_pdf: dict) -> TypesetResult:
        self._pages_known: dict[str, int] = {}
        self._sections: list[tuple[int, bool, str]] = []
        self._pages_total = None
        if self._needs_two_passes():
            _, d1 = self._build_once(True, meta_pdf)
            self._pages_known = dict(d1.heading_pages)
            self._sections = list(d1.sections)
            self._pages_total = d1.page
        pdf, d2 = self._build_once(False, meta_pdf)
        pages = {k: v for k, v in d2.heading_pages.items()}
        heads = [(lvl, title, pages.get(key, 0)) for lvl, title, key in self.headings]
        return TypesetResult(pdf=pdf, pages=d2.page, warnings=list(self.warnings), headings=heads,
                             structure=d2.structure.records() if d2.structure is not None else None)


class _TableBox(TextTable):
    """A body table (``T.TableNode``) as a ``TextTable``: cells are ``TextBlock`` s on our line breaker,
    column widths are fractions of the frame width, and across frames the table splits by rows with the
    header row repeated (see typeset/table.py).  Built fresh for each pass of a two-pass layout."""

    def __init__(self, ts: "Typesetter", node: T.TableNode, table: int | None = None):
        header, rows, widths, style = _make_table(ts, node, table)
        super().__init__(header, rows, widths, space_after=ts.sty.style("body").space_after + 4, **style)

    def min_start(self, aw) -> float:
        """The least height for the table to start in a frame (a caption above keeps with it): the header
        and the first row (see flowables.KeepWithNext)."""
        g = self._geom(aw)
        return g.head_h + g.row_h[0] if g.row_h else g.height


def _make_table(ts: Typesetter, node: T.TableNode, table: int | None = None) -> tuple[list, list, list[float], dict]:
    """The cells (header row, body rows), relative column widths and look of a body table; tagged, the
    cells are TH (scope Column) in THead and TD in TBody of the element ``table``."""
    n = len(node.header)
    rel = list(node.widths or [])[:n]
    rel += [1.0] * (n - len(rel))
    align = list(node.align or [])[:n]
    align += ["left"] * (n - len(align))
    sec = ts.theme.stacked_secondary
    langs_of, block = ts.languages_of, ts.block

    element = ts.element

    def cell(texts, style, j, tr, role):
        items = langs_of(texts)
        el = one = None
        if tr is not None:
            scope = "Column" if role == "TH" else None
            if len(items) == 1:     # one language: its text is the cell's own content (no P inside)
                one = el = element(role, tr, scope=scope, lang=BCP47[lang_of(*items[0], ts.langs)])
            else:
                el = element(role, tr, scope=scope)
        return [block(spans, lg, style, indent=False, align=align[j],
                      color=sec if k > 0 else None, scale=0.92 if k > 0 else 1.0,
                      space_before=0, space_after=0, keep=False, parent=el, tag=one)
                for k, (lg, spans) in enumerate(items)]

    def row(r, part, role):
        tr = element("TR", part) if part is not None else None
        return [cell(c, "table-head" if role == "TH" else "table", j, tr, role) for j, c in enumerate(r)]

    tagged = table is not None
    header = row(node.header, element("THead", table) if tagged else None, "TH")
    body = element("TBody", table) if tagged else None
    rows = [row(r, body, "TD") for r in node.rows]
    colors = ts.theme.colors
    style = dict(
        padding=(4.0, 4.0, 2.5, 3.5),                               # left, right, top, bottom
        head_background=ts.theme.color("table_head") if "table_head" in colors else (0.93, 0.93, 0.93),
        rule_color=ts.theme.color("table_rule") if "table_rule" in colors else (0.7, 0.7, 0.7),
        rules=(0.8, 0.6, 0.25),                                     # above, below the header; below each row
        # the smallest frame: a row taller than that is cut between lines wherever it starts
        full_height=geometry.min_frame_height(ts.theme) * mm)
    return header, rows, rel, style
