"""Tagged PDF (PDF/UA-1): the structure tree read back with pikepdf — roles, order, /Lang, alt — with the
text of each element's marked content read with pdfplumber, for every structure type docgen writes."""
import io
import re

import pytest

import docgen
from conftest import EXAMPLES
from docgen.check import check_pdf

pikepdf = pytest.importorskip("pikepdf")
pdfplumber = pytest.importorskip("pdfplumber")


def tree_of(pdf: bytes) -> list[tuple[int, str, str, str, str]]:
    """(depth, role, /Lang, /Alt, text of its own marked content) of every element, in structure order."""
    texts: dict[tuple[int, int], str] = {}
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for i, page in enumerate(doc.pages):
            for ch in page.chars:
                if ch.get("mcid") is not None:
                    texts[i, ch["mcid"]] = texts.get((i, ch["mcid"]), "") + ch["text"]
    p = pikepdf.open(io.BytesIO(pdf))
    pages = {pg.obj.objgen: i for i, pg in enumerate(p.pages)}
    out = []

    def walk(el, depth, pg):
        pg = pages[el.Pg.objgen] if "/Pg" in el else pg
        kids = el.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        own = "".join(texts.get((pg, k), "") for k in kids if isinstance(k, int))
        out.append((depth, str(el.S)[1:], str(el.get("/Lang", "")), str(el.get("/Alt", "")), own))
        for k in kids:
            if isinstance(k, pikepdf.Dictionary) and "/S" in k:
                walk(k, depth + 1, pg)

    walk(p.Root.StructTreeRoot.K[0], 0, 0)
    return out


def roles(tree, role):
    return [t for t in tree if t[1] == role]


def render(body, bilingual="parallel", languages=("zh", "en"), **kw):
    kw.setdefault("tagged", True)
    return docgen.render({"layout": "report", "languages": list(languages), "bilingual": bilingual,
                          "meta": {"title": {"zh": "标签", "en": "Tags"}}, "body": body}, **kw).pdf


def test_parallel_pairs_read_chinese_block_then_english_block():
    pdf = render([{"paragraph": {"zh": "第一段中文。" * 30, "en": "First English paragraph. " * 30}},
                  {"paragraph": {"zh": "第二段中文。", "en": "Second English paragraph."}}])
    ps = [t for t in roles(tree_of(pdf), "P") if t[4]]
    body = [t for t in ps if "段" in t[4] or "paragraph" in t[4]]
    assert [t[2] for t in body] == ["", "en", "", "en"]          # zh is the catalog's language: no /Lang
    assert body[0][4].startswith("第一段") and body[1][4].startswith("First")
    assert body[1][4].replace(" ", "").count("FirstEnglishparagraph") == 30   # never interleaved with zh
    assert body[2][4].startswith("第二段") and body[3][4].startswith("Second")


def test_stacked_headings_lists_and_paragraphs_keep_source_order():
    pdf = render([{"heading": {"text": {"zh": "标题", "en": "Heading"}, "level": 1}},
                  {"heading": {"text": {"zh": "小节", "en": "Section"}, "level": 2}},
                  {"paragraph": {"zh": "正文。", "en": "Body."}},
                  {"list": {"items": [{"zh": "甲", "en": "Alpha"}, {"zh": "乙", "en": "Beta"}], "ordered": True}},
                  {"list": ["丙", "丁"]}], bilingual="stacked")
    tree = tree_of(pdf)
    seq = [(t[1], t[4]) for t in tree if t[1] in ("H1", "H2", "P", "LBody", "Lbl") and t[4]]
    seq = seq[seq.index(("H1", "标题")):]                           # after the title page
    assert seq[:6] == [("H1", "标题"), ("H1", "Heading"), ("H2", "小节"), ("H2", "Section"), ("P", "正文。"),
                       ("P", "Body.")]
    assert [s for s in seq[6:]] == [("Lbl", "1."), ("LBody", "甲"), ("Lbl", "1."), ("LBody", "Alpha"),
                                    ("Lbl", "2."), ("LBody", "乙"), ("Lbl", "2."), ("LBody", "Beta"),
                                    ("LBody", "丙"), ("LBody", "丁")]
    lists = roles(tree, "L")
    assert len(lists) == 2
    lis = roles(tree, "LI")
    assert len(lis) == 6 and [t[2] for t in lis[:4]] == ["", "en", "", "en"]


