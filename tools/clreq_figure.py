"""Draw docs/img/clreq.png: one mixed Chinese/English paragraph set by ReportLab's Paragraph with
wordWrap='CJK' (left) and by docgen's line breaker (right), same font, size and measure.
usage: python3 tools/clreq_figure.py"""
import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from docgen.typeset.fonts import family, FontStack
from docgen.typeset.breaker import break_lines
from docgen.typeset.text import ParaFormat, Run, TextStyle
from docgen.typeset.textobject import draw_line

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("截至2024年12月31日，项目共完成了第3.2版的测试，覆盖率达到98.6%。《党政机关公文格式》规定：正文一般用3号仿宋体字，"
        "每面排22行，每行排28个字。我们将继续优化算法——特别是中英文混排时的断行策略……以满足更高的排版要求。"
        "Mixed paragraphs contain English words like ReportLab, Typst and WeasyPrint inside Chinese text。"
        "本报告所称“数据”，是指任何以电子或者其他方式对信息的记录。")
W, SIZE, LEAD = 200.0, 10.5, 17.0


def main():
    fonts = FontStack(latin=(family("NotoSerif-Regular.ttf"),), cjk=(family("NotoSerifSC-Regular.ttf"),))
    face = fonts.cjk[0].regular
    st = ParagraphStyle("p", fontName=face.name, fontSize=SIZE, leading=LEAD, alignment=TA_JUSTIFY,
                        wordWrap="CJK", firstLineIndent=2 * SIZE)
    p = Paragraph(escape(TEXT), st)
    _, h = p.wrap(W, 1000)
    lines = break_lines([Run(TEXT, TextStyle(fonts=fonts, size=SIZE))], W,
                        ParaFormat(align="justify", lang="zh", first_indent=2 * SIZE))
    top = max(h, len(lines) * LEAD) + 14
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(2 * W + 90, top + 30), invariant=1)
    c.setFont(face.name, 9)
    c.drawString(30, top + 10, "ReportLab Paragraph, wordWrap='CJK'")
    c.drawString(W + 60, top + 10, "docgen")
    p.drawOn(c, 30, top - h)
    for i, line in enumerate(lines):
        draw_line(c, line, W + 60, top - (i + 1) * LEAD + 4)
    c.setStrokeColorRGB(0.85, 0.2, 0.2)
    c.setLineWidth(0.3)
    for x in (30, 30 + W, W + 60, 2 * W + 60):
        c.line(x, 8, x, top + 5)
    c.save()
    import pypdfium2 as pdfium
    img = pdfium.PdfDocument(buf.getvalue())[0].render(scale=2.6).to_pil().convert("L")
    out = ROOT / "docs" / "img" / "clreq.png"
    img.save(out, optimize=True)
    print(out, img.size)


if __name__ == "__main__":
    main()
