"""Charts from data sources: vector graphics, labels in the document's fonts, deterministic bytes."""
import io

import pypdf
import pytest

import docgen
from docgen.errors import SpecError
from docgen.typeset.charts import nice_ticks
from pdfutil import chars, fonts, nows, pypdf_text


def _spec(tmp_path, body, languages=("zh", "en")):
    (tmp_path / "sales.csv").write_text(
        "region,amount,target\n华东 East,5725432.1,5600000\n华北 North,5637900,5800000\n"
        "华南 South,5392400,5000000\n西部 West,2291700,2500000\n", encoding="utf-8")
    return {"meta": {"title": "图表 Charts", "date": "2026-12-01"}, "languages": list(languages),
            "data": {"sales": {"file": "sales.csv", "columns": {"amount": "number", "target": "number"}}},
            "body": body}


BAR = {"chart": {"type": "bar", "source": "sales", "x": "region", "y": ["amount", "target"],
                 "series": {"amount": {"zh": "销售额", "en": "Revenue"}, "target": {"zh": "目标", "en": "Target"}},
                 "title": {"zh": "各区域销售额", "en": "Revenue by region"},
                 "format": {"type": "currency", "units": True}}}
LINE = {"chart": {"type": "line", "source": "sales", "x": "region", "y": "amount", "height": 50}}
PIE = {"chart": {"type": "pie", "source": "sales", "x": "region", "y": "amount",
                 "caption": {"zh": "图2 区域占比", "en": "Figure 2. Share by region"}}}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nice_ticks():
    assert nice_ticks(0, 5_725_432) == [0, 2e6, 4e6, 6e6]
    assert nice_ticks(-3, 7) == [-4, -2, 0, 2, 4, 6, 8]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 96) == [0, 20, 40, 60, 80, 100]


def test_bar_line_and_pie_charts_draw_their_labels_in_the_theme_fonts(folder):
    res = docgen.render(_spec(folder, [BAR, LINE, PIE]))
    text = nows("".join(pypdf_text(res.pdf)))
    # titles, legend (both languages), category labels, tick labels formatted in Chinese, pie shares
    for s in ("各区域销售额", "Revenuebyregion", "销售额/Revenue", "目标/Target", "华东East", "西部West",
              "¥600万", "¥0", "(30.1%)", "(12.0%)", "图2区域占比"):
        assert s in text, s
    used = fonts(res.pdf)
    assert all(sub == "/TrueType" or sub == "/Type0" for sub, _, _ in used), used
    assert all(emb for _, _, emb in used), used
    assert not any("Helvetica" in name for _, name, _ in used), used
    # the CJK category labels are set in the theme's CJK face
    page_chars = [c for _, _, cs in chars(res.pdf) for c in cs]
    hua = [c for c in page_chars if c["text"] == "华" and c["size"] < 9]
    assert hua and all("NotoSansSC" in c["fontname"] or "NotoSerifSC" in c["fontname"] for c in hua)


def test_charts_are_vector_graphics_and_deterministic(folder):
    spec = _spec(folder, [BAR, PIE])
    a, b = docgen.render(spec).pdf, docgen.render(spec).pdf
    assert a == b
    for page in pypdf.PdfReader(io.BytesIO(a)).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())


def test_chart_labels_follow_the_edition_language(folder):
    res = docgen.render(_spec(folder, [BAR], languages=("en",)))
    text = nows("".join(pypdf_text(res.pdf)))
    assert "CNY6M" in text and "CNY2M" in text and "万" not in text


def test_chart_errors_name_the_block(folder):
    bad = {"chart": {**BAR["chart"], "y": ["amount", "profit"], "series": {}}}
    with pytest.raises(SpecError, match=r"^body\.0\.chart\.y: no column 'profit' in data source 'sales'"):
        docgen.render(_spec(folder, [bad]))
    neg = {"chart": {**PIE["chart"], "y": "amount"}}
    (folder / "neg.csv").write_text("region,amount\na,-1\n", encoding="utf-8")
    spec = _spec(folder, [neg])
    spec["data"]["sales"] = {"file": "neg.csv"}
    with pytest.raises(SpecError, match=r"^body\.0\.chart\.y: a pie chart cannot show negative values"):
        docgen.render(spec)
