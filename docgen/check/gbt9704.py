"""GB/T 9704-2012 (党政机关公文格式) measured on a PDF: pages of text lines and rules in, violations out.

The numbers (sections 5, 7 and 10 of the standard): A4 paper; 天头 37 mm and 订口 28 mm; 版心 156 × 225 mm;
3号 body text, 22 lines a page of 28 characters; page numbers “— n —” in 4号 half-width digits 7 mm below
the 版心, odd pages 右空一字 and even pages 左空一字, blank pages unnumbered; the 发文机关标志 35 mm below the
版心's top (命令格式 20 mm, 信函格式 30 mm below the paper's top); the red rule as wide as the 版心 4 mm under
the 发文字号 (信函格式: red double lines 170 mm long); the title in 2号 小标宋; the 版记 in the last rows of the
last page.  The 版心 is measured, not assumed: its top from the grid rows the body lines sit on (text centred
in its row, as a word processor's document grid sets it), its left edge from the full lines; every other
position (page number, 标志, 版记, indents) is taken from that measured 版心, so a 天头 inside the ±1 mm
tolerance moves nothing else into violation, and a type area moved by a wrongly measured margin shows even
when no character leaves the page.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from .clreq import NO_END, NO_START
from .fontroles import FANGSONG, HEITI, KAITI, XIAOBIAOSONG, is_cjk, line_role
from .text import MM, Page, Rule, TextLine, body_size, check_breaks, is_red
from .words import broken_words, has_dictionary

PAPER = (210 * MM, 297 * MM)
TOP, LEFT, W, H = 37 * MM, 28 * MM, 156 * MM, 225 * MM
LINES, CHARS = 22, 28
SLOT = H / LINES
SIZE_TOL = 0.2                                   # pt; 3号 is 16 pt, 2号 22 pt, 4号 14 pt
EPS = 0.02 * MM                                  # a measurement exactly at the tolerance passes
FORMATS = {"wenjian": "文件格式", "xinhan": "信函格式", "mingling": "命令格式", "jiyao": "纪要格式"}
BIAOZHI_TOP = {"wenjian": ("版心", 35), "jiyao": ("版心", 35), "mingling": ("版心", 20), "xinhan": ("纸张", 30)}

FOLIO = re.compile(r"^(\S)(\d+)(\S)$")
FOLIO_ANY = re.compile(r"^[—－\-–―]?\s*([0-9０-９]+)\s*[—－\-–―]?$")
NUM = "0-9０-９〇零一二三四五六七八九十"
DATE_ANY = re.compile(rf"^([{NUM}]+)年([{NUM}]+)月([{NUM}]+)日$")
DATE_OK = re.compile(r"^[1-9][0-9]{3}年[1-9][0-9]?月[1-9][0-9]?日$")
ZIHAO_ANY = re.compile(r"([〔\[［【(（〖])\s*([0-9０-９]+)\s*([〕\]］】)）〗])\s*(第?)\s*([0-9０-９]+)\s*号")
H1 = re.compile(r"^[一二三四五六七八九十]+、")
H2 = re.compile(r"^（[一二三四五六七八九十]+）")
FUJIAN_PAGE = re.compile(r"^附件[0-9]*$")


@dataclass
class Area:
    """The 版心 as measured on one page (pt from the page's top-left corner)."""
    top: float
    left: float

    @property
    def right(self) -> float:
        return self.left + W

    @property
    def bottom(self) -> float:
        return self.top + H


def check(pages: list[Page], report, *, tol: float, fmt: str | None = None) -> None:
    size = body_size(pages)
    if size is None:
        report.add("empty", 1, None, "the PDF has no text")
        return
    report.infos.append(f"body text {size}pt (3号 is 16pt)")
    if abs(size - 16) > SIZE_TOL:           # 7.3.3: 正文 一般用3号仿宋体字
        report.add("body-size", 1, None, f"body text is {size}pt; GB/T 9704 sets it in 3号 (16pt ± {SIZE_TOL}pt)")
    areas = _measure(pages, size, report, tol)
    p1 = pages[0]
    detected, why = detect_format(p1, areas[1])
    if fmt is None:
        fmt = detected
        report.infos.append(f"format {FORMATS[fmt]} ({fmt}), detected: {why}")
    elif fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    else:
        report.infos.append(f"format {FORMATS[fmt]} ({fmt}), given"
                            + ("" if fmt == detected else f"; the PDF looks like {FORMATS[detected]}: {why}"))
    last = len(pages)
    for p in pages:
        a = areas[p.number]
        _paper(p, report, tol)
        folio_lines = [ln for ln in p.lines if ln.top > a.bottom + tol]
        inside = [ln for ln in p.lines if ln not in folio_lines]
        _margins(p, a, inside, folio_lines, report, tol, fmt)
        _grid(p, a, [ln for ln in inside if ln.size == size], size, report, tol)
        _grid_numbers(p, [ln for ln in inside if ln.size == size], size, report)
        _folio(p, pages, areas, folio_lines, report, tol, last, fmt)
    head = _head(p1, areas[1], size, report, tol, fmt)
    title = _title(p1, areas[1], size, head, report, tol, fmt)
    _text(pages, areas, size, head, title, report, tol, fmt)
    _dates(pages, size, report)
    _banji(pages, areas, size, report, tol, fmt)
    right = statistics.median(a.right for a in areas.values())
    body = [(p, ln) for p in pages for ln in p.lines if ln.size == size and ln.top <= areas[p.number].bottom]
    check_breaks(pages, report, right_edge=right, lines=body)


# ---------------------------------------------------------------------------------------------- 版心

def _measure(pages: list[Page], size: float, report, tol) -> dict[int, Area]:
    """The 版心 of each page: its top from the phase of the body lines' baselines on the 22-row grid (5.2.2),
    its left edge from the lines that fill the measure (回行顶格); pages without body lines take the median."""
    phase0 = (SLOT + size * 0.76) / 2
    tops: dict[int, float] = {}
    for p in pages:
        bl = [ln for ln in p.lines if ln.size == size and ln.top < TOP + H + 3 * MM]
        if bl:
            offs = [((ln.base - TOP - phase0 + SLOT / 2) % SLOT) - SLOT / 2 for ln in bl]
            tops[p.number] = TOP + statistics.median(offs)
    # the left edge: the smallest start shared by two body lines (回行顶格 lines, 主送), so that one line
    # hanging out of the 版心 is reported rather than taken for the edge
    starts = Counter(round(ln.x0 * 2) / 2 for p in pages for ln in p.lines if ln.size == size)
    shared = sorted(x for x, n in starts.items() if n >= 2) or sorted(starts)
    if shared:
        first = next((p, ln) for p in pages for ln in p.lines if ln.size == size and round(ln.x0 * 2) / 2 == shared[0])
        left = first[1].x0
        if abs(left - LEFT) > tol + EPS:    # 5.2.1: 订口 28 mm
            where = "left of the 版心" if left < LEFT else "right of the 版心's left edge"
            report.add("margin", first[0].number, first[1].pos(),
                       f"the text starts {abs(left - LEFT) / MM:.1f} mm {where} "
                       f"(订口 {left / MM:.1f} mm, expected 28 mm)")
    else:
        left = LEFT
    top0 = statistics.median(tops.values()) if tops else TOP
    out = {}
    for p in pages:
        top = tops.get(p.number, top0)
        out[p.number] = Area(top, left)
        if p.number in tops and abs(top - TOP) > tol + EPS:   # 5.2.1: 天头 37 mm
            report.add("grid-phase", p.number, None,
                       f"body lines sit {abs(top - TOP) / MM:.1f} mm {'lower' if top > TOP else 'higher'} "
                       f"than rows of a {LINES}-line grid from a 37 mm 天头 (天头 measured as {top / MM:.1f} mm: "
                       "measured from the wrong edge, or a wrong line pitch?)")
    report.infos.append(f"版心 measured at 天头 {top0 / MM:.1f} mm, 订口 {left / MM:.1f} mm")
    return out


def _paper(p: Page, report, tol):
    if abs(p.width - PAPER[0]) > tol or abs(p.height - PAPER[1]) > tol:     # 5.1
        report.add("paper", p.number, None, f"page is {p.width / MM:.1f} × {p.height / MM:.1f} mm; "
                                            "GB/T 9704 uses A4 (210 × 297 mm)")


def _margins(p: Page, a: Area, inside: list[TextLine], below: list[TextLine], report, tol, fmt):
    for ln in inside:
        what = []
        if ln.x0 < a.left - tol:
            what.append(f"starts {(a.left - ln.x0) / MM:.1f} mm left of the 版心 (at {ln.x0 / MM:.1f} mm)")
        if ln.x1 > a.right + tol:
            tail = ln.chars[-1]["text"]
            if tail in "，。、；：！？）》”’":
                what.append(f"punctuation {tail!r} hangs {(ln.x1 - a.right) / MM:.1f} mm outside the 版心")
            else:
                what.append(f"ends {(ln.x1 - a.right) / MM:.1f} mm right of the 版心")
        xinhan_head = fmt == "xinhan" and p.number == 1 and ln.top < a.top + 20 * MM
        if ln.top < a.top - tol and not xinhan_head:     # 10.1: the 信函 标志 sits above the 版心
            what.append(f"is {(a.top - ln.top) / MM:.1f} mm above the 版心 (at {ln.top / MM:.1f} mm)")
        if what:
            report.add("margin", p.number, ln.pos(), f"{ln.text[:16]!r} " + "; ".join(what))
    for ln in below:
        if not FOLIO_ANY.match(ln.text):
            report.add("margin", p.number, ln.pos(), f"{ln.text[:16]!r} is below the 版心 (only the page number "
                                                     "goes there)")


def _grid(p: Page, a: Area, blines: list[TextLine], size: float, report, tol):
    if not blines:
        return
    phase0 = (SLOT + size * 0.76) / 2
    offs = [((ln.base - a.top - phase0 + SLOT / 2) % SLOT) - SLOT / 2 for ln in blines]
    shift = statistics.median(offs)
    for ln, o in zip(blines, offs):
        if abs(o - shift) > tol:
            report.add("grid-line", p.number, ln.pos(),
                       f"line off the {LINES}-line grid by {(o - shift) / MM:+.1f} mm: {ln.text[:16]!r}")
    rows = sorted({round((ln.base - a.top - phase0 - shift) / SLOT) for ln in blines})
    if rows[0] < 0 or rows[-1] > LINES - 1:
        report.add("grid-line", p.number, None, f"body lines on grid rows {rows[0] + 1}..{rows[-1] + 1}; the page "
                                                f"has {LINES} (line pitch {SLOT:.2f}pt = 225 mm / {LINES})")
    pitches = []
    for ln in blines:
        cj = [c for c in ln.chars if is_cjk(c["text"])]
        pitches += [b["x0"] - a_["x0"] for a_, b in zip(cj, cj[1:]) if 0 < b["x0"] - a_["x0"] < 1.5 * size]
    if pitches:
        pm = Counter(round(x, 2) for x in pitches).most_common(1)[0][0]
        per_line = W / pm
        report.infos.append(f"p{p.number}: {len(blines)} body lines on rows {rows[0] + 1}..{rows[-1] + 1}, "
                            f"character pitch {pm:.2f}pt = {per_line:.2f} a line")
        if int(per_line + 0.02) != CHARS:      # 5.2.2: 每行排28个字
            report.add("grid-chars", p.number, None,
                       f"character pitch {pm:.2f}pt sets {per_line:.1f} characters a line; GB/T 9704 has {CHARS} "
                       f"(pitch {W / CHARS:.2f}pt = 156 mm / {CHARS})")


_HAN = re.compile(r"[\u4e00-\u9fff]")
_NUMBER_RUN = re.compile(r"[0-9A-Za-z.%]+")


def _grid_numbers(p: Page, blines: list[TextLine], size: float, report):
    """On the character grid a number or Latin word between two Han characters takes whole cells with the slack
    split evenly around it (`2026年3月6日`, not `2026 年3 月6 日`): the gap before it and the gap after it
    differ by at most a quarter of a character."""
    for ln in blines:
        ch = ln.chars
        for m in _NUMBER_RUN.finditer(ln.text):
            i, j = m.start(), m.end()
            if i == 0 or j >= len(ch) or not (_HAN.match(ch[i - 1]["text"]) and _HAN.match(ch[j]["text"])):
                continue
            before = ch[i]["x0"] - ch[i - 1]["x1"]
            after = ch[j]["x0"] - ch[j - 1]["x1"]
            if max(before, after) > size:
                continue                         # not one run of text: table cells, items apart on a row
            if abs(before - after) > size / 4:
                report.add("grid-number", p.number, ln.pos(),
                           f"{ln.text[max(0, i - 2):j + 2]!r}: {m.group()!r} sits {before:.1f}pt after the character "
                           f"before it and {after:.1f}pt before the one after; on the grid a number takes whole "
                           "cells with the slack split evenly around it")


# ---------------------------------------------------------------------------------------------- 页码

def _is_blank(p: Page, a: Area) -> bool:
    return not [ln for ln in p.lines if ln.top <= a.bottom]


def _folio(p: Page, pages, areas, below: list[TextLine], report, tol, last: int, fmt):
    a = areas[p.number]
    nums = [ln for ln in below if FOLIO_ANY.match(ln.text)]
    blank = _is_blank(p, a)
    after_blank = p.number == last and p.number > 1 and _is_blank(pages[p.number - 2], areas[p.number - 1])
    unnumbered = fmt == "xinhan" and p.number == 1        # 10.1: 信函格式首页不显示页码
    if not nums:
        if not blank and not after_blank and not unnumbered:
            report.add("folio", p.number, None, "no page number “— n —” below the 版心")
        return
    ln = nums[0]
    if unnumbered:
        report.add("folio", p.number, ln.pos(), "信函格式: the first page shows no page number (10.1)")
    if blank:
        report.add("folio", p.number, ln.pos(), "a blank page is numbered; blank pages go unnumbered")
    if after_blank:
        report.add("folio", p.number, ln.pos(), "the 版记 page after a blank page is numbered; neither is")
    if re.search(r"[０-９]", ln.text):
        report.add("folio", p.number, ln.pos(), f"page number {ln.text!r} has full-width digits; use 半角 digits (7.5)")
        return
    m = FOLIO.match(ln.text)
    if m is None or m.group(1) != "—" or m.group(3) != "—":
        # 7.5: 数码左右各放一条一字线 — the 一字线 is U+2014, not a hyphen or a full-width minus
        dashes = sorted({f"U+{ord(ch):04X} {ch!r}" for ch in ln.text if not ch.isdigit()})
        report.add("folio", p.number, ln.pos(), f"page number {ln.text!r}: expected “— n —” with an 一字线 (U+2014 —) "
                                                f"each side" + (f"; found {', '.join(dashes)}" if dashes else ""))
        return
    num = int(m.group(2))
    if num != p.number:
        report.add("folio", p.number, ln.pos(), f"page number {num} on page {p.number} (numbers run on continuously)")
    if abs(ln.size - 14) > SIZE_TOL:
        report.add("folio", p.number, ln.pos(), f"page number in {ln.size}pt; GB/T 9704 uses 4号 (14pt)")
    ch = ln.chars
    gaps = (ch[1]["x0"] - ch[0]["x1"], ch[-1]["x0"] - ch[-2]["x1"])
    if min(gaps) < -0.5 or max(gaps) > ln.size / 2 or abs(gaps[0] - gaps[1]) > 1.0:
        report.add("folio", p.number, ln.pos(), f"page number {ln.text!r}: the 一字线 sit {gaps[0]:.1f}pt and "
                                                f"{gaps[1]:.1f}pt from the digits; they go right beside them, evenly "
                                                "(at most half a character)")
    gap = ln.top - a.bottom
    if abs(gap - 7 * MM) > tol:              # 7.5: 一字线上距版心下边缘7 mm
        report.add("folio", p.number, ln.pos(), f"page number {gap / MM:.1f} mm below the 版心; expected 7 mm")
    one = ln.size
    if num % 2:
        if abs(ln.x1 - (a.right - one)) > tol:
            side = "left" if ln.x0 < a.left + W / 2 else "right"
            report.add("folio", p.number, ln.pos(),
                       f"odd page: the number should end one character ({one:.0f}pt) inside the 版心's right edge; "
                       f"it is on the {side}, {(a.right - ln.x1) / MM:.1f} mm from that edge")
    elif abs(ln.x0 - (a.left + one)) > tol:
        side = "right" if ln.x1 > a.left + W / 2 else "left"
        report.add("folio", p.number, ln.pos(),
                   f"even page: the number should start one character ({one:.0f}pt) inside the 版心's left edge; "
                   f"it is on the {side}, {(ln.x0 - a.left) / MM:.1f} mm from that edge")


# ---------------------------------------------------------------------------------------------- 版头

@dataclass
class Head:
    biaozhi: list[TextLine]
    zihao: TextLine | None
    rule_y: float | None                   # the bottom of the 版头 (its red rule or double line)
    bottom: float                          # everything above this belongs to the 版头


def _red_line(ln: TextLine) -> bool:
    return sum(is_red(c.get("non_stroking_color")) for c in ln.chars) > len(ln.chars) / 2


def _red_rules(p: Page) -> list[Rule]:
    return sorted((r for r in p.rules if is_red(r.color) and r.length > W / 2), key=lambda r: r.y)


def _double_lines(p: Page) -> list[tuple[Rule, Rule]]:
    reds = _red_rules(p)
    return [(a, b) for a, b in zip(reds, reds[1:]) if 0 < b.y - a.y < 3 * MM and abs(a.length - b.length) < 2 * MM]


def detect_format(p1: Page, a: Area) -> tuple[str, str]:
    """The format of a 公文 from its first page: (key, the evidence)."""
    dbl = _double_lines(p1)
    if dbl:
        return "xinhan", f"a red double line {dbl[0][0].length / MM:.0f} mm long under the 标志 (10.1)"
    reds = [ln for ln in p1.lines if _red_line(ln) and ln.top < a.top + 100 * MM]
    if reds:
        big = max(reds, key=lambda ln: ln.size)
        if big.text.endswith("纪要"):
            return "jiyao", f"the red 标志 {big.text!r} ends in 纪要 (10.3)"
        if big.text.endswith("令"):
            return "mingling", f"the red 标志 {big.text!r} ends in 令 (10.2)"
        return "wenjian", f"the red 标志 {big.text!r}" + (" over a red rule" if _red_rules(p1) else "")
    return "wenjian", "no red 标志 found; 文件格式 assumed"


def _head(p1: Page, a: Area, size, report, tol, fmt) -> Head:
    rules = _red_rules(p1)
    dbl = _double_lines(p1)
    reds = [ln for ln in p1.lines if _red_line(ln) and ln.top < a.top + 100 * MM]
    if not reds:
        report.add("red-rule", 1, None, "no red text on page 1 (the 发文机关标志 is red, 7.2.4)")
    if reds:
        bsize = max(ln.size for ln in reds)
        biaozhi = [ln for ln in reds if ln.size == bsize]
    else:          # a black 标志: the largest type above the first rule
        limit = rules[0].y if rules else a.top + 100 * MM
        big = [ln for ln in p1.lines if ln.top < limit and ln.size >= 28]
        bsize = max((ln.size for ln in big), default=0)
        biaozhi = [ln for ln in big if ln.size == bsize]
    if fmt == "xinhan":
        rule_y = dbl[0][1].y if dbl else None
    else:
        rule_y = rules[0].y if rules else None
    if biaozhi:
        b = biaozhi[0]
        ref, mm = BIAOZHI_TOP[fmt]
        want = (a.top if ref == "版心" else 0) + mm * MM
        if abs(b.top - want) > tol + EPS:         # 7.2.4, 10.1, 10.2, 10.3
            got = (b.top - (a.top if ref == "版心" else 0)) / MM
            report.add("biaozhi", 1, b.pos(),
                       f"发文机关标志 {b.text!r} top {got:.1f} mm below the {ref}'s top; "
                       f"{FORMATS[fmt]} puts it {mm} mm below")
        width = max(ln.x1 for ln in biaozhi) - min(ln.x0 for ln in biaozhi)
        # 7.2.4 leaves the size to 醒目、美观、庄重: at least 小初 (36 pt), smaller only when the name fills
        # the 版心's width; never smaller than the 2号 title
        if bsize <= 22 + SIZE_TOL or (bsize < 36 - SIZE_TOL and width < W - bsize - tol):
            report.add("biaozhi", 1, b.pos(),
                       f"发文机关标志 {b.text!r} in {bsize}pt: at least 小初 (36pt), smaller only "
                       "to fit a long name in the 版心, and always larger than the 2号 title")
        mid = (min(ln.x0 for ln in biaozhi) + max(ln.x1 for ln in biaozhi)) / 2
        if abs(mid - (a.left + W / 2)) > tol + bsize / 4:
            report.add("biaozhi", 1, b.pos(), f"发文机关标志 {b.text!r} is not centred (居中排布)")
    bz_bottom = max((ln.bottom for ln in biaozhi), default=a.top)
    # 发文字号 (7.2.5): below the 标志, above the red rule
    zihao = None
    for ln in p1.lines:
        if ln.top > bz_bottom and (rule_y is None or ln.bottom < rule_y) and ZIHAO_ANY.search(ln.text):
            zihao = ln
            break
    if zihao is None and rule_y is None and fmt in ("wenjian", "mingling"):
        for ln in p1.lines:
            if ln.top > bz_bottom and ZIHAO_ANY.search(ln.text) and ln.size == size:
                zihao = ln
                break
    if zihao is not None:
        _zihao(zihao, a, rule_y, report, tol, fmt)
    # 份号, 密级, 紧急程度 (7.2.1–7.2.3): 顶格 in the first rows, above the 标志
    b_top = biaozhi[0].top if biaozhi else a.top + 35 * MM
    for ln in p1.lines:
        if ln.top >= b_top or ln in biaozhi:
            continue
        if re.fullmatch(r"[0-9０-９]+", ln.text):
            if not re.fullmatch(r"[0-9]{6}", ln.text):
                report.add("fenhao", 1, ln.pos(), f"份号 {ln.text!r}: 6 half-width Arabic digits (7.2.1)")
            if abs(ln.x0 - a.left) > tol:
                report.add("fenhao", 1, ln.pos(), "份号 not 顶格 at the 版心's left edge (7.2.1)")
        elif re.match(r"(秘密|机密|绝密|特急|加急)", ln.text):
            role, name = line_role(ln.chars)
            if role not in (HEITI, None):
                report.add("font", 1, ln.pos(),
                           f"{ln.text!r} in {name} ({role}); 密级 and 紧急程度 use 黑体 (7.2.2, 7.2.3)")
            if abs(ln.x0 - a.left) > tol:
                report.add("margin", 1, ln.pos(), f"{ln.text!r} not 顶格 at the 版心's left edge (7.2.2, 7.2.3)")
    if fmt == "wenjian":
        if not rules:
            report.add("red-rule", 1, None, "no red separator rule (版头分隔线) on page 1 (7.2.7)")
        else:
            r = rules[0]
            if abs(r.length - W) > tol or abs(r.x0 - a.left) > tol:
                report.add("red-rule", 1, (r.x0 / MM, r.y / MM),
                           f"red rule {r.length / MM:.1f} mm long from {r.x0 / MM:.1f} mm; "
                           "expected as wide as the 版心 "
                           f"(156 mm from {a.left / MM:.1f} mm)")
            if zihao is not None and abs(r.y - zihao.bottom - 4 * MM) > tol + EPS:
                report.add("red-rule", 1, (r.x0 / MM, r.y / MM),
                           f"red rule {(r.y - zihao.bottom) / MM:.1f} mm below the 发文字号; "
                           "it goes 4 mm below (7.2.7)")
    elif fmt == "xinhan":
        _xinhan_lines(p1, report, tol)
    bottom = max([rule_y or 0, bz_bottom, zihao.bottom if zihao else 0])
    return Head(biaozhi, zihao, rule_y, bottom)


def _zihao(ln: TextLine, a: Area, rule_y, report, tol, fmt):
    m = ZIHAO_ANY.search(ln.text)
    if m is None:
        return
    problems = []
    if m.group(1) != "〔" or m.group(3) != "〕":
        problems.append(f"the year in {m.group(1)}{m.group(3)}; 六角括号 〔〕 enclose it")
    if not re.fullmatch(r"[0-9]{4}", m.group(2)):
        problems.append(f"year {m.group(2)!r}: the full year in half-width digits")
    if m.group(4):
        problems.append("no 第 before the number")
    if not re.fullmatch(r"[1-9][0-9]*", m.group(5)):
        problems.append(f"number {m.group(5)!r}: no leading zeros (不编虚位), half-width digits")
    if problems:
        report.add("zihao", 1, ln.pos(), f"发文字号 {ln.text!r}: " + "; ".join(problems) + " (7.2.5)")
    if "签发人" not in ln.text and fmt in ("wenjian", "mingling"):
        mid = (ln.x0 + ln.x1) / 2
        if abs(mid - (a.left + W / 2)) > tol + ln.size / 2:
            report.add("zihao", 1, ln.pos(), f"发文字号 {ln.text!r} is not centred (居中排布, 7.2.5)")


def _xinhan_lines(p1: Page, report, tol):
    # 10.1: 标志下4 mm处一条红色双线（上粗下细），距下页边20 mm处一条红色双线（上细下粗），线长均为170 mm，居中
    dbl = _double_lines(p1)
    top = [d for d in dbl if d[0].y < p1.height / 2]
    bot = [d for d in dbl if d[0].y > p1.height / 2]
    if not top:
        report.add("red-rule", 1, None, "信函格式: no red double line (上粗下细) under the 标志 (10.1)")
    if not bot:
        report.add("red-rule", 1, None, "信函格式: no red double line (上细下粗) 20 mm above the page's bottom (10.1)")
    for pair, upper_thick, name in ((top[:1], True, "upper"), (bot[-1:], False, "lower")):
        for r1, r2 in pair:
            if abs(r1.length - 170 * MM) > tol or abs((r1.x0 + r1.x1) / 2 - p1.width / 2) > tol:
                report.add("red-rule", 1, (r1.x0 / MM, r1.y / MM),
                           f"信函格式 {name} double line {r1.length / MM:.1f} mm long; "
                           "170 mm, centred on the page (10.1)")
            if (r1.width > r2.width) != upper_thick or r1.width == r2.width:
                report.add("red-rule", 1, (r1.x0 / MM, r1.y / MM),
                           f"信函格式 {name} double line: " + ("上粗下细" if upper_thick else "上细下粗") + " (10.1)")
            if not upper_thick and abs(p1.height - r2.y - 20 * MM) > tol + EPS:
                report.add("red-rule", 1, (r2.x0 / MM, r2.y / MM),
                           f"信函格式 lower double line {(p1.height - r2.y) / MM:.1f} mm above the page's bottom; "
                           "20 mm (10.1)")


# ---------------------------------------------------------------------------------------------- 标题

def _title(p1: Page, a: Area, size, head: Head, report, tol, fmt) -> list[TextLine]:
    cand = [ln for ln in p1.lines if ln.top > head.bottom and ln.size > size + 1 and not _red_line(ln)
            and ln not in head.biaozhi]
    if not cand:
        if fmt in ("wenjian", "xinhan"):
            report.add("title", 1, None, "no title (2号, larger than the body) below the 版头 (7.3.1)")
        return []
    tsize = max(ln.size for ln in cand)
    title = [ln for ln in cand if ln.size == tsize]
    if abs(tsize - 22) > SIZE_TOL:           # 7.3.1: 一般用2号小标宋体字
        report.add("title", 1, title[0].pos(), f"title in {tsize}pt; GB/T 9704 uses 2号 (22pt ± {SIZE_TOL}pt)")
    role, name = line_role([c for ln in title for c in ln.chars])
    if role is not None and role != XIAOBIAOSONG:
        report.add("font", 1, title[0].pos(), f"title set in {name} ({role}); GB/T 9704 sets it in 小标宋 (7.3.1)")
    for ln in title:
        mid = (ln.x0 + ln.x1) / 2
        if abs(mid - (a.left + W / 2)) > max(tol, tsize / 2):
            report.add("title", 1, ln.pos(), f"title line {ln.text[:12]!r} is not centred in the 版心")
        if len([c for c in ln.text if c.isalnum()]) < 2 and len(title) > 1:
            report.add("title", 1, ln.pos(), f"a title line of a lone character {ln.text!r}")
    for x, y in zip(title, title[1:]):
        if y.text[0] in NO_START or x.text[-1] in NO_END:
            report.add("title", 1, y.pos(), f"title broken against CLREQ: …{x.text[-4:]} | {y.text[:4]}…")
    # 7.3.1: 回行时，要做到词意完整，排列对称，长短适宜，间距恰当
    if len(title) > 1 and not has_dictionary():
        report.infos.append("title word splits: number + unit and 《》 names only (install jieba for words)")
    for k, word in broken_words([ln.text for ln in title], int(W / tsize + 0.02)):
        report.add("title", 1, title[k + 1].pos(), f"title broken inside {word!r}: …{title[k].text[-4:]} | "
                                                   f"{title[k + 1].text[:4]}… (词意完整, 7.3.1)")
    if len(title) >= 3:
        lens = [ln.x1 - ln.x0 for ln in title]
        if any(lens[i] < lens[0] - tsize and lens[i] < lens[-1] - tsize for i in range(1, len(lens) - 1)):
            report.add("title", 1, title[0].pos(), "title lines form an hourglass; use a trapezoid or a diamond")
    if len(title) == 2 and (alt := _trapezoid_instead(title, tsize)):
        report.add("title", 1, title[0].pos(), f"title lines form a rectangle ({title[0].text} | {title[1].text}); "
                                               f"a trapezoid breaks at a word too: {alt} (排列对称，长短适宜, 7.3.1)")
    return title


def _trapezoid_instead(title: list[TextLine], tsize: float) -> str | None:
    """For a two-line title of equal lines (within half a character): a cut one to three characters away that
    also falls between words, keeps CLREQ and fits the 版心 — the shape the standard asks for (梯形); None if
    the rectangle is all the words allow."""
    a, b = title[0].text, title[1].text
    lens = [ln.x1 - ln.x0 for ln in title]
    if abs(lens[0] - lens[1]) >= tsize / 2:
        return None
    text = a + b

    def em(s: str) -> float:
        return sum(0.5 if ch.isascii() else 1.0 for ch in s)

    for d in (-1, 1, -2, 2, -3, 3):
        k = len(a) + d
        x, y = text[:k], text[k:]
        if min(len(x), len(y)) < 2 or max(em(x), em(y)) * tsize > W + 0.5:
            continue
        if y[0] in NO_START or x[-1] in NO_END or (x[-1].isascii() and x[-1].isalnum() and y[0].isascii()
                                                  and y[0].isalnum()):
            continue
        if not broken_words([x, y], int(W / tsize + 0.02)):
            return f"{x} | {y}"
    return None


# ---------------------------------------------------------------------------------------------- 主送, 正文

def _table_spans(p: Page, size) -> list[tuple[float, float]]:
    rules = sorted({round(r.y, 1) for r in p.rules if not is_red(r.color) and r.length > 0.5 * W})
    if len(rules) < 3:
        return []
    if not any(ln.size == size and rules[0] < ln.top < rules[-1] for ln in p.lines):
        return []
    return [(rules[0], rules[-1])]


def _text(pages, areas, size, head: Head, title, report, tol, fmt):
    p1 = pages[0]
    start = max([head.bottom] + [ln.bottom for ln in title])
    seq = [(p, ln) for p in pages for ln in p.lines if ln.size == size and ln.top <= areas[p.number].bottom
           and (p.number > 1 or ln.top > start)]
    # 主送机关 (7.3.2): the first lines below the title, up to the one ending in a full-width colon
    zhusong = []
    if fmt != "mingling":
        for i, (p, ln) in enumerate(seq[:12]):
            if p is not p1 or re.search(r"[，。；]", ln.text):
                break
            if ln.text.endswith("："):
                zhusong = seq[:i + 1]
                break
    for p, ln in zhusong:
        if abs(ln.x0 - areas[p.number].left) > tol:
            report.add("zhusong", p.number, ln.pos(),
                       f"主送机关 {ln.text[:12]!r} starts {(ln.x0 - areas[p.number].left) / MM:.1f} mm in; "
                       "it goes 顶格 (居左顶格，回行时仍顶格, 7.3.2)")
    seq = seq[len(zhusong):]
    # the 附件 pages (7.3.7, “附件1” 顶格 on the first row) end the document proper
    fujian = next((i for i, (p, ln) in enumerate(seq) if FUJIAN_PAGE.match(ln.text)
                   and ln.x0 < areas[p.number].left + tol), len(seq))
    seq = seq[:fujian]
    # 正文 ends at the 附件说明 (7.3.4) or the 署名 above the 成文日期 (7.3.5)
    end, date_page = len(seq), None
    for i, (p, ln) in enumerate(seq):
        right_half = ln.x0 > areas[p.number].left + W / 3
        if ln.text.startswith("附件：") and end == len(seq):
            end = i
        if DATE_ANY.match(ln.text) and right_half:
            date_page = p
            signed = i > 0 and seq[i - 1][0] is p and seq[i - 1][1].x0 > areas[p.number].left + W / 3
            end = min(end, i - 1 if signed else i)
            break
    zhengwen = seq[:end]
    if not any(p is p1 for p, _ in zhengwen):        # 7.3.3: 公文首页必须显示正文
        report.add("zhengwen", 1, None, "page 1 holds no 正文 (公文首页必须显示正文, 7.3.3)")
    # 7.3.5.4: the 成文日期's page (the 印章页) holds 正文 — 不得采取“此页无正文”的方法
    if date_page is not None and not any(p is date_page for p, _ in zhengwen):
        seal = " and the seal" if date_page.red_marks else ""
        report.add("zhengwen", date_page.number, None, f"page {date_page.number} holds the 署名, 成文日期{seal} but "
                                                       "no 正文 (7.3.5.4: adjust the spacing, never 此页无正文)")
    _indents(zhengwen, areas, size, report, tol)
    _body_fonts(zhusong + zhengwen, size, report)


def _indents(zhengwen, areas, size, report, tol):
    spans = {}
    prev = "start"
    for p, ln in zhengwen:
        if p.number not in spans:
            spans[p.number] = _table_spans(p, size)
        if any(s - 1 <= ln.top <= e + 1 for s, e in spans[p.number]):
            prev = "table"
            continue
        a = areas[p.number]
        two = 2 * W / CHARS
        # a paragraph ended on the line before: it stops short after a stop, or far short (a heading); a line
        # a character or two short without a stop was wrapped before an unbreakable number (70%)
        starts = prev in ("start", "table") or (prev.x1 < a.right - size * 1.05 and (
            prev.text[-1] in "。！？：；”’）" or prev.x1 < a.right - 3 * size))
        if starts and ln.x0 < a.left + two - tol:      # 7.3.3: 每个自然段左空二字
            report.add("indent", p.number, ln.pos(),
                       f"paragraph {ln.text[:12]!r} starts {(ln.x0 - a.left) / MM:.1f} mm in; "
                       "each paragraph starts two characters in (左空二字, 7.3.3)")
        elif not starts and tol < ln.x0 - a.left < two - tol:
            report.add("indent", p.number, ln.pos(),
                       f"continued line {ln.text[:12]!r} starts {(ln.x0 - a.left) / MM:.1f} mm in; 回行顶格 (7.3.3)")
        prev = ln


def _body_fonts(lines, size, report):
    """7.3.3: 正文 in 仿宋; 一、 headings in 黑体, （一） in 楷体; 1. and （1） in 仿宋."""
    wrong: dict[tuple[str, str], list] = {}
    body_chars = 0
    unknown = set()
    for p, ln in lines:
        if H1.match(ln.text) or H2.match(ln.text):
            want = HEITI if H1.match(ln.text) else KAITI
            head = ln.chars[:len(re.split("[。：]", ln.text)[0])]
            role, name = line_role(head)
            if role is None:
                unknown.add(name)
            elif role != want:
                level = "一、" if want == HEITI else "（一）"
                report.add("font", p.number, ln.pos(),
                           f"heading {ln.text[:10]!r} in {name} ({role}); {level} headings use {want} (7.3.3)")
            continue
        for c in ln.chars:
            if not is_cjk(c["text"]):
                continue
            body_chars += 1
            role, name = line_role([c])
            if role is None:
                unknown.add(name)
            elif role != FANGSONG:
                wrong.setdefault((name, role), []).append((p, ln))
    for (name, role), where in wrong.items():
        if len(where) > 0.05 * body_chars:
            p, ln = where[0]
            report.add("font", p.number, ln.pos(), f"正文 set in {name} ({role}) — {len(where)} characters; GB/T 9704 "
                                                   "sets the body in 仿宋 (7.3.3)")
    if unknown - {None}:
        report.infos.append(f"fonts whose role the name does not tell: {', '.join(sorted(unknown - {None}))}")


# ---------------------------------------------------------------------------------------------- 日期, 版记

def _date_problem(text: str) -> str | None:
    """7.3.5.1, 7.4.3: 用阿拉伯数字将年、月、日标全，年份应标全称，月、日不编虚位."""
    if DATE_OK.match(text):
        return None
    if re.search(r"[〇零一二三四五六七八九十]", text):
        return "Arabic digits, not Chinese numerals"
    if re.search(r"[０-９]", text):
        return "half-width Arabic digits"
    if not re.match(r"[0-9]{4}年", text):
        return "the full year"
    return "no leading zeros in the month and the day (不编虚位)"


def _dates(pages, size, report):
    for p in pages:
        for ln in p.lines:
            text = ln.text
            if ln.size < size - 0.5 and text.endswith("印发"):
                m = re.search(rf"([{NUM}]+年[{NUM}]+月[{NUM}]+日)印发$", text)
                text = m.group(1) if m else None
                what = "印发日期"
            elif DATE_ANY.match(text):
                what = "成文日期"
            else:
                continue
            if text and (why := _date_problem(text)):
                report.add("date", p.number, ln.pos(), f"{what} {text!r}: {why} (7.3.5.1, 7.4.3)")


def _banji(pages, areas, size, report, tol, fmt="wenjian"):
    for p in pages:
        lines = [ln for ln in p.lines if ln.size < size - 0.5 and ln.top <= areas[p.number].bottom
                 and (ln.text.endswith("印发") or ln.text.startswith(("抄送", "主送")))]
        if not lines:
            continue
        a = areas[p.number]
        first = lines[0]
        if p.number != len(pages):
            report.add("banji", p.number, first.pos(),
                       f"版记 on page {p.number} of {len(pages)}; it goes on the last page (7.4)")
        # a long 版记 (a moved 主送, 7.3.2) may reach the upper half, so long as it ends in the last rows
        if first.top < a.top + H / 2 and lines[-1].bottom < a.bottom - 2 * SLOT:
            report.add("banji", p.number, first.pos(),
                       "版记 in the upper half of the page; it takes the last rows (7.4)")
        for ln in lines:
            if abs(ln.size - 14) > SIZE_TOL:
                report.add("banji", p.number, ln.pos(), f"版记 {ln.text[:8]!r} in {ln.size}pt; 4号 (14pt, 7.4.2)")
            if abs(ln.x0 - a.left - ln.size) > tol:
                report.add("banji", p.number, ln.pos(),
                           f"版记 {ln.text[:8]!r} starts {(ln.x0 - a.left) / MM:.1f} mm in; 左空一字 (7.4.2, 7.4.3)")
            if ln.text.endswith("印发") and abs(a.right - ln.size - ln.x1) > tol:
                report.add("banji", p.number, ln.pos(), "印发日期 not 右空一字 (7.4.3)")
        rules = sorted((r for r in p.rules if not is_red(r.color) and abs(r.length - W) <= tol
                        and first.top - 2 * SLOT <= r.y <= a.bottom + tol), key=lambda r: r.y)
        if fmt == "xinhan":
            # 10.1: 版记不加印发机关和印发日期、分隔线，位于公文最后一页版心内最下方
            if rules:
                report.add("banji", p.number, first.pos(), "信函格式: the 版记 has no rules (10.1)")
            for ln in lines:
                if ln.text.endswith("印发"):
                    report.add("banji", p.number, ln.pos(), "信函格式: the 版记 has no 印发机关 and 印发日期 (10.1)")
            if lines[-1].bottom < a.bottom - 2 * SLOT:
                report.add("banji", p.number, lines[-1].pos(), "信函格式: the 版记 takes the last rows (10.1)")
            continue
        if not rules:
            report.add("banji", p.number, first.pos(), "版记 without rules as wide as the 版心 (7.4.1)")
            continue
        lastr = rules[-1]
        if abs(lastr.y - a.bottom) > tol:
            report.add("banji", p.number, (lastr.x0 / MM, lastr.y / MM),
                       f"the 版记's last rule is {(a.bottom - lastr.y) / MM:+.1f} mm from the 版心's bottom edge; "
                       "it lies on it")
        # 7.4.1: 首条和末条分隔线用粗线（推荐高度0.35 mm），中间的分隔线用细线（推荐高度0.25 mm）
        for i, r in enumerate(rules):
            want = 0.35 if i in (0, len(rules) - 1) else 0.25
            if abs(r.width / MM - want) > 0.05 + 1e-6:
                report.add("banji", p.number, (r.x0 / MM, r.y / MM),
                           f"版记 rule {i + 1} of {len(rules)} is {r.width / MM:.2f} mm thick; "
                           f"{'the first and last' if want == 0.35 else 'those between'} are {want} mm")
