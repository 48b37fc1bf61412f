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

from reportlab.lib.units import mm
from reportlab.platypus.flowables import CondPageBreak, Flowable, PageBreak
from reportlab.platypus.tables import Table, TableStyle

from ..errors import LayoutError
from ..layout import geometry
from ..layout import tree as T
from ..spec.inline import Span
from . import extensions, titles
from .flowables import TextBlock
from .fonts import FontStack
from .structure import BCP47, artifact, structure_of
from .breaker import break_lines
from .text import Line, ParaFormat, Run, TextStyle
from .textobject import draw_line, draw_lines
from .styles import lang_of

_EPS = 1e-6
BIAOZHI_TOP = 35 * mm            # 7.2.4: 发文机关标志 上边缘至版心上边缘 35 mm
MINGLING_TOP = 20 * mm           # 10.2: 命令格式 20 mm
XINHAN_TOP = 30 * mm             # 10.1: 信函格式 上边缘至上页边 30 mm
XINHAN_RULE, XINHAN_BOTTOM = 170 * mm, 20 * mm     # 10.1: red double lines 170 mm long; the lower 20 mm up
DOUBLE_THICK, DOUBLE_THIN, DOUBLE_GAP = 0.6 * mm, 0.25 * mm, 1.2 * mm
ZHUSONG_MIN_ROWS = 3             # rows of 正文 the 主送 must leave on page 1, else it moves to the 版记 (7.3.2)
RULE_BELOW_ZIHAO = 4 * mm        # 7.2.6: 红色分隔线 in 发文字号之下 4 mm
SEAL_RADIUS = 21 * mm            # a 42 mm seal, the usual size for 党政机关
BANJI_THICK, BANJI_THIN = 0.35 * mm, 0.25 * mm     # 7.4.1
_NUMBERED = re.compile(r"^\s*([一二三四五六七八九十百]+、|（[一二三四五六七八九十百]+）|\d+[.．]|（\d+）)")


# ---------------------------------------------------------------------------------------------- the grid

@dataclass(frozen=True)
class Grid:
    width: float            # type area, pt
    height: float
    row: float              # line pitch
    pitch: float            # character cell
    lines: int
    chars: int
    top_margin: float = 37 * mm       # the paper's edges from the type area, pt
    left_margin: float = 28 * mm
    bottom_margin: float = 35 * mm
    page_width: float = 210 * mm

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
    pw, ph = ts.theme.page_size_mm()
    return Grid(w, h, h / pt.grid.lines, w / pt.grid.chars, pt.grid.lines, pt.grid.chars,
                top_margin=(ph - area.y - area.height) * mm, left_margin=area.x * mm, bottom_margin=area.y * mm,
                page_width=pw * mm)


class _State:
    """Per-pass bookkeeping: heading counters, the last 正文 flowable and what follows it (附件说明, 署名 and
    seal, 附注: the chain that must share a page with 正文, 7.3.5.4)."""

    def __init__(self):
        self.counters = [0, 0, 0, 0]
        self.last: Flowable | None = None
        self.chain: list[Flowable] = []
        self.page1_rows = 0                  # rows page 1 has used before the 主送 (版头, title)
        self.zhusong_moved = False


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


