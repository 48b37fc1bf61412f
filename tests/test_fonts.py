"""Fonts and script runs, measured on rendered PDFs: which face draws which character, what happens when
no font has a character, CFF-to-TrueType conversion and its cache, and the errors a user sees."""
from __future__ import annotations

import io
import shutil

import pdfplumber
import pytest
from reportlab.pdfgen import canvas

from docgen.errors import FontError
from docgen.typeset import fonts
from docgen.typeset.fonts import BUNDLED_DIR, FontStack, family, load_face, script_of
from docgen.typeset.breaker import break_lines, missing_chars
from docgen.typeset.text import ParaFormat, Run, TextStyle
from docgen.typeset.textobject import draw_line


@pytest.fixture(scope="module")
def stack():
    latin = family("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf", "NotoSerif-BoldItalic.ttf")
    cjk = family("NotoSerifSC-Regular.ttf", "NotoSerifSC-Bold.ttf")
    return FontStack((latin,), (cjk,), mono=family("NotoSansMono-Regular.ttf"))


def ps_name(face) -> str:
    from reportlab.pdfbase import pdfmetrics
    n = pdfmetrics.getFont(face.name).face.name
    return n.decode() if isinstance(n, bytes) else n


def render(lines_list, width=400.0) -> pdfplumber.PDF:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width + 100, 400), invariant=1)
    y = 360
    for lines in lines_list:
        for ln in lines:
            draw_line(c, ln, 50, y)
            y -= 20
    c.save()
    buf.seek(0)
    return pdfplumber.open(buf)


def test_latin_and_han_use_their_own_faces(stack):
    st = TextStyle(stack, 12)
    lines = break_lines([Run("使用 Qwen-Image 20B 模型", st)], 400, ParaFormat(align="left"))
    assert len(lines) == 1
    by_text = {p.text: p.face for p in lines[0].pieces}
    latin, cjk = stack.latin[0].regular, stack.cjk[0].regular
    assert by_text == {"使用": cjk, "Qwen-Image 20B": latin, "模型": cjk}
    with render([lines]) as pdf:
        chars = [c for c in pdf.pages[0].chars if c["text"].strip()]
        assert "".join(c["text"] for c in chars) == "使用Qwen-Image20B模型"
        for c in chars:
            want = ps_name(cjk) if "\u4e00" <= c["text"] <= "\u9fff" else ps_name(latin)
            assert c["fontname"].split("+")[-1] == want, c["text"]


def test_ambiguous_quotes_follow_paragraph_language(stack):
    st = TextStyle(stack, 12)
    latin, cjk = stack.latin[0].regular, stack.cjk[0].regular
    zh = break_lines([Run("他说“好”。", st)], 400, ParaFormat(lang="zh", align="left"))[0]
    en = break_lines([Run("He said “yes”.", st)], 400, ParaFormat(lang="en", align="left"))[0]
    assert all(p.face is cjk for p in zh.pieces)
    assert all(p.face is latin for p in en.pieces)
    # full-width in Chinese (1 em), proportional in English
    assert cjk.advance("“") == pytest.approx(1.0)
    assert latin.advance("“") < 0.6
    # full-width punctuation is always the CJK face, even in an English paragraph
    assert stack.face_for("，", lang="en") is cjk and stack.face_for("A", lang="zh") is latin


def test_bold_italic_and_mono_faces(stack):
    latin, cjk = stack.latin[0], stack.cjk[0]
    assert stack.face_for("A", bold=True) is latin.bold and not latin.bold.synthetic_bold
    assert stack.face_for("A", italic=True) is latin.italic
    assert stack.face_for("中", bold=True) is cjk.bold
    assert stack.face_for("中", italic=True) is cjk.regular          # Chinese has no italic
    assert stack.face_for("x", mono=True) is stack.mono.regular
    assert stack.face_for("中", mono=True) is cjk.regular            # mono font lacks Han: script chain
    single = family("LXGWWenKai-Regular.ttf")
    assert single.pick(True, False).synthetic_bold and single.pick(True, False).name == single.regular.name
    assert single.pick(False, True) is single.regular


def test_synthetic_bold_is_drawn_with_fill_and_stroke(stack):
    kai = family("LXGWWenKai-Regular.ttf")
    st = TextStyle(FontStack(stack.latin, (kai,)), 12, bold=True)
    lines = break_lines([Run("加粗文字", st)], 300, ParaFormat(align="left"))
    assert lines[0].pieces[0].face.synthetic_bold
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1, pageCompression=0)
    draw_line(c, lines[0], 50, 700)
    c.save()
    assert b"2 Tr" in buf.getvalue()


