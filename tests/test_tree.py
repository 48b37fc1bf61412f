"""The one typed tree: block kinds listed once, every block with one id, the layout tree carrying
everything later stages need (a picture's whole request), frame geometry in one place."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

import docgen
from docgen.errors import LayoutError
from docgen.layout import blocks as layout_blocks
from docgen.layout import build
from docgen.layout import tree as T
from docgen.spec import blocks as spec_blocks
from docgen.spec.base import Text
from docgen.spec.models import BLOCK_KINDS, BLOCKS, Document, walk
from docgen.typeset import extensions

from pdfutil import pypdf_text


def _gongwen(body, fujian_body, **kw):
    return {"layout": "gongwen", "languages": ["zh"], "meta": {"title": "关于开展测试工作的通知"},
            "gongwen": {"biaozhi": "测试市人民政府文件", "zihao": "测政发〔2026〕3号", "zhusong": ["各区人民政府"],
                        "shuming": "测试市人民政府", "chengwen_riqi": "2026-03-06",
                        "fujian": [{"mingcheng": "示意图", "body": fujian_body}], **kw},
            "body": body}


def _image_hashes(pdf: bytes) -> list[str]:
    out = []
    for page in PdfReader(__import__("io").BytesIO(pdf)).pages:
        for img in page.images:
            out.append(hashlib.sha256(img.data).hexdigest())
    return out


def test_block_kinds_are_listed_once():
    # the union, the kind names and the discriminator's message all come from BLOCKS
    assert BLOCK_KINDS == tuple(b.kind for b in BLOCKS)
    assert len(set(BLOCK_KINDS)) == len(BLOCK_KINDS)
    for b in BLOCKS:
        assert b in layout_blocks._CONVERSIONS, f"block kind {b.kind!r} has no layout conversion"
    with pytest.raises(docgen.SpecError, match="each body entry is one of: " + ", ".join(BLOCK_KINDS)):
        docgen.spec.validate({"meta": {"title": "x"}, "body": [{"quote": "y"}]})


class QuoteBlock(spec_blocks.BlockModel):
    quote: Text


def test_a_kind_without_a_conversion_is_an_error_not_a_page_break():
    with pytest.raises(LayoutError, match=r"body\.3: the layout stage has no conversion for block kind 'quote'"):
        layout_blocks.to_template(QuoteBlock(quote="引文"), "body.3")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_new_kind_needs_a_model_a_conversion_and_a_drawing(monkeypatch):
    """The recipe of docs/architecture.md: a model, a conversion, a drawing — no template or markup edit."""
    monkeypatch.setitem(layout_blocks._CONVERSIONS, QuoteBlock,
                        lambda b, bid, data: {"text": layout_blocks.dump(b.quote)})

    def draw(ts, el):
        return ts.bilingual(T.texts_of(el.data["text"]), lambda lg, spans, second: ts.block(spans, lg, "body"))
    monkeypatch.setitem(extensions._REGISTRY, "quote", draw)
    doc = Document.model_validate({"meta": {"title": "引文"}, "body": [{"paragraph": "前文。"}]})
    # the spec's union is the first file of the recipe; here the block is put in without it
    doc = doc.model_copy(update={"body": [*doc.body, QuoteBlock(quote={"zh": "学而时习之", "en": "Learn and practise"})]})
    r = docgen.render(doc, edition="stacked")
    text = "".join(pypdf_text(r.pdf))
    assert "学而时习之" in text and "Learn and practise" in text
    assert r.pages == 2              # title page + one body page: nothing turned into a page break


def test_every_block_gets_one_id_attachments_included():
    doc = docgen.spec.validate(_gongwen([{"paragraph": "正文。"}],
                                        [{"paragraph": "附件正文。"}, {"generate": {"prompt": "图", "seed": 5}}]))
    ids = [bid for bid, _ in walk(doc)]
    assert ids == ["body.0", "gongwen.fujian.0.body.0", "gongwen.fujian.0.body.1"]


def test_generate_block_in_an_attachment_alone():
    spec = _gongwen([{"paragraph": "请按附件执行。"}], [{"generate": {"prompt": "附件示意图", "seed": 5, "aspect": "4:3"}}])
    r = docgen.render(spec)
    assert [(x["id"], x["seed"]) for x in r.regions] == [("gongwen.fujian.0.body.0", 5)]
    assert len(_image_hashes(r.pdf)) == 1
    w, h = r.regions[0]["width"], r.regions[0]["height"]
    assert abs(w / h - 4 / 3) < 0.02                  # its own aspect, not the default


def test_attachment_keeps_its_own_picture_when_the_body_starts_with_one():
    spec = _gongwen([{"generate": {"prompt": "正文配图", "seed": 1, "aspect": "16:9"}}, {"paragraph": "正文。"}],
                    [{"generate": {"prompt": "附件配图", "seed": 9, "aspect": "1:1"}}])
    r = docgen.render(spec)
    got = {x["id"]: x for x in r.regions}
    assert set(got) == {"body.0", "gongwen.fujian.0.body.0"}
    assert got["body.0"]["seed"] == 1 and got["gongwen.fujian.0.body.0"]["seed"] == 9
    assert got["gongwen.fujian.0.body.0"]["width"] == got["gongwen.fujian.0.body.0"]["height"]   # 1:1
    hashes = _image_hashes(r.pdf)
    assert len(hashes) == 2 and hashes[0] != hashes[1]


def test_the_tree_carries_each_pictures_whole_request():
    doc = docgen.spec.validate({
        "layout": "brochure", "meta": {"title": {"zh": "导览", "en": "Guide"}},
        "cover": {"generate": {"prompt": "封面", "seed": 3, "text": {"zh": "欢迎"}, "aspect": "4:3"}},
        "body": [{"generate": {"prompt": "插图", "seed": 11, "size": [512, 256], "negative_prompt": "blurry"}}]})
    tree, theme, _ = build(doc, "parallel")
    figs = {f.region: f for f, _ in tree.figures() if f.region}
    cover, body = figs["cover"].request, figs["body.0"].request
    assert (cover.prompt, cover.seed, cover.text, round(cover.aspect, 3)) == ("封面", 3, (("zh", "欢迎"),), 1.333)
    assert (body.prompt, body.seed, body.size, body.negative_prompt) == ("插图", 11, (512, 256), "blurry")
    assert figs["cover"].frame_width > 0 and figs["body.0"].frame_width > 0
    assert tree.info.title == "导览 · Guide"


def test_a_region_ref_the_spec_does_not_ask_for_is_a_layout_error(tmp_path):
    lay = tmp_path / "lay"
    lay.mkdir()
    src = docgen.layout.find("report")
    (lay / "theme.yaml").write_text((src / "theme.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (lay / "template.xml.j2").write_text('<document><region ref="body.7"/></document>', encoding="utf-8")
    spec = tmp_path / "s.yaml"
    spec.write_text("layout: ./lay\nmeta: {title: x}\n", encoding="utf-8")
    with pytest.raises(docgen.DocgenError, match=r"<region ref='body.7'> names no picture"):
        docgen.render(str(spec))


def test_the_edition_asked_for_is_the_edition_rendered():
    # a parallel spec rendered as stacked (and a stacked one as parallel) used to come out in the spec's mode
    guide = str(__import__("conftest").EXAMPLES / "west-lake-guide.yaml")
    par, st = docgen.render(guide, edition="parallel"), docgen.render(guide, edition="stacked")
    assert par.edition == "parallel" and st.edition == "stacked"
    assert par.pdf != st.pdf
    tree, _, _ = build(docgen.spec.load_file(__import__("pathlib").Path(guide)), "stacked",
                       __import__("pathlib").Path(guide).parent)
    assert tree.mode == "stacked"


@pytest.mark.parametrize("spec", [
    # a trailing keep-with-next block taller than the frame made ReportLab retry forever; a contents entry for it
    # could not fit a page
    "{'layout': 'report', 'languages': ['zh'], 'meta': {'title': 't'}, 'body': [{'heading': {'text': '字' * 3000}}]}",
    # the same through a Pair: its split halves took keep-with-next back from its sides
    "{'layout': 'report', 'bilingual': 'parallel', 'meta': {'title': 't'}, "
    "'body': [{'heading': {'text': {'zh': '字' * 1200, 'en': 'word ' * 600}}}]}",
], ids=["single", "parallel"])
def test_a_heading_taller_than_the_page_renders(tmp_path, spec):
    import subprocess
    import sys
    code = f"import docgen; r = docgen.render({spec}); print(r.pages)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-500:]
    assert int(out.stdout.strip()) >= 4


@given(st.text(max_size=30))
def test_any_cjk_is_the_range_from_u2e80_up(text):
    import re

    from docgen.layout.tree import _any_cjk

    assert _any_cjk(text) == bool(re.search("[\u2e80-\U0010ffff]", text))
