"""Official documents (layout gongwen, GB/T 9704-2012): rendered, then measured — by the shared checker
(check_pdf.py --gongwen), by docgen's own checker, and directly (grid, folio, red rule, title)."""
import subprocess
import sys

import pytest

import docgen
from docgen.check import check_pdf
from docgen.errors import SpecError
from docgen.check.gbt9704 import FORMATS
from docgen.check.words import broken_words
from docgen.typeset.gongwen import balance_title, cn_numeral
from pdfutil import MM, baseline, chars, lines_of, nows, pypdf_text

from conftest import EXAMPLES, SHARED

GONGWEN_EXAMPLES = sorted(EXAMPLES.glob("gongwen-*.yaml"))
TOP, LEFT, W, H = 37 * MM, 28 * MM, 156 * MM, 225 * MM
ROW, PITCH = H / 22, W / 28

PARA = ("为深入贯彻落实党中央、国务院决策部署，进一步做好相关工作，确保各项任务按期完成，现将有关事项通知如下。"
        "各地各部门要提高思想认识，加强组织领导，细化工作措施，强化督促检查，切实把各项工作落到实处。")


def spec(body=None, title="关于做好2026年度重点工作的通知", **gw):
    g = {"biaozhi": "青川市人民政府文件", "zihao": "青政发〔2026〕9号", "zhusong": ["各区、县（市）人民政府"],
         "shuming": "青川市人民政府", "chengwen_riqi": "2026-03-06"}
    g.update(gw)
    return {"layout": "gongwen", "languages": ["zh"], "meta": {"title": title},
            "gongwen": g, "body": body if body is not None else [{"paragraph": PARA}]}


def shared_check(pdf: bytes, tmp_path, name="doc") -> str:
    checker = SHARED / "checks" / "check_pdf.py"
    if not checker.exists():
        pytest.skip("../shared/checks not present")
    p = tmp_path / f"{name}.pdf"
    p.write_bytes(pdf)
    out = subprocess.run([sys.executable, str(checker), str(p), "--gongwen"], capture_output=True, text=True)
    return out.stdout


# What the shared checker (../shared/checks/check_pdf.py --gongwen, which knows only the 文件格式) reports on
# formats the standard lays out otherwise — each is that format's own rule, not a defect:
# 信函格式 (10.1): the 标志 30 mm below the paper's top is above the 版心; page 1 carries no page number; the
# red lines are 170 mm double lines, not a 版心-wide rule.  命令格式 (10.2): no red rule under the 令号.
SHARED_BY_FORMAT = {"xinhan": ("[margin] page 1: text outside 版心", "[folio] page 1: no page number",
                               "[red-rule] page 1: no red rule as wide"),
                    "mingling": ("[red-rule] page 1: no red rule as wide",)}


def assert_conforms(pdf: bytes, tmp_path, name="doc", known=(), fmt="wenjian"):
    """Both checkers pass; ``known`` names layout defects docgen's checker finds and the layout does not fix yet
    (each must still be found, so the mark goes when the layout is fixed).  For 信函 and 命令格式 the shared
    checker must report exactly the 文件格式 rules those formats replace (``SHARED_BY_FORMAT``)."""
    out = shared_check(pdf, tmp_path, name)
    expected = SHARED_BY_FORMAT.get(fmt, ())
    errors = [ln for ln in out.splitlines() if ln.startswith("ERROR")]
    assert len(errors) == len(expected) and all(any(e in ln for ln in errors) for e in expected), out[-3000:]
    report = check_pdf(pdf, "gbt9704")
    rest = [v for v in report.violations if not any(k in str(v) for k in known)]
    assert not rest, "\n".join(report.lines())
    for k in known:
        assert any(k in str(v) for v in report.violations), f"known defect {k!r} no longer found: drop the mark"


# Layout defects docgen's checker finds and the layout does not fix yet (none left).
KNOWN: dict[str, tuple[str, ...]] = {}


@pytest.fixture(scope="module")
def examples():
    return {f.stem: docgen.render(f) for f in GONGWEN_EXAMPLES}


FORMAT_OF = {"gongwen-han": "xinhan", "gongwen-mingling": "mingling", "gongwen-jiyao": "jiyao"}


def test_every_format_has_an_example_and_the_tongzhi_runs_to_pages(examples):
    assert set(examples) == {"gongwen-tongzhi", "gongwen-qingshi", "gongwen-han", "gongwen-lianhe",
                             "gongwen-mingling", "gongwen-jiyao"}
    assert examples["gongwen-tongzhi"].pages >= 2


@pytest.mark.parametrize("name", [f.stem for f in GONGWEN_EXAMPLES])
def test_examples_pass_both_checkers(examples, name, tmp_path):
    fmt = FORMAT_OF.get(name, "wenjian")
    assert not examples[name].warnings
    assert_conforms(examples[name].pdf, tmp_path, name, known=KNOWN.get(name, ()), fmt=fmt)
    assert f"format {FORMATS[fmt]} ({fmt}), detected" in "\n".join(check_pdf(examples[name].pdf, "gbt9704").infos)


