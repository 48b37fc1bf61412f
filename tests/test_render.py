"""Rendering: real PDFs from real specs, read back and measured."""
import io
import re
import os
import subprocess
import sys

import pypdf
import pytest

import docgen
from docgen.errors import SpecError
from docgen.spec.inline import plain
from docgen.regions import DraftBackend
from docgen.render import load as load_spec
from pdfutil import MM, baseline, chars, fonts, lines_of, nows, pypdf_text

from conftest import EXAMPLES, ROOT, SHARED

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml")) + [EXAMPLES / "sales-report" / "sales-report.yaml"]
EXAMPLE = {f.stem: f for f in EXAMPLE_FILES}


def spec_texts(doc: docgen.Document, lang: str, tables: bool = True) -> list[str]:
    """Every body text of the spec in one language, as the reader should see it."""
    from docgen.spec.models import text_in
    out = []
    for b in doc.body:
        for kind in ("heading", "paragraph"):
            v = getattr(b, kind, None)
            if v is not None:
                v = b.body.text if kind == "heading" else v
                out.append(plain(text_in(v, lang)))
        if getattr(b, "list", None) is not None:
            out += [plain(text_in(x, lang)) for x in b.body.items]
        if tables and getattr(b, "table", None) is not None:
            out += [plain(text_in(c, lang)) for c in b.table.header]
            out += [plain(text_in(c, lang)) for r in b.table.rows for c in r]
    return out


@pytest.fixture(scope="module")
def rendered():
    out = {}
    for f in EXAMPLE_FILES:
        out[f.stem] = docgen.render(f, backend=DraftBackend())
    return out


@pytest.mark.parametrize("name", [f.stem for f in EXAMPLE_FILES])
def test_every_example_renders_reopens_and_holds_the_spec_text(rendered, name):
    res = rendered[name]
    reader = pypdf.PdfReader(io.BytesIO(res.pdf))
    assert len(reader.pages) == res.pages >= 1
    from docgen.data import resolve
    doc, root = load_spec(EXAMPLE[name])
    doc = resolve(doc, root).document          # data-bound tables as the reader sees them
    # a paragraph may run on across a page break: the page number at a page's end (公文) is not part of it
    whole = nows("".join(re.sub(r"—\s*\d+\s*—\s*$", "", t) for t in pypdf_text(res.pdf)))
    langs = doc.languages if doc.mode in ("stacked", "parallel") else [doc.mode]
    for lang in langs:
        for t in spec_texts(doc, lang):
            if doc.mode == "parallel":
                continue        # columns interleave across pages: checked per column below
            assert nows(t) in whole, (lang, t)


def test_parallel_columns_hold_each_language_in_order(rendered):
    """In parallel mode, the left column reads as the Chinese text and the right as the English,
    across page breaks; and each block pair starts on the same baseline."""
    res = rendered["west-lake-guide"]
    doc = load_spec(EXAMPLES / "west-lake-guide.yaml")[0]
    left, right = [], []
    for pno, (w, h, cs) in enumerate(chars(res.pdf)):
        if pno == 0:
            continue                      # cover
        body = [c for c in cs if 22 * MM - 1 < c["top"] < h - 22 * MM + 1]
        for ln in lines_of(body):
            left += [c["text"] for c in ln if c["x0"] < w / 2]
            right += [c["text"] for c in ln if c["x0"] >= w / 2]
    L, R = nows("".join(left)), nows("".join(right))
    pos_l = pos_r = 0
    for t in spec_texts(doc, "zh", tables=False):
        i = L.find(nows(t), pos_l)
        assert i >= 0, t
        pos_l = i
    for t in spec_texts(doc, "en", tables=False):
        i = R.find(nows(t), pos_r)
        assert i >= 0, t
        pos_r = i


