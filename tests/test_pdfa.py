"""PDF/A-2b (--pdfa): the header, XMP that mirrors the information dictionary, the sRGB output intent, the
AIGC label kept, and the checkers (docgen's, qpdf's, the pdfua package's) agreeing that the files pass."""
import datetime as dt
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import docgen
from conftest import EXAMPLES
from docgen.check import check_pdf
from docgen.pdf import finish
from docgen.pdf.pdfa import srgb_profile

pikepdf = pytest.importorskip("pikepdf")

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
SPEC = {"layout": "report", "languages": ["zh", "en"], "bilingual": "parallel",
        "meta": {"title": {"zh": "档案", "en": "Archive"}, "author": "档案馆", "subject": {"zh": "说明", "en": "Notes"},
                 "date": "2026-05-04"},
        "body": [{"heading": {"text": {"zh": "一", "en": "One"}, "level": 1}},
                 {"paragraph": {"zh": "见[网站](https://example.org)。", "en": "See [the site](https://example.org)."}}]}


def _xmp(p) -> dict:
    root = ET.fromstring(p.Root.Metadata.read_bytes())
    out = {}
    for d in root.iter(f"{RDF}Description"):
        for el in d:
            li = el.find(f".//{RDF}li")
            ns, name = el.tag[1:].split("}")
            out[name if "/pdfua/" not in ns else "ua" + name] = (li.text if li is not None else el.text)
    return out


@pytest.fixture(scope="module")
def archival():
    return docgen.render(SPEC, pdfa=True, pdfua=True).pdf


def test_header_is_1_7_and_the_xmp_mirrors_the_information_dictionary(archival):
    assert archival.startswith(b"%PDF-1.7\n")
    p = pikepdf.open(io.BytesIO(archival))
    x = _xmp(p)
    info = p.trailer.Info
    assert x["part"] == "2" and x["conformance"] == "B" and x["uapart"] == "1"
    assert x["title"] == str(info.Title) and x["creator"] == str(info.Author) == "档案馆"
    assert x["description"] == str(info.Subject)
    assert x["CreatorTool"] == str(info.Creator) and x["Producer"] == str(info.Producer)
    assert x["CreateDate"] == x["ModifyDate"] == "2026-05-04T00:00:00+00:00"
    assert str(info.CreationDate).startswith("D:20260504000000")
    assert "pdfuaid" in p.Root.Metadata.read_bytes().decode()
    assert check_pdf(archival, "pdfa").ok and check_pdf(archival, "pdfua").ok


def test_output_intent_is_srgb_with_a_deterministic_profile(archival):
    p = pikepdf.open(io.BytesIO(archival))
    (intent,) = p.Root.OutputIntents
    assert str(intent.S) == "/GTS_PDFA1" and str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
    prof = intent.DestOutputProfile.read_bytes()
    assert prof == srgb_profile() and prof[12:20] == b"mntrRGB " and prof[36:40] == b"acsp"
    assert int(intent.DestOutputProfile.N) == 3
    from PIL import ImageCms
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(prof)))
    assert docgen.render(SPEC, pdfa=True, pdfua=True).pdf == archival          # same spec, same bytes


def test_annotations_print_and_links_describe_themselves(archival):
    p = pikepdf.open(io.BytesIO(archival))
    annots = [a for pg in p.pages for a in (pg.obj.get("/Annots") or [])]
    assert annots and all(int(a.F) & 4 for a in annots)
    assert all(str(a.get("/Contents", "")).strip() for a in annots)


def test_the_aigc_label_is_kept_and_described_by_an_extension_schema():
    import pypdf
    buf = io.BytesIO()
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, "x")
    c.showPage()
    c.save()
    region = {"region_id": "cover", "backend": "qwen-image", "ai_generated": True, "model": "m", "revision": "r",
              "seed": 1, "prompt_hash": "h", "path": "generated", "attempts": 1, "image_sha256": "ab",
              "overlay_text": {}}
    out = finish(buf.getvalue(), title="t", regions=[region], pdfa=True,
                 date=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    xmp = pypdf.PdfReader(io.BytesIO(out)).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<TC260:AIGC>" in xmp and "pdfaExtension:schemas" in xmp
    assert "<pdfaSchema:prefix>TC260</pdfaSchema:prefix>" in xmp and "<pdfaid:part>2</pdfaid:part>" in xmp
    assert "pdfuaid:part>1<" not in xmp                     # not tagged: no PDF/UA claim
    kinds = check_pdf(out, "pdfa").kinds()
    assert set(kinds) <= {"font"}, kinds                 # the test's Helvetica is not embedded: that is all


def test_the_checker_finds_what_an_ordinary_file_lacks():
    pdf = docgen.render(SPEC, tagged=False).pdf
    kinds = check_pdf(pdf, "pdfa").kinds()
    assert {"xmp", "output-intent", "annotation"} <= set(kinds)


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_finds_no_errors_in_the_examples(tmp_path):
    for spec in sorted(EXAMPLES.glob("*.yaml")):
        path = tmp_path / f"{spec.stem}.pdf"
        path.write_bytes(docgen.render(spec, pdfa=True, pdfua=True).pdf)
        r = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and "No syntax or stream encoding errors" in r.stdout, (spec.name, r.stdout)


def test_the_pdfua_package_finds_no_errors_in_the_examples(tmp_path):
    pdfua = pytest.importorskip("pdfua")
    for spec in sorted(EXAMPLES.glob("*.yaml")):
        path = tmp_path / f"{spec.stem}.pdf"
        path.write_bytes(docgen.render(spec, pdfa=True, pdfua=True).pdf)
        report = pdfua.validate(str(path))
        errors = [f for f in report.findings if f.severity.name == "ERROR"]
        assert not errors, (spec.name, [(f.rule_id, f.message) for f in errors])
        assert not any(o.skipped_reason for o in report.outcomes), spec.name


def test_the_spec_can_ask_for_pdfa_and_pdfua_itself():
    spec = {"languages": ["en"], "meta": {"title": "Archive"}, "pdf": {"pdfa": True, "pdfua": True},
            "body": [{"paragraph": "Kept for the record."}]}
    pdf = docgen.render(spec).pdf
    assert pdf.startswith(b"%PDF-1.7")
    assert check_pdf(pdf, "pdfa").ok and check_pdf(pdf, "pdfua").ok
    plain = docgen.render({**spec, "pdf": {}}).pdf
    assert not check_pdf(plain, "pdfa").ok                      # an ordinary file is not PDF/A
    with pytest.raises(docgen.SpecError, match=r"pdf\.pdfa: "):
        docgen.render({**spec, "pdf": {"pdfa": "sometimes"}})