def test_fallback_to_other_script_chain():
    latin_only = FontStack((family("NotoSerif-Regular.ttf"),), (family("NotoSerifSC-Regular.ttf"),))
    assert script_of("①") == "latin"
    assert not latin_only.latin[0].regular.covers("①")
    assert latin_only.face_for("①") is latin_only.cjk[0].regular
    assert script_of("中") == "cjk" and script_of(" ") == "common" and script_of("a") == "latin"
    assert script_of("—") == "common" and script_of("，") == "cjk"


def test_missing_characters_are_reported_and_rendering_goes_on(stack):
    st = TextStyle(stack, 12)
    text = "罕见字\U00020000和\U0010fffd结束"
    assert missing_chars([Run(text, st)]) == ["\U00020000", "\U0010fffd"]
    assert missing_chars([Run("普通文字 plain", st)]) == []
    lines = break_lines([Run(text, st)], 300, ParaFormat(align="left"))
    with render([lines]) as pdf:
        assert len(pdf.pages[0].chars) == len(text)      # drawn (as .notdef), so nothing silently vanishes


def test_installed_fonts_are_searched_by_coverage_only_when_allowed(tmp_path, monkeypatch):
    sysdir = tmp_path / "share" / "fonts"
    sysdir.mkdir(parents=True)
    # any file name: the search reads the font's coverage, not its name
    shutil.copy(BUNDLED_DIR / "NotoSansSC-Regular.ttf", sysdir / "a-font.ttf")
    monkeypatch.setattr(fonts, "USE_FONTCONFIG", False)
    monkeypatch.setattr(fonts, "system_font_dirs", lambda: [sysdir])
    monkeypatch.setattr(fonts, "_installed", None)
    monkeypatch.setattr(fonts, "_ranked", {})
    monkeypatch.setattr(fonts, "bundled_fonts", lambda: [])       # only the installed font can draw 中
    latin = (family("NotoSerif-Regular.ttf"),)
    assert FontStack(latin, ()).face_for("中") is None
    face = FontStack(latin, (), allow_system=True).face_for("中")
    assert face is not None and face.path.endswith("a-font.ttf")


def _make_cff_font(path):
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    def box(w, inset):
        pen = T2CharStringPen(w, None)
        pen.moveTo((inset, 0)); pen.lineTo((inset, 700)); pen.curveTo((w / 2, 800), (w / 2, 800), (w - inset, 700))
        pen.lineTo((w - inset, 0)); pen.closePath()
        return pen.getCharString()

    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder([".notdef", "space", "A", "B"])
    fb.setupCharacterMap({32: "space", 65: "A", 66: "B"})
    sp = T2CharStringPen(250, None)
    fb.setupCFF("DocgenTestCFF", {"FullName": "Docgen Test CFF"},
                {".notdef": box(500, 50), "space": sp.getCharString(), "A": box(600, 40), "B": box(650, 60)}, {})
    fb.setupHorizontalMetrics({".notdef": (500, 50), "space": (250, 0), "A": (600, 40), "B": (650, 60)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Docgen Test CFF", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))


def test_cff_font_is_converted_once_and_cached(tmp_path, monkeypatch):
    src = tmp_path / "TestCFF.otf"
    _make_cff_font(src)
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(cache))
    face = load_face(src)
    converted = list((cache / "fonts").glob("*.ttf"))
    assert [str(p) for p in converted] == [face.path]
    assert not list((cache / "fonts").glob("*.tmp"))
    assert face.covers("A") and face.advance("B") == pytest.approx(0.65)
    assert load_face(str(src)) is face                       # same process: free
    st = TextStyle(FontStack((fonts.Family(face, face, face, face),), ()), 20)
    with render([break_lines([Run("AB BA", st)], 300, ParaFormat(lang="en", align="left"))]) as pdf:
        assert pdf.pages[0].extract_text() == "AB BA"
    # a later process finds the converted file and does not convert again
    mtime = converted[0].stat().st_mtime_ns
    monkeypatch.setattr(fonts, "_faces", {})

    def no_conversion(*a):
        raise AssertionError("converted again")

    monkeypatch.setattr(fonts, "_write_truetype", no_conversion)
    again = load_face(src)
    assert again.path == face.path and converted[0].stat().st_mtime_ns == mtime


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FontError, match="NoSuchFont.ttf"):
        load_face("NoSuchFont.ttf")
    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"this is not a font at all")
    with pytest.raises(FontError, match=str(bad)):
        load_face(bad)
    with pytest.raises(FontError, match=r"broken\.ttf"):
        load_face("broken.ttf", base_dir=tmp_path)
    assert load_face("NotoSerif-Regular.ttf", base_dir=tmp_path) is load_face(BUNDLED_DIR / "NotoSerif-Regular.ttf")
