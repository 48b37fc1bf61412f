"""Flowables: layout-tree content (already styled into runs) in, ReportLab flowables that break across
frames and pages out.  Every line of text goes through the CLREQ line breaker; nothing here uses
ReportLab's Paragraph, so user text is never parsed as markup.  Each flowable carries the structure
element its text belongs to (``tag``, see typeset/structure.py); what is decoration (bullets, leader dots,
the AI label and its plate) is drawn as an artifact.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Callable, Sequence

from reportlab.platypus.doctemplate import ActionFlowable, FrameBreak, NullActionFlowable
from reportlab.platypus.flowables import Flowable, KeepTogether, UseUpSpace

from .breaker import break_lines, quick_line
from .structure import artifact, marked, structure_of
from .text import Line, ParaFormat, Piece, Run
from .textobject import draw_line, draw_lines

_EPS = 1e-6
# Line breaks are kept per process, least recently used dropped first: the second pass of a two-pass layout,
# the editions of one spec and the documents of a batch set repeated text (boilerplate, headings, table headers)
# without breaking it again.
# An entry is one flat tuple of numbers and strings (styles, formats and faces by number: _token), which the
# garbage collector stops scanning: as Line and Piece objects, a memo of a few thousand paragraphs doubled the
# time of every full collection in the process, and kept every line of a render alive (and scanned) to its end.
BREAK_MEMO_SIZE = 8000             # ~3 kB an entry: about 25 MB at most
BREAK_MEMO: "OrderedDict" = OrderedDict()
BREAK_MEMO_LOCK = threading.Lock()
_TOKENS: dict = {}                 # a style, format or face -> its number in the memo's keys and entries
_OBJECTS: list = []                # ... and back
_TOKENS_MAX = 20000                # more distinct styles than this (pathological): the rest is not memoized


def _token(o) -> int | None:
    """The number of a style, format or face (under BREAK_MEMO_LOCK); None once there are too many."""
    t = _TOKENS.get(o)
    if t is None:
        if len(_OBJECTS) >= _TOKENS_MAX:
            return None
        t = _TOKENS[o] = len(_OBJECTS)
        _OBJECTS.append(o)
    return t


def _memo_key(runs: Sequence[Run], width: float, fmt: ParaFormat) -> tuple | None:
    parts = []
    for r in runs:
        t = _token(r.style)
        if t is None:
            return None
        parts.append((r.text, t))
    f = _token(fmt)
    return None if f is None else (tuple(parts), round(width, 3), f)


def _pack(lines: list[Line]) -> tuple | None:
    """Lines as one flat tuple of numbers and strings (under BREAK_MEMO_LOCK): the line count, then per line its
    width, ascent, descent, last flag, piece count and whether it has a hyphen, each piece's fields (its face by
    number) and the hyphen's.  One tuple a paragraph, which the collector stops scanning; None if a face has no
    number."""
    out: list = [len(lines)]
    for ln in lines:
        hy = ln.hyphen
        out += (ln.width, ln.ascent, ln.descent, ln.last, len(ln.pieces), hy is not None)
        for pc in ln.pieces if hy is None else (*ln.pieces, hy):
            f = _token(pc.face)
            if f is None:
                return None
            out += (pc.x, pc.text, f, pc.size, pc.char_space, tuple(pc.color), pc.href, pc.underline, pc.width,
                    pc.rise, pc.word_space, tuple(pc.spaces))
    return tuple(out)


def _unpack(t: tuple) -> list[Line]:
    objects = _OBJECTS
    lines = []
    i = 1
    for _ in range(t[0]):
        w, a, d, last, n, hy = t[i:i + 6]
        i += 6
        pieces = []
        for _ in range(n + hy):
            pieces.append(Piece(t[i], t[i + 1], objects[t[i + 2]], t[i + 3], t[i + 4], t[i + 5], t[i + 6], t[i + 7],
                                t[i + 8], t[i + 9], t[i + 10], t[i + 11]))
            i += 12
        h = pieces.pop() if hy else None
        lines.append(Line(pieces, w, a, d, last, h))
    return lines


def _doc(canv):
    return getattr(canv, "_doctemplate", None)


def _dry(canv) -> bool:
    d = _doc(canv)
    return bool(getattr(d, "dry", False))


class TextBlock(Flowable):
    """A paragraph: runs broken into lines on a fixed line pitch (``leading``)."""

    def __init__(self, runs: Sequence[Run], fmt: ParaFormat, *, size: float, leading: float,
                 space_before: float = 0.0, space_after: float = 0.0, keep_with_next: bool = False,
                 label: str | None = None, label_runs: Sequence[Run] | None = None, left: float = 0.0,
                 lines: list[Line] | None = None, on_draw: Callable | None = None, bullet=None,
                 memo: "OrderedDict | None" = None, tag: int | None = None, label_tag: int | None = None):
        super().__init__()
        self.tag = tag                        # structure element of the text (None: untagged or a P of its own)
        self.label_tag = label_tag            # ... of the list label
        self.runs = list(runs)
        self.fmt = fmt
        self.size = size
        self.leading = leading
        self.spaceBefore = space_before
        self.spaceAfter = space_after
        self.keepWithNext = keep_with_next
        self.label_runs = label_runs          # list label ("•", "1.") drawn in the left indent of line 1
        self.left = left                      # left indent of every line (lists)
        self._lines = lines                   # pre-broken (a split remainder)
        self._width = None
        self.on_draw = on_draw                # called with (canvas, block) when drawn: outlines, TOC
        self.bullet = bullet                  # colour of a list bullet, drawn as a shape (not text)
        self.memo = memo                      # shared line-break results: BREAK_MEMO, or None

    # -- layout ------------------------------------------------------------------------------------------
    def lines(self, width: float) -> list[Line]:
        if self._lines is not None:
            return self._lines
        if self._width is None or abs(self._width - width) > 0.01:
            w = max(1.0, width - self.left)
            quick = quick_line(self.runs, w, self.fmt)
            if quick is not None:                       # a number or single word: cheaper than the memo
                self._cache = quick
            elif self.memo is None:
                self._cache = break_lines(self.runs, w, self.fmt)
            else:
                # renders on other threads share the memo: look up and evict under its lock (an entry
                # evicted between get and move_to_end would raise), break the lines outside it
                with BREAK_MEMO_LOCK:
                    key = _memo_key(self.runs, w, self.fmt)
                    packed = self.memo.get(key) if key is not None else None
                    if packed is not None:
                        self.memo.move_to_end(key)      # least recently used goes first
                if packed is not None:
                    got = _unpack(packed)
                else:
                    got = break_lines(self.runs, w, self.fmt)
                    if key is not None:
                        with BREAK_MEMO_LOCK:
                            packed = _pack(got)
                            if packed is not None:
                                self.memo[key] = packed
                                if len(self.memo) > BREAK_MEMO_SIZE:
                                    self.memo.popitem(last=False)
                self._cache = got
            self._width = width
        return self._cache

    def wrap(self, aw, ah):
        self.width = aw
        self.height = len(self.lines(aw)) * self.leading
        return aw, self.height

    # Lines a split leaves at the foot of a frame and carries to the top of the next: no orphan, no
    # widow.  A paragraph of fewer than 2 × min_lines lines does not split: it moves on whole.
    min_lines = 2
    short_split = False          # a paragraph too short for that may split one line a side (公文's grid)

    def splittable(self, aw) -> bool:
        """Whether the paragraph may be split between frames at all (long enough for the line rules)."""
        return len(self.lines(aw)) >= (2 if self.short_split else 2 * self.min_lines)

    def min_start(self, aw) -> float:
        """The least height of the paragraph a frame must hold for it to start there: its first lines
        (min_lines of them) when it may split, all of it when it may not."""
        lines = self.lines(aw)
        if not self.splittable(aw):
            return len(lines) * self.leading
        return (self.min_lines if len(lines) >= 2 * self.min_lines else 1) * self.leading

    def split(self, aw, ah):
        lines = self.lines(aw)
        n = int((ah + _EPS) // self.leading)
        if n >= len(lines):
            return [self]
        if not self.splittable(aw):
            return []
        k = self.min_lines if len(lines) >= 2 * self.min_lines else 1
        n = min(n, len(lines) - k)
        if n < k:
            return []
        first = TextBlock([], self.fmt, size=self.size, leading=self.leading, space_before=self.spaceBefore,
                          label_runs=self.label_runs, left=self.left, lines=lines[:n], on_draw=self.on_draw,
                          bullet=self.bullet, tag=self.tag, label_tag=self.label_tag)
        rest = TextBlock([], self.fmt, size=self.size, leading=self.leading, space_after=self.spaceAfter,
                         keep_with_next=self.keepWithNext, left=self.left, lines=lines[n:], tag=self.tag)
        return [first, rest]

    # -- drawing -----------------------------------------------------------------------------------------
    def first_baseline(self) -> float:
        """How far below the block's top the first baseline sits (the text centred in its line pitch)."""
        return (self.leading + self.size * 0.76) / 2

    def baseline(self, i: int) -> float:
        """Baseline of line i, from the block's bottom (fixed pitch: the text sits on a grid)."""
        return self.height - i * self.leading - self.first_baseline()

    def draw(self):
        c = self.canv
        if self.on_draw is not None:
            self.on_draw(c, self)
        if _dry(c):
            return
        lines = self.lines(self.width)
        left = self.left
        if self.label_runs:
            # the label first: Lbl comes before LBody in the structure
            lab = break_lines(self.label_runs, max(1.0, self.left), ParaFormat(align="left"))
            if lab:
                draw_line(c, lab[0], 0, self.baseline(0), self.label_tag)
        draw_lines(c, [(line, left, self.baseline(i)) for i, line in enumerate(lines)], self.tag)   # links too
        if self.bullet is not None:
            # a bullet is a mark, not text: drawn as a disc so the text layer holds only the item's words
            with artifact(c):
                c.saveState()
                c.setFillColorRGB(*self.bullet)
                c.circle(self.left * 0.35, self.baseline(0) + self.size * 0.32, self.size * 0.15, stroke=0, fill=1)
                c.restoreState()