def test_parallel_pairs_start_on_the_same_baseline():
    body = []
    for i in range(12):
        body.append({"paragraph": {"zh": "西湖" * (5 + 23 * (i % 3)), "en": "West Lake " * (4 + 7 * (i % 4))}})
    res = docgen.render({"layout": "report", "bilingual": "parallel", "meta": {"title": {"zh": "对齐", "en": "Align"}},
                         "body": body})
    pages = chars(res.pdf)
    starts = {"zh": [], "en": []}
    for pno, (w, h, cs) in enumerate(pages):
        body_cs = [c for c in cs if 28 * MM - 1 < c["top"] < h - 26 * MM]
        for ln in lines_of(body_cs):
            txt = "".join(c["text"] for c in ln if c["x0"] < w / 2)
            if txt.startswith("西湖"):
                starts["zh"].append((pno, round(baseline(ln[0]), 1)))
            txt = "".join(c["text"] for c in ln if c["x0"] >= w / 2)
            if txt.startswith("West"):
                starts["en"].append((pno, round(baseline([c for c in ln if c["x0"] >= w / 2][0]), 1)))
    # each paragraph's first line: in the zh column it begins with 西湖 after an indent; collect per pair
    zh_first = _first_lines(pages, "西湖", left=True)
    en_first = _first_lines(pages, "West", left=False)
    assert len(zh_first) == len(en_first) == 12
    for (pz, yz), (pe, ye) in zip(zh_first, en_first):
        assert pz == pe and abs(yz - ye) <= 1.0


def _first_lines(pages, start, left):
    out = []
    for pno, (w, h, cs) in enumerate(pages):
        side = [c for c in cs if (c["x0"] < w / 2) == left and 28 * MM - 1 < c["top"] < h - 26 * MM]
        lines = lines_of(side)
        for i, ln in enumerate(lines):
            txt = "".join(c["text"] for c in ln)
            # a paragraph's first line starts with the word after a gap (zh indent) or after a paragraph gap
            prev = lines[i - 1] if i else None
            gap = (baseline(ln[0]) - baseline(prev[0])) if prev else 99
            if txt.startswith(start) and gap > 17.5:
                out.append((pno, baseline(ln[0])))
    return out


def test_same_spec_gives_the_same_bytes():
    a = docgen.render(EXAMPLES / "quarterly-report.yaml").pdf
    b = docgen.render(EXAMPLES / "quarterly-report.yaml").pdf
    assert a == b


def test_the_break_memo_leaves_the_garbage_collector_nothing_to_scan():
    """Services render for days: the lines a process keeps for repeated text must not be objects that the
    garbage collector scans at every full collection (as Line and Piece objects they doubled its pauses), and a
    render from the memo must give the same bytes as one that breaks every line."""
    import gc
    from docgen.typeset import flowables
    flowables.BREAK_MEMO.clear()
    fresh = docgen.render(EXAMPLES / "west-lake-guide.yaml").pdf
    again = docgen.render(EXAMPLES / "west-lake-guide.yaml").pdf
    assert again == fresh
    for _ in range(5):               # the collector untracks a tuple once it has seen its items untracked
        gc.collect()
    assert len(flowables.BREAK_MEMO) > 10
    assert not any(gc.is_tracked(k) or gc.is_tracked(v) for k, v in flowables.BREAK_MEMO.items())


def test_fonts_are_embedded_truetype_no_base14(rendered):
    for name, res in rendered.items():
        fs = fonts(res.pdf)
        assert fs, name
        for subtype, base, embedded in fs:
            assert embedded, (name, base)
            assert subtype == "/TrueType", (name, base)
        assert any("SC" in base for _, base, _ in fs)


def test_metadata_outline_and_language(rendered):
    res = rendered["quarterly-report"]
    r = pypdf.PdfReader(io.BytesIO(res.pdf))
    assert r.metadata.title == "2026年第三季度经营报告 · Q3 2026 Business Report"
    assert r.metadata["/CreationDate"].startswith("D:20261015")
    assert r.trailer["/Root"]["/Lang"] == "zh-CN"
    titles = [o["/Title"] for o in r.outline if not isinstance(o, list)]
    assert titles[0] == "概述 · Overview"
    # the outline points at the page where the heading is
    first = r.outline[0]
    page_no = r.get_destination_page_number(first)
    assert "概述" in r.pages[page_no].extract_text()


def test_report_toc_lists_headings_with_their_pages(rendered):
    res = rendered["quarterly-report"]
    pages = pypdf_text(res.pdf)
    toc = pages[1]
    assert "目录" in toc
    for level, title, page in res.headings:
        if level <= 2:
            assert nows(title) + str(page) in nows(toc), title


