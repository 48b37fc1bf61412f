"""docgen check: the conformance checker, fed good PDFs and deliberately wrong ones (gongwen renders with
wrong theme overrides, and small hand-written ReportLab canvases)."""
import io
import subprocess
import sys

import pytest

import docgen
from docgen.check import CheckError, check_pdf
from docgen.cli import main

from conftest import EXAMPLES, ROOT

MM = 72 / 25.4
TOP, LEFT, W, H = 37 * MM, 28 * MM, 156 * MM, 225 * MM
PARA = ("为深入贯彻落实党中央、国务院决策部署，进一步做好相关工作，确保各项任务按期完成，现将有关事项通知如下。"
        "各地各部门要提高思想认识，加强组织领导，细化工作措施，强化督促检查，切实把各项工作落到实处。")


def gongwen(theme=None, paras=8):
    s = {"layout": "gongwen", "languages": ["zh"], "meta": {"title": "关于做好2026年度重点工作的通知"},
         "gongwen": {"biaozhi": "青川市人民政府文件", "zihao": "青政发〔2026〕9号", "zhusong": ["各区人民政府"],
                     "shuming": "青川市人民政府", "chengwen_riqi": "2026-03-06"},
         "body": [{"paragraph": PARA}] * paras}
    if theme:
        s["theme"] = theme
    return docgen.render(s).pdf


@pytest.fixture(scope="module")
def good():
    return gongwen()


def kinds(pdf, standard="gbt9704"):
    return check_pdf(pdf, standard).kinds()


def test_a_conforming_document_passes(good):
    r = check_pdf(good, "gbt9704")
    assert r.ok, r.lines()
    assert r.pages == 3 and r.lines()[-1] == "gbt9704: 3 pages, no violations"
    assert check_pdf(good).ok                       # clreq by default


def test_margin_measured_from_the_wrong_edge_is_reported():
    # 订口 28 mm taken as the outer (right) margin: the type area moves 2 mm left
    r = check_pdf(gongwen({"page_templates": {"body": {"margins": {"inner": 26, "outer": 28}}}}), "gbt9704")
    margin = [v for v in r.violations if v.kind == "margin"]
    assert margin and "left of the 版心" in margin[0].message
    assert margin[0].page == 1 and margin[0].position[0] == pytest.approx(26, abs=0.5)


def test_type_area_moved_down_is_reported_even_inside_the_page():
    # 天头 40 mm instead of 37: nothing leaves the paper, but every row sits 3 mm low
    r = check_pdf(gongwen({"page_templates": {"body": {"margins": {"top": 40, "bottom": 32}}}}), "gbt9704")
    assert "grid-phase" in r.kinds()
    assert any("lower" in v.message for v in r.violations if v.kind == "grid-phase")


def test_27_characters_a_line_is_reported():
    r = check_pdf(gongwen({"page_templates": {"body": {"grid": {"lines": 22, "chars": 27}}}}), "gbt9704")
    v = [v for v in r.violations if v.kind == "grid-chars"]
    assert v and "27.0 characters a line" in v[0].message


def test_page_numbers_on_the_wrong_side_are_reported():
    r = check_pdf(gongwen({"folio": {"align": "inside"}}), "gbt9704")
    folio = [v for v in r.violations if v.kind == "folio"]
    assert {v.page for v in folio} == {1, 2, 3}
    assert "odd page" in folio[0].message and "on the left" in folio[0].message
    assert "even page" in folio[1].message and "on the right" in folio[1].message


def test_wrong_line_pitch_is_reported():
    r = check_pdf(gongwen({"page_templates": {"body": {"grid": {"lines": 23, "chars": 28}}}}), "gbt9704")
    assert "grid-line" in r.kinds() or "grid-phase" in r.kinds()


# ---- hand-written canvases: what a template made with stock tools gets wrong ---------------------------

def canvas_pdf(draw) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas
    from docgen.typeset.fonts import load_face
    font = load_face("FandolFang-Regular.ttf").name
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    draw(c, font, A4[1])
    c.save()
    return buf.getvalue()


def row_base(page_h, k, size=16.0):
    return page_h - (TOP + k * H / 22 + (H / 22 + 0.76 * size) / 2)