def _line(ts, g: Grid, text: str | list[Span], style: str, *, lang="zh", color=None, size=None,
          grid: bool = True) -> Line:
    """One unbroken line (labels, dates, names); ``grid=False`` sets it at natural widths (a date placed on
    its own, whose numbers would otherwise take whole cells flush left)."""
    spans = [Span(text)] if isinstance(text, str) else text
    fmt = _fmt(ts, g, style, lang, indent=False, align="left")
    if not grid:
        fmt = ParaFormat(align="left", lang=fmt.lang)
    lines = break_lines(_runs(ts, spans, style, color=color, size=size), 1e5, fmt)
    return lines[0] if lines else Line([], 0.0, 0.0, 0.0, True)


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
    sets lines flush left); lines keep whole-cell positions when the slack is whole cells.

    ``follow`` is the height of what must go on the page of its last line (the 署名, 成文日期 and seal after
    the last 正文 paragraph, 7.3.5.4): when the paragraph fits but that does not, the paragraph splits and
    brings its last lines along (7.3.5.5), rather than leaving the seal on a page without 正文 or moving
    the whole paragraph off a page that has room for most of it."""

    short_split = True           # the grid's rules: a short paragraph may still split one line a side

    def __init__(self, *a, place: str = "left", **kw):
        super().__init__(*a, **kw)
        self.place = place
        self.follow = 0.0

    def wrap(self, aw, ah):
        w, h = super().wrap(aw, ah)
        if self.follow and h <= ah + _EPS < h + self.follow - _EPS and len(self.lines(aw)) >= 2:
            return w, ah + self.leading          # too tall with what follows: the frame asks to split
        return w, h

    def split(self, aw, ah):
        lines = self.lines(aw)
        if self.follow and len(lines) * self.leading <= ah + _EPS:
            # it fits, what follows does not: keep as many lines here as leaves one to go along
            ah = min(ah, (len(lines) - 1) * self.leading + _EPS)
        parts = super().split(aw, ah)
        for p in parts:
            if isinstance(p, TextBlock) and not isinstance(p, GridBlock):
                p.__class__ = GridBlock
                p.place = self.place
                p.follow = 0.0
        if len(parts) == 2 and self.follow:
            # the rest and what follows share the next page unless both fit here
            parts[1].follow = self.follow
            rest = len(parts[1].lines(aw)) * self.leading
            parts.insert(1, CondPageBreak(rest + self.follow - _EPS))
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

def balance_title(text: str, advance, width: float, size: float = 22.0) -> list[str]:
    """Break a title into centred lines (GB/T 9704 7.3.1: 梯形 or 菱形, words whole, see
    :func:`docgen.typeset.titles.balance`); ``advance(ch)`` is a character's width in pt."""
    return titles.balance(text, width, lambda s: sum(advance(ch) for ch in s))


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

def _biaozhi(ts, g: Grid, names: list[str], suffix: str, top: float) -> tuple[list, float]:
    """发文机关标志 (7.2.4): red, centred, its top ``top`` below the 版心's top, never wider than the 版心.  Several
    names (联合行文) are stacked, 主办机关 first, each spread to the longest one's width, with ``suffix``
    (“文件”) to their right, centred on the stack.  (x, baseline from the 版心's top, Line) each, and the bottom."""
    size = ts.sty.style("gw-biaozhi").size
    for _ in range(40):
        lines = [_line(ts, g, nm, "gw-biaozhi", size=size) for nm in names]
        suf = _line(ts, g, suffix, "gw-biaozhi", size=size) if suffix else None
        widest = max((ln.width for ln in lines if ln is not None), default=0.0)
        total = widest + (suf.width + size * 0.5 if suf is not None else 0.0)
        if total <= g.width + _EPS:
            break
        size = math.floor(size * g.width / total * 2) / 2
    if not lines or lines[0] is None:
        return [], top
    face = lines[0].pieces[0].face
    asc = min(face.ascent, 0.88)
    pitch = size * 1.2
    x0 = (g.width - total) / 2
    out = []
    for j, (nm, ln) in enumerate(zip(names, lines)):
        base = top + asc * size + j * pitch
        if len(names) == 1 or ln is None or len(nm) < 2 or ln.width >= widest - _EPS:
            out.append((x0 + (widest - ln.width) / 2 if ln is not None else x0, base, ln))
            continue
        chars = [_line(ts, g, ch, "gw-biaozhi", size=size) for ch in nm]     # 分散对齐 to the longest name
        gap = (widest - sum(c.width for c in chars)) / (len(chars) - 1)
        x = x0
        for c in chars:
            out.append((x, base, c))
            x += c.width + gap
    if suf is not None:
        mid = top + asc * size + (len(names) - 1) * pitch / 2
        out.append((x0 + widest + size * 0.5, mid, suf))
    return out, top + size + (len(names) - 1) * pitch