def test_table_has_head_and_body_rows_with_scoped_header_cells():
    pdf = render([{"table": {"header": [{"zh": "名称", "en": "Name"}, "金额"],
                             "rows": [["甲", "1"], ["乙", "2"]], "caption": {"zh": "表1", "en": "Table 1"}}}])
    tree = tree_of(pdf)
    kinds = [t[1] for t in tree if t[1] in ("Table", "THead", "TBody", "TR", "TH", "TD", "Caption")]
    # the caption stands above the table (the theme's captions.table): first in the Table, as on the page
    assert kinds == ["Table", "Caption", "Caption", "THead", "TR", "TH", "TH", "TBody", "TR", "TD", "TD", "TR",
                     "TD", "TD"]
    # a one-language cell holds its text itself; a two-language one a P per language
    cells = [t[4] for t in tree if t[1] in ("TH", "TD", "P") and t[0] >= 4 and t[4]]
    assert cells == ["名称", "Name", "金额", "甲", "1", "乙", "2"]
    assert [t[2] for t in tree if t[1] == "P" and t[0] >= 4] == ["", "en"]
    p = pikepdf.open(io.BytesIO(pdf))
    th = [e for e in _elements(p) if str(e.S) == "/TH"]
    assert all(str(e.A.Scope) == "/Column" for e in th)


def test_long_table_repeats_its_header_as_an_artifact():
    rows = [[str(i), f"项目{i:03d}"] for i in range(1, 121)]
    pdf = render([{"table": {"header": ["序号", "项目名称"], "rows": rows}}], languages=("zh",), bilingual="zh")
    tree = tree_of(pdf)
    assert len(roles(tree, "TH")) == 2
    heads = [t[4] for t in tree if t[4] in ("序号", "项目名称")]
    assert heads == ["序号", "项目名称"]                           # once, however many pages it spans
    assert [t[4] for t in tree if t[1] == "TD" and t[4].startswith("项目0")][:3] == ["项目001", "项目002", "项目003"]
    assert len(pikepdf.open(io.BytesIO(pdf)).pages) >= 3


def _elements(p):
    stack = [p.Root.StructTreeRoot.K[0]]
    while stack:
        e = stack.pop()
        yield e
        k = e.get("/K")
        for x in (list(k) if isinstance(k, pikepdf.Array) else [k]):
            if isinstance(x, pikepdf.Dictionary) and "/S" in x:
                stack.append(x)


def test_figures_carry_alt_in_the_editions_languages_and_captions_follow(tmp_path):
    from PIL import Image
    Image.new("RGB", (64, 32), "red").save(tmp_path / "a.png")
    spec = {"layout": "report", "languages": ["zh", "en"], "bilingual": "parallel", "meta": {"title": "图"},
            "body": [{"image": {"path": "a.png", "alt": {"zh": "红色方块", "en": "A red block"},
                                "caption": {"zh": "图1", "en": "Figure 1"}}},
                     {"generate": {"prompt": "a calm lake at dawn", "caption": "湖"}}]}
    (tmp_path / "s.yaml").write_text(__import__("yaml").safe_dump(spec, allow_unicode=True), encoding="utf-8")
    tree = tree_of(docgen.render(tmp_path / "s.yaml", tagged=True).pdf)
    figs = roles(tree, "Figure")
    assert [f[3] for f in figs] == ["红色方块 / A red block", "a calm lake at dawn"]
    i = tree.index(figs[0])
    assert [t[1] for t in tree[i + 1:i + 3]] == ["Caption", "Caption"]
    en = docgen.render(tmp_path / "s.yaml", edition="en", tagged=True).pdf
    assert [f[3] for f in roles(tree_of(en), "Figure")][0] == "A red block"


def test_pdfua_makes_a_missing_alt_an_error_naming_the_block(tmp_path):
    from PIL import Image
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "s.yaml").write_text("meta: {title: t}\nbody:\n  - paragraph: x\n  - image: {path: a.png}\n",
                                     encoding="utf-8")
    with pytest.raises(docgen.errors.SpecError, match=r"body\.1\.image\.alt"):
        docgen.render(tmp_path / "s.yaml", pdfua=True)


def test_links_are_tagged_with_their_annotations():
    pdf = render([{"heading": {"text": "一", "level": 1}},
                  {"paragraph": {"zh": "见[网站](https://example.org)。", "en": "See [the site](https://example.org)."}}])
    p = pikepdf.open(io.BytesIO(pdf))
    links = [e for e in _elements(p) if str(e.S) == "/Link"]
    assert links and all(str(e.K.Type) == "/OBJR" for e in links)
    toc = [e for e in links if "/URI" not in e.K.Obj.get("/A", {})]
    assert toc and str(toc[0].K.Obj.Contents) == "一 3"              # the report's contents: title and page
    links = [e for e in links if e not in toc]
    assert len(links) == 2                                             # one per language
    for e in links:
        annot = e.K.Obj
        assert str(annot.Contents) == "https://example.org"
        nums = p.Root.StructTreeRoot.ParentTree.Nums
        key = int(annot.StructParent)
        assert any(int(nums[i]) == key and nums[i + 1].objgen == e.objgen for i in range(0, len(nums), 2))


