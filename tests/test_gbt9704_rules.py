"""GB/T 9704-2012 rules of `docgen check --standard gbt9704`, one crafted defect each (issue 14, item 6): a PDF
drawn directly with ReportLab (tests/gongwen_pdfs.py) carrying exactly that defect is rejected with that rule,
and a conforming control drawn the same way passes."""
import pytest
from gongwen_pdfs import Gongwen, draw

from docgen.check import check_pdf
from docgen.check.fontroles import (
    FANGSONG,
    HEITI,
    KAITI,
    SONGTI,
    XIAOBIAOSONG,
    font_role,
)
from docgen.check.text import is_red
from docgen.check.words import broken_words, has_dictionary
from docgen.cli import main

MINGLING = dict(fmt="mingling", biaozhi="青川市人民政府令", zihao=None, title=(), zhusong=None)
JIYAO = dict(biaozhi="青川市政府常务会议纪要", biaozhi_size=36, zihao=None, title=())
needs_jieba = pytest.mark.skipif(not has_dictionary(), reason="word splits inside words need jieba (docgen[check])")


def report(pdf, fmt=None):
    return check_pdf(pdf, "gbt9704", fmt=fmt)


@pytest.mark.parametrize("changes,fmt", [({}, "wenjian"), ({"fmt": "xinhan"}, "xinhan"), (MINGLING, "mingling"),
                                        (JIYAO, "jiyao")], ids=["wenjian", "xinhan", "mingling", "jiyao"])
def test_conforming_controls_pass_and_their_format_is_detected(changes, fmt):
    r = report(draw(**changes))
    assert r.ok, "\n".join(r.lines())
    assert any(f"({fmt}), detected" in i for i in r.infos)


# (id, the one defect, the violation's kind, a fragment of its message)
DEFECTS = [
    ("body-15.5pt", {"body_size": 15.5}, "body-size", "15.5pt"),
    ("body-15.7pt", {"body_size": 15.7}, "body-size", "15.7pt"),
    ("title-21.5pt", {"title_size": 21.5}, "title", "title in 21.5pt"),
    ("body-in-songti", {"body_font": "song"}, "font", "正文 set in NotoSerifSC-Regular (宋体)"),
    ("title-in-heiti", {"title_font": "hei"}, "font", "title set in NotoSansSC-Bold (黑体)"),
    ("title-in-fangsong", {"title_font": "fang"}, "font", "小标宋"),
    ("h1-in-kaiti", {"h1_font": "kai"}, "font", "一、 headings use 黑体"),
    ("h2-in-heiti", {"h2_font": "hei"}, "font", "（一） headings use 楷体"),
    ("biaozhi-28pt", {"biaozhi_size": 28}, "biaozhi", "in 28.0pt"),
    ("biaozhi-25mm", {"biaozhi_top_mm": 25}, "biaozhi", "top 25.0 mm below the 版心's top"),
    ("folio-hyphen", {"folio_dash": ("-", "-")}, "folio", "U+002D"),
    ("folio-fullwidth-minus", {"folio_dash": ("－", "－")}, "folio", "U+FF0D"),
    ("folio-spacing", {"folio_gaps": (12, 2)}, "folio", "evenly"),
    ("banji-upper-half", {"banji_rows": 9}, "banji", "upper half"),
    ("banji-rule-weights", {"banji_weights": (0.25, 0.35, 0.25)}, "banji", "thick"),
    ("date-chinese-numerals", {"date": "二〇二六年三月六日"}, "date", "Arabic digits"),
    ("date-leading-zeros", {"date": "2026年03月06日"}, "date", "不编虚位"),
    ("zihao-brackets-and-zero", {"zihao": "青政发[2026]07号"}, "zihao", "六角括号"),
    ("zihao-leading-zero", {"zihao": "青政发〔2026〕07号"}, "zihao", "不编虚位"),
    ("zihao-di", {"zihao": "青政发〔2026〕第7号"}, "zihao", "第"),
    ("fenhao-3-digits", {"fenhao": "128"}, "fenhao", "6 half-width"),
    ("zhusong-indented", {"zhusong_indent": 2}, "zhusong", "顶格"),
    ("zhengwen-flush-left", {"para_indent": 0}, "indent", "左空二字"),
    ("page-1-without-zhengwen", {"page1_body": False}, "zhengwen", "page 1 holds no 正文"),
    ("seal-page-without-zhengwen", {"seal_page_body": False}, "zhengwen", "holds the 署名, 成文日期 and the seal"),
    ("title-word-split", {"title": ("青川市人民政府关于加快推进规划重", "大项目建设工作的通知")}, "title",
     "broken inside"),
    ("title-number-split", {"title": ("青川市人民政府关于做好2026", "年春季农业生产和防汛抗旱准备工作的通知")}, "title",
     "broken inside '2026年"),
    ("title-rectangle", {"title": ("青川市人民政府关于申请设立", "青川国家农业科技园区的请示")}, "title",
     "rectangle"),
    ("title-hourglass", {"title": ("青川市人民政府关于做好春季", "农业生产", "和防汛抗旱准备工作的通知")}, "title",
     "hourglass"),
    ("black-biaozhi", {"red": (0.1, 0.1, 0.1)}, "red-rule", "no red text"),
    ("tiantou-38.5mm", {"top_mm": 38.5}, "grid-phase", "lower"),
    ("xinhan-folio-on-page-1", {"fmt": "xinhan", "folio_on_first": True}, "folio", "信函格式"),
    ("xinhan-double-line-thin-over-thick", {"fmt": "xinhan", "xinhan_top_thick": False}, "red-rule", "上粗下细"),
    ("xinhan-biaozhi-35mm", {"fmt": "xinhan", "biaozhi_top_mm": 42}, "biaozhi", "below the 纸张's top"),
    ("xinhan-banji-with-rules", {"fmt": "xinhan", "banji_plain": False}, "banji", "信函格式: the 版记 has no rules"),
    ("grid-number-padded-after", {"number_pad": "after"}, "grid-number", "split evenly"),
    ("mingling-biaozhi-35mm", dict(MINGLING, biaozhi_top_mm=35), "biaozhi", "命令格式 puts it 20 mm below"),
]


