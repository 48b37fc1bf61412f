"""Crafted 公文 PDFs for the checker's tests: a description of a document (the knobs of :class:`Gongwen`) in,
PDF bytes drawn directly on a ReportLab canvas out — a conforming 文件格式 (or 信函/命令格式) document of two
pages by default, and the same with exactly one defect when one knob is changed.

Positions follow GB/T 9704-2012 the way the checker reads them: text centred in the rows of a 22-line grid
from the 版心's top, 28 characters a line, the 标志's character boxes starting 35 mm below the 版心's top.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, replace

MM = 72 / 25.4
LEFT, W, H = 28 * MM, 156 * MM, 225 * MM
ROW, PITCH = H / 22, W / 28
RED = (0.902, 0.0, 0.071)
FONTS = {"fang": "FandolFang-Regular.ttf", "song": "NotoSerifSC-Regular.ttf", "xbs": "NotoSerifSC-Black.ttf",
         "hei": "NotoSansSC-Bold.ttf", "kai": "LXGWWenKai-Regular.ttf", "latin": "NotoSerif-Regular.ttf"}
PARA = ("当前正值春耕备耕关键时期，也是防汛抗旱准备工作的重要阶段。为切实抓好今年春季农业生产，全面做好防汛抗旱各项准备"
        "工作，确保粮食和重要农产品稳定安全供给，确保人民群众生命财产安全，经市政府同意，现就有关事项通知如下。")
PARA2 = ("各地要立足防大汛、抗大旱、抢大险、救大灾，全面落实以行政首长负责制为核心的防汛抗旱责任制，汛前要对水库、山塘"
         "堤防和涵闸等水利工程开展拉网式隐患排查，建立问题清单，明确整改责任和时限，确保安全度汛。")


@dataclass(frozen=True)
class Gongwen:
    fmt: str = "wenjian"                       # wenjian, xinhan or mingling
    top_mm: float = 37.0                       # 天头
    body_size: float = 16.0
    body_font: str = "fang"
    title: tuple = ("青川市人民政府关于做好2026年", "春季农业生产和防汛抗旱准备工作的通知")
    title_size: float = 22.0
    title_font: str = "xbs"
    biaozhi: str = "青川市人民政府文件"
    biaozhi_size: float = 49.0
    biaozhi_top_mm: float | None = None        # None: the format's (35 mm below the 版心; 信函 30 mm below the paper)
    red: tuple = RED
    fenhao: str | None = "000128"
    zihao: str | None = "青政发〔2026〕7号"
    zhusong: str | None = "各区、县（市）人民政府："
    zhusong_indent: int = 0                    # characters
    para_indent: int = 2                       # characters
    page1_body: bool = True
    seal_page_body: bool = True
    h1_font: str = "hei"
    h2_font: str = "kai"
    date: str = "2026年3月6日"
    folio_dash: tuple = ("—", "—")
    folio_gaps: tuple = (3.6, 3.6)             # pt between each 一字线 and the digits
    banji_rows: int = 19                       # the 版记's first row (19: its last rule on the 版心's bottom)
    banji_weights: tuple = (0.35, 0.25, 0.35)  # mm
    xinhan_top_thick: bool = True              # 信函格式: the upper double line 上粗下细
    folio_on_first: bool | None = None         # None: the format's (信函格式 shows none on page 1)
    banji_plain: bool | None = None            # None: the format's (信函格式: no rules, no 印发 line)
    number_pad: str = "even"                   # a number's slack in its cells: "even" around it, or "after"


def face(role: str) -> str:
    from docgen.typeset.fonts import load_face
    return load_face(FONTS[role]).name


def _descent(name: str) -> float:
    from reportlab.pdfbase import pdfmetrics
    return pdfmetrics.getFont(name).face.descent / 1000


def _advance(ch: str, font: str, size: float, pitch: float | None) -> float:
    from reportlab.pdfbase import pdfmetrics
    if pitch is not None and ord(ch) >= 0x2E80:
        return pitch
    return pdfmetrics.stringWidth(ch, font if ord(ch) >= 0x2E80 else face("latin"), size)


class Sheet:
    """One page being drawn: positions in pt from the page's top-left corner, like the checker's."""

    def __init__(self, c, doc: Gongwen, page_height: float = 297 * MM):
        self.c, self.doc = c, doc
        self.ph = page_height
        self.top = doc.top_mm * MM

    def base(self, row: int, size: float) -> float:
        return self.top + row * ROW + (ROW + 0.76 * size) / 2

    def width(self, s: str, role: str, size: float, pitch: float | None) -> float:
        return sum(_advance(ch, face(role), size, pitch) for ch in s)

    def text(self, s: str, role: str, size: float, x: float, base: float, *, pitch: float | None = PITCH,
             color=(0, 0, 0)):
        c, font = self.c, face(role)
        c.setFillColorRGB(*color)
        for ch in s:
            f = font if ord(ch) >= 0x2E80 else face("latin")
            c.setFont(f, size)
            c.drawString(x, self.ph - base, ch)
            x += _advance(ch, font, size, pitch)
        c.setFillColorRGB(0, 0, 0)

    def row(self, k: int, s: str, *, indent: float = 0, role: str | None = None, size: float | None = None):
        d = self.doc
        self.text(s, role or d.body_font, size or d.body_size, LEFT + indent * PITCH, self.base(k, size or d.body_size))

    def right(self, k: int, s: str, chars_in: float):
        d = self.doc
        x = LEFT + W - chars_in * PITCH - self.width(s, d.body_font, d.body_size, PITCH)
        self.text(s, d.body_font, d.body_size, x, self.base(k, d.body_size))

    def centred(self, s: str, role: str, size: float, base: float, *, color=(0, 0, 0), pitch=None):
        w = self.width(s, role, size, pitch)
        self.text(s, role, size, LEFT + (W - w) / 2, base, pitch=pitch, color=color)

    def rule(self, y: float, x0: float, x1: float, weight: float, color=(0, 0, 0)):
        self.c.setStrokeColorRGB(*color)
        self.c.setLineWidth(weight)
        self.c.line(x0, self.ph - y, x1, self.ph - y)
        self.c.setStrokeColorRGB(0, 0, 0)

    def folio(self, n: int):
        d = self.doc
        lat, size = face("latin"), 14
        parts = [(d.folio_dash[0], d.folio_gaps[0]), (str(n), d.folio_gaps[1]), (d.folio_dash[1], 0)]
        from reportlab.pdfbase import pdfmetrics
        fonts = [face("fang") if ord(s[0]) >= 0x2E80 else lat for s, _ in parts]      # a full-width minus
        w = sum(pdfmetrics.stringWidth(s, f, size) + g for (s, g), f in zip(parts, fonts))
        x = LEFT + W - 14 - w if n % 2 else LEFT + 14
        top = self.top + H + 7 * MM
        base = top + size * (1 + _descent(lat))
        for (s, g), f in zip(parts, fonts):
            self.c.setFont(f, size)
            self.c.drawString(x, self.ph - base, s)
            x += pdfmetrics.stringWidth(s, f, size) + g


def paragraph(text: str, first_chars: int = 26, rest: int = 28) -> list[str]:
    """Lines of ``first_chars`` then ``rest`` characters; a line one short where the next would start with
    a stop (the CLREQ prohibition)."""
    out, n = [], first_chars
    while text:
        k = n - 1 if len(text) > n and text[n] in "，。、；：！？" else n
        out.append(text[:k])
        text, n = text[k:], rest
    return out


def _para(sh: Sheet, row: int, text: str, indent: int) -> int:
    lines = paragraph(text, 28 - indent)
    for i, ln in enumerate(lines):
        sh.row(row + i, ln, indent=indent if i == 0 else 0)
    return row + len(lines)


def _numbers(sh: Sheet, row: int, text: str, pad: str) -> None:
    import re
    d = sh.doc
    x = LEFT + 2 * PITCH
    base = sh.base(row, d.body_size)
    for part in re.findall(r"[0-9]+|[^0-9]", text):
        if part.isdigit():
            w = sh.width(part, d.body_font, d.body_size, PITCH)
            cells = -(-w // PITCH)
            lead = (cells * PITCH - w) / 2 if pad == "even" else 0.0
            sh.text(part, d.body_font, d.body_size, x + lead, base)
            x += cells * PITCH
        else:
            sh.text(part, d.body_font, d.body_size, x, base)
            x += PITCH


def _head(sh: Sheet, d: Gongwen) -> int:
    """The 版头; returns the first row below it."""
    if d.fenhao:
        sh.row(0, d.fenhao)
    bz_top_mm = d.biaozhi_top_mm if d.biaozhi_top_mm is not None else (30 if d.fmt == "xinhan" else
                                                                         20 if d.fmt == "mingling" else 35)
    bz_top = bz_top_mm * MM + (0 if d.fmt == "xinhan" else sh.top)
    bz_base = bz_top + d.biaozhi_size * (1 + _descent(face("xbs")))
    sh.centred(d.biaozhi, "xbs", d.biaozhi_size, bz_base, color=d.red)
    bz_bottom = bz_top + d.biaozhi_size
    if d.fmt == "xinhan":
        x0 = (210 * MM - 170 * MM) / 2
        thick, thin = (1.6, 0.6) if d.xinhan_top_thick else (0.6, 1.6)
        y = bz_bottom + 4 * MM
        sh.rule(y, x0, x0 + 170 * MM, thick, d.red)
        sh.rule(y + 1.5 * MM, x0, x0 + 170 * MM, thin, d.red)
        yb = sh.ph - 20 * MM
        sh.rule(yb - 1.5 * MM, x0, x0 + 170 * MM, 0.6, d.red)
        sh.rule(yb, x0, x0 + 170 * MM, 1.6, d.red)
        row = int((y + 1.5 * MM - sh.top) // ROW) + 1
        if d.zihao:
            sh.right(row, d.zihao, 0)
            row += 1
        return row + 1
    row = int((bz_bottom - sh.top) // ROW) + 3
    if d.zihao:
        base = sh.base(row, d.body_size)
        sh.centred(d.zihao, "fang", d.body_size, base, pitch=PITCH)
        bottom = base - d.body_size * _descent(face("fang"))
        if d.fmt == "wenjian":
            sh.rule(bottom + 4 * MM, LEFT, LEFT + W, 1.5, d.red)
    return row + 3


def draw(d: Gongwen = Gongwen(), **changes) -> bytes:
    """The PDF of ``d`` with ``changes`` applied (``draw(body_size=15.5)``)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas
    d = replace(d, **changes)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    sh = Sheet(c, d)
    row = _head(sh, d)
    if d.title:
        for i, t in enumerate(d.title):
            sh.centred(t, d.title_font, d.title_size, sh.base(row + i, d.title_size))
        row += len(d.title) + 1
    if d.zhusong:
        sh.row(row, d.zhusong, indent=d.zhusong_indent)
        row += 1
    paras = [PARA, PARA2]
    if d.page1_body:
        row = _para(sh, row, paras.pop(0), d.para_indent)
    folio_first = d.folio_on_first if d.folio_on_first is not None else d.fmt != "xinhan"
    if folio_first:
        sh.folio(1)
    c.showPage()
    sh = Sheet(c, d)
    row = 0
    if d.seal_page_body or not d.page1_body:
        sh.row(row, "一、工作要求", indent=2, role=d.h1_font)
        sh.row(row + 1, "（一）明确责任", indent=2, role=d.h2_font)
        row = _para(sh, row + 2, paras.pop(0), d.para_indent)
        if d.seal_page_body and paras:
            row = _para(sh, row, paras.pop(0), d.para_indent)
    # a paragraph with numbers on the grid: each takes whole cells, the slack split evenly around it
    if d.seal_page_body:
        _numbers(sh, row, "园区已集聚农业科技企业46家、研发平台9个。", d.number_pad)
        row += 1
    # 署名 and 成文日期 with the seal: the date 右空四字, the name centred over it (7.3.5.1)
    row += 2
    dw = sh.width(d.date, d.body_font, d.body_size, PITCH)
    sh.right(row + 1, d.date, 4)
    name = "青川市人民政府"
    nw = sh.width(name, d.body_font, d.body_size, PITCH)
    x_mid = LEFT + W - 4 * PITCH - dw / 2
    sh.text(name, d.body_font, d.body_size, x_mid - nw / 2, sh.base(row, d.body_size))
    c.setStrokeColorRGB(*d.red)
    c.setLineWidth(2)
    c.circle(x_mid, sh.ph - (sh.top + (row + 1) * ROW), 21 * MM)
    c.setStrokeColorRGB(0, 0, 0)
    # 版记 (7.4): rules as wide as the 版心, 4号 text 左右各空一字, the last rule on the 版心's bottom edge
    r0 = d.banji_rows
    w1, w2, w3 = (w * MM for w in d.banji_weights)
    if d.banji_plain if d.banji_plain is not None else d.fmt == "xinhan":
        # 10.1: 版记不加印发机关和印发日期、分隔线，位于公文最后一页版心内最下方
        sh.text("抄送：市委各部门，市人大常委会办公室。", "fang", 14, LEFT + 14, sh.base(r0 + 2, 14), pitch=14)
        sh.folio(2)
        c.showPage()
        c.save()
        return buf.getvalue()
    sh.rule(sh.top + r0 * ROW, LEFT, LEFT + W, w1)
    sh.text("抄送：市委各部门，市人大常委会办公室。", "fang", 14, LEFT + 14, sh.base(r0, 14), pitch=14)
    sh.rule(sh.top + (r0 + 2) * ROW, LEFT, LEFT + W, w2)
    yinfa = "青川市人民政府办公室"
    riqi = d.date + "印发"
    sh.text(yinfa, "fang", 14, LEFT + 14, sh.base(r0 + 2, 14), pitch=14)
    rw = sh.width(riqi, "fang", 14, 14)
    sh.text(riqi, "fang", 14, LEFT + W - 14 - rw, sh.base(r0 + 2, 14), pitch=14)
    sh.rule(sh.top + (r0 + 3) * ROW, LEFT, LEFT + W, w3)
    sh.folio(2)
    c.showPage()
    c.save()
    return buf.getvalue()