def _min_start(f, aw: float, ah: float) -> float:
    """The least height of ``f`` that must fit where it starts: a paragraph's first lines, else all of it."""
    ms = getattr(f, "min_start", None)
    if ms is not None:
        return ms(aw)
    return f.wrap(aw, ah)[1]


def _splittable(f, aw: float) -> bool:
    return type(f) is TextBlock and f.splittable(aw)


class KeepWithNext(Flowable):
    """Blocks that keep with the next one (headings, a stacked edition's first language), then that next
    block: the document template's ``keepTogetherClass``.  ReportLab's KeepTogether keeps them whole on
    one page, so a heading before a long paragraph leaves the rest of the page empty; here a block keeps
    only with the *start* of what follows: a heading with the first two lines of the paragraph after it
    (the paragraph's own split rules, :meth:`TextBlock.min_start`), a paragraph that keeps with its
    translation with the translation's first lines, splitting itself when it must so that its last lines
    go on with it.  Each split places the first block and keeps the rest together again.

    Only the body's own paragraphs and pairs take part: a chain that starts with any other flowable (the
    公文 grid blocks, extensions) is kept by ReportLab's KeepTogether, as before."""

    def __init__(self, flowables: list):
        super().__init__()
        self._content = list(flowables)           # the name ReportLab's handle_keepWithNext reads
        self.keepWithNext = False

    @staticmethod
    def chain(flowables: list) -> Flowable:
        """The keep of ``flowables`` (all but the last keep with the next): this class when every
        keeping block is a TextBlock or Pair of the body, ReportLab's KeepTogether otherwise."""
        if len(flowables) > 1 and all(type(f) in (TextBlock, Pair) for f in flowables[:-1]) \
                and not isinstance(flowables[-1], (ActionFlowable, UseUpSpace)):
            return KeepWithNext(flowables)
        return KeepTogether(flowables)

    def getSpaceBefore(self):
        return self._content[0].getSpaceBefore()

    def getSpaceAfter(self):
        return self._content[-1].getSpaceAfter()

    def wrap(self, aw, ah):
        self.width = aw
        return aw, 0xFFFFFF                      # never drawn whole: the frame always asks for a split

    @staticmethod
    def _need(items: list, aw: float, ah: float) -> float:
        """The height that must fit for ``items`` (each keeping with the next) to start here; counting stops
        once it is over ``ah`` (a long run of headings costs a page's worth of wraps, not all of them)."""
        need = 0.0
        for i, f in enumerate(items):
            if i == len(items) - 1 or _splittable(f, aw):
                return need + _min_start(f, aw, ah)   # a paragraph's tail can carry the keep to the next page
            gap = max(f.getSpaceAfter(), items[i + 1].getSpaceBefore())   # the frames overlap attached space
            need += f.wrap(aw, ah)[1] + gap
            if need > ah:
                break
        return need

    def split(self, aw, ah):
        first, rest = self._content[0], self._content[1:]
        frame = getattr(self, "_frame", None)     # set by the frame while it asks for the split
        # at the top of a frame nothing is gained by moving on; unknown (not asked by a frame): the same
        at_top = frame is None or getattr(frame, "_atTop", True)
        after = rest[0] if len(rest) == 1 else KeepWithNext(rest)
        full = getattr(frame, "_aH", None)          # the whole frame's height (as KeepTogether reads it)
        h = first.wrap(aw, ah)[1]
        need = h + max(first.getSpaceAfter(), rest[0].getSpaceBefore()) + self._need(rest, aw, max(ah, full or 0))
        if need <= ah + _EPS:
            return [NullActionFlowable(), first, after]
        if _splittable(first, aw) and (at_top or _min_start(first, aw, ah) <= ah + _EPS):
            # its first lines here, its last lines (at least min_lines) on with what follows
            parts = first.split(aw, min(ah, h - first.leading / 2))
            if len(parts) == 2:
                return [NullActionFlowable(), parts[0], KeepWithNext([parts[1]] + rest)]
        # nothing is gained by moving on at the top of a frame, nor when the keep could not be met on an empty
        # frame either (a run of headings taller than the page): set what fits and go on
        if at_top or (full is not None and need > full + _EPS and h <= ah + _EPS):
            return [NullActionFlowable(), first, after]
        return [FrameBreak(), self]

    def draw(self):                               # pragma: no cover - always split, never drawn
        pass