@pytest.mark.parametrize("changes,kind,fragment",
                         [pytest.param(*d[1:], id=d[0], marks=[needs_jieba] if d[0] in ("title-word-split", "title-rectangle") else [])
                          for d in DEFECTS])
def test_each_crafted_defect_is_rejected(changes, kind, fragment):
    r = report(draw(**changes))
    hits = [v for v in r.violations if v.kind == kind and fragment in v.message]
    assert hits, "\n".join(r.lines())
    assert set(r.kinds()) == {kind}, "\n".join(r.lines())        # that rule alone: the defect does not cascade


def test_a_defect_brings_no_other_rule_with_it():
    # exactly the one defect: the rules do not cascade (the dash rule does not also call the number missing)
    assert report(draw(folio_dash=("-", "-"))).kinds() == {"folio": 2}
    assert report(draw(date="二〇二六年三月六日")).kinds() == {"date": 2}     # 成文日期 and 印发日期
    assert report(draw(zhusong_indent=2)).kinds() == {"zhusong": 1}


def test_a_conforming_tiantou_of_36mm_passes_everything_measured_from_it():
    # the page number, the 标志 and the 版记 follow the measured 版心 (36 mm), not the nominal one (37 mm)
    r = report(draw(top_mm=36))
    assert r.ok, "\n".join(r.lines())
    assert any("天头 36.0 mm" in i for i in r.infos)


@pytest.mark.parametrize("red", [(0.55, 0.0, 0.0), (0.6, 0.08, 0.1), (0.75, 0.12, 0.05)])
def test_a_dark_red_biaozhi_is_red_and_not_the_title(red):
    r = report(draw(red=red))
    assert r.ok, "\n".join(r.lines())


def test_red_as_the_eye_calls_it():
    assert is_red((0.55, 0, 0)) and is_red((0.9, 0, 0.07)) and is_red((0, 1, 1, 0.3))       # RGB and CMYK
    assert not is_red((0.3, 0.3, 0.3)) and not is_red((0.9, 0.5, 0)) and not is_red((0.2, 0.02, 0.02))
    assert not is_red((0.8, 0.0, 0.8)) and not is_red((0,))


def test_font_roles_by_name():
    assert font_role("AAAAAA+FandolFang-Regular") == font_role("FangSong_GB2312") == FANGSONG
    assert font_role("DocgenWenKai-Regular") == font_role("KaiTi_GB2312") == KAITI
    assert font_role("SimHei") == font_role("NotoSansSC-Bold") == HEITI
    assert font_role("FZXiaoBiaoSong-B05S") == font_role("NotoSerifSC-Black") == XIAOBIAOSONG
    assert font_role("SimSun") == font_role("NotoSerifSC-Regular") == SONGTI
    assert font_role("F1") is None and font_role(None) is None


def test_word_splits():
    if has_dictionary():
        assert broken_words(["关于加快推进规划重", "大项目建设的通知"])
    assert broken_words(["关于做好2026", "年工作的通知"]) == [(0, "2026年")]
    assert broken_words(["关于印发《青川", "市条例》的通知"]) == [(0, "《青川市条例》")]
    assert not broken_words(["青川市人民政府关于做好2026年春季", "农业生产和防汛抗旱准备工作的通知"])


def test_a_given_format_is_checked_and_a_mismatch_said():
    r = report(draw(), fmt="xinhan")
    assert "red-rule" in r.kinds() and any("looks like 文件格式" in i for i in r.infos)
    assert report(draw(fmt="xinhan"), fmt="xinhan").ok
    with pytest.raises(ValueError, match="xinhan"):
        report(draw(), fmt="letter")


def test_cli_format_flag(tmp_path, capsys):
    p = tmp_path / "x.pdf"
    p.write_bytes(draw(fmt="xinhan"))
    assert main(["check", str(p), "--standard", "gbt9704", "--format", "xinhan"]) == 0
    assert main(["check", str(p), "--standard", "gbt9704", "--format", "wenjian"]) == 1
    out = capsys.readouterr().out
    assert "[biaozhi]" in out and "[red-rule] red rule 170.0 mm long" in out


def test_the_helper_draws_what_the_knobs_say():
    assert Gongwen().fmt == "wenjian" and draw()[:5] == b"%PDF-"
