"""Official-document elements (党政机关公文, GB/T 9704-2012): ``gw-*`` layout markup in, flowables on the
page template's line and character grid out.

Every line sits on one of the grid's rows (22 a page in the gongwen layout) with its baseline at the same
height within the row, and 3号 text advances one grid cell per Chinese character (28 a line).  Blank
space between elements is whole rows, tables have rows of whole grid rows, and the 版记 takes the last
rows of the type area, so the body never drifts off the grid.  Where each element goes follows the
standard's section 7: 版头 (7.2), 主体 (7.3), 版记 (7.4).

Tagged, the structure follows that element order: the title is an ``H1``, headings 一、（一）1.（1） are
``H2``–``H5``, paragraphs and the other elements are a ``P`` each (a reference translation a ``P`` with
``/Lang en``); the red rules, the seal and the 版记 rules are artifacts.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import combinations

from reportlab.lib.units import mm
from reportlab.platypus.flowables import Flowable
from reportlab.platypus.tables import Table, TableStyle

from ..errors import LayoutError
from ..layout import geometry
from ..layout import tree as T
from ..spec.inline import Span
from . import extensions
from .flowables import TextBlock
from .fonts import FontStack
from .structure import BCP47, artifact, structure_of
from .breaker import break_lines
from .text import NO_END, NO_START, Line, ParaFormat, Run, TextStyle
from .textobject import draw_line, draw_lines
from .styles import lang_of

_EPS = 1e-6
BIAOZHI_TOP = 35 * mm            # 7.2.4: 发文机关标志 上边缘至版心上边缘 35 mm
RULE_BELOW_ZIHAO = 4 * mm        # 7.2.6: 红色分隔线 in 发文字号之下 4 mm
SEAL_RADIUS = 21 * mm            # a 42 mm seal, the usual size for 党政机关
BANJI_THICK, BANJI_THIN = 0.35 * mm, 0.25 * mm     # 7.4.1
_NUMBERED = re.compile(r"^\s*([一二三四五六七八九十百]+、|（[一二三四五六七八九十百]+）|\d+[.．]|（\d+）)")
_DOC_KINDS = re.compile(r"的(通知|请示|函|复函|批复|意见|报告|决定|通报|公告|通告|决议|纪要|命令)$")


# ---------------------------------------------------------------------------------------------- the grid

@dataclass(frozen=True)
class Grid:
    width: float            # type area, pt
    height: float
    row: float              # line pitch
    pitch: float            # character cell
    lines: int
    chars: int

    def baseline(self, size: float) -> float:
        """Baseline below a row's top: text centred in the row (the phase every body line shares)."""
        return (self.row + size * 0.76) / 2


def grid_of(ts) -> Grid:
    pt = geometry.page_template(ts.theme, ts.tree.first_template)
    if pt.grid is None:
        raise LayoutError(f"gw-* elements need a grid on page template {ts.tree.first_template!r} "
                          "(theme: page_templates.<name>.grid: {lines: 22, chars: 28})")
    area = geometry.type_area(ts.theme, pt)
    w, h = area.width * mm, area.height * mm
    return Grid(w, h, h / pt.grid.lines, w / pt.grid.chars, pt.grid.lines, pt.grid.chars)


class _State:
    """Per-pass bookkeeping: heading counters and the last flowable (that the signature keeps with)."""

    def __init__(self):
        self.counters = [0, 0, 0, 0]
        self.last: Flowable | None = None


def _state(ts) -> _State:
    return ts.state("gongwen", _State)


# ---------------------------------------------------------------------------------------------- fonts, text

def _stack(ts, name: str) -> FontStack:
    return ts.sty.stacks[name]


def _text_style(ts, name: str, color: str | None = None, size: float | None = None) -> TextStyle:
    st = ts.sty.style(name)
    return TextStyle(fonts=_stack(ts, st.font), size=size or st.size, color=ts.theme.color(color or st.color),
                     bold=st.bold, italic=st.italic)


def _runs(ts, spans: list[Span], style: str, *, color=None, size=None) -> list[Run]:
    runs = ts.sty.runs(spans, _text_style(ts, style, color, size))
    ts.note_missing(runs, spans)
    return runs