class Pair(Flowable):
    """Two blocks side by side (``bilingual: parallel``): both start on the same baseline and, across a
    page break, both continue at the top of the next frame, so the pair stays aligned."""

    def __init__(self, left: Flowable | None, right: Flowable | None, gap: float):
        super().__init__()
        self.left, self.right, self.gap = left, right, gap
        sides = [s for s in (left, right) if s is not None]
        self.spaceBefore = max((s.getSpaceBefore() for s in sides), default=0)
        self.spaceAfter = max((s.getSpaceAfter() for s in sides), default=0)
        self.keepWithNext = any(getattr(s, "keepWithNext", False) for s in sides)

    def _colw(self, aw):
        return (aw - self.gap) / 2

    def min_start(self, aw) -> float:
        """The least height for the pair to start in a frame: the taller of its sides' (see TextBlock)."""
        cw = self._colw(aw)
        return max((_min_start(s, cw, 0xFFFFFF) for s in (self.left, self.right) if s is not None), default=0.0)

    def wrap(self, aw, ah):
        cw = self._colw(aw)
        hs = [s.wrap(cw, ah)[1] if s is not None else 0 for s in (self.left, self.right)]
        self.width, self.height = aw, max(hs)
        self._h = hs
        return aw, self.height

    def split(self, aw, ah):
        cw = self._colw(aw)
        parts = []
        for s in (self.left, self.right):
            if s is None:
                parts.append((None, None))
                continue
            h = s.wrap(cw, ah)[1]
            if h <= ah + _EPS:
                parts.append((s, None))
                continue
            sp = s.split(cw, ah)
            if not sp:
                return []          # this side can't start here: move the whole pair on
            parts.append((sp[0], sp[1] if len(sp) > 1 else None))
        (l0, l1), (r0, r1) = parts
        if l1 is None and r1 is None:
            return [self]
        a = Pair(l0, r0, self.gap)
        a.spaceAfter = 0
        b = Pair(l1, r1, self.gap)
        b.spaceBefore = 0
        return [a, b]

    def draw(self):
        cw = self._colw(self.width)
        for s, x, h in ((self.left, 0, self._h[0]), (self.right, cw + self.gap, self._h[1])):
            if s is not None:
                s.drawOn(self.canv, x, self.height - h)