def _head(ts, el: T.Element) -> list:
    g = grid_of(ts)
    a = el.attrs
    fmt = a.get("format", "wenjian")
    state = _state(ts)
    rows: dict[int, list] = {}
    names = [_plain(c.texts, "zh") for c in el.children if c.tag == "gw-jiguan"]
    if fmt == "xinhan":
        names = names[:1]                       # 10.1: 联合行文时，使用主办机关标志
    # 标志: 35 mm below the 版心's top (文件, 纪要), 20 mm (命令), 30 mm below the paper's top (信函)
    top = {"xinhan": XINHAN_TOP - g.top_margin, "mingling": MINGLING_TOP}.get(fmt, BIAOZHI_TOP)
    deco, bottom = _biaozhi(ts, g, names, "文件" if fmt == "wenjian" and len(names) > 1 else "", top)
    # 份号, 密级和保密期限, 紧急程度: 顶格, from the first row down (7.2.1–7.2.3); 信函格式 under the double line
    r = 0
    dbl_y = bottom + RULE_BELOW_ZIHAO if fmt == "xinhan" else None
    if dbl_y is not None:
        # 10.1: the first element's top 3号 7/8 below the double line
        r = max(0, math.ceil((dbl_y + 16 * 7 / 8 - (g.baseline(16) - 0.88 * 16)) / g.row - _EPS))
    r_first = r
    for key, style in (("fenhao", "gw-plain"), ("miji", "gw-heiti"), ("jinji", "gw-heiti")):
        if a.get(key):
            rows.setdefault(r, []).append((0.0, _line(ts, g, a[key], style)))
            r += 1
    r_last = int((bottom - _EPS) // g.row)
    zihao = _line(ts, g, a["zihao"], "gw-line") if a.get("zihao") else None
    rule_y = None
    if fmt == "xinhan":
        # 10.1: 发文字号 顶格 at the 版心's right edge, on the first element's row; the title two rows below
        if zihao is not None:
            rows.setdefault(r_first, []).append((g.width - zihao.width, zihao))
        n = max(r, r_first + (1 if zihao is not None else 0), int((dbl_y or 0) // g.row) + 1)
    elif fmt == "mingling":
        # 10.2: 令号 two rows below the 标志, centred; the 正文 two rows below it; no rule
        ling = _line(ts, g, a["linghao"], "gw-plain", grid=False) if a.get("linghao") else None
        n = r_last + 1
        if ling is not None:
            rows.setdefault(r_last + 3, []).append(((g.width - ling.width) / 2, ling))
            n = r_last + 4
        if zihao is not None:
            rows.setdefault(n + 1, []).append(((g.width - zihao.width) / 2, zihao))
            n += 2
    else:
        # 发文字号 two rows below the 标志; with 签发人 (上行文) 发文字号 左空一字 and 签发人 右空一字 on its row;
        # 纪要格式: its date 右空一字 on that row
        people = [_plain(c.texts, "zh") for c in el.children if c.tag == "gw-qianfaren"]
        name_rows = [people[i:i + 2] for i in range(0, len(people), 2)]
        r_z = r_last + 3 + max(0, len(name_rows) - 1)
        date = _line(ts, g, a["date"], "gw-plain", grid=False) if a.get("date") else None
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
        elif date is not None:
            rows.setdefault(r_z, []).append((g.width - g.pitch - date.width, date))
            if zihao is not None:
                rows.setdefault(r_z, []).append((g.pitch, zihao))
        elif zihao is not None:
            rows.setdefault(r_z, []).append(((g.width - zihao.width) / 2, zihao))
        if zihao is not None or name_rows or date is not None:
            rule_y = r_z * g.row + g.baseline(16) + 0.12 * 16 + RULE_BELOW_ZIHAO
        else:
            rule_y = bottom + RULE_BELOW_ZIHAO
        n = int(rule_y // g.row) + 1
    grid_rows = [rows.get(i, []) for i in range(n)]
    red = ts.theme.color("red") if "red" in ts.theme.colors else (0.9, 0, 0.07)
    page_bottom = g.top_margin + g.height + g.bottom_margin     # the paper's height
    xl = (g.page_width - XINHAN_RULE) / 2 - g.left_margin       # the double lines: 170 mm, centred on the page

    def decorate(c, fl: Rows):
        doc = getattr(c, "_doctemplate", None)
        if fmt == "xinhan" and doc is not None:
            doc.unnumbered_pages.add(c.getPageNumber())        # 10.1: 首页不显示页码
        for x, y, line in deco:
            if line is not None:
                draw_line(c, line, x, fl.height - y)
        with artifact(c):
            c.saveState()
            c.setStrokeColorRGB(*red)
            if rule_y is not None:
                c.setLineWidth(1.5)
                c.line(0, fl.height - rule_y, fl.width, fl.height - rule_y)    # 版头分隔线, as wide as the 版心
            if dbl_y is not None:
                # 10.1: under the 标志 上粗下细; 20 mm above the paper's bottom 上细下粗
                lower = page_bottom - g.top_margin - XINHAN_BOTTOM
                for y, w in ((dbl_y, DOUBLE_THICK), (dbl_y + DOUBLE_GAP, DOUBLE_THIN),
                             (lower - DOUBLE_GAP, DOUBLE_THIN), (lower, DOUBLE_THICK)):
                    c.setLineWidth(w)
                    c.line(xl, fl.height - y, xl + XINHAN_RULE, fl.height - y)
            c.restoreState()

    # the title two rows below the rule (7.3.1; 信函: below the last element; 命令: the 正文 below the 令号)
    out = [Rows(g, grid_rows, decorate=decorate), BlankRows(g, 2)]
    state.page1_rows = n + 2
    return out


def _title(ts, el: T.Element) -> list:
    g = grid_of(ts)

    def primary(lg, spans):
        return [Rows(g, _title_rows(ts, g, spans, lg, "gw-title"),
                     tag=ts.element("H1", lang=BCP47[lang_of(lg, spans)]))]
    # 主送机关 one row below the title (7.3.2)
    out = _translated(ts, g, el.texts, primary) + [BlankRows(g, 1)]
    _state(ts).page1_rows += sum(_rows_of(g, f) for f in out)
    return out


def _zhusong(ts, el: T.Element) -> list:
    """主送机关 (7.3.2): 顶格 one row below the title.  When so many that page 1 would keep fewer than
    ``ZHUSONG_MIN_ROWS`` rows for 正文 (公文首页必须显示正文), they move to the 版记, above the 抄送, with a
    warning."""
    g = grid_of(ts)
    st = _state(ts)
    flows = _translated(ts, g, el.texts, lambda lg, sp: [_block(ts, g, sp, lg, "gw-plain")])
    n = sum(_rows_of(g, f) for f in flows)
    if g.lines - st.page1_rows - n < ZHUSONG_MIN_ROWS:
        st.zhusong_moved = True
        msg = (f"gongwen.zhusong: the 主送机关 take {n} lines and would leave page 1 fewer than {ZHUSONG_MIN_ROWS} "
               "rows of 正文; moved to the 版记 above the 抄送 (GB/T 9704-2012 7.3.2)")
        _warn(ts, msg)
        return []
    return _remember(ts, flows)


# ---------------------------------------------------------------------------------------------- 正文

def _remember(ts, flows: list) -> list:
    """``flows`` are 正文 (or 主送): the last of them is what the 署名 chain keeps with."""
    if flows:
        st = _state(ts)
        st.last, st.chain = flows[-1], []
    return flows


def _rows_of(g: Grid, f: Flowable) -> int:
    if isinstance(f, Rows):
        return len(f.rows)
    if isinstance(f, BlankRows):
        return f.n
    if isinstance(f, TextBlock):
        return len(f.lines(g.width))
    return 0


def _follow(ts, g: Grid, flows: list) -> list:
    """附件说明, 署名 and 附注 after the 正文: one chain kept together, and kept with the last 正文 lines — a
    paragraph brings its last lines along (:class:`GridBlock` ``follow``), anything else keeps with the chain
    whole.  Never a 署名 or seal on a page without 正文 (7.3.4, 7.3.5.4, 7.3.5.5)."""
    st = _state(ts)
    for f in st.chain[-1:] + flows[:-1]:
        f.keepWithNext = True
    if isinstance(st.last, GridBlock) and not st.last.keepWithNext:
        st.last.follow += sum(_rows_of(g, f) for f in flows) * g.row
    elif st.last is not None:
        st.last.keepWithNext = True
    st.chain += flows
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
        first = [(x, ln) for ln in lines[:1]]
        if label is not None:
            first.insert(0, (x_name0, label))
        if i == 1:
            first.insert(0, (2 * g.pitch, prefix))
        rows.append(first)
        rows += [[(x, ln)] for ln in lines[1:]]
    return _follow(ts, g, [BlankRows(g, 1), Rows(g, rows, splittable=True)])


SEAL_STEP = 46 * mm                # centre to centre of seals side by side: 42 mm seals that never touch


def _sign(ts, el: T.Element) -> list:
    """发文机关署名, 成文日期 and the 印章 (7.3.5).  With a seal the date is 右空四字 and the name centred on it, two
    rows below the text so the seal's top comes within a row of it; 联合行文 puts the seals side by side in
    the order of the 署名 (主办机关 first, at most three a row, never touching), the last over the date.
    Without a seal the name is 右空二字 one row below the text and the date starts two characters right of
    the name's first; 联合行文 stacks the names, 主办机关 first.  命令格式: the 签发人's 签名章 右空四字 two rows
    below the text, the 职务 two characters to its left, the date one row below (7.3.5.3)."""
    g = grid_of(ts)
    if el.attrs.get("format") == "mingling":
        return _sign_ling(ts, g, el)
    seal = el.attrs.get("seal", "true").lower() in ("1", "true", "yes")
    names = []
    for c in el.children:
        if c.tag == "gw-name":
            items = ts.languages_of(c.texts)
            if items:
                names.append(_line(ts, g, items[0][1], "gw-plain"))
    date = _line(ts, g, el.attrs.get("date", ""), "gw-plain", grid=False)
    W, p = g.width, g.pitch
    seal = seal and bool(names)
    rows: list[list] = []
    seals: list[tuple[float, int]] = []          # (centre x, row whose top is the centre)
    if seal:
        xd = W - 4 * p - date.width
        cx_last = xd + date.width / 2
        groups = [names[i:i + 3] for i in range(0, len(names), 3)]
        for gi, grp in enumerate(groups):
            m = len(grp)
            widest = max(n.width for n in grp)
            step = SEAL_STEP if m == 1 else min(max(SEAL_STEP, widest + 2 * p), (cx_last - SEAL_RADIUS) / (m - 1))
            rows += [[] for _ in range(2 if gi == 0 else 4)]       # seal rows never overlap: 5 rows apart
            row = []
            for j, nm in enumerate(grp):
                cx = cx_last - (m - 1 - j) * step
                row.append((max(0.0, min(W - nm.width, cx - nm.width / 2)), nm))
                seals.append((cx, len(rows)))
            rows.append(row)
        rows.append([(xd, date)])
    elif names:
        widest = max(n.width for n in names)
        xd = W - widest                         # two characters right of the (widest) name's first
        if xd + date.width > W - 2 * p:         # a date longer than the name: the date 右空二字, the name left
            xd = W - 2 * p - date.width
        rows.append([])
        for nm in names:
            rows.append([(min(W - 2 * p - nm.width, xd - 2 * p), nm)])
        rows.append([(xd, date)])
    else:
        rows = [[], [(W - 4 * p - date.width, date)]]
    red = ts.theme.color("red") if "red" in ts.theme.colors else (0.9, 0, 0.07)

    def stamp(c, fl: Rows):
        for cx, r in seals:
            with artifact(c):                    # a placeholder for the seal: decoration, not text
                _seal(c, cx, fl.row_top(r), red)  # the name and date sit just below the seal's centre

    return _follow(ts, g, [Rows(g, rows, decorate=stamp if seals else None)])


def _sign_ling(ts, g: Grid, el: T.Element) -> list:
    W, p = g.width, g.pitch
    names = [_plain(c.texts, "zh") for c in el.children if c.tag == "gw-name"]
    date = _line(ts, g, el.attrs.get("date", ""), "gw-plain", grid=False)
    rows: list[list] = [[], []]
    box = None
    if names:
        name = _line(ts, g, names[0], "gw-kai")
        right = W - 4 * p
        box = (right - name.width - p, right)               # the 签名章 placeholder around the name
        row = [(right - p / 2 - name.width, name)]
        if el.attrs.get("zhiwu"):
            zw = _line(ts, g, el.attrs["zhiwu"], "gw-plain")
            row.insert(0, (box[0] - 2 * p - zw.width, zw))
        rows.append(row)
        rows.append([])
    rows.append([(W - 4 * p - date.width, date)])
    red = ts.theme.color("red") if "red" in ts.theme.colors else (0.9, 0, 0.07)
    seal = el.attrs.get("seal", "true").lower() in ("1", "true", "yes")

    def stamp(c, fl: Rows):
        if box is None or not seal:
            return
        with artifact(c):
            c.saveState()
            c.setStrokeColorRGB(*red)
            c.setLineWidth(0.8 * mm)
            top = fl.row_top(2) + g.row * 0.3
            c.rect(box[0], top - g.row * 1.6, box[1] - box[0], g.row * 1.6, stroke=1, fill=0)
            c.restoreState()

    return _follow(ts, g, [Rows(g, rows, decorate=stamp)])


def _renyuan(ts, el: T.Element) -> list:
    """纪要格式 (10.3): 出席, 请假, 列席 — one row below the 正文 for the first, each list on a new row: the
    label 左空二字 in 黑体 with a full-width colon, the names in 仿宋 after it, wrapped lines aligned after
    the colon."""
    g = grid_of(ts)
    label = _line(ts, g, f"{el.attrs.get('label', '出席')}：", "gw-heiti")
    x = 2 * g.pitch + label.width
    lg, spans = (ts.languages_of(el.texts) or [("zh", [])])[0]
    lines = break_lines(_runs(ts, spans, "gw-plain"), g.width - x, _fmt(ts, g, "gw-plain", lang_of(lg, spans),
                                                                        indent=False))
    rows = [[(2 * g.pitch, label)] + ([(x, lines[0])] if lines else [])] + [[(x, ln)] for ln in lines[1:]]
    first = el.attrs.get("first", "True") == "True"
    return _follow(ts, g, ([BlankRows(g, 1)] if first else []) + [Rows(g, rows, splittable=True)])


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
    return _follow(ts, g, _translated(ts, g, el.texts, primary))


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
    """版记 (7.4): the last rows of the type area on the last page — a moved 主送 (7.3.2) and the 抄送 (左右各空一字,
    wrapped lines align after the colon), 印发机关 (左空一字) and 印发日期 (右空一字) — between rules as wide as the
    版心, the first and last thick, those between thin, the last on the 版心's bottom edge (信函格式: no rules
    and no 印发 line, 10.1).  Takes the rest of the page if it fits there, else moves to the next page; printed
    double-sided (``even``) it goes on an even page, the 封四, after an unnumbered blank page when needed."""

    def __init__(self, ts, g: Grid, groups: list[tuple[list[Line], float]], yinfa: tuple | None,
                 color=(0, 0, 0), *, rules: bool = True, even: bool = True):
        super().__init__()
        self.g, self.groups, self.yinfa, self.color = g, groups, yinfa, color
        self.rules, self.even = rules, even
        self.k = sum(len(lines) for lines, _ in groups) + (1 if yinfa else 0)

    def _odd_page(self) -> bool:
        c = getattr(self, "canv", None)
        return self.even and c is not None and c.getPageNumber() % 2 == 1

    def wrap(self, aw, ah):
        need = self.k * self.g.row
        self.width = aw
        if self._odd_page():
            self.height = ah + self.g.row           # not on an odd page: on to the next
        else:
            self.height = ah if ah + _EPS >= need else need
        return aw, self.height

    def split(self, aw, ah):
        frame = getattr(getattr(getattr(self, "canv", None), "_doctemplate", None), "frame", None)
        if self._odd_page() and frame is not None and frame._atTop:
            # an odd page with nothing on it: it stays blank (and unnumbered), the 版记 takes the even page
            return [PageBreak(), Banji(None, self.g, self.groups, self.yinfa, self.color, rules=self.rules,
                                       even=self.even)]
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
        y = top
        between = []
        for lines, cx in self.groups:
            for i, line in enumerate(lines):
                x = 0.0 if i == 0 else cx
                draw_line(c, line, size + x, y - i * row - g.baseline(size), tag)
            y -= len(lines) * row
            between.append(y)
        if self.yinfa:
            left, right = self.yinfa
            yy = row - g.baseline(size)
            draw_line(c, left, size, yy, tag)
            draw_line(c, right, self.width - size - right.width, yy, tag)
        if not self.rules:
            return
        with artifact(c):
            c.saveState()
            c.setStrokeColorRGB(*self.color)
            rules = [(top, BANJI_THICK), (0.0, BANJI_THICK)]
            rules += [(y, BANJI_THIN) for y in between if y > _EPS]
            for y, lw in rules:
                c.setLineWidth(lw)
                c.line(0, y, self.width, y)
            c.restoreState()


def _banji(ts, el: T.Element) -> list:
    g = grid_of(ts)
    size = 14.0
    fmt = el.attrs.get("format", "wenjian")
    state = _state(ts)
    groups = []
    avail = g.width - 2 * size
    for tag, label in (("gw-zhusong", "主送："), ("gw-chaosong", "抄送：")):
        el2 = next((c for c in el.children if c.tag == tag), None)
        if el2 is None or (tag == "gw-zhusong" and not state.zhusong_moved):
            continue
        lg, spans = ts.languages_of(el2.texts)[0]
        cx = _line(ts, g, label, "gw-banji").width
        lines = break_lines(_runs(ts, [Span(label)] + list(spans), "gw-banji"), avail - cx,
                            ParaFormat(align="left", lang="zh"), first_width=avail)
        groups.append((lines, cx))
    yinfa = None
    if el.attrs.get("jiguan"):
        if fmt == "xinhan":
            _warn(ts, "gongwen.yinfa_jiguan: 信函格式 prints no 印发机关 and 印发日期 in the 版记 "
                      "(GB/T 9704-2012 10.1)")
        else:
            yinfa = (_line(ts, g, el.attrs["jiguan"], "gw-banji"), _line(ts, g, el.attrs.get("date", ""), "gw-banji"))
    elif fmt == "wenjian":
        _warn(ts, "gongwen.yinfa_jiguan: missing — a 文件格式 document's 版记 names the 印发机关 and 印发日期 "
                  "(GB/T 9704-2012 7.4.3)")
    if not groups and yinfa is None:
        return []
    color = ts.theme.color("rule") if "rule" in ts.theme.colors else (0, 0, 0)
    even = el.attrs.get("shuangmian", "True").lower() in ("1", "true", "yes")
    return [Banji(ts, g, groups, yinfa, color, rules=fmt != "xinhan", even=even)]


def _warn(ts, msg: str) -> None:
    if msg not in ts.warnings:                  # the layout runs twice
        ts.warnings.append(msg)


_FACTORIES = {
    "gw-head": _head, "gw-title": _title, "gw-zhusong": _zhusong, "gw-p": _para, "gw-h": _heading,
    "gw-table": _table, "gw-fujian-shuoming": _fujian_shuoming, "gw-sign": _sign, "gw-fuzhu": _fuzhu,
    "gw-fujian-head": _fujian_head, "gw-banji": _banji, "gw-renyuan": _renyuan,
}
for _tag, _make in _FACTORIES.items():
    extensions.register(_tag, _make)