def _fmt(ts, g: Grid, style: str, lang: str, *, indent: bool = True, align: str | None = None) -> ParaFormat:
    st = ts.sty.style(style)
    zh = lang == "zh"
    grid = g.pitch if (st.grid and zh) else None
    unit = grid or st.size
    ind = (st.indent_em if zh else st.indent_em_en) * unit if indent else 0.0
    return ParaFormat(align=align or st.align, lang="zh" if zh else "en", first_indent=ind, grid_pitch=grid)


def _line(ts, g: Grid, text: str | list[Span], style: str, *, lang="zh", color=None, size=None) -> Line | None:
    """One unbroken line (labels, dates, names)."""
    spans = [Span(text)] if isinstance(text, str) else text
    lines = break_lines(_runs(ts, spans, style, color=color, size=size), 1e5,
                        _fmt(ts, g, style, lang, indent=False, align="left"))
    return lines[0] if lines else None


def _plain(texts: T.Texts, lang: str) -> str:
    return T.plain_of(texts, lang)


def cn_numeral(n: int) -> str:
    """1 -> 一, 12 -> 十二, 25 -> 二十五 (heading numbers up to 99)."""
    d = "零一二三四五六七八九"
    if n < 10:
        return d[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else d[tens]) + "十" + (d[ones] if ones else "")


# ---------------------------------------------------------------------------------------------- drawing


# ---------------------------------------------------------------------------------------------- flowables