def test_report_toc_is_toc_of_tocis_and_running_heads_are_artifacts():
    pdf = docgen.render(EXAMPLES / "quarterly-report.yaml", tagged=True).pdf
    tree = tree_of(pdf)
    toc = roles(tree, "TOC")
    assert len(toc) == 1
    tocis = roles(tree, "TOCI")
    assert len(tocis) >= 4 and "概述" in tocis[0][4]
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        last = doc.pages[-1]
        untagged = "".join(c["text"] for c in last.chars if c.get("mcid") is None)
        assert str(len(doc.pages)) in untagged          # the folio: an artifact, no MCID


def test_every_example_with_pdfa_and_pdfua_passes_both_checks(tmp_path):
    for spec in sorted(EXAMPLES.glob("*.yaml")) + [EXAMPLES / "sales-report" / "sales-report.yaml"]:
        pdf = docgen.render(spec, pdfa=True, pdfua=True).pdf
        for standard in ("pdfua", "pdfa"):
            report = check_pdf(pdf, standard)
            assert report.ok, (spec.name, standard, report.lines())


def test_gongwen_is_tagged_in_the_standards_element_order():
    pdf = docgen.render(EXAMPLES / "gongwen-tongzhi.yaml", pdfua=True).pdf
    assert check_pdf(pdf, "pdfua").ok
    tree = tree_of(pdf)
    seq = [(t[1], t[4]) for t in tree if t[4]]
    title = next(i for i, (r, _) in enumerate(seq) if r == "H1")
    assert "人民政府文件" in seq[title - 1][1]                       # 版头 before the title
    assert seq[title + 1][1].endswith("：")                          # then the 主送机关
    assert [t for r, t in seq if r == "H2"][0].startswith("一、")
    assert [t for r, t in seq if r == "H3"][0].startswith("（一）")
    assert [t[1] for t in tree if t[1] in ("Table", "THead", "TBody")] == ["Table", "THead", "TBody"]
    assert [t[4] for t in roles(tree, "TH")][:2] == ["序号", "重点任务"]
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            body = [c for c in page.chars if c.get("mcid") is None and c["text"].strip()]
            # only the folio (— n —) is an artifact
            assert re.fullmatch(r"[—\d\s-]*", "".join(c["text"] for c in body)), "".join(c["text"] for c in body)


def test_untagged_by_default_and_the_checker_says_so():
    pdf = docgen.render({"meta": {"title": "t"}, "body": [{"paragraph": "x"}]}).pdf
    assert b"/StructTreeRoot" not in pdf
    report = check_pdf(pdf, "pdfua")
    assert "untagged" in report.kinds()


def test_tagged_output_is_deterministic():
    body = [{"heading": {"text": "一", "level": 1}}, {"paragraph": {"zh": "甲", "en": "A"}}]
    assert render(body, pdfa=True, pdfua=True) == render(body, pdfa=True, pdfua=True)


def test_hyphenated_words_are_read_whole_through_actual_text():
    text = ("Internationalization and characterization of incomprehensibilities notwithstanding, "
            "telecommunications infrastructure modernization continues uninterruptedly. ") * 6
    pdf = render([{"paragraph": text}], languages=("en",), bilingual="en")
    p = pikepdf.open(io.BytesIO(pdf))
    spans = [str(ops[1].ActualText) for pg in p.pages for ops, op in pikepdf.parse_content_stream(pg)
             if str(op) == "BDC" and "/ActualText" in ops[1]]
    assert spans
    words = set(text.split())
    for s in spans:                      # every word of a span is a word of the spec: no half words
        assert set(s.split()) <= words, s
    assert check_pdf(pdf, "pdfua").ok


def test_actualtext_spans_keep_every_glyph_in_its_element():
    # the CJK–Latin spans (text layer) are sequences of the element's own, never nested without an MCID;
    # a heading keeps one marked-content item
    pdf = render([{"heading": "2026年工作报告与Qwen-Image模型"},
                  {"paragraph": "1936年，他在 Berlin 学习，用 Qwen-Image 生成插图，版本 v2.1 发布于 2026 年。"}],
                 languages=("zh",), bilingual="zh")
    tree = tree_of(pdf)
    ps = [t[4] for t in tree if t[1] == "P" and "Berlin" in t[4]]
    assert ps == ["1936年，他在Berlin学习，用Qwen-Image生成插图，版本v2.1发布于2026年。"]
    assert [t[4] for t in tree if t[1] == "H1"] == ["2026年工作报告与Qwen-Image模型"]
    p = pikepdf.open(io.BytesIO(pdf))
    h1 = [e for e in _elements(p) if str(e.S) == "/H1"]
    assert len(h1) == 1 and not isinstance(h1[0].K, pikepdf.Array)