def test_running_footer_counts_pages(rendered):
    res = rendered["quarterly-report"]
    texts = pypdf_text(res.pdf)
    n = len(texts)
    for i, t in enumerate(texts[1:], start=2):
        assert f"第{i}页/共{n}页·Pageiof{n}".replace("Pagei", f"Page{i}") in nows(t)


def test_table_header_repeats_on_every_page():
    rows = [[str(i), f"项目{i:03d}", f"{i * 3.5:.2f}"] for i in range(1, 121)]
    res = docgen.render({"layout": "report", "languages": ["zh"], "meta": {"title": "长表"},
                         "body": [{"table": {"header": ["序号", "项目名称", "金额"], "rows": rows}}]})
    pages = pypdf_text(res.pdf)
    table_pages = [t for t in pages if re.search(r"项目\d{3}", nows(t))]
    assert len(table_pages) >= 3
    for t in table_pages:
        assert "序号" in t and "项目名称" in t
    allt = nows("".join(pages))
    for r in rows:
        assert nows("".join(r)) in allt


HOSTILE = ['<b>bold?</b> & <img src="x.png"/>', '<font color="red">红</font> &amp; &lt;', "]]><!--", "{{ 7*7 }}"]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_prints_literally(text):
    res = docgen.render({"languages": ["zh"], "layout": "report", "meta": {"title": text},
                         "body": [{"heading": text}, {"paragraph": text}, {"table": {"header": [text], "rows": [[text]]}}]})
    whole = nows("".join(pypdf_text(res.pdf)))
    assert whole.count(nows(text)) >= 4


def test_asset_path_cannot_escape_the_spec_folder(tmp_path):
    (tmp_path / "secret.png").write_bytes((EXAMPLES / "assets" / "map.png").read_bytes())
    d = tmp_path / "spec"
    d.mkdir()
    spec = d / "doc.yaml"
    spec.write_text("languages: [zh]\nmeta: {title: t}\nbody:\n  - image: {path: ../secret.png}\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    assert e.value.problems[0].path == "body.0.image.path"
    assert "outside the spec's folder" in e.value.problems[0].message


def test_images_are_checked(tmp_path):
    (tmp_path / "fake.png").write_text("not an image")
    spec = tmp_path / "doc.yaml"
    spec.write_text("languages: [zh]\nmeta: {title: t}\nbody:\n  - image: {path: fake.png}\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    assert "not a readable PNG or JPEG" in str(e.value)


def test_out_is_written_atomically_and_not_on_failure(tmp_path):
    out = tmp_path / "x.pdf"
    res = docgen.render({"languages": ["en"], "meta": {"title": "ok"}, "body": [{"paragraph": "hi"}]}, out=out)
    assert out.read_bytes() == res.pdf
    bad = tmp_path / "bad.pdf"
    with pytest.raises(SpecError):
        docgen.render({"languages": ["en"], "meta": {"title": "x"}, "layout": "nonesuch"}, out=bad)
    assert not bad.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["x.pdf"]


def test_inline_markup_bold_italic_links():
    res = docgen.render({"languages": ["en"], "layout": "report", "meta": {"title": "t"},
                         "body": [{"paragraph": "plain **bold words** and *italic* and [a link](https://example.com)"}]})
    r = pypdf.PdfReader(io.BytesIO(res.pdf))
    text = nows("".join(p.extract_text() for p in r.pages))
    assert "plainboldwordsanditalicandalink" in text
    links = [a.get_object()["/A"]["/URI"] for p in r.pages for a in p.get("/Annots", []) if "/A" in a.get_object()]
    assert links == ["https://example.com"]            # one annotation per link, not one per drawing pass
    used = {c["fontname"].split("+")[-1] for _, _, cs in chars(res.pdf) for c in cs
            if c["text"] in "bold" and c["size"] == 10.5}
    assert any("Bold" in f for f in used)


def test_editions_from_one_spec(tmp_path):
    spec = EXAMPLES / "quarterly-report.yaml"
    zh = docgen.render(spec, edition="zh")
    en = docgen.render(spec, edition="en")
    tz, te = nows("".join(pypdf_text(zh.pdf))), nows("".join(pypdf_text(en.pdf)))
    assert "概述" in tz and "Overview" not in tz
    assert "Overview" in te and "概述" not in te


def test_import_docgen_does_not_import_torch():
    code = "import sys, docgen; docgen.render({'languages':['zh'],'meta':{'title':'t'},'body':[{'generate':{'prompt':'p'}}]}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"DOCGEN_BACKEND": "draft", "PATH": "/usr/bin:/bin", "HOME": str(ROOT),
                              "DOCGEN_CACHE_DIR": os.environ["DOCGEN_CACHE_DIR"]})     # not ROOT/.cache
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_generated_region_is_placed_at_the_requested_aspect():
    res = docgen.render({"languages": ["zh"], "layout": "report", "meta": {"title": "t"},
                         "body": [{"generate": {"prompt": "西湖", "aspect": "16:9", "seed": 1}}]})
    assert res.regions and res.regions[0]["backend"] == "draft"
    assert res.regions[0]["width"] / res.regions[0]["height"] == pytest.approx(16 / 9, rel=0.02)
    import pdfplumber
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        imgs = [im for p in pdf.pages for im in p.images]
    assert imgs
    im = imgs[-1]
    assert (im["x1"] - im["x0"]) / (im["bottom"] - im["top"]) == pytest.approx(16 / 9, rel=0.02)


