"""The text layer: characters outside the BMP, and fonts a user brings."""
import io

import pdfplumber
import pytest

import docgen
from pdfutil import nows, pypdf_text

RARE = "\U00020BB7"          # 𠮷 (CJK Ext-B), a real name character


def _font_with(path, chars):
    """A small TrueType font (glyf outlines) covering ``chars``: squares of the em."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    names = [".notdef"] + [f"u{ord(c):X}" for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"u{ord(c):X}" for c in chars})
    glyphs = {}
    for n in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, -100)); pen.lineTo((100, 800)); pen.lineTo((900, 800)); pen.lineTo((900, -100))
        pen.closePath()
        glyphs[n] = pen.glyph()
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (1000, 100) for n in names})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": "Rare Test", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.save(str(path))
    return path


@pytest.fixture
def rare_font(tmp_path):
    return _font_with(tmp_path / "rare.ttf", RARE + "\U0001F600")


def _spec(font, text):
    """A spec in the font's folder that adds the font (by a path relative to the spec) to the CJK chain."""
    import yaml
    spec = {"layout": "report", "languages": ["zh"], "meta": {"title": "生僻字"},
            "theme": {"fonts": {"body": {"cjk": [{"regular": "NotoSerifSC-Regular.ttf", "bold": "NotoSerifSC-Bold.ttf"},
                                                  {"regular": font.name}]}}},
            "body": [{"paragraph": text}]}
    path = font.parent / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_non_bmp_characters_extract_correctly(rare_font):
    text = f"吉{RARE}先生的名字里有生僻字{RARE}，表情😀也能检索。"
    res = docgen.render(_spec(rare_font, text))
    assert not [w for w in res.warnings if "no font covers" in w]
    body = nows("".join(pypdf_text(res.pdf)))
    assert nows(text) in body
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        assert nows(text) in nows("".join(p.extract_text() for p in pdf.pages))


def test_uncovered_character_is_a_warning_naming_it(rare_font):
    res = docgen.render({"layout": "report", "languages": ["zh"], "meta": {"title": "缺字"},
                         "theme": {"fonts": {"system_fallback": False}},
                         "body": [{"paragraph": f"这里有个{RARE}字"}]})
    assert any("U+20BB7" in w and "这里有个" in w for w in res.warnings)


@pytest.mark.parametrize("font", ["/etc/passwd", "../rare.ttf", "~/x.ttf"])
def test_spec_fonts_cannot_leave_the_spec_folder(tmp_path, font):
    from docgen.errors import SpecError
    sub = tmp_path / "sub"
    sub.mkdir()
    _font_with(tmp_path / "rare.ttf", RARE)
    with pytest.raises(SpecError) as e:
        docgen.render({"layout": "report", "languages": ["zh"], "meta": {"title": "t"},
                       "theme": {"fonts": {"body": {"cjk": [{"regular": font}]}}}}, )
    p = e.value.problems[0]
    assert p.path == "theme.fonts.body.cjk.0.regular"
    assert "system font folder" in p.message or "must stay inside" in p.message
