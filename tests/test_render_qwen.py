"""A whole document rendered with the qwen-image backend: the tiny random-weight pipeline loaded from a
folder by the production loader, the cache, OCR verification and its fallback, and XMP provenance."""
import io
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pypdf
import pytest
from pdfutil import nows, pypdf_text
from qwen_tiny import tiny_config, tiny_model_dir

import docgen
from docgen.regions.qwen import QwenImageBackend

SPEC = {
    "layout": "report", "languages": ["zh", "en"], "bilingual": "stacked",
    "meta": {"title": {"zh": "生成区域", "en": "Generated regions"}, "date": "2026-11-28", "author": "docgen 测试"},
    "cover": {"generate": {"prompt": "水墨风格的西湖断桥", "aspect": "16:9", "seed": 7}},
    "body": [
        {"paragraph": {"zh": "下面是一幅带文字的海报。", "en": "Below is a poster with text."}},
        {"generate": {"prompt": "红色的欢迎海报", "text": {"zh": "西湖欢迎您"}, "aspect": "4:3", "seed": 3}},
    ],
}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return tiny_config(tiny_model_dir(), tmp_path_factory.mktemp("regions"), ocr_budget=1)


def test_document_through_the_production_loader(config):
    backend = QwenImageBackend(config)
    res = docgen.render(SPEC, backend=backend, model_config=config)
    ids = {r["id"]: r for r in res.regions}
    assert set(ids) == {"cover", "body.1"}
    assert all(r["backend"] == "qwen-image" for r in res.regions)
    # random weights cannot letter "西湖欢迎您": OCR rejects it, and the text is set as vector type instead
    assert ids["body.1"]["path"] == "vector-overlay"
    assert ids["cover"]["path"] == "no-text"
    assert "西湖欢迎您" in nows("".join(pypdf_text(res.pdf)))
    # provenance and the implicit AIGC label travel in the XMP packet
    xmp = pypdf.PdfReader(io.BytesIO(res.pdf)).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "AIGC" in xmp and "qwen-image" in xmp.lower()

    # a second render of the unchanged document makes no model call and gives the same bytes
    again = QwenImageBackend(config)
    res2 = docgen.render(SPEC, backend=again, model_config=config)
    assert again.calls == 0
    assert res2.pdf == res.pdf


def test_draft_documents_carry_no_aigc_label():
    res = docgen.render(SPEC, backend="draft")
    root = pypdf.PdfReader(io.BytesIO(res.pdf)).trailer["/Root"]
    assert "/Metadata" not in root
    assert all(r["backend"] == "draft" for r in res.regions)


def test_visible_ai_label_sits_inside_the_picture(config):
    import io as _io

    import pdfplumber
    spec = dict(SPEC, theme={"region_label": True})
    res = docgen.render(spec, backend=QwenImageBackend(config), model_config=config)
    with pdfplumber.open(_io.BytesIO(res.pdf)) as pdf:
        for page in pdf.pages:
            if not page.images:
                continue
            img = max(page.images, key=lambda im: im["width"])
            # the label is set in white on its plate, along the picture's bottom edge
            label = [c for c in page.chars if tuple(c.get("non_stroking_color") or ()) == (1, 1, 1)
                     and img["bottom"] - 20 < c["bottom"] <= img["bottom"]]
            if "".join(c["text"] for c in label).replace(" ", "") != "AI生成·AI-generated":
                continue
            assert all(img["x0"] < c["x0"] for c in label)
            # right-aligned on its plate: 3 pt of plate padding, the plate 3 pt in from the picture's edge
            assert img["x1"] - 7 < max(c["x1"] for c in label) < img["x1"] - 5
            return
    raise AssertionError("no AI-generated label found next to a picture")


def test_a_second_edition_makes_no_model_call(tmp_path):
    """One generation per prompt, seed and model size: the zh edition's pictures serve the en edition
    (the cache keeps the raw picture and crops it to each edition's frames)."""
    config = tiny_config(tiny_model_dir(), tmp_path / "regions", ocr_budget=1)
    spec = dict(SPEC, body=[SPEC["body"][0], {"generate": {"prompt": "红色的欢迎海报", "text": "西湖欢迎您",
                                                           "aspect": "4:3", "seed": 3}}])
    first = QwenImageBackend(config)
    zh = docgen.render(spec, edition="zh", backend=first, model_config=config)
    assert first.calls > 0
    again = QwenImageBackend(config)
    en = docgen.render(spec, edition="en", backend=again, model_config=config)
    assert again.calls == 0                                   # no model call for the second edition
    assert [r["generated_size"] for r in zh.regions] == [r["generated_size"] for r in en.regions]
    assert {r["id"] for r in en.regions} == {"cover", "body.1"}