# a one-page text printed double-sided puts its 版记 on page 2, the 封四 (7.4); single-sided it stays on page 1
@pytest.mark.parametrize("paras,pages,duplex", [(0, 2, True), (0, 1, False), (5, 2, True), (22, 6, True)])
def test_one_two_and_five_page_documents_conform(paras, pages, duplex, tmp_path):
    body = [{"paragraph": PARA[:40]}] if paras == 0 else []
    for i in range(paras):
        if i % 4 == 0:
            body.append({"heading": {"text": f"第{i // 4 + 1}部分工作要求", "level": 1 + (i // 4) % 3}})
        body.append({"paragraph": PARA})
    res = docgen.render(spec(body, chaosong=["市委办公室", "市人大常委会办公室"], yinfa_jiguan="青川市人民政府办公室",
                             yinzhang=paras > 0, shuangmian=duplex))
    assert res.pages == pages
    assert_conforms(res.pdf, tmp_path)


def test_long_title_long_zhusong_and_a_table_spanning_pages(tmp_path):
    title = "青川市人民政府办公室关于印发《青川市2026年优化营商环境和促进民营经济高质量发展重点任务清单》的通知"
    zhusong = [f"青川市第{cn_numeral(i)}行政区人民政府" for i in range(1, 13)]
    rows = [[str(i), f"重点任务事项{i}的具体内容", "市发展改革委", f"{i % 12 + 1}月底前"] for i in range(1, 41)]
    body = [{"paragraph": PARA},
            {"table": {"header": ["序号", "任务", "牵头单位", "时限"], "widths": [2, 12, 8, 6], "rows": rows}},
            {"paragraph": PARA}]
    res = docgen.render(spec(body, title=title, zhusong=zhusong, yinfa_jiguan="青川市人民政府办公室"))
    assert res.pages >= 3
    assert_conforms(res.pdf, tmp_path)
    first = chars(res.pdf)[0][2]
    title_lines = lines_of([c for c in first if round(c["size"]) == 22])
    assert 2 <= len(title_lines) <= 3
    for ln in title_lines:
        assert len(ln) >= 3                                   # no lone character
        mid = (ln[0]["x0"] + ln[-1]["x1"]) / 2
        assert abs(mid - (LEFT + W / 2)) < 1.5 * MM           # centred
    assert nows("".join(c["text"] for ln in title_lines for c in ln)) == nows(title)
    text = nows("".join(pypdf_text(res.pdf)))
    # six lines of 主送 would leave page 1 two rows of 正文: they move to the 版记 (7.3.2), with a warning
    assert "主送：" + "，".join(zhusong) + "。" in text
    assert any("gongwen.zhusong" in w and "版记" in w for w in res.warnings)
    for r in rows:
        assert nows("".join(r)) in text


def test_body_sits_on_the_22_by_28_grid(examples):
    pages = chars(examples["gongwen-tongzhi"].pdf)
    pitches = []
    for w, h, cs in pages:
        body = [c for c in cs if round(c["size"]) == 16 and c["top"] < TOP + H]
        for ln in lines_of(body):
            row = (baseline(ln[0]) - TOP) / ROW
            assert abs((row - 0.5) - round(row - 0.5) - (0.76 * 16 / 2) / ROW) < 0.02, "".join(c["text"] for c in ln)
            assert 0 <= round(row - 0.5) <= 21
            han = [c for c in ln if "\u4e00" <= c["text"] <= "\u9fff"]
            pitches += [round(b["x0"] - a["x0"], 2) for a, b in zip(han, han[1:])]
    assert max(set(pitches), key=pitches.count) == pytest.approx(PITCH, abs=0.02)


def test_folio_red_rule_and_title_size(examples):
    res = examples["gongwen-tongzhi"]
    import pdfplumber, io
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        for i, page in enumerate(pdf.pages, 1):
            folio = [c for c in page.chars if c["top"] > TOP + H and c["text"].strip()]
            text = "".join(c["text"] for c in sorted(folio, key=lambda c: c["x0"]))
            assert text == f"—{i}—"
            assert all(round(c["size"]) == 14 for c in folio)
            assert min(c["top"] for c in folio) == pytest.approx(TOP + H + 7 * MM, abs=0.5 * MM)
            if i % 2:
                assert max(c["x1"] for c in folio) == pytest.approx(LEFT + W - 14, abs=0.5 * MM)
            else:
                assert min(c["x0"] for c in folio) == pytest.approx(LEFT + 14, abs=0.5 * MM)
        p1 = pdf.pages[0]
        red = [ln for ln in p1.lines if ln["stroking_color"] and ln["stroking_color"][0] > 0.8]
        assert red and red[0]["x0"] == pytest.approx(LEFT, abs=0.3) and red[0]["x1"] - red[0]["x0"] == pytest.approx(W, abs=0.3)
        sizes = {round(c["size"]) for c in p1.chars if c["top"] > red[0]["top"]}
        assert 22 in sizes
        last = pdf.pages[-1]
        black = sorted((ln for ln in last.lines if abs(ln["x1"] - ln["x0"] - W) < 1 and not
                        (ln["stroking_color"] and ln["stroking_color"][0] > 0.8 and len(ln["stroking_color"]) == 3
                         and ln["stroking_color"][1] < 0.3)), key=lambda ln: ln["top"])
        assert black[-1]["top"] == pytest.approx(TOP + H, abs=0.5)            # 版记's last rule on the edge
        assert black[0]["linewidth"] > black[1]["linewidth"] < black[-1]["linewidth"]


def test_header_elements_and_upward_document_layout(examples):
    text = pypdf_text(examples["gongwen-qingshi"].pdf)[0]
    assert "签发人：" in nows(text) and "李明远" in text
    first = chars(examples["gongwen-qingshi"].pdf)[0][2]
    zh = [c for c in first if c["text"] == "青" and round(c["size"]) == 16][0]     # 发文字号 左空一字
    assert zh["x0"] == pytest.approx(LEFT + PITCH, abs=0.5)
    t = nows("".join(pypdf_text(examples["gongwen-tongzhi"].pdf)))
    for s in ("000128", "加急", "青政发〔2026〕7号", "一、充分认识", "（一）稳定粮食", "1.组织科技", "附件：1.2026年",
              "2026年3月6日", "（此件公开发布）", "抄送：", "2026年3月6日印发", "附件1", "一、组织体系"):
        assert s in t, s


def test_headings_are_numbered_once_and_use_the_standard_faces():
    res = docgen.render(spec([{"heading": "总体要求"}, {"heading": "二、已有序号"},
                              {"heading": {"text": "工作目标", "level": 2}},
                              {"heading": {"text": "具体任务", "level": 3}}, {"paragraph": PARA}]))
    t = nows("".join(pypdf_text(res.pdf)))
    assert "一、总体要求" in t and "二、已有序号" in t and "三、" not in t
    assert "（一）工作目标" in t and "1.具体任务" in t
    fonts = {}
    for ln in [ln for _, _, cs in chars(res.pdf) for ln in lines_of(cs)]:
        text = "".join(c["text"] for c in ln)
        fonts[text] = {c["fontname"].split("+")[-1] for c in ln if ord(c["text"]) > 0x2E80}
    def one(text, part):
        return len(fonts[text]) == 1 and part in next(iter(fonts[text]))
    assert one("一、总体要求", "NotoSansSC-Bold")                           # 黑体
    assert one("（一）工作目标", "WenKai")                                   # 楷体
    assert one("1.具体任务", "FandolFang")                                  # 仿宋, bold
    assert any(b"2 Tr" in c for c in _contents(res.pdf))                   # 仿宋 bold is synthetic


def _contents(pdf: bytes) -> list[bytes]:
    import io
    import pypdf
    return [page.get_contents().get_data() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_licensed_fonts_from_the_theme_are_used(tmp_path):
    # a stand-in for 仿宋_GB2312: any single-weight font file the user points the theme at
    over = {"fonts": {"body": {"latin": [{"regular": "NotoSerif-Regular.ttf"}],
                               "cjk": [{"regular": "NotoSerifSC-Regular.ttf"}]},
                      "extra": {"xbs": {"latin": [{"regular": "NotoSerif-Bold.ttf"}],
                                        "cjk": [{"regular": "NotoSerifSC-Bold.ttf"}]}}}}
    s = spec()
    s["theme"] = over
    res = docgen.render(s)
    names = {c["fontname"].split("+")[-1].split("-")[0] for _, _, cs in chars(res.pdf) for c in cs}
    assert "NotoSerifSC" in names and "FandolFang" not in names
    # a 宋体 standing in for 仿宋 is a font-role violation by design (issue 14, item 6: 仿宋 body, 7.3.3)
    assert_conforms(res.pdf, tmp_path, known=("正文 set in NotoSerifSC-Regular (宋体)",))


def test_stacked_translation_is_an_option():
    s = spec([{"paragraph": {"zh": PARA, "en": "Please implement the measures carefully."}}],
             title={"zh": "关于做好工作的通知", "en": "Notice on the work"})
    s["languages"] = ["zh", "en"]
    s["bilingual"] = "stacked"
    t = nows("".join(pypdf_text(docgen.render(s).pdf)))
    assert "Noticeonthework" in t and "Pleaseimplement" in t and "关于做好工作的通知" in t


@pytest.mark.parametrize("zihao,msg", [("青政发[2026]9号", "六角括号"), ("青政发〔2026〕09号", "不编虚位"),
                                       ("青政发〔2026〕第9号", "第"), ("九号文件", "机关代字")])
def test_fawen_zihao_is_validated(zihao, msg):
    with pytest.raises(SpecError) as e:
        docgen.render(spec(zihao=zihao))
    assert e.value.problems[0].path == "gongwen.zihao" and msg in str(e.value)


def test_layout_gongwen_needs_its_fields_and_dates_are_dates():
    s = spec()
    del s["gongwen"]
    with pytest.raises(SpecError, match="gongwen"):
        docgen.render(s)
    with pytest.raises(SpecError) as e:
        docgen.render(spec(chengwen_riqi="三月六日"))
    assert e.value.problems[0].path == "gongwen.chengwen_riqi"
    assert docgen.render(spec(fenhao=7)).pdf
    assert "000007" in pypdf_text(docgen.render(spec(fenhao=7)).pdf)[0]


def test_title_lines_are_balanced_and_never_a_lone_character():
    adv = lambda ch: 22.0 if ord(ch) > 0x2E80 else 11.0   # noqa: E731
    width = 20 * 22
    for title in ("关于进一步加强和改进新时代基层社会治理工作的实施意见的通知",
                  "青川市人民政府关于印发《青川市2026年优化营商环境重点任务清单》的通知",
                  "关于做好二〇二六年春季农业生产和防汛抗旱准备工作以及加强农村人居环境整治的通知",
                  "关于印发《关于进一步规范和加强行政事业单位国有资产管理若干措施》的通知"):
        lines = balance_title(title, adv, width, 22)
        assert "".join(lines) == title
        assert all(sum(map(adv, ln)) <= width for ln in lines)
        assert min(len(ln) for ln in lines) >= 2
        assert not any(ln[0] in "，。、》）" for ln in lines[1:])
        assert not broken_words(lines), lines
        widths = [sum(map(adv, ln)) for ln in lines]
        assert not _hourglass(widths), lines
    # a name that fits on a line stays whole, on a line of its own if need be
    lines = balance_title("青川市人民政府关于印发《青川市2026年优化营商环境重点任务清单》的通知", adv, width, 22)
    assert "《青川市2026年优化营商环境重点任务清单》" in lines
    assert balance_title("关于开展工作的通知", adv, width, 22) == ["关于开展工作的通知"]
    assert balance_title("第一行\n第二行标题", adv, width, 22) == ["第一行", "第二行标题"]


def _hourglass(widths):
    return any(w < max(widths[:i]) - 11 and w < max(widths[i + 1:]) - 11 for i, w in enumerate(widths[1:-1], 1))


@pytest.mark.parametrize("title,bad", [
    # the splits by character count: 报送2026 / 年度, 规划重 / 大项目, 市场主 / 体
    ("关于报送2026年度规划重大项目和市场主体培育情况的报告", ("2026年度", "重大项目", "市场主体")),
    ("青川市人民政府办公室关于印发《青川市2026年优化营商环境和促进民营经济高质量发展重点任务清单》的通知",
     ("民营", "2026年", "高质量")),
    ("青川市人民政府关于做好2026年春季农业生产和防汛抗旱准备工作的通知", ("2026年", "青川市", "防汛")),
])
def test_titles_break_at_word_boundaries_as_trapezoid_or_diamond(title, bad):
    adv = lambda ch: 22.0 if ord(ch) > 0x2E80 else 11.0   # noqa: E731
    lines = balance_title(title, adv, 20 * 22, 22)
    assert "".join(lines) == title and len(lines) >= 2
    for word in bad:                                      # each of these words on one line
        assert any(word in ln for ln in lines), (word, lines)
    widths = [sum(map(adv, ln)) for ln in lines]
    assert not _hourglass(widths)
    assert max(widths) - min(widths) >= 11, lines          # not a rectangle where a trapezoid exists


def test_a_thirteen_thirteen_title_is_a_trapezoid_not_a_rectangle():
    adv = lambda ch: 22.0   # noqa: E731
    title = "关于加快推进市场主体培育工作和规划重大项目建设的通知"       # 26 characters
    lines = balance_title(title, adv, 20 * 22, 22)
    assert [len(ln) for ln in lines] != [13, 13] and len(lines) == 2
    assert not broken_words(lines)


def test_balance_is_reusable_with_any_width_function():
    from docgen.typeset.titles import balance
    lines = balance("二〇二六年春季农业生产暨防汛抗旱工作推进会", 10, len)      # a measure of 10 characters
    assert "".join(lines) == "二〇二六年春季农业生产暨防汛抗旱工作推进会"
    assert all(len(ln) <= 10 for ln in lines) and len(lines) == 3
    assert not broken_words(lines)


def test_rendered_long_title_keeps_its_words(tmp_path):
    title = "关于报送2026年度规划重大项目和市场主体培育情况的报告"
    res = docgen.render(spec(title=title))
    first = chars(res.pdf)[0][2]
    lines = ["".join(c["text"] for c in ln) for ln in lines_of([c for c in first if round(c["size"]) == 22])]
    assert len(lines) == 2 and "".join(lines) == title
    assert not broken_words(lines), lines
    assert_conforms(res.pdf, tmp_path)


def test_cn_numerals():
    assert [cn_numeral(n) for n in (1, 9, 10, 11, 20, 25)] == ["一", "九", "十", "十一", "二十", "二十五"]


def test_layouts_lists_gongwen():
    from docgen.layout import available
    lay = {x.name: x for x in available()}["gongwen"]
    assert "GB/T 9704" in lay.description


def _body_rows(page_chars):
    """(grid row, text, x0) of each 16 pt line inside the 版心."""
    out = []
    for ln in lines_of([c for c in page_chars if round(c["size"]) == 16 and c["top"] < TOP + H]):
        out.append((round((baseline(ln[0]) - TOP) / ROW - 0.5 - (0.76 * 16 / 2) / ROW),
                    "".join(c["text"] for c in ln), ln[0]["x0"]))
    return out


def test_the_seal_page_carries_zhengwen_lines_brought_along(tmp_path):
    # 7.3.5.4/7.3.5.5: the last paragraph ends where the 署名, date and seal (4 rows) no longer fit below it;
    # its last lines go along to the seal page instead of the seal going alone
    body = []
    for i in range(22):
        if i % 4 == 0:
            body.append({"heading": {"text": f"第{i // 4 + 1}部分工作要求", "level": 1 + (i // 4) % 3}})
        body.append({"paragraph": PARA})
    res = docgen.render(spec(body, chaosong=["市委办公室"], yinfa_jiguan="青川市人民政府办公室"))
    pages = chars(res.pdf)
    seal_page = next(i for i, (_, _, cs) in enumerate(pages) if any(
        "2026年3月6日" == t for _, t, _ in _body_rows(cs)))
    rows = _body_rows(pages[seal_page][2])
    date_row = next(r for r, t, _ in rows if t == "2026年3月6日")
    text_rows = [r for r, t, x in rows if x < LEFT + 4 * PITCH]       # 正文 lines (left of the signature)
    assert len(text_rows) >= 1 and text_rows[0] == 0                  # 正文 continues at the top of the page
    assert date_row - max(text_rows) == 4                            # 2 rows for the seal, the name, the date
    prev = _body_rows(pages[seal_page - 1][2])
    assert max(r for r, _, _ in prev) >= 18                          # the page before is filled, not left half empty
    assert_conforms(res.pdf, tmp_path)


def test_a_long_title_leaves_zhengwen_on_page_one(tmp_path):
    title = ("青川市人民政府关于进一步加强和改进新时代基层社会治理工作推动2026年度规划重大项目和"
             "市场主体培育工作高质量发展的实施意见的通知")
    res = docgen.render(spec([{"paragraph": PARA}, {"paragraph": PARA}], title=title))
    first = chars(res.pdf)[0][2]
    title_lines = lines_of([c for c in first if round(c["size"]) == 22])
    assert len(title_lines) >= 3
    rows = _body_rows(first)
    assert any(t.startswith("为深入贯彻") for _, t, _ in rows)      # 正文 begins on page 1
    assert_conforms(res.pdf, tmp_path)


def test_numbers_on_the_grid_take_whole_cells_with_the_slack_split_evenly():
    # issue 13.8: `2026年3月6日`, not `2026 年3 月6 日`; `企业46家`, not `企业46 家`
    res = docgen.render(spec([{"paragraph": "已集聚农业科技企业46家，定于2026年3月6日召开推进会议，请各单位认真准备。"}]))
    first = chars(res.pdf)[0][2]
    line = next(ln for ln in lines_of([c for c in first if round(c["size"]) == 16])
                if "企业46家" in "".join(c["text"] for c in ln))
    text = "".join(c["text"] for c in line)
    x0 = line[0]["x0"]
    for num in ("46", "2026", "3", "6"):
        i = text.index(num + ("家" if num == "46" else "年" if num == "2026" else "月" if num == "3" else "日"))
        before, digits, after = line[i - 1], line[i:i + len(num)], line[i + len(num)]
        lead = digits[0]["x0"] - (before["x0"] + PITCH)             # from the end of the cell before
        trail = after["x0"] - digits[-1]["x1"]
        assert lead == pytest.approx(trail, abs=0.6), (num, lead, trail)
        assert lead > 0.5
        for c in (before, after):                                   # the Han characters stay on the grid
            cells = (c["x0"] - x0) / PITCH
            assert cells == pytest.approx(round(cells), abs=0.02), (num, c["text"], cells)


def test_thirty_three_zhusong_move_to_the_banji_above_the_chaosong(tmp_path):
    zhusong = [f"青川市第{cn_numeral(i)}行政区人民政府" for i in range(1, 34)]
    res = docgen.render(spec([{"paragraph": PARA}] * 8, zhusong=zhusong, chaosong=["市委办公室"],
                             yinfa_jiguan="青川市人民政府办公室", shuangmian=False))
    assert any("gongwen.zhusong" in w and "7.3.2" in w for w in res.warnings)
    pages = chars(res.pdf)
    p1 = _body_rows(pages[0][2])
    assert p1[0][1] == "青政发〔2026〕9号" and any(t.startswith("为深入贯彻") for _, t, _ in p1)   # 正文 on page 1
    last = lines_of([c for c in pages[-1][2] if round(c["size"]) == 14 and c["top"] < TOP + H])
    texts = ["".join(c["text"] for c in ln) for ln in last]
    assert texts[0].startswith("主送：青川市第一行政区人民政府，")
    k = next(i for i, t in enumerate(texts) if t.startswith("抄送："))
    assert k >= 2 and texts[k - 1].endswith("。")               # 主送 first, then 抄送, then 印发
    assert texts[-1].endswith("印发")
    assert last[0][0]["x0"] == pytest.approx(LEFT + 14, abs=0.5)  # 左空一字 like the 抄送
    assert last[k][0]["x0"] == pytest.approx(LEFT + 14, abs=0.5)
    import io
    import pdfplumber
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        rules = sorted((ln for ln in pdf.pages[-1].lines if abs(ln["x1"] - ln["x0"] - W) < 1), key=lambda ln: ln["top"])
    widths = [round(ln["linewidth"] / MM, 2) for ln in rules]
    assert widths == [0.35, 0.25, 0.25, 0.35]                   # a thin rule between 主送, 抄送 and 印发
    assert rules[-1]["top"] == pytest.approx(TOP + H, abs=0.5)
    assert last[k][0]["top"] > rules[1]["top"] > last[k - 1][0]["top"]
    assert_conforms(res.pdf, tmp_path)


def test_a_missing_yinfa_jiguan_is_a_warning():
    res = docgen.render(spec())
    assert any(w.startswith("gongwen.yinfa_jiguan: missing") for w in res.warnings)
    res = docgen.render(spec(yinfa_jiguan="青川市人民政府办公室"))
    assert not any("yinfa_jiguan" in w for w in res.warnings)


def _folio_text(page_chars):
    return "".join(c["text"].strip() for c in sorted(page_chars, key=lambda c: c["x0"]) if c["top"] > TOP + H + 3 * MM)


@pytest.mark.parametrize("paras,duplex,layout", [
    # the text ends on page 2 and the 版记 does not fit there: page 3 stays blank, page 4 is the 封四; neither
    # is numbered (7.5)
    (6, True, [("text", "—1—"), ("text", "—2—"), ("blank", ""), ("banji", "")]),
    # the text ends on page 3 with room for the 版记: it still goes on page 4, numbered
    (7, True, [("text", "—1—"), ("text", "—2—"), ("text", "—3—"), ("banji", "—4—")]),
    # printed single-sided: the last page, whatever its number
    (6, False, [("text", "—1—"), ("text", "—2—"), ("banji", "—3—")]),
    (7, False, [("text", "—1—"), ("text", "—2—"), ("banji", "—3—")]),
])
def test_the_banji_goes_on_an_even_page_when_printed_double_sided(paras, duplex, layout, tmp_path):
    res = docgen.render(spec([{"paragraph": PARA}] * paras, chaosong=["市委办公室"],
                             yinfa_jiguan="青川市人民政府办公室", shuangmian=duplex))
    pages = chars(res.pdf)
    assert len(pages) == len(layout)
    for (w, h, cs), (kind, folio) in zip(pages, layout):
        inside = [c for c in cs if c["top"] < TOP + H and c["text"].strip()]
        banji = [c for c in inside if round(c["size"]) == 14]
        assert _folio_text(cs) == folio
        if kind == "blank":
            assert not inside
        elif kind == "banji":
            assert banji and max(c["bottom"] for c in banji) > TOP + H - ROW       # in the last rows
        else:
            assert not banji
    report = check_pdf(res.pdf, "gbt9704")
    assert not report.violations, "\n".join(report.lines())
    if kind == "banji" and folio:                      # no unnumbered pages: the shared checker agrees
        assert "SUMMARY no violations" in shared_check(res.pdf, tmp_path)


def _plumb(pdf: bytes):
    import io
    import pdfplumber
    return pdfplumber.open(io.BytesIO(pdf))


def _chars(page):
    return [dict(c, _h=page.height) for c in page.chars]


def _is_red(col) -> bool:
    return bool(col) and len(col) == 3 and col[0] > 0.8 and col[1] < 0.3


def test_xinhan_format_measured(examples, tmp_path):
    # 10.1: 标志 30 mm below the paper's top; red double lines 170 mm long, centred, 上粗下细 4 mm under the
    # 标志 and 上细下粗 20 mm above the paper's bottom; 份号 顶格 and 发文字号 顶格 at the right edge below the
    # line; page 1 unnumbered; the 版记 without rules or 印发 line
    res = examples["gongwen-han"]
    with _plumb(res.pdf) as pdf:
        p1 = pdf.pages[0]
        bz = [c for c in _chars(p1) if _is_red(c["non_stroking_color"]) and c["size"] > 30]
        assert "".join(c["text"] for c in bz) == "青川市教育局"
        assert min(c["top"] for c in bz) == pytest.approx(30 * MM, abs=0.5 * MM)
        reds = sorted((ln for ln in p1.lines if _is_red(ln["stroking_color"])), key=lambda ln: ln["top"])
        assert len(reds) == 4
        for ln in reds:
            assert ln["x1"] - ln["x0"] == pytest.approx(170 * MM, abs=0.3)
            assert (ln["x0"] + ln["x1"]) / 2 == pytest.approx(p1.width / 2, abs=0.3)
        assert reds[0]["linewidth"] > reds[1]["linewidth"] and reds[2]["linewidth"] < reds[3]["linewidth"]
        assert reds[0]["top"] - max(c["bottom"] for c in bz) == pytest.approx(4 * MM, abs=1 * MM)
        assert p1.height - reds[3]["top"] == pytest.approx(20 * MM, abs=0.3)
        below = [c for c in _chars(p1) if c["top"] > reds[1]["top"] and c["top"] < reds[1]["top"] + 2 * ROW]
        fenhao = [c for c in below if c["text"].isdigit() and c["x0"] < LEFT + 20 * MM]
        assert "".join(c["text"] for c in fenhao) == "000023" and fenhao[0]["x0"] == pytest.approx(LEFT, abs=0.5)
        zihao = [c for c in below if c["x0"] > LEFT + W / 2]
        assert "".join(c["text"] for c in zihao) == "青教函〔2026〕23号"
        assert max(c["x1"] for c in zihao) == pytest.approx(LEFT + W, abs=0.5)
        assert not [c for c in _chars(p1) if c["top"] > TOP + H + 3 * MM]            # 首页不显示页码
        assert _folio_text(_chars(pdf.pages[1])) == "—2—"
        last = pdf.pages[-1]
        assert not [ln for ln in last.lines if abs(ln["x1"] - ln["x0"] - W) < 1]   # 版记: no rules
        text = "".join(c["text"] for c in _chars(last))
        assert "抄送：" in text and "印发" not in text


def test_lianhe_format_measured(examples):
    # 7.2.4: the organs stacked, 主办机关 first, each as wide as the longest, 文件 to their right, centred on
    # them; 7.3.5.1: a seal over each 署名 in order, the last over the date, seals not touching
    res = examples["gongwen-lianhe"]
    with _plumb(res.pdf) as pdf:
        p1 = pdf.pages[0]
        bz = [c for c in _chars(p1) if _is_red(c["non_stroking_color"]) and c["size"] > 30]
        rows = lines_of(bz)
        texts = ["".join(c["text"] for c in ln) for ln in rows]
        name_rows = [ln for ln, t in zip(rows, texts) if t != "文件"]
        assert ["".join(c["text"] for c in ln) for ln in name_rows] == ["青川市人民政府", "青川市教育局"]
        wenjian = next(ln for ln, t in zip(rows, texts) if t == "文件")
        assert name_rows[0][0]["x0"] == pytest.approx(name_rows[1][0]["x0"], abs=0.5)       # 分散对齐
        assert name_rows[0][-1]["x1"] == pytest.approx(name_rows[1][-1]["x1"], abs=0.5)
        assert wenjian[0]["x0"] > name_rows[0][-1]["x1"]
        mid_names = (name_rows[0][0]["top"] + name_rows[1][-1]["bottom"]) / 2
        assert (wenjian[0]["top"] + wenjian[0]["bottom"]) / 2 == pytest.approx(mid_names, abs=1 * MM)
        assert min(c["top"] for c in bz) - TOP == pytest.approx(35 * MM, abs=0.5 * MM)
        left = min(c["x0"] for c in bz)
        right = max(c["x1"] for c in bz)
        assert (left + right) / 2 == pytest.approx(LEFT + W / 2, abs=1 * MM) and right - left <= W
        page = next(p for p in pdf.pages if any(_is_red(c.get("stroking_color")) and c["bottom"] - c["top"] > 100
                                                for c in p.curves))
        seals = sorted({(round((c["x0"] + c["x1"]) / 2), round(c["x1"] - c["x0"])) for c in page.curves
                        if _is_red(c.get("stroking_color")) and c["x1"] - c["x0"] > 100})
        assert len(seals) == 2
        assert seals[1][0] - seals[0][0] >= seals[0][1]                           # never touching
        lines = {"".join(c["text"] for c in ln): ln for ln in lines_of([c for c in _chars(page) if round(c["size"]) == 16])}
        sign = next(t for t in lines if t.startswith("青川市人民政府") and "青川市教育局" in t)
        date = lines["2026年4月20日"]
        assert (date[0]["x0"] + date[-1]["x1"]) / 2 == pytest.approx(seals[1][0], abs=2)   # last seal on the date
        first = [c for c in lines[sign] if c["x1"] < seals[0][0] + 60]
        assert (first[0]["x0"] + first[-1]["x1"]) / 2 == pytest.approx(seals[0][0], abs=2)
        assert date[-1]["x1"] == pytest.approx(LEFT + W - 4 * PITCH, abs=1 * MM)          # 右空四字


def test_mingling_format_measured(examples):
    # 10.2: 标志 20 mm below the 版心's top; 令号 centred two rows below; 正文 two rows below it; no red rule;
    # 7.3.5.3: the 签名章 右空四字 with the 职务 two characters to its left, the date one row below, 右空四字
    res = examples["gongwen-mingling"]
    with _plumb(res.pdf) as pdf:
        p1 = pdf.pages[0]
        bz = [c for c in _chars(p1) if _is_red(c["non_stroking_color"]) and c["size"] > 30]
        assert "".join(c["text"] for c in bz) == "青川市人民政府令"
        assert min(c["top"] for c in bz) - TOP == pytest.approx(20 * MM, abs=0.5 * MM)
        assert not [ln for ln in p1.lines if _is_red(ln["stroking_color"])]
        rows = _body_rows(_chars(p1))
        ling = next((r, x) for r, t, x in rows if t == "第12号")
        bz_row = int((max(c["bottom"] for c in bz) - TOP - 0.01) // ROW)
        assert ling[0] == bz_row + 3
        ln = next(ln for ln in lines_of([c for c in _chars(p1) if round(c["size"]) == 16])
                  if "".join(c["text"] for c in ln) == "第12号")
        assert (ln[0]["x0"] + ln[-1]["x1"]) / 2 == pytest.approx(LEFT + W / 2, abs=1)
        body_row = next(r for r, t, _ in rows if t.startswith("《青川市城市绿化管理办法》"))
        assert body_row == ling[0] + 3
        sign = next((r, t) for r, t, _ in rows if t.endswith("李明远"))
        date = next(r for r, t, _ in rows if t == "2026年6月1日")
        assert date == sign[0] + 2
        box = next(r for r in p1.rects if _is_red(r.get("stroking_color")))
        assert box["x1"] == pytest.approx(LEFT + W - 4 * PITCH, abs=0.5)
        zw = next(ln for ln in lines_of([c for c in _chars(p1) if round(c["size"]) == 16])
                  if "".join(c["text"] for c in ln).startswith("市长"))
        assert box["x0"] - zw[1]["x1"] == pytest.approx(2 * PITCH, abs=0.5)          # 职务 左空二字


def test_jiyao_format_measured(examples):
    # 10.3: the 纪要标志 35 mm below the 版心's top; 出席 左空二字 in 黑体 one row below the 正文, the names
    # after the colon, wrapped lines aligned with the first name; 请假 and 列席 each on a new row
    res = examples["gongwen-jiyao"]
    with _plumb(res.pdf) as pdf:
        bz = [c for c in _chars(pdf.pages[0]) if _is_red(c["non_stroking_color"]) and c["size"] > 30]
        assert "".join(c["text"] for c in bz) == "青川市人民政府常务会议纪要"
        assert min(c["top"] for c in bz) - TOP == pytest.approx(35 * MM, abs=0.5 * MM)
    s = spec([{"paragraph": PARA}], biaozhi="青川市人民政府常务会议纪要", format="jiyao", zihao="青政纪〔2026〕3号",
             chuxi=[f"市第{cn_numeral(i)}局局长张{cn_numeral(i)}" for i in range(1, 9)], qingjia=["李四（出差）"],
             liexi=["市政府办公室王五"], zhusong=[], shuming=None)
    res = docgen.render(s)
    page = next(cs for _, _, cs in chars(res.pdf) if "出席" in "".join(c["text"] for c in cs))
    lines = lines_of([c for c in page if round(c["size"]) == 16 and c["top"] < TOP + H])
    texts = ["".join(c["text"] for c in ln) for ln in lines]
    i = next(k for k, t in enumerate(texts) if t.startswith("出席："))
    j = next(k for k, t in enumerate(texts) if t.startswith("请假："))
    assert j >= i + 2 and texts[j + 1].startswith("列席：")          # 出席 wraps; 请假, 列席 on new rows
    assert lines[i][0]["x0"] == pytest.approx(LEFT + 2 * PITCH, abs=0.5)
    assert "Sans" in lines[i][0]["fontname"] and "Fang" in lines[i][3]["fontname"]     # 黑体 label, 仿宋 names
    assert lines[i + 1][0]["x0"] == pytest.approx(lines[i][3]["x0"], abs=0.5)        # aligned after the colon
    assert (baseline(lines[i][0]) - baseline(lines[i - 1][0])) == pytest.approx(2 * ROW, abs=0.5)
    assert not any("title" in v.kind for v in check_pdf(res.pdf, "gbt9704").violations)
