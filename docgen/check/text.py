"""Reading a PDF for the checks: pdfplumber pages in, text lines (grouped by baseline) and rules out; and
the CLREQ check of soft line breaks over those lines."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from .clreq import LATIN, break_violations

MM = 72 / 25.4


@dataclass
class TextLine:
    chars: list[dict]                    # pdfplumber chars (whitespace dropped), left to right
    text: str
    x0: float
    x1: float
    top: float                           # char boxes, pt from the page top
    bottom: float
    base: float                          # baseline, pt from the page top
    size: float                          # the line's most common font size

    def pos(self) -> tuple[float, float]:
        return (self.x0 / MM, self.top / MM)


@dataclass
class Rule:
    x0: float
    x1: float
    y: float                             # pt from the page top
    width: float                         # line width (thickness)
    color: tuple | None

    @property
    def length(self) -> float:
        return self.x1 - self.x0


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[TextLine] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)      # horizontal lines and thin rectangles
    red_text: bool = False
    curves: int = 0
    red_marks: int = 0                                    # red curves and rectangles (a seal, a 标志 drawn as art)


def is_red(col) -> bool:
    """Red as the eye calls it: a hue within 25° of red, saturated, and not near black — so a dark red
    (0.55, 0, 0) or a CMYK 0/100/100/30 counts as much as a bright one (GB/T 9704 7.2.4 只说“红色”)."""
    if col is None:
        return False
    col = tuple(col) if isinstance(col, (list, tuple)) else (col,)
    if len(col) == 4:
        c, m, y, k = col
        col = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    if len(col) != 3:
        return False
    r, g, b = (float(x) for x in col)
    hi, lo = max(r, g, b), min(r, g, b)
    if hi != r or hi < 0.3 or (hi - lo) / hi < 0.6:
        return False
    hue = 60 * (g - b) / (hi - lo)                     # degrees from red towards yellow (+) or magenta (-)
    return -25 <= hue <= 25


def _lines(page, ytol: float = 1.0) -> list[TextLine]:
    chars = [c for c in page.chars if c["text"].strip()]
    for c in chars:
        c["_base"] = page.height - (c["matrix"][5] if c.get("matrix") else page.height - c["bottom"])
    chars.sort(key=lambda c: (c["_base"], c["x0"]))
    groups: list[list[dict]] = []
    for c in chars:
        if groups and abs(groups[-1][0]["_base"] - c["_base"]) <= ytol:
            groups[-1].append(c)
        else:
            groups.append([c])
    out = []
    for g in groups:
        g.sort(key=lambda c: c["x0"])
        size = Counter(round(c["size"], 1) for c in g).most_common(1)[0][0]
        out.append(TextLine(g, "".join(c["text"] for c in g), min(c["x0"] for c in g), max(c["x1"] for c in g),
                            min(c["top"] for c in g), max(c["bottom"] for c in g), g[0]["_base"], size))
    return out


def _rules(page) -> list[Rule]:
    out = []
    for ln in page.lines:
        if abs(ln["top"] - ln["bottom"]) < 0.5 and ln["x1"] - ln["x0"] > 10:
            out.append(Rule(ln["x0"], ln["x1"], (ln["top"] + ln["bottom"]) / 2, ln.get("linewidth") or 0,
                            ln.get("stroking_color")))
    for r in page.rects:
        h = r["bottom"] - r["top"]
        if h < 3 and r["x1"] - r["x0"] > 10:
            col = r.get("non_stroking_color") if r.get("fill") else r.get("stroking_color")
            out.append(Rule(r["x0"], r["x1"], (r["top"] + r["bottom"]) / 2, h, col))
    return out


def read_pages(doc) -> list[Page]:
    pages = []
    for i, p in enumerate(doc.pages, 1):
        pg = Page(i, float(p.width), float(p.height), _lines(p), _rules(p))
        pg.red_text = any(is_red(c.get("non_stroking_color")) for c in p.chars if c["text"].strip())
        pg.curves = len(p.curves)
        pg.red_marks = sum(1 for o in (*p.curves, *p.rects)
                           if is_red(o.get("non_stroking_color") if o.get("fill") else o.get("stroking_color"))
                           and o["bottom"] - o["top"] > 3)
        pages.append(pg)
    return pages


def body_size(pages: list[Page]) -> float | None:
    cnt = Counter()
    for p in pages:
        for ln in p.lines:
            for c in ln.chars:
                cnt[round(c["size"], 1)] += 1
    return cnt.most_common(1)[0][0] if cnt else None


def body_lines(pages: list[Page], size: float) -> list[tuple[Page, TextLine]]:
    return [(p, ln) for p in pages for ln in p.lines if ln.size == size]


def check_breaks(pages: list[Page], report, *, right_edge: float | None, lines=None) -> None:
    """CLREQ prohibitions at soft line breaks: a body line that reaches the measure (its right edge
    within one character of it) continues on the next body line, across pages too.  The measure is
    ``right_edge`` or, per page, the 90th percentile of the body lines' right edges."""
    size = body_size(pages)
    if size is None:
        return
    body = lines if lines is not None else body_lines(pages, size)
    right_of = {}
    for p in pages:
        xs = sorted(ln.x1 for q, ln in body if q is p)
        if xs:
            right_of[p.number] = right_edge if right_edge is not None else xs[int(len(xs) * 0.9)]
    n = 0
    for (p1, l1), (p2, l2) in zip(body, body[1:]):
        if l1.x1 < right_of[p1.number] - size * 1.05:
            continue                                     # a short line: the paragraph ended (or a hard break)
        n += 1
        for kind, msg in break_violations(l1.text, l2.text):
            pg, ln = (p2, l2) if kind == "clreq-start" else (p1, l1)
            report.add(kind, pg.number, ln.pos(), msg)
        if LATIN.match(l1.text[-1]) and LATIN.match(l2.text[0]):
            report.infos.append(f"p{p1.number}: possible Latin word split: …{l1.text[-8:]} | {l2.text[:8]}…")
    report.infos.insert(0, f"body size {size}pt, {len(body)} body lines, {n} soft line breaks checked (CLREQ)")


def median(xs):
    return statistics.median(xs) if xs else None