class Figure(Flowable):
    """A picture scaled to cover a box (cropped, never distorted), with an optional caption below (or above),
    optional vector text over it (the OCR fallback) and an optional AI-generated label."""

    def __init__(self, png: bytes, box_w: float | None, box_h: float | None, aspect: float,
                 width_frac: float = 1.0, caption: list[Flowable] | None = None, overlay: list[Run] | None = None,
                 overlay_color=(1, 1, 1), label: list[Run] | None = None, full_bleed: bool = False,
                 max_h: float | None = None, space_after: float = 6.0, on_draw: Callable | None = None,
                 overlay_plate: bool = False, tag: int | None = None, caption_above: bool = False):
        super().__init__()
        self.tag = tag                  # the Figure element (its Alt describes picture and overlay text)
        self.caption_above = caption_above   # the caption over the picture (the theme's captions.figure)
        self.png = png
        self.box_h = box_h
        self.aspect = aspect
        self.width_frac = width_frac
        self.caption = caption or []
        self.overlay = overlay
        self.overlay_color = overlay_color
        self.overlay_plate = overlay_plate
        self.label = label
        self.full_bleed = full_bleed
        self.max_h = max_h
        self.spaceAfter = space_after
        self.on_draw = on_draw

    def _img_size(self, aw):
        w = aw * self.width_frac
        h = self.box_h if self.box_h else w / self.aspect
        if self.max_h and h > self.max_h:
            h = self.max_h
            if not self.box_h:
                w = h * self.aspect
        return w, h

    def wrap(self, aw, ah):
        self.width = aw
        self.img_w, self.img_h = self._img_size(aw)
        self.cap_h = sum(f.wrap(aw, ah)[1] + f.getSpaceBefore() for f in self.caption)
        self.height = self.img_h + self.cap_h
        return aw, self.height

    def split(self, aw, ah):
        return []

    def draw(self):
        c = self.canv
        if self.on_draw is not None:
            self.on_draw(c, self)
        if _dry(c):
            return
        from reportlab.lib.utils import ImageReader

        from .images import draw_png, embeddable
        x = (self.width - self.img_w) / 2
        y = 0.0 if self.caption_above else self.cap_h
        w, h = self.img_w, self.img_h
        if self.full_bleed:
            # stretch to the page's edges: the frame's left edge is at the current origin's x
            d = _doc(c)
            fx = d.frame._x1 if d is not None and getattr(d, "frame", None) is not None else 0.0
            pw = c._pagesize[0]
            x, w = -fx, pw
        png = embeddable(self.png)
        img = None if png is not None else ImageReader(io.BytesIO(self.png))
        iw, ih = (png.width, png.height) if png is not None else img.getSize()
        scale = max(w / iw, h / ih)                 # cover the box, crop the rest
        dw, dh = iw * scale, ih * scale
        with marked(c, self.tag):
            c.saveState()
            p = c.beginPath()
            p.rect(x, y, w, h)
            c.clipPath(p, stroke=0, fill=0)
            if png is not None:                     # its image data as it is, not decoded and compressed again
                draw_png(c, png, self.png, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh)
            else:
                c.drawImage(img, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh)
            c.restoreState()
        tagged = structure_of(c) is not None
        if self.overlay:
            lines = break_lines(self.overlay, w * 0.86, ParaFormat(align="center"))
            size = self.overlay[0].style.size
            lead = size * 1.3
            top = y + h / 2 + len(lines) * lead / 2
            if self.overlay_plate and lines:
                # a busy picture: a translucent plate in the opposite tone keeps the text legible
                ink = self.overlay[0].style.color
                dark = sum(ink) / 3 < 0.5
                wmax = max(ln.width for ln in lines) + size
                with artifact(c):
                    c.saveState()
                    c.setFillColorRGB(*((1, 1, 1) if dark else (0, 0, 0)), alpha=0.72)
                    c.roundRect(x + (w - wmax) / 2, top - len(lines) * lead - size * 0.3, wmax,
                                len(lines) * lead + size * 0.6, size * 0.3, stroke=0, fill=1)
                    c.restoreState()
            for i, line in enumerate(lines):
                draw_line(c, line, x + w * 0.07, top - (i + 1) * lead + (lead - size) / 2 + size * 0.12,
                          self.tag if tagged and self.tag is not None else None)
        if self.label:
            # the visible AI label is an artifact: the implicit label (XMP) is what the standard reads
            lines = break_lines(self.label, w - 6, ParaFormat(align="right"))
            size = self.label[0].style.size
            with artifact(c):
                c.saveState()
                c.setFillColorRGB(0, 0, 0, alpha=0.55)
                lw = max((ln.width for ln in lines), default=0) + 6
                c.rect(x + w - lw - 3, y + 3, lw, size * 1.6, stroke=0, fill=1)
                c.restoreState()
                if lines:
                    draw_line(c, lines[0], x, y + 3 + size * 0.5)   # right-aligned in w - 6: 3 pt inside the plate
        if self.caption_above:                       # the caption's space before goes between it and the picture
            yy = self.height
            for f in self.caption:
                fh = f.wrap(self.width, self.cap_h)[1]
                f.drawOn(c, 0, yy - fh)
                yy -= fh + f.getSpaceBefore()
            return
        yy = self.cap_h
        for f in self.caption:
            fh = f.wrap(self.width, self.cap_h)[1]
            yy -= fh + f.getSpaceBefore()
            f.drawOn(c, 0, yy)


