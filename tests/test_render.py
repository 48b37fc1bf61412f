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
    whole = nows("".join(pypdf_text(res.pdf)))
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
