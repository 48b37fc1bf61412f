"""Finishing (docgen.pdf.finish): an incremental update of ReportLab's file with metadata, /Lang, viewer
preferences, XMP, a content-derived /ID and repaired ToUnicode maps."""
import datetime as dt
import io
import re
import subprocess
import sys

import pdfplumber
import pypdf
import pypdfium2
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from conftest import ROOT
from docgen.pdf import finish
from test_text_layer import RARE, _font_with


def _font(path, chars):
    """test_text_layer's test font under a face name of its own: ReportLab hands the font registered first
    under a face name to every later registration with that name, in this test or in any other."""
    from fontTools.ttLib import TTFont as FTFont
    tt = FTFont(_font_with(path, chars))
    tt["name"].setName(f"FinishTest-{path.stem}", 6, 3, 1, 0x409)
    tt.save(path)
    return path


def _typeset(text="Hello finishing", font=None):
    """Two pages from the ReportLab canvas, as the typesetter gives them to finish."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    name = "Helvetica"
    if font is not None:
        name = f"finish-{font.stem}"
        pdfmetrics.registerFont(TTFont(name, str(font)))
    for page in range(2):
        c.setFont(name, 12)
        c.drawString(72, 720, f"{text} {page + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


META = dict(title="标题 Title", author="作者", subject="主题", keywords="k1, k2", lang="en-GB",
            date=dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc))


def test_finish_appends_an_update_with_metadata_language_and_preferences(tmp_path):
    raw = _typeset(font=_font(tmp_path / "bmp.ttf", "Helo fnishg12"))
    out = finish(raw, **META)
    assert out.startswith(raw)                       # ReportLab's bytes untouched, the update follows
    assert b"/ToUnicode" in raw and b"stream" not in out[len(raw):]   # a BMP-only font map is left alone
    r = pypdf.PdfReader(io.BytesIO(out))
    assert r.trailer["/Prev"] == int(re.findall(rb"startxref\s+(\d+)", raw)[-1])
    m = r.metadata
    assert (m.title, m.author, m.subject, m["/Keywords"]) == ("标题 Title", "作者", "主题", "k1, k2")
    assert m["/Creator"] == "docgen" and m["/Producer"] == "docgen"
    assert m["/CreationDate"] == m["/ModDate"] == "D:20260304000000+00'00'"
    root = r.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert "/Metadata" not in root
    assert [p.extract_text().strip() for p in r.pages] == ["Hello finishing 1", "Hello finishing 2"]
    # the other readers follow the update too
    with pdfplumber.open(io.BytesIO(out)) as pdf:
        assert pdf.metadata["Title"] == "标题 Title"
        assert pdf.pages[1].extract_text() == "Hello finishing 2"
    doc = pypdfium2.PdfDocument(out)
    assert doc.get_metadata_dict()["Title"] == "标题 Title"
    assert len(doc) == 2


def test_finish_without_a_date_uses_the_fixed_one_and_adds_xmp():
    raw = _typeset()
    xmp = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
    r = pypdf.PdfReader(io.BytesIO(finish(raw, title="t", xmp=xmp)))
    assert r.metadata["/CreationDate"] == "D:20000101000000+00'00'"
    meta = r.trailer["/Root"]["/Metadata"].get_object()
    assert meta["/Type"] == "/Metadata" and meta["/Subtype"] == "/XML"
    assert meta.get_data() == xmp


def test_finish_is_deterministic_across_processes():
    raw = _typeset()
    code = "import sys, datetime; from docgen.pdf import finish; " \
           "sys.stdout.buffer.write(finish(sys.stdin.buffer.read(), **%r))" % META
    other = subprocess.run([sys.executable, "-c", code], input=raw, capture_output=True, check=True, cwd=ROOT).stdout
    out = finish(raw, **META)
    assert out == other
    ident = pypdf.PdfReader(io.BytesIO(out)).trailer["/ID"]
    assert ident[0] == ident[1] != pypdf.PdfReader(io.BytesIO(raw)).trailer["/ID"][0]
    # the identifier follows the content
    assert pypdf.PdfReader(io.BytesIO(finish(_typeset("Other text"), **META))).trailer["/ID"][0] != ident[0]


def _tounicode(pdf):
    font = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    fonts = [f.get_object() for f in font.values()]
    return b"".join(f["/ToUnicode"].get_object().get_data() for f in fonts if "/ToUnicode" in f)


def test_finish_repairs_non_bmp_tounicode_entries(tmp_path):
    font = _font(tmp_path / "rare.ttf", RARE + "\U0001F600AB12 ")
    raw = _typeset(f"A{RARE}B\U0001F600", font)
    # ReportLab's map has the 5-hex-digit entries that readers drop
    assert b"<20BB7>" in _tounicode(raw)
    out = finish(raw, title="t")
    assert out[len(raw):].count(b"endstream") == 1   # the one font map, written again repaired
    assert b"<D842DFB7>" in _tounicode(out) and b"<20BB7>" not in _tounicode(out)
    for page, n in ((0, 1), (1, 2)):
        assert pypdf.PdfReader(io.BytesIO(out)).pages[page].extract_text().split() == \
            [f"A{RARE}B\U0001F600", str(n)]
    with pdfplumber.open(io.BytesIO(out)) as pdf:
        assert f"A{RARE}B\U0001F600" in pdf.pages[0].extract_text().replace(" ", "")


def test_finish_refuses_a_file_ending_in_a_cross_reference_stream():
    # an update's cross-reference section must have the form of the one before it; pypdf's own
    # incremental writer ends the file with a cross-reference stream
    w = pypdf.PdfWriter(io.BytesIO(_typeset()), incremental=True)
    w.add_metadata({"/Title": "x"})
    buf = io.BytesIO()
    w.write(buf)
    with pytest.raises(ValueError, match="cross-reference table"):
        finish(buf.getvalue(), title="t")