def test_shared_checker_runs_on_examples(rendered, tmp_path):
    """The shared CLREQ checker measures the examples (0 violations is the typography issue's bar)."""
    checker = SHARED / "checks" / "check_pdf.py"
    if not checker.exists():
        pytest.skip("../shared/checks not present")
    for name, res in rendered.items():
        p = tmp_path / f"{name}.pdf"
        p.write_bytes(res.pdf)
        out = subprocess.run([sys.executable, str(checker), str(p), "--level", "strict"], capture_output=True,
                             text=True)
        assert "SUMMARY no violations" in out.stdout, (name, out.stdout[-2000:])


def _first_lines_x(pdf: bytes) -> list[float]:
    """The left edge of each body line on the last page (the paragraph under test)."""
    _, _, cs = chars(pdf)[-1]
    return [ln[0]["x0"] for ln in lines_of(cs) if 30 * MM < baseline(ln[0]) < 265 * MM]


EN_WITH_HAN = ("The lake at Hangzhou (杭州) has been called “paradise on earth” for a thousand years, and its "
               "causeways, temples and tea fields draw visitors from every part of the world in every season.")
ZH_WITH_WORD = ("我们用 Python 写下这份报告的每一张表，数据来自各个部门的季度汇总，经过核对之后按照统一的格式排版，"
                "再由编辑逐段校读，确保每一个数字都与原始记录一致。")


@pytest.mark.parametrize("langs, text, lang", [
    (["en"], EN_WITH_HAN, "en"),            # one Han word made the whole paragraph Chinese (2 em indent)
    (["zh", "en"], EN_WITH_HAN, "en"),      # the majority script: English words, one Chinese name
    (["zh", "en"], ZH_WITH_WORD, "zh"),     # ... Chinese characters, one English word
    (["zh"], EN_WITH_HAN, "zh"),            # a Chinese document's text is Chinese
    (["en"], "杭州西湖，" * 30, "zh"),       # no Latin word at all: its script
])
def test_a_plain_string_takes_the_documents_language_then_its_majority_script(langs, text, lang):
    res = docgen.render({"layout": "report", "languages": langs, "meta": {"title": "T"},
                         "body": [{"paragraph": text}]})
    xs = _first_lines_x(res.pdf)
    assert len(xs) >= 2
    indent = xs[0] - xs[1]
    assert (indent > 15 if lang == "zh" else abs(indent) < 0.5), indent      # 2 em of 10.5 pt: 21 pt
    quotes = [c["x1"] - c["x0"] for c in chars(res.pdf)[-1][2] if c["text"] == "“"]
    for w in quotes:                          # a full-width quote (one em) in Chinese, a Latin one in English
        assert (w > 9 if lang == "zh" else w < 7), w