class TocEntry(Flowable):
    """One table-of-contents line: title, dot leader, page number (right), linked to the heading."""

    def __init__(self, runs: list[Run], fmt: ParaFormat, key: str, level: int, leading: float, size: float,
                 page_of: Callable[[str], int | None], number_runs: Callable[[str], list[Run]],
                 tag: int | None = None):
        super().__init__()
        self.tag = tag                  # the TOCI element
        self.runs, self.fmt, self.key, self.level = runs, fmt, key, level
        self.leading, self.size = leading, size
        self.page_of, self.number_runs = page_of, number_runs
        self.indent = (level - 1) * size * 2
        self.slot = size * 3

    def wrap(self, aw, ah):
        self.width = aw
        self._lines = break_lines(self.runs, aw - self.indent - self.slot - self.size, self.fmt)
        self.height = len(self._lines) * self.leading
        return aw, self.height

    def split(self, aw, ah):
        return []

    def draw(self):
        c = self.canv
        if _dry(c):
            return
        n = len(self._lines)
        tag = self.tag
        for i, line in enumerate(self._lines):
            draw_line(c, line, self.indent, self.height - (i + 1) * self.leading + (self.leading - self.size) / 2
                      + self.size * 0.12, tag)
        y = self.height - n * self.leading + (self.leading - self.size) / 2 + self.size * 0.12
        page = self.page_of(self.key)
        last = self._lines[-1] if self._lines else None
        x_end = self.indent + (last.width if last else 0) + self.size * 0.5
        num = str(page) if page is not None else ""
        nl = break_lines(self.number_runs(num), self.slot, ParaFormat(align="right")) if num else []
        x_num = self.width - (nl[0].width if nl else 0)
        with artifact(c):
            c.saveState()
            c.setFillColorRGB(0.55, 0.55, 0.55)
            dot = self.size * 0.6
            xd = x_end + (dot - (x_end % dot))
            while xd < x_num - self.size * 0.6:
                c.circle(xd, y + self.size * 0.12, self.size * 0.045, stroke=0, fill=1)   # leader dots as paths
                xd += dot
            c.restoreState()
        if nl:
            draw_line(c, nl[0], self.width - self.slot, y, tag)
        st = structure_of(c)
        if st is not None and tag is not None:
            title = "".join(p.text for ln in self._lines for p in ln.pieces)
            st.annotation(tag, c.getPageNumber() - 1, len(c._annotationrefs),
                          f"{title} {num}".strip())
        c.linkRect("", self.key, (self.indent, 0, self.width, self.height), relative=1)