class Rows(Flowable):
    """Lines placed on grid rows: ``rows[i]`` is a list of (x, Line) drawn on row i, each line's baseline
    where text of its size sits in a row.  ``decorate(canvas, rows)`` draws anything else (rules, seals)."""

    def __init__(self, g: Grid, rows: list[list[tuple[float, Line]]], *, splittable: bool = False,
                 decorate=None, keep_with_next: bool = False, tag: int | None = None):
        super().__init__()
        self.g, self.rows, self.splittable, self.decorate = g, rows, splittable, decorate
        self.tag = tag                  # the structure element of its text (None: a P made when drawn)
        self.keepWithNext = keep_with_next

    def wrap(self, aw, ah):
        self.width, self.height = aw, len(self.rows) * self.g.row
        return self.width, self.height

    def split(self, aw, ah):
        n = int((ah + _EPS) // self.g.row)
        if not self.splittable or n <= 0 or n >= len(self.rows):
            return []
        return [Rows(self.g, self.rows[:n], splittable=True, tag=self.tag),
                Rows(self.g, self.rows[n:], splittable=True, tag=self.tag)]

    def row_top(self, i: int) -> float:
        return self.height - i * self.g.row

    def draw(self):
        c = self.canv
        if getattr(getattr(c, "_doctemplate", None), "dry", False):
            return
        st = structure_of(c)
        if st is not None and self.tag is None:
            self.tag = st.element("P")
        placed = []
        for i, items in enumerate(self.rows):
            for x, line in items:
                if line is not None:
                    size = max((p.size for p in line.pieces), default=self.g.row / 2)
                    placed.append((line, x, self.row_top(i) - self.g.baseline(size)))
        draw_lines(c, placed, self.tag)           # one text object, one marked-content sequence
        if self.decorate is not None:
            self.decorate(c, self)


class BlankRows(Flowable):
    """Whole empty rows; none at the top of a page, and no more than the page has left."""

    def __init__(self, g: Grid, n: int):
        super().__init__()
        self.g, self.n = g, n

    def wrap(self, aw, ah):
        frame = getattr(getattr(getattr(self, "canv", None), "_doctemplate", None), "frame", None)
        if frame is not None and frame._atTop:
            h = 0.0
        else:
            h = min(self.n, int((ah + _EPS) // self.g.row)) * self.g.row
        self.width, self.height = aw, h
        return aw, h

    def draw(self):
        pass


class GridBlock(TextBlock):
    """A paragraph on the grid that can also be centred or right-aligned (the line breaker's grid mode
    sets lines flush left); lines keep whole-cell positions when the slack is whole cells."""

    short_split = True           # the grid's rules: a short paragraph may still split one line a side

    def __init__(self, *a, place: str = "left", **kw):
        super().__init__(*a, **kw)
        self.place = place

    def split(self, aw, ah):
        parts = super().split(aw, ah)
        for p in parts:
            if isinstance(p, TextBlock) and not isinstance(p, GridBlock):
                p.__class__ = GridBlock
                p.place = self.place
        return parts

    def draw(self):
        c = self.canv
        if self.on_draw is not None:
            self.on_draw(c, self)
        if getattr(getattr(c, "_doctemplate", None), "dry", False):
            return
        placed = []
        for i, line in enumerate(self.lines(self.width)):
            slack = max(0.0, self.width - self.left - line.width)
            x = self.left + {"center": slack / 2, "right": slack}.get(self.place, 0.0)
            placed.append((line, x, self.baseline(i)))
        draw_lines(c, placed, self.tag)


def _block(ts, g: Grid, spans: list[Span], lang: str, style: str, *, indent: bool = True, keep=None,
           on_draw=None, place: str = "left", color=None, role: str = "P", parent: int | None = None,
           scope: str | None = None) -> GridBlock:
    st = ts.sty.style(style)
    lg = lang_of(lang, spans)
    return GridBlock(_runs(ts, spans, style, color=color), _fmt(ts, g, style, lg, indent=indent),
                     size=st.size, leading=g.row, space_before=0, space_after=0,
                     keep_with_next=st.keep_with_next if keep is None else keep, on_draw=on_draw, place=place,
                     tag=ts.element(role, parent or 0, lang=BCP47[lg], scope=scope))


def _translated(ts, g: Grid, texts: T.Texts, primary) -> list:
    """The edition's first language through ``primary(lang, spans)``; a second language (a stacked
    reference translation) follows in the small gw-en style, on the same row pitch."""
    out = []
    for i, (lg, spans) in enumerate(ts.languages_of(texts)):
        if i == 0:
            out += primary(lg, spans)
        else:
            out.append(_block(ts, g, spans, lg, "gw-en", indent=False, keep=False))
    return out


# ---------------------------------------------------------------------------------------------- title

def balance_title(text: str, advance, width: float, size: float) -> list[str]:
    """Break a title into centred lines of similar length (GB/T 9704 7.3.1: 梯形 or 菱形, words whole):
    the fewest lines that fit, every line at least two characters, CLREQ prohibitions respected; explicit
    newlines in the title are kept.  ``advance(ch)`` is a character's width in pt."""
    out = []
    for part in text.split("\n"):
        out += _balance(part.strip(), advance, width, size)
    return [x for x in out if x]


def _balance(s: str, advance, width: float, size: float) -> list[str]:
    w = [advance(ch) for ch in s]
    if sum(w) <= width + _EPS:
        return [s]
    n = len(s)
    cum = [0.0]
    for x in w:
        cum.append(cum[-1] + x)
    depth = [0] * (n + 1)            # inside 《》 or “” at a break position
    d = 0
    for i, ch in enumerate(s):
        if ch in "《“‘（":
            d += 1
        elif ch in "》”’）":
            d = max(0, d - 1)
        depth[i + 1] = d

    def allowed(i):
        a, b = s[i - 1], s[i]
        if b in NO_START or a in NO_END or (a + b) in ("——", "……"):
            return False
        return not (a.isascii() and a.isalnum() and b.isascii() and b.isalnum())

    cands = [i for i in range(2, n - 1) if allowed(i)]
    k_min = max(2, math.ceil(cum[-1] / width))
    best = None
    for k in range(k_min, min(k_min + 2, 6)):
        if k - 1 > len(cands):
            break
        combos = combinations(cands, k - 1)
        for cut in combos:
            bounds = (0, *cut, n)
            lens = [cum[bounds[j + 1]] - cum[bounds[j]] for j in range(k)]
            if max(lens) > width + _EPS or min(bounds[j + 1] - bounds[j] for j in range(k)) < 2:
                continue
            mean = sum(lens) / k
            score = sum((x - mean) ** 2 for x in lens) / size ** 2 + 3.0 * (k - k_min)
            if k == 2 and lens[0] > lens[1] + size * 0.5:
                score += 1.0                         # an inverted trapezoid is allowed, the upright preferred
            if k >= 3:
                mid = lens[1:-1]
                if min(mid) < lens[0] - size * 0.5 and min(mid) < lens[-1] - size * 0.5:
                    score += 50.0                    # an hourglass is neither trapezoid nor diamond
            for c in cut:
                if depth[c]:
                    score += 12.0                    # inside a quoted name 《…》
                if s[c - 1] in "的和与及或之":
                    score += 4.0                     # a function word ends a line
                if _DOC_KINDS.search(s[c:]) and len(s) - c <= 4:
                    score -= 2.0                     # “……的通知” keeps the 文种 with its 的
            if best is None or score < best[0]:
                best = (score, bounds)
        if best is not None and k > k_min:
            break
    if best is None:                                 # nothing balanced fits: greedy
        lines, start = [], 0
        for i in range(1, n + 1):
            if cum[i] - cum[start] > width + _EPS:
                lines.append(s[start:i - 1])
                start = i - 1
        lines.append(s[start:])
        return lines
    b = best[1]
    return [s[b[j]:b[j + 1]] for j in range(len(b) - 1)]


def _title_rows(ts, g: Grid, spans: list[Span], lang: str, style: str) -> list[list[tuple[float, Line]]]:
    ts_ = _text_style(ts, style)
    fonts = ts_.fonts

    def advance(ch):
        f = fonts.face_for(ch, ts_.bold, ts_.italic, False, "zh" if lang != "en" else "en")
        return (f.advance(ch) if f is not None else 1.0) * ts_.size

    text = "".join(s.text for s in spans)
    rows = []
    lg = "en" if lang == "en" else "zh"
    parts = balance_title(text, advance, g.width, ts_.size) if lg == "zh" else [text]
    for part in parts:
        for line in break_lines(_runs(ts, [Span(part)], style), g.width, _fmt(ts, g, style, lg, indent=False,
                                                                                align="left")):
            rows.append([((g.width - line.width) / 2, line)])
    return rows


# ---------------------------------------------------------------------------------------------- 版头

def _head(ts, el: T.Element) -> list:
    g = grid_of(ts)
    a = el.attrs
    rows: dict[int, list] = {}
    r = 0
    # 份号, 密级和保密期限, 紧急程度: 顶格, from the first row down (7.2.1–7.2.3)
    for key, style in (("fenhao", "gw-plain"), ("miji", "gw-heiti"), ("jinji", "gw-heiti")):
        if a.get(key):
            rows.setdefault(r, []).append((0.0, _line(ts, g, a[key], style)))
            r += 1
    # 发文机关标志: red, centred, its top 35 mm below the type area's top, never wider than the type area
    deco = []
    st = ts.sty.style("gw-biaozhi")
    size = st.size
    bz = _line(ts, g, a.get("biaozhi", ""), "gw-biaozhi", size=size)
    if bz is not None and bz.width > g.width:
        size = math.floor(size * g.width / bz.width * 2) / 2
        bz = _line(ts, g, a["biaozhi"], "gw-biaozhi", size=size)
    bottom = BIAOZHI_TOP
    if bz is not None:
        face = bz.pieces[0].face
        asc = min(face.ascent, 0.88)
        deco.append(("text", (g.width - bz.width) / 2, BIAOZHI_TOP + asc * size, bz))
        bottom = BIAOZHI_TOP + size
    r_last = int((bottom - _EPS) // g.row)
    # 发文字号 two rows below the 标志; with 签发人 (上行文) 发文字号 左空一字 and 签发人 右空一字 on its row
    names = [_plain(c.texts, "zh") for c in el.children if c.tag == "gw-qianfaren"]
    name_rows = [names[i:i + 2] for i in range(0, len(names), 2)]
    r_z = r_last + 3 + max(0, len(name_rows) - 1)
    zihao = _line(ts, g, a["zihao"], "gw-line") if a.get("zihao") else None
    if name_rows:
        label = _line(ts, g, "签发人：", "gw-plain")
        lines = [_line(ts, g, "\u3000".join(nr), "gw-kai") for nr in name_rows]
        x_names = g.width - g.pitch - lines[0].width
        r0 = r_z - len(lines) + 1
        rows.setdefault(r0, []).append((x_names - label.width, label))
        for j, ln in enumerate(lines):
            rows.setdefault(r0 + j, []).append((x_names, ln))
        if zihao is not None:
            rows.setdefault(r_z, []).append((g.pitch, zihao))
    elif zihao is not None:
        rows.setdefault(r_z, []).append(((g.width - zihao.width) / 2, zihao))
    if zihao is not None or name_rows:
        desc = 0.12 * 16
        rule_y = r_z * g.row + g.baseline(16) + desc + RULE_BELOW_ZIHAO
    else:
        rule_y = bottom + RULE_BELOW_ZIHAO
    n = int(rule_y // g.row) + 1
    grid_rows = [rows.get(i, []) for i in range(n)]
    red = ts.theme.color("red") if "red" in ts.theme.colors else (0.9, 0, 0.07)

    def decorate(c, fl: Rows):
        for _kind, x, y, line in deco:
            draw_line(c, line, x, fl.height - y)
        with artifact(c):
            c.saveState()
            c.setStrokeColorRGB(*red)
            c.setLineWidth(1.5)
            c.line(0, fl.height - rule_y, fl.width, fl.height - rule_y)    # 版头分隔线, as wide as the 版心
            c.restoreState()

    # the title goes two rows below the rule (7.3.1)
    return [Rows(g, grid_rows, decorate=decorate), BlankRows(g, 2)]


def _title(ts, el: T.Element) -> list:
    g = grid_of(ts)

    def primary(lg, spans):
        return [Rows(g, _title_rows(ts, g, spans, lg, "gw-title"),
                     tag=ts.element("H1", lang=BCP47[lang_of(lg, spans)]))]
    # 主送机关 one row below the title (7.3.2)
    return _translated(ts, g, el.texts, primary) + [BlankRows(g, 1)]


def _zhusong(ts, el: T.Element) -> list:
    g = grid_of(ts)
    return _remember(ts, _translated(ts, g, el.texts, lambda lg, sp: [_block(ts, g, sp, lg, "gw-plain")]))


# ---------------------------------------------------------------------------------------------- 正文

def _remember(ts, flows: list) -> list:
    if flows:
        _state(ts).last = flows[-1]
    return flows


def _para(ts, el: T.Element) -> list:
    g = grid_of(ts)
    label = el.attrs.get("label")

    def primary(lg, spans):
        sp = ([Span(label)] + list(spans)) if label else spans
        return [_block(ts, g, sp, lg, el.attrs.get("style", "body"))]
    return _remember(ts, _translated(ts, g, el.texts, primary))


def _heading(ts, el: T.Element) -> list:
    g = grid_of(ts)
    level = max(1, min(4, int(el.attrs.get("level", "1"))))
    state = _state(ts)
    state.counters[level - 1] += 1
    for i in range(level, 4):
        state.counters[i] = 0
    k = state.counters[level - 1]
    number = {1: f"{cn_numeral(k)}、", 2: f"（{cn_numeral(k)}）", 3: f"{k}.", 4: f"（{k}）"}[level]
    auto = el.attrs.get("number", "auto") == "auto"
    style = f"gw-h{min(level, 3)}" if level < 4 else "body"
    key = f"h{len(ts.headings)}"
    items = ts.languages_of(el.texts)
    title = " · ".join("".join(s.text for s in sp) for _, sp in items)
    ts.headings.append((level, title, key))

    def mark(canv, blk, key=key, level=level):
        doc = canv._doctemplate
        if key in doc.heading_pages:
            return
        doc.heading_pages[key] = canv.getPageNumber()
        if not doc.dry:
            canv.bookmarkPage(key)
            lvl = min(level - 1, doc.outline_level + 1)
            doc.outline_level = lvl
            shown = (number if auto and not _NUMBERED.match(title) else "") + title
            canv.addOutlineEntry(shown, key, level=lvl, closed=False)

    def primary(lg, spans):
        text = "".join(s.text for s in spans)
        sp = ([Span(number)] + list(spans)) if auto and lg != "en" and not _NUMBERED.match(text) else spans
        return [_block(ts, g, sp, lg, style, on_draw=mark, keep=True, role=f"H{level + 1}")]
    return _remember(ts, _translated(ts, g, el.texts, primary))


def _table(ts, el: T.Element) -> list:
    """A table whose rows are whole grid rows: cells hold grid paragraphs with the row pitch as leading and
    no vertical padding, so the text in the cells, and the body after the table, stay on the grid."""
    g = grid_of(ts)
    head = next((c for c in el.children if c.tag == "thead"), None)
    header = [c for c in head.children if c.tag == "cell"] if head is not None else []
    body = [[c for c in r.children if c.tag == "cell"] for r in el.children if r.tag == "row"]
    n = max([len(header)] + [len(r) for r in body] + [1])
    rel = [float(x) for x in el.attrs["widths"].split(",")] if el.attrs.get("widths") else [1.0] * n
    align = el.attrs["align"].split(",") if el.attrs.get("align") else ["left"] * n
    pad = g.pitch / 4
    # every column's text measure is whole cells (padding half a cell a column); the last takes the rest
    cells = max(n, int((g.width - n * 2 * pad) // g.pitch + _EPS))
    widths = [max(1, round(cells * r / sum(rel))) for r in rel]
    widths[-1] = max(1, cells - sum(widths[:-1]))
    col_w = [w * g.pitch + 2 * pad for w in widths]
    col_w[-1] = g.width - sum(col_w[:-1])

    table = ts.element("Table")
    head_part = ts.element("THead", table) if table is not None and header else None
    body_part = ts.element("TBody", table) if table is not None else None

    def cell(c, style, j, tr):
        out = []
        role = "TH" if style == "gw-table-head" else "TD"
        for lg, spans in ts.languages_of(c.texts)[:1]:
            blk = _block(ts, g, spans, lg, style, indent=False, keep=False,
                         place="center" if style == "gw-table-head" else align[j] if j < len(align) else "left",
                         role=role, parent=tr, scope="Column" if role == "TH" else None)
            out.append(blk)
        return out or [BlankRows(g, 0)]

    data = []
    if header:
        tr = ts.element("TR", head_part) if head_part is not None else None
        data.append([cell(c, "gw-table-head", j, tr) for j, c in enumerate(header)])
    for r in body:
        tr = ts.element("TR", body_part) if body_part is not None else None
        data.append([cell(c, "gw-table", j, tr) for j, c in enumerate(r)] + [[]] * (n - len(r)))
    line = ts.theme.color("rule") if "rule" in ts.theme.colors else (0, 0, 0)
    from reportlab.lib.colors import Color
    t = Table(data, colWidths=col_w, repeatRows=1 if header else 0, splitByRow=1, minRowHeights=[g.row] * len(data))
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, Color(*line)),
        ("FONT", (0, 0), (-1, -1), ts.sty.stacks["body"].latin[0].regular.name, 16),   # never Helvetica
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad), ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))
    out = [t]
    cap = next((c for c in el.children if c.tag == "caption"), None)
    if cap is not None and cap.texts:
        out += _translated(ts, g, cap.texts,
                           lambda lg, sp: [_block(ts, g, sp, lg, "gw-plain", indent=False, place="center")])
    return _remember(ts, out)


# ---------------------------------------------------------------------------------------------- 附件说明, 署名

def _fujian_shuoming(ts, el: T.Element) -> list:
    """附件说明 (7.3.4): one row below the body, 左空二字 “附件：”, several attachments numbered 1. 2. …;
    a long name wraps to align with its own first character."""
    g = grid_of(ts)
    items = [c for c in el.children if c.tag == "gw-item"]
    prefix = _line(ts, g, "附件：", "gw-plain")
    x_name0 = 2 * g.pitch + prefix.width
    rows = []
    for i, it in enumerate(items, 1):
        lg, spans = (ts.languages_of(it.texts) or [("zh", [])])[0]
        label = _line(ts, g, f"{i}.", "gw-plain") if len(items) > 1 else None
        x = x_name0 + (label.width if label else 0.0)
        x = math.ceil(x / (g.pitch / 2) - _EPS) * (g.pitch / 2)
        lines = break_lines(_runs(ts, spans, "gw-plain"), g.width - x,
                            _fmt(ts, g, "gw-plain", lang_of(lg, spans), indent=False))
        first = [(x, lines[0] if lines else None)]
        if label is not None:
            first.insert(0, (x_name0, label))
        if i == 1:
            first.insert(0, (2 * g.pitch, prefix))
        rows.append(first)
        rows += [[(x, ln)] for ln in lines[1:]]
    return _remember(ts, [BlankRows(g, 1), Rows(g, rows, splittable=True)])


def _sign(ts, el: T.Element) -> list:
    """发文机关署名, 成文日期 and the 印章 (7.3.5): with a seal the date is 右空四字 and the name centred on
    it, two rows below the text so the seal's top comes within a row of it; without a seal the name is
    右空二字 one row below the text and the date starts two characters right of the name's first."""
    g = grid_of(ts)
    seal = el.attrs.get("seal", "true").lower() in ("1", "true", "yes")
    items = ts.languages_of(el.texts)
    # on the cell grid: the signature may be all a last page holds, and that page's pitch is measured too
    name = _line(ts, g, items[0][1], "gw-plain") if items else None
    date = _line(ts, g, el.attrs.get("date", ""), "gw-plain")
    W, p = g.width, g.pitch
    seal = seal and name is not None
    if seal:
        xd = W - 4 * p - date.width
        xn = max(0.0, min(W - name.width, xd + (date.width - name.width) / 2))
    elif name is not None:
        xn = W - 2 * p - name.width
        xd = xn + 2 * p
        if xd + date.width > W - 2 * p:
            xd = W - 2 * p - date.width
            xn = xd - 2 * p
    else:
        xd, xn = W - 4 * p - date.width, 0.0
    blank = 2 if seal else 1
    rows = [[] for _ in range(blank)]
    if name is not None:
        rows.append([(xn, name)])
    rows.append([(xd, date)])
    red = ts.theme.color("red") if "red" in ts.theme.colors else (0.9, 0, 0.07)

    def stamp(c, fl: Rows):
        if not seal:
            return
        cx = xd + date.width / 2
        cy = fl.row_top(blank)                   # the name and date sit just below the seal's centre
        with artifact(c):                        # a placeholder for the seal: decoration, not text
            _seal(c, cx, cy, red)

    state = _state(ts)
    if state.last is not None:
        state.last.keepWithNext = True          # never a seal on a page without text (7.3.5.4)
    return _remember(ts, [Rows(g, rows, decorate=stamp)])


def _seal(c, cx: float, cy: float, red) -> None:
    """The seal placeholder: a red ring and star, 42 mm across."""
    c.saveState()
    c.setStrokeColorRGB(*red)
    c.setFillColorRGB(*red)
    c.setLineWidth(1.2 * mm)
    c.circle(cx, cy, SEAL_RADIUS - 0.6 * mm, stroke=1, fill=0)
    r_out, r_in = SEAL_RADIUS * 0.3, SEAL_RADIUS * 0.3 * 0.382
    path = c.beginPath()
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        ang = math.pi / 2 + i * math.pi / 5
        (path.moveTo if i == 0 else path.lineTo)(cx + r * math.cos(ang), cy + r * math.sin(ang))
    path.close()
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _fuzhu(ts, el: T.Element) -> list:
    """附注 (7.3.6): 居左空二字, in parentheses, the row below the 成文日期."""
    g = grid_of(ts)

    def primary(lg, spans):
        text = "".join(s.text for s in spans).strip()
        if lg != "en" and not (text.startswith("（") and text.endswith("）")):
            spans = [Span("（")] + list(spans) + [Span("）")]
        return [_block(ts, g, spans, lg, "body")]
    state = _state(ts)
    if state.last is not None:
        state.last.keepWithNext = True
    return _remember(ts, _translated(ts, g, el.texts, primary))


def _fujian_head(ts, el: T.Element) -> list:
    """附件 page (7.3.7): “附件” and its number in 黑体 顶格 on the first row, the title centred from the
    third row, the content one row below."""
    g = grid_of(ts)
    n = el.attrs.get("n", "")
    _state(ts).counters = [0, 0, 0, 0]          # each attachment numbers its headings afresh
    label = _line(ts, g, f"附件{n}", "gw-heiti")
    rows = [[(0.0, label)], []]
    items = ts.languages_of(el.texts)
    if items:
        lg, spans = items[0]
        rows += _title_rows(ts, g, spans, lg, "gw-title")
    out = [Rows(g, rows, keep_with_next=True)]
    for lg, spans in items[1:]:
        out.append(_block(ts, g, spans, lg, "gw-en", indent=False, keep=True))
    return out + [BlankRows(g, 1)]


# ---------------------------------------------------------------------------------------------- 版记

class Banji(Flowable):
    """版记 (7.4): the last rows of the type area on the last page — 抄送 (左右各空一字, wrapped lines align
    after the colon), 印发机关 (左空一字) and 印发日期 (右空一字) — between rules as wide as the 版心, the first
    and last thick, the middle thin, the last on the 版心's bottom edge.  Takes the rest of the page if it
    fits there, else moves to the next page."""

    def __init__(self, ts, g: Grid, chaosong: list[Line], chaosong_x: float, yinfa: tuple | None,
                 color=(0, 0, 0)):
        super().__init__()
        self.g, self.chaosong, self.cx, self.yinfa, self.color = g, chaosong, chaosong_x, yinfa, color
        self.k = len(chaosong) + (1 if yinfa else 0)

    def wrap(self, aw, ah):
        need = self.k * self.g.row
        self.width = aw
        self.height = ah if ah + _EPS >= need else need
        return aw, self.height

    def split(self, aw, ah):
        return []

    def draw(self):
        c = self.canv
        doc = getattr(c, "_doctemplate", None)
        page = c.getPageNumber()
        if doc is not None and page - 1 in doc.blank_pages:
            # a blank page before the 版记 page: neither is numbered (7.5)
            doc.unnumbered_pages.add(page)
        if getattr(doc, "dry", False):
            return
        g, row = self.g, self.g.row
        top = self.k * row                     # from the flowable's bottom = the 版心's bottom edge
        size = 14.0
        st = structure_of(c)
        tag = st.element("P") if st is not None else None          # the 版记's text, one paragraph
        for i, line in enumerate(self.chaosong):
            x = 0.0 if i == 0 else self.cx
            draw_line(c, line, size + x, top - i * row - g.baseline(size), tag)
        if self.yinfa:
            left, right = self.yinfa
            y = row - g.baseline(size)
            draw_line(c, left, size, y, tag)
            draw_line(c, right, self.width - size - right.width, y, tag)
        with artifact(c):
            c.saveState()
            c.setStrokeColorRGB(*self.color)
            rules = [(top, BANJI_THICK), (0.0, BANJI_THICK)]
            if self.chaosong and self.yinfa:
                rules.append((row, BANJI_THIN))
            for y, lw in rules:
                c.setLineWidth(lw)
                c.line(0, y, self.width, y)
            c.restoreState()


def _banji(ts, el: T.Element) -> list:
    g = grid_of(ts)
    size = 14.0
    cs = next((c for c in el.children if c.tag == "gw-chaosong"), None)
    lines, cx = [], 0.0
    if cs is not None:
        lg, spans = ts.languages_of(cs.texts)[0]
        label = _line(ts, g, "抄送：", "gw-banji")
        cx = label.width
        avail = g.width - 2 * size
        lines = break_lines(_runs(ts, [Span("抄送：")] + list(spans), "gw-banji"), avail - cx,
                            ParaFormat(align="left", lang="zh"), first_width=avail)
    yinfa = None
    if el.attrs.get("jiguan"):
        yinfa = (_line(ts, g, el.attrs["jiguan"], "gw-banji"), _line(ts, g, el.attrs.get("date", ""), "gw-banji"))
    color = ts.theme.color("rule") if "rule" in ts.theme.colors else (0, 0, 0)
    return [Banji(ts, g, lines, cx, yinfa, color)]


_FACTORIES = {
    "gw-head": _head, "gw-title": _title, "gw-zhusong": _zhusong, "gw-p": _para, "gw-h": _heading,
    "gw-table": _table, "gw-fujian-shuoming": _fujian_shuoming, "gw-sign": _sign, "gw-fuzhu": _fuzhu,
    "gw-fujian-head": _fujian_head, "gw-banji": _banji,
}
for _tag, _make in _FACTORIES.items():
    extensions.register(_tag, _make)