def folio(c, page_h, n=1):
    c.setFont("Times-Roman", 14)
    top = TOP + H + 7 * MM
    c.drawRightString(LEFT + W - 14, page_h - top - 14 + 0.216 * 14, f"— {n} —")


def grid_line(c, font, page_h, k, text, pitch=W / 28, x0=LEFT):
    c.setFont(font, 16)
    for i, ch in enumerate(text):
        c.drawString(x0 + i * pitch, row_base(page_h, k), ch)


def test_stock_drawstring_gives_27_a_line():
    def draw(c, font, ph):
        c.setFont(font, 16)
        for k in range(10):
            c.drawString(LEFT, row_base(ph, k), "国" * 27)        # stock advance: 16 pt a character
        folio(c, ph)
    r = check_pdf(canvas_pdf(draw), "gbt9704")
    assert any("27.6 characters a line" in v.message for v in r.violations if v.kind == "grid-chars")
    assert "red-rule" in r.kinds() and "title" in r.kinds()


def test_punctuation_hanging_outside_the_type_area_is_reported():
    def draw(c, font, ph):
        for k in range(6):
            grid_line(c, font, ph, k, "国" * 28 + ("，" if k == 2 else ""))
        folio(c, ph)
    r = check_pdf(canvas_pdf(draw), "gbt9704")
    hang = [v for v in r.violations if v.kind == "margin"]
    assert len(hang) == 1 and "punctuation '，' hangs" in hang[0].message and hang[0].page == 1


def test_clreq_breaks_are_checked_by_default():
    def draw(c, font, ph):
        grid_line(c, font, ph, 0, "这是一个用于测试的很长的段落文字内容它一直写到版心的右边缘为止")
        grid_line(c, font, ph, 1, "，然后下一行以逗号开头这是不允许的")
        grid_line(c, font, ph, 2, "这是一个用于测试的很长的段落文字内容它一直写到版心的右边缘（")
        grid_line(c, font, ph, 3, "括号在行末也是不允许的")
    r = check_pdf(canvas_pdf(draw))
    assert r.kinds() == {"clreq-start": 1, "clreq-end": 1}
    assert r.standard == "clreq" and not any(v.kind == "folio" for v in r.violations)


def test_missing_page_number_and_full_width_digits():
    def draw(c, font, ph):
        grid_line(c, font, ph, 0, "国" * 28)
        c.setFont(font, 14)
        c.drawRightString(LEFT + W - 14, ph - (TOP + H + 7 * MM) - 14 * 0.88, "—１—")
        c.showPage()
        grid_line(c, font, ph, 0, "国" * 28)
    r = check_pdf(canvas_pdf(draw), "gbt9704")
    msgs = [v.message for v in r.violations if v.kind == "folio"]
    assert any("full-width digits" in m for m in msgs) and any("no page number" in m for m in msgs)


# ---- the command line ---------------------------------------------------------------------------------

def test_cli_check_exit_codes(good, tmp_path, capsys):
    ok = tmp_path / "ok.pdf"
    ok.write_bytes(good)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(gongwen({"folio": {"align": "inside"}}))
    assert main(["check", str(ok), "--standard", "gbt9704"]) == 0
    assert main(["check", str(ok)]) == 0
    assert main(["check", str(bad), "--standard", "gbt9704"]) == 1
    out = capsys.readouterr().out
    assert "page 1 at (" in out and "[folio] odd page" in out and "gbt9704: 3 pages, 3 violations (folio 3)" in out
    assert main(["check", str(tmp_path / "none.pdf")]) == 2


def test_cli_render_check(tmp_path):
    out = subprocess.run([sys.executable, "-m", "docgen", "render", str(EXAMPLES / "gongwen-qingshi.yaml"), "-o",
                          str(tmp_path / "q.pdf"), "--check", "gbt9704"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "gbt9704: 2 pages, no violations" in out.stdout


def test_a_clear_error_without_pdfplumber(good, monkeypatch):
    monkeypatch.setitem(sys.modules, "pdfplumber", None)
    with pytest.raises(CheckError, match=r"pip install 'docgen\[check\]'"):
        check_pdf(good, "gbt9704")


def test_unknown_standard():
    with pytest.raises(ValueError, match="gbt9704"):
        check_pdf(b"", "iso")
