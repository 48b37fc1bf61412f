"""GB/T 9704-2012 (党政机关公文格式) measured on a PDF: pages of text lines and rules in, violations out.

The numbers (section 5 and 7 of the standard): A4 paper; 天头 37 mm and 订口 28 mm; 版心 156 × 225 mm;
3号 body text, 22 lines a page of 28 characters; page numbers “— n —” in 4号 half-width digits 7 mm below
the 版心, odd pages 右空一字 and even pages 左空一字, blank pages unnumbered; a red rule as wide as the 版心
under the 发文字号; the title in 2号; the 版记's last rule on the 版心's bottom edge.  Grid rows are measured
from the 版心's top with text centred in its row (as a word processor's document grid sets it), so a
type area moved by a wrongly measured margin shows even when no character leaves it.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter

from .clreq import NO_END, NO_START
from .text import MM, Page, TextLine, body_lines, body_size, check_breaks, is_red

PAPER = (210 * MM, 297 * MM)
TOP, LEFT, W, H = 37 * MM, 28 * MM, 156 * MM, 225 * MM
LINES, CHARS = 22, 28
FOLIO = re.compile(r"^[—－-]\s*([0-9]+)\s*[—－-]$")
FOLIO_ANY = re.compile(r"^[—－\-–]?\s*([0-9０-９]+)\s*[—－\-–]?$")


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80 and ch.isalpha()


def check(pages: list[Page], report, *, tol: float) -> None:
    size = body_size(pages)
    if size is None:
        report.add("empty", 1, None, "the PDF has no text")
        return
    report.infos.append(f"body text {size}pt (3号 is 16pt)")
    if abs(size - 16) > 0.5:
        report.add("body-size", 1, None, f"body text is {size}pt; GB/T 9704 sets it in 3号 (16pt)")
    slot = H / LINES
    last = len(pages)
    for p in pages:
        _paper(p, report, tol)
        folio_lines = [ln for ln in p.lines if ln.top > TOP + H]
        inside = [ln for ln in p.lines if ln not in folio_lines]
        _margins(p, inside, folio_lines, report, tol)
        blines = [ln for ln in inside if ln.size == size]
        _grid(p, blines, size, slot, report, tol)
        _folio(p, pages, folio_lines, report, tol, last)
        if p.number == 1:
            _first_page(p, size, report, tol)
        _banji(p, size, report, tol)
    body = [(p, ln) for p, ln in body_lines(pages, size) if ln.top <= TOP + H]
    check_breaks(pages, report, right_edge=LEFT + W, lines=body)


def _paper(p: Page, report, tol):
    if abs(p.width - PAPER[0]) > tol or abs(p.height - PAPER[1]) > tol:
        report.add("paper", p.number, None, f"page is {p.width / MM:.1f} × {p.height / MM:.1f} mm; "
                                            "GB/T 9704 uses A4 (210 × 297 mm)")


def _margins(p: Page, inside: list[TextLine], below: list[TextLine], report, tol):
    for ln in inside:
        what = []
        if ln.x0 < LEFT - tol:
            what.append(f"starts {(LEFT - ln.x0) / MM:.1f} mm left of the 版心 (订口 {ln.x0 / MM:.1f} mm, "
                        "expected 28 mm)")
        if ln.x1 > LEFT + W + tol:
            tail = ln.chars[-1]["text"]
            if tail in "，。、；：！？）》”’":
                what.append(f"punctuation {tail!r} hangs {(ln.x1 - LEFT - W) / MM:.1f} mm outside the 版心")
            else:
                what.append(f"ends {(ln.x1 - LEFT - W) / MM:.1f} mm right of the 版心")
        if ln.top < TOP - tol:
            what.append(f"is {(TOP - ln.top) / MM:.1f} mm above the 版心 (天头 {ln.top / MM:.1f} mm, expected 37 mm)")
        if what:
            report.add("margin", p.number, ln.pos(), f"{ln.text[:16]!r} " + "; ".join(what))
    for ln in below:
        if not FOLIO_ANY.match(ln.text):
            report.add("margin", p.number, ln.pos(), f"{ln.text[:16]!r} is below the 版心 (only the page number "
                                                     "goes there)")


def _grid(p: Page, blines: list[TextLine], size: float, slot: float, report, tol):
    if not blines:
        return
    # rows: baselines at one height within each row; that height is text centred in a row from the 版心 top
    phase0 = (slot + size * 0.76) / 2
    offs = [((ln.base - TOP - phase0 + slot / 2) % slot) - slot / 2 for ln in blines]
    shift = statistics.median(offs)
    if abs(shift) > tol:
        report.add("grid-phase", p.number, blines[0].pos(),
                   f"body lines sit {abs(shift) / MM:.1f} mm {'lower' if shift > 0 else 'higher'} than rows of a "
                   f"{LINES}-line grid from the 版心 top (天头 measured from the wrong edge, or a wrong line pitch?)")
    for ln, o in zip(blines, offs):
        if abs(o - shift) > tol:
            report.add("grid-line", p.number, ln.pos(),
                       f"line off the {LINES}-line grid by {(o - shift) / MM:+.1f} mm: {ln.text[:16]!r}")
    rows = sorted({round((ln.base - TOP - phase0 - shift) / slot) for ln in blines})
    if rows[0] < 0 or rows[-1] > LINES - 1:
        report.add("grid-line", p.number, None, f"body lines on grid rows {rows[0] + 1}..{rows[-1] + 1}; the page "
                                                f"has {LINES} (line pitch {slot:.2f}pt = 225 mm / {LINES})")
    pitches = []
    for ln in blines:
        cj = [c for c in ln.chars if _is_cjk(c["text"])]
        pitches += [b["x0"] - a["x0"] for a, b in zip(cj, cj[1:]) if 0 < b["x0"] - a["x0"] < 1.5 * size]
    if pitches:
        pm = Counter(round(x, 2) for x in pitches).most_common(1)[0][0]
        per_line = W / pm
        report.infos.append(f"p{p.number}: {len(blines)} body lines on rows {rows[0] + 1}..{rows[-1] + 1}, "
                            f"character pitch {pm:.2f}pt = {per_line:.2f} a line")
        if int(per_line + 0.02) != CHARS:
            report.add("grid-chars", p.number, None,
                       f"character pitch {pm:.2f}pt sets {per_line:.1f} characters a line; GB/T 9704 has {CHARS} "
                       f"(pitch {W / CHARS:.2f}pt = 156 mm / {CHARS})")


def _is_blank(p: Page) -> bool:
    return not [ln for ln in p.lines if ln.top <= TOP + H]


def _folio(p: Page, pages: list[Page], below: list[TextLine], report, tol, last: int):
    nums = [ln for ln in below if FOLIO_ANY.match(ln.text)]
    blank = _is_blank(p)
    after_blank = p.number == last and p.number > 1 and _is_blank(pages[p.number - 2])
    if not nums:
        if not blank and not after_blank:
            report.add("folio", p.number, None, "no page number “— n —” below the 版心")
        return
    ln = nums[0]
    if blank:
        report.add("folio", p.number, ln.pos(), "a blank page is numbered; blank pages go unnumbered")
    if after_blank:
        report.add("folio", p.number, ln.pos(), "the 版记 page after a blank page is numbered; neither is")
    m = FOLIO.match(ln.text)
    if m is None:
        if re.search(r"[０-９]", ln.text):
            report.add("folio", p.number, ln.pos(), f"page number {ln.text!r} has full-width digits; use 半角 digits")
        else:
            report.add("folio", p.number, ln.pos(), f"page number {ln.text!r}: expected “— n —” (一字线 each side)")
        return
    num = int(m.group(1))
    if num != p.number:
        report.add("folio", p.number, ln.pos(), f"page number {num} on page {p.number} (numbers run on continuously)")
    if abs(ln.size - 14) > 0.5:
        report.add("folio", p.number, ln.pos(), f"page number in {ln.size}pt; GB/T 9704 uses 4号 (14pt)")
    gap = ln.top - TOP - H
    if abs(gap - 7 * MM) > tol:
        report.add("folio", p.number, ln.pos(), f"page number {gap / MM:.1f} mm below the 版心; expected 7 mm")
    one = ln.size
    if num % 2:
        if abs(ln.x1 - (LEFT + W - one)) > tol:
            side = "left" if ln.x0 < LEFT + W / 2 else "right"
            report.add("folio", p.number, ln.pos(),
                       f"odd page: the number should end one character ({one:.0f}pt) inside the 版心's right edge; "
                       f"it is on the {side}, {(LEFT + W - ln.x1) / MM:.1f} mm from that edge")
    elif abs(ln.x0 - (LEFT + one)) > tol:
        side = "right" if ln.x1 > LEFT + W / 2 else "left"
        report.add("folio", p.number, ln.pos(),
                   f"even page: the number should start one character ({one:.0f}pt) inside the 版心's left edge; "
                   f"it is on the {side}, {(ln.x0 - LEFT) / MM:.1f} mm from that edge")


def _first_page(p: Page, size: float, report, tol):
    reds = [r for r in p.rules if is_red(r.color) and r.length > W / 2]
    if not reds:
        report.add("red-rule", 1, None, "no red separator rule (版头分隔线) on page 1")
    else:
        r = reds[0]
        if abs(r.length - W) > tol or abs(r.x0 - LEFT) > tol:
            report.add("red-rule", 1, (r.x0 / MM, r.y / MM),
                       f"red rule {r.length / MM:.1f} mm long from {r.x0 / MM:.1f} mm; expected as wide as the 版心 "
                       "(156 mm from 28 mm)")
    if not p.red_text:
        report.add("red-rule", 1, None, "no red text on page 1 (the 发文机关标志 is red)")
    # the title: the lines of the largest black type below the red rule
    below = reds[0].y if reds else TOP
    cand = [ln for ln in p.lines if ln.top > below and ln.size > size and not _red_line(ln)]
    if not cand:
        report.add("title", 1, None, "no title (2号, larger than the body) below the red rule")
        return
    tsize = max(ln.size for ln in cand)
    title = [ln for ln in cand if ln.size == tsize]
    if abs(tsize - 22) > 0.5:
        report.add("title", 1, title[0].pos(), f"title in {tsize}pt; GB/T 9704 uses 2号 (22pt)")
    for ln in title:
        mid = (ln.x0 + ln.x1) / 2
        if abs(mid - (LEFT + W / 2)) > max(tol, tsize / 2):
            report.add("title", 1, ln.pos(), f"title line {ln.text[:12]!r} is not centred in the 版心")
        if len([c for c in ln.text if c.isalnum()]) < 2 and len(title) > 1:
            report.add("title", 1, ln.pos(), f"a title line of a lone character {ln.text!r}")
    for a, b in zip(title, title[1:]):
        if b.text[0] in NO_START or a.text[-1] in NO_END:
            report.add("title", 1, b.pos(), f"title broken against CLREQ: …{a.text[-4:]} | {b.text[:4]}…")
    if len(title) >= 3:
        lens = [ln.x1 - ln.x0 for ln in title]
        if any(lens[i] < lens[0] - tsize and lens[i] < lens[-1] - tsize for i in range(1, len(lens) - 1)):
            report.add("title", 1, title[0].pos(), "title lines form an hourglass; use a trapezoid or a diamond")


def _red_line(ln: TextLine) -> bool:
    return sum(is_red(c.get("non_stroking_color")) for c in ln.chars) > len(ln.chars) / 2


def _banji(p: Page, size: float, report, tol):
    yinfa = [ln for ln in p.lines if ln.text.endswith("印发") and ln.size < size and TOP + H / 2 < ln.top <= TOP + H]
    if not yinfa:
        return
    rules = sorted((r for r in p.rules if not is_red(r.color) and abs(r.length - W) <= tol and r.y >= yinfa[0].top
                    - 3 * H / LINES), key=lambda r: r.y)
    if not rules:
        report.add("banji", p.number, yinfa[0].pos(), "版记 without rules as wide as the 版心")
        return
    lastr = rules[-1]
    if abs(lastr.y - (TOP + H)) > tol:
        report.add("banji", p.number, (lastr.x0 / MM, lastr.y / MM),
                   f"the 版记's last rule is {(TOP + H - lastr.y) / MM:+.1f} mm from the 版心's bottom edge; it lies on it")
    if len(rules) >= 3 and not (rules[0].width > rules[1].width and lastr.width > rules[1].width):
        report.add("banji", p.number, (lastr.x0 / MM, lastr.y / MM),
                   "版记 rules: the first and last are thick, those between thin")