@pytest.mark.parametrize("captions, table_above, figure_above", [
    ({}, True, False),                                         # the Chinese convention: 表题在上, 图题在下
    ({"captions": {"table": "below", "figure": "above"}}, False, True),
])
def test_captions_go_above_tables_and_below_figures_as_the_theme_says(captions, table_above, figure_above):
    import pdfplumber
    spec = {"layout": "report", "languages": ["zh"], "meta": {"title": "题注"}, "theme": captions,
            "body": [{"table": {"header": ["项目", "金额"], "rows": [["甲", "1"], ["乙", "2"]], "caption": "表1 收支"}},
                     {"image": {"path": str(EXAMPLES / "assets" / "map.png"), "width": 0.5, "caption": "图1 地图"}}]}
    pdf = docgen.render(spec).pdf
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = next(p for p in doc.pages if "收支" in (p.extract_text() or ""))
        top_of = {c["text"]: c["top"] for c in page.chars}
        table_top, table_bottom = top_of["项"], top_of["乙"]
        assert (top_of["收"] < table_top) if table_above else (top_of["收"] > table_bottom)
        (img,) = page.images
        assert (top_of["地"] < img["top"]) if figure_above else (top_of["地"] > img["bottom"])


@pytest.mark.parametrize("mode", ["parallel", "stacked", "en"])
def test_a_brochure_without_a_cover_block_still_gets_a_designed_cover(mode):
    # it used to be the title and a byline at the top of an otherwise empty white page, a plain-string author
    # printed in both columns and no date
    import pypdfium2
    langs = ["en"] if mode == "en" else ["zh", "en"]
    spec = {"layout": "brochure", "languages": langs, "meta": {
        "title": "West Lake Visitor Guide" if mode == "en" else {"zh": "杭州西湖导览", "en": "West Lake Visitor Guide"},
        "subtitle": "Misty water, mountains half the city", "author": "Hangzhou Culture & Tourism",
        "date": "2026-11-28"}, "body": [{"paragraph": "Body text."}]}
    if mode != "en":
        spec["bilingual"] = mode
    pdf = docgen.render(spec).pdf
    first = nows(pypdf_text(pdf)[0])
    assert "WestLakeVisitorGuide" in first and "Mistywater" in first
    assert first.count("HangzhouCulture&Tourism") == 1                 # the author once
    assert "28November2026" in first                                   # the date shown ...
    assert ("2026年11月28日" in first) == (mode != "en")                 # ... in each language of the edition
    page = pypdfium2.PdfDocument(pdf)[0].render(scale=20 / 72).to_pil().convert("L")
    hist = page.histogram()
    assert sum(hist[:200]) / sum(hist) > 0.6                            # set on a colour, not an empty page


def test_a_cjk_faces_most_used_characters_share_its_first_subset(tmp_path):
    """ReportLab embeds a face in 256-glyph subsets, filled in order of first use, the first one keeping
    ASCII's codes free: a Chinese line mixing subsets switches fonts every few characters.  The characters a
    document uses most must share the first subset — here 150 characters set over and over after 400 set
    once must all come from one subset — while every character still extracts as itself."""
    from docgen.typeset.fonts import family
    face = family("NotoSerifSC-Regular.ttf").regular
    han = [chr(c) for c in range(0x4E00, 0x9FA5) if face.covers(chr(c))]
    rare, common = "".join(han[:400]), han[400:550]
    body = [{"paragraph": rare}, {"page_break": {}}] + [{"paragraph": "".join(common[(i + k) % 150] for k in range(150))}
                                    for i in range(0, 150, 10)]
    r = docgen.render({"layout": "report", "languages": ["zh"], "meta": {"title": "子集"}, "body": body},
                      out=tmp_path / "s.pdf")
    reader = pypdf.PdfReader(tmp_path / "s.pdf")
    last = reader.pages[-1]
    fonts = last["/Resources"]["/Font"]
    serif = [name for name, f in fonts.items() if "NotoSerifSC-Regular" in str(f.get_object()["/BaseFont"])]
    content = last.get_contents().get_data()
    switches = sum(len(re.findall(re.escape(name.encode()) + rb" [\d.]+ Tf", content)) for name in serif)
    # the page of common characters: their face chosen once a text object (its folio's characters, set as
    # pages are drawn, may come from another subset), not again inside the lines
    assert switches <= content.count(b"BT") + 2, (switches, content.count(b"BT"))
    text = nows("".join(pypdf_text(r.pdf)))
    assert rare in text and all(("".join(common[(i + k) % 150] for k in range(150))) in text for i in (0, 70))
