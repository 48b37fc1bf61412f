"""Coverage and licensed fonts, measured on rendered PDFs: the bundled CJK faces hold the 通用规范汉字表,
a character the theme's fonts lack is drawn by a font found by coverage (same style class first) and named
in a warning with its block and position, a 公文 typeface role points at a font in a system font folder
(Windows paths read as Windows reads them), a role's chain catches what a GB 2312 font lacks, and
``docgen doctor --fonts`` lists the roles."""
from __future__ import annotations

import io
import json
import textwrap

import pdfplumber
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont as FTFont

from conftest import ROOT
from docgen import render
from docgen.cli import main
from docgen.errors import DocgenError, SpecError
from docgen.spec.theme import in_windows_font_dir, is_windows_path
from docgen.typeset import fonts
from docgen.typeset.fonts import BUNDLED_DIR, FontStack, cluster_face, clusters, family, tgh_chars

NAMES = "喆堃昇赟玥镕䶮龘"         # issue 13: common in names and places, outside GB 2312


def make_font(path, family_name: str, chars: str) -> None:
    """A small TrueType font drawing a box for each of ``chars`` (and for A-Z, so ReportLab has Latin)."""
    chars = "".join(dict.fromkeys(chars + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    names = [".notdef", "space"] + [f"u{ord(c):X}" for c in chars]
    glyphs, metrics = {}, {}
    for g in names:
        pen = TTGlyphPen(None)
        if g != "space":
            pen.moveTo((100, 0))
            for pt in ((100, 700), (900, 700), (900, 0)):
                pen.lineTo(pt)
            pen.closePath()
        glyphs[g] = pen.glyph()
        metrics[g] = (1000, 100 if g != "space" else 0)
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({32: "space", **{ord(c): f"u{ord(c):X}" for c in chars}})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": family_name, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.save(str(path))


@pytest.fixture
def system_dir(tmp_path, monkeypatch):
    """A temporary system font folder: allowed for theme paths and searched by the coverage fallback
    (fontconfig off, so only folders are scanned and the machine's own fonts do not take part)."""
    d = tmp_path / "sysfonts"
    d.mkdir()
    monkeypatch.setenv("DOCGEN_FONT_DIRS", str(d))
    monkeypatch.setattr(fonts, "USE_FONTCONFIG", False)
    monkeypatch.setattr(fonts, "_installed", None)
    monkeypatch.setattr(fonts, "_ranked", {})
    monkeypatch.setattr(fonts, "system_font_dirs", lambda: [d])
    return d


def gongwen(body, theme=None, **meta):
    spec = {"layout": "gongwen", "languages": ["zh"],
            "meta": {"title": meta.get("title", "关于做好春季工作的通知"), "author": "某单位"},
            "gongwen": {"biaozhi": "某单位文件", "zihao": "某发〔2026〕1号", "zhusong": ["各部门"],
                        "shuming": "某单位", "chengwen_riqi": "2026-03-06"},
            "body": [{"paragraph": p} for p in body]}
    if theme:
        spec["theme"] = theme
    return spec


def chars_of(pdf_bytes):
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [(c["text"], c["fontname"].split("+", 1)[-1]) for p in pdf.pages for c in p.chars]


def embedded_fonts(pdf_bytes) -> dict[str, FTFont]:
    """Embedded TrueType programs by base font name (subset prefix dropped)."""
    from pypdf import PdfReader
    out = {}
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        for f in page["/Resources"]["/Font"].values():
            f = f.get_object()
            for d in [f] + [x.get_object() for x in f.get("/DescendantFonts", [])]:
                desc = d.get("/FontDescriptor")
                if desc is not None and "/FontFile2" in desc.get_object():
                    data = desc.get_object()["/FontFile2"].get_object().get_data()
                    out[str(d["/BaseFont"]).split("+", 1)[-1]] = FTFont(io.BytesIO(data))
    return out


# ---- coverage of the bundled fonts ------------------------------------------------------------------------
def test_bundled_cjk_fonts_hold_the_tongyong_guifan_table_and_name_characters():
    tgh = tgh_chars()
    assert len(tgh) == 8105 and set("喆堃昇赟玥镕䶮") <= tgh
    manifest = json.loads((BUNDLED_DIR / "fonts.json").read_text(encoding="utf-8"))["files"]
    for name in ("NotoSerifSC-Regular.ttf", "NotoSerifSC-Bold.ttf", "NotoSerifSC-Black.ttf",
                 "NotoSansSC-Regular.ttf", "NotoSansSC-Bold.ttf", "LXGWWenKai-Regular.ttf"):
        cmap = FTFont(BUNDLED_DIR / name, lazy=True).getBestCmap()
        assert not [c for c in tgh | set(NAMES) if ord(c) not in cmap], name
        assert manifest[name]["missing_hanzi"] == ""
    # FandolFang stops at GB 2312: what it lacks is listed, and the README says so
    fang = FTFont(BUNDLED_DIR / "FandolFang-Regular.ttf", lazy=True).getBestCmap()
    lacks = "".join(sorted(c for c in tgh | set(NAMES) if ord(c) not in fang))
    assert lacks and set(lacks) <= set(manifest["FandolFang-Regular.ttf"]["missing_hanzi"])
    assert manifest["FandolFang-Regular.ttf"]["missing_hanzi"] in (BUNDLED_DIR / "README.md").read_text("utf-8")


def test_name_characters_in_a_report_come_out_in_the_body_face_with_no_warning():
    r = render({"layout": "report", "languages": ["zh"], "meta": {"title": "名单"},
                "body": [{"paragraph": "张喆、王堃、李昇、赵赟、陈玥、刘镕、䶮、龘"}]})
    got = {t: f for t, f in chars_of(r.pdf) if t in NAMES}
    assert set(got) == set(NAMES) and set(got.values()) == {"NotoSerifSC-Regular"}
    assert not [w for w in r.warnings if "U+" in w]


# ---- fallback by coverage -----------------------------------------------------------------------------------
def test_fallback_prefers_a_font_of_the_same_style_class(system_dir):
    pua = "\U00020001"                  # a CJK character (Extension B) only the test fonts have
    make_font(system_dir / "AaTestSans.ttf", "Test Sans", pua)
    make_font(system_dir / "ZzTestFangSong.ttf", "Test FangSong", pua)
    latin = (family("NotoSerif-Regular.ttf"),)
    fang = FontStack(latin, (family("FandolFang-Regular.ttf"),), allow_system=True)
    hei = FontStack(latin, (family("NotoSansSC-Regular.ttf"),), allow_system=True)
    assert fang.face_for(pua).source.endswith("ZzTestFangSong.ttf")
    assert hei.face_for(pua).source.endswith("AaTestSans.ttf")
    assert fang.substituted(pua) and not fang.substituted("中")
    # without system fallback only the bundled fonts are searched: the character has no font
    assert FontStack(latin, (family("FandolFang-Regular.ttf"),)).face_for(pua) is None
    # a name character FandolFang lacks: the nearest bundled class (serif) before sans
    assert FontStack(latin, (family("FandolFang-Regular.ttf"),)).face_for("喆").source.endswith(
        "NotoSerifSC-Regular.ttf")


def test_substitution_warning_names_the_font_the_field_path_and_the_position():
    r = render(gongwen(["春季工作安排如下。", "表彰张喆同志。"]))
    warn = [w for w in r.warnings if "U+5586" in w]
    assert warn == ["'喆' (U+5586) in body.1, character 3: not in FandolFang-Regular.ttf (bundled); drawn in "
                    "NotoSerifSC-Regular.ttf (bundled)"]
    assert ("喆", "NotoSerifSC-Regular") in chars_of(r.pdf)
    assert ("张", "FandolFang-Regular") in chars_of(r.pdf)


def test_no_font_at_all_names_the_field_and_position():
    r = render(gongwen(["甲乙\U0010fffd丙"], theme={"fonts": {"system_fallback": False}}))
    assert f"no font covers {chr(0x10FFFD)!r} (U+10FFFD) in body.0, character 2 ({'甲乙' + chr(0x10FFFD) + '丙'!r})" \
        in r.warnings


# ---- emoji clusters -------------------------------------------------------------------------------------------
def test_emoji_sequences_are_one_cluster_each():
    text = "a👍🏽b👩\u200d💻🇨🇳🇯🇵❤️1️⃣中"
    assert clusters(text) == ["a", "👍🏽", "b", "👩\u200d💻", "🇨🇳", "🇯🇵", "❤️", "1️⃣", "中"]
    assert clusters("普通文字") == list("普通文字")


def test_a_cluster_is_drawn_by_one_face(system_dir):
    base, mod = "\ue010", "\ue011"
    make_font(system_dir / "EmojiBaseOnly.ttf", "Base Only", base)
    make_font(system_dir / "EmojiBoth.ttf", "Both", base + mod)
    st = FontStack((family("NotoSerif-Regular.ttf"),), (family("NotoSerifSC-Regular.ttf"),), allow_system=True)
    assert st.face_for(base).source.endswith("EmojiBaseOnly.ttf")        # alone: the first by path
    assert cluster_face(st, base + "\u200d" + mod).source.endswith("EmojiBoth.ttf")


# ---- licensed fonts by role ------------------------------------------------------------------------------------
def test_a_role_font_in_a_system_folder_is_embedded_and_a_rare_character_falls_through_the_chain(system_dir):
    body = "春季工作安排如下"
    make_font(system_dir / "FangSong_GB2312.ttf", "FangSong_GB2312", body + "张同志")
    theme = {"fonts": {"roles": {"fangsong": [str(system_dir / "FangSong_GB2312.ttf"), "LXGWWenKai-Regular.ttf"]}}}
    r = render(gongwen([body + "，表彰张喆同志。"], theme=theme))
    body_chars = {(t, f) for t, f in chars_of(r.pdf) if t in "春张喆"}
    # the role's first font, then its second for the character a GB 2312 font lacks (not the stand-in)
    assert {f for t, f in body_chars if t != "喆"} == {"FangSong_GB2312"} | (
        {"NotoSerifSC-Black"} if ("春", "NotoSerifSC-Black") in body_chars else set())   # 春 of the title
    assert {f for t, f in body_chars if t == "喆"} == {"DocgenWenKai-Regular"}
    assert not [w for w in r.warnings if "U+5586" in w]        # a chain the spec chose: no warning
    emb = embedded_fonts(r.pdf)
    assert "FangSong_GB2312" in emb and "DocgenWenKai-Regular" in emb
    # the embedded WenKai subset holds the glyph drawn for 喆: its outline is the source font's
    src = FTFont(BUNDLED_DIR / "LXGWWenKai-Regular.ttf")
    want = src["glyf"][src.getBestCmap()[ord("喆")]]
    sub = emb["DocgenWenKai-Regular"]
    got = [g for g in sub.getGlyphOrder() if sub["glyf"][g].numberOfContours == want.numberOfContours
           and sub["glyf"][g].getCoordinates(sub["glyf"])[0] == want.getCoordinates(src["glyf"])[0]]
    assert got


@pytest.mark.parametrize("name, ok", [
    (r"C:\Windows\Fonts\simfang.ttf", True),
    ("c:/windows/fonts/SIMFANG.TTF", True),
    (r"%LOCALAPPDATA%\Microsoft\Windows\Fonts\FZXBSJW.TTF", True),
    (r"C:\Users\li\AppData\Local\Microsoft\Windows\Fonts\FZXBSJW.TTF", True),
    (r"C:\Windows\Fonts\..\System32\config\SAM", False),
    (r"C:\Windows\System32\simfang.ttf", False),
    (r"D:\fonts\simfang.ttf", False),
    (r"C:\Windows\Fonts", False),
])
def test_windows_font_paths_are_read_as_windows_reads_them(name, ok):
    assert is_windows_path(name)
    assert in_windows_font_dir(name, {}) is ok


def test_a_windows_role_path_is_accepted_here_and_skipped_with_a_warning():
    theme = {"fonts": {"roles": {"fangsong": [r"C:\Windows\Fonts\simfang.ttf"]}}}
    r = render(gongwen(["春季工作。"], theme=theme))
    assert any(w.startswith("theme.fonts.roles.fangsong: none of its fonts is installed") and "simfang" in w
               for w in r.warnings)
    assert ("春", "FandolFang-Regular") in chars_of(r.pdf)


@pytest.mark.parametrize("entry, msg", [
    (r"C:\Windows\System32\simfang.ttf", "a Windows font path must be in"),
    ("/etc/hostname", "an absolute font path must be in a system font folder"),
    ("../outside.ttf", "must stay inside it"),
])
def test_a_role_path_outside_the_allowed_folders_is_refused(tmp_path, entry, msg):
    with pytest.raises(SpecError) as e:
        render(gongwen(["春季工作。"], theme={"fonts": {"roles": {"fangsong": [entry]}}}), base_dir=tmp_path)
    assert "theme.fonts.roles.fangsong.0" in str(e.value) and msg in str(e.value)


def test_a_file_that_is_not_a_font_is_an_error_naming_the_field(system_dir):
    (system_dir / "notes.ttf").write_text("not a font", encoding="utf-8")
    bad = str(system_dir / "notes.ttf")
    for theme, where in [({"fonts": {"roles": {"heiti": [bad]}}}, "theme.fonts.roles.heiti.0"),
                         ({"fonts": {"body": {"cjk": [{"regular": bad}]}}}, "theme.fonts.body.cjk.0.regular")]:
        with pytest.raises(DocgenError) as e:
            render(gongwen(["春季工作。"], theme=theme))
        assert where in str(e.value) and "not a TrueType/OpenType font" in str(e.value)


def test_the_licensed_fonts_example_in_the_docs_renders_as_written(tmp_path):
    text = (ROOT / "docs" / "gongwen.md").read_text(encoding="utf-8")
    example = text[text.index("## Licensed fonts"):].split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = tmp_path / "tongbao.yaml"
    spec.write_text(example, encoding="utf-8")
    r = render(spec)
    assert r.pages == 1
    assert {w.split(":")[0] for w in r.warnings if w.startswith("theme.fonts.roles")} == {
        f"theme.fonts.roles.{role}" for role in ("fangsong", "heiti", "kaiti", "xiaobiaosong")}
    assert ("喆", "NotoSerifSC-Regular") in chars_of(r.pdf)


def test_doctor_lists_which_font_each_role_uses(system_dir, tmp_path, capsys):
    make_font(system_dir / "simhei.ttf", "SimHei", "".join(sorted(tgh_chars()))[:1200])
    spec = tmp_path / "doc.yaml"
    spec.write_text(textwrap.dedent(f"""\
        layout: gongwen
        languages: [zh]
        meta: {{title: 通知}}
        gongwen: {{biaozhi: 某单位文件, shuming: 某单位, chengwen_riqi: 2026-03-06}}
        theme: {{fonts: {{roles: {{heiti: [{system_dir / 'simhei.ttf'}]}}}}}}
        """), encoding="utf-8")
    assert main(["doctor", "--fonts", "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("font role")]
    assert [ln.split()[2] for ln in lines] == ["fangsong", "xiaobiaosong", "heiti", "kaiti"]
    hei = next(ln for ln in lines if "heiti" in ln)
    assert " ok " in hei and "theme.fonts.roles.heiti.0" in hei and "simhei.ttf" in hei
    assert "stand-in" in next(ln for ln in lines if "fangsong" in ln)
    assert f"{system_dir / 'simhei.ttf'} (SimHei Regular): 1200 of the 8105" in out


def test_a_line_never_breaks_inside_an_emoji_cluster_and_one_face_draws_it():
    from docgen.typeset.breaker import break_lines
    from docgen.typeset.text import ParaFormat, Run, TextStyle
    stack = FontStack((family("NotoSerif-Regular.ttf"),), (family("NotoSerifSC-Regular.ttf"),), allow_system=True)
    st = TextStyle(stack, 12)
    text = "表情👍🏽和👩\u200d💻以及🇨🇳🇯🇵还有❤️结束1️⃣"
    whole = clusters(text)
    # the clusters some one font has every character of (on this machine): those must be in one piece
    one_face = [c for c in whole if len(c) > 1 and (f := cluster_face(stack, c)) is not None
                and all(f.covers(x) for x in c)]
    for width in (25, 40, 60, 90, 300):              # each cluster fits a line on its own
        lines = break_lines([Run(text, st)], width, ParaFormat(align="left"))
        got = ["".join(p.text for p in ln.pieces) for ln in lines]
        assert "".join(got) == text
        for ln in got:                               # each line is a run of whole clusters
            assert set(clusters(ln)) <= set(whole), (width, got)
        for ln in lines:
            for c in one_face:
                if c in "".join(p.text for p in ln.pieces):
                    assert any(c in p.text for p in ln.pieces), (width, c)


def test_a_paragraph_with_emoji_clusters_keeps_its_newlines_and_spaces():
    """Forced line breaks and collapsed spaces around clusters (a render used to fail on 你好👍🏻世界 + newline)."""
    from docgen.typeset.breaker import break_lines
    from docgen.typeset.text import ParaFormat, Run, TextStyle
    stack = FontStack((family("NotoSerif-Regular.ttf"),), (family("NotoSerifSC-Regular.ttf"),))
    st = TextStyle(stack, 12)
    for text, want in (("你好👍🏻世界\n第二行", ["你好👍🏻世界", "第二行"]),
                       ("Hello 👍🏻 world\nsecond 🇨🇳 line", ["Hello 👍🏻 world", "second 🇨🇳 line"]),
                       ("你好 👍🏻 世界", ["你好👍🏻世界"])):
        lines = break_lines([Run(text, st)], 300, ParaFormat(align="left", lang="en" if "Hello" in text else "zh"))
        assert ["".join(p.text for p in ln.pieces) for ln in lines] == want


def test_a_role_can_name_a_copy_of_a_bundled_font_installed_in_a_system_folder(system_dir):
    import shutil
    shutil.copy(BUNDLED_DIR / "NotoSansSC-Regular.ttf", system_dir / "simkai.ttf")   # any name: read, not guessed
    spec = gongwen([], theme={"fonts": {"roles": {"kaiti": [str(system_dir / "simkai.ttf")]}}})
    spec["body"] = [{"heading": "总体要求"}, {"heading": {"zh": "工作目标", "level": 2}}, {"paragraph": "正文。"}]
    r = render(spec)
    got = chars_of(r.pdf)
    # （一）in the role's font (named NotoSansSC-Regular, with a tag of its own if the bundled file of that
    # name is registered too)
    assert [f for t, f in got if t == "目"] and all(f.startswith("NotoSansSC-Regular") for t, f in got if t == "目")
    assert ("正", "FandolFang-Regular") in got
    assert any(n.startswith("NotoSansSC-Regular") for n in embedded_fonts(r.pdf))


def test_two_font_files_with_one_postscript_name_each_draw_their_own_characters(tmp_path):
    make_font(tmp_path / "a.ttf", "Test Dup", "甲")
    make_font(tmp_path / "b.ttf", "Test Dup", "乙")         # same family, so the same PostScript name
    st = FontStack((family("NotoSerif-Regular.ttf"),), (family(tmp_path / "a.ttf"), family(tmp_path / "b.ttf")))
    a, b = st.face_for("甲"), st.face_for("乙")
    assert a.path.endswith("a.ttf") and b is not None and b.path.endswith("b.ttf")
    assert a.reportlab_font.face.name != b.reportlab_font.face.name


def test_a_cff_font_found_by_coverage_is_converted_one_page_at_a_time(system_dir, tmp_path, monkeypatch):
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    chars = ["\U00020002", "\U00020003", "\U00020105"]       # two pages: U+200xx and U+201xx
    names = [".notdef"] + [f"u{ord(c):X}" for c in chars]

    def box():
        pen = T2CharStringPen(1000, None)
        pen.moveTo((100, 0)); pen.lineTo((100, 700)); pen.lineTo((900, 700)); pen.closePath()   # noqa: E702
        return pen.getCharString()

    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"u{ord(c):X}" for c in chars})
    fb.setupCFF("TestSongCFF", {"FullName": "Test Song CFF"}, {g: box() for g in names}, {})
    fb.setupHorizontalMetrics({g: (1000, 100) for g in names})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": "Test Song CFF", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.save(str(system_dir / "TestSong.otf"))
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "cache"))
    st = FontStack((family("NotoSerif-Regular.ttf"),), (family("NotoSerifSC-Regular.ttf"),), allow_system=True)
    f1, f2, f3 = (st.face_for(c) for c in chars)
    assert f1 is f2 and f3 is not f1 and f1.source.endswith("TestSong.otf")
    for f, page in ((f1, 0x200), (f3, 0x201)):
        cmap = FTFont(f.path).getBestCmap()
        assert cmap and {cp >> 8 for cp in cmap} == {page}         # only that page was converted


def test_a_list_item_warning_names_the_block_and_the_item():
    r = render({"layout": "report", "languages": ["zh"], "meta": {"title": "t"},
                "theme": {"fonts": {"system_fallback": False}}, "body": [{"list": ["甲", "乙\U0010fffd"]}]})
    assert [w for w in r.warnings if "U+10FFFD" in w][0].startswith("no font covers '\\U0010fffd' (U+10FFFD) in "
                                                                     "body.0 item 2, character 1")
