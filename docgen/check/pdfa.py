"""PDF/A-2b (ISO 19005-2), the part checkable without veraPDF: a finished PDF in, violations in a Report out.

Read with pikepdf:

* ``header`` — the file header is ``%PDF-1.x`` with x ≤ 7 (6.1.2);
* ``encrypt`` — no ``/Encrypt`` in the trailer (6.1.3); ``id`` — the trailer has an ``/ID`` (6.1.3);
* ``xmp`` — a ``/Metadata`` XMP packet on the catalog that parses and identifies PDF/A-2 (``pdfaid:part`` 2,
  ``pdfaid:conformance`` B, A or U) (6.6.2, 6.6.4);
* ``xmp-info`` — every entry of the document information dictionary agrees with its XMP twin (Title ↔
  dc:title, Author ↔ dc:creator, Subject ↔ dc:description, Keywords ↔ pdf:Keywords, Creator ↔
  xmp:CreatorTool, Producer ↔ pdf:Producer, CreationDate ↔ xmp:CreateDate, ModDate ↔ xmp:ModifyDate) (6.6.3);
* ``output-intent`` — a ``GTS_PDFA1`` output intent with an embedded 3-channel (RGB) ICC profile (6.2.3);
* ``font`` — every font is embedded (a FontFile, FontFile2 or FontFile3; Type 3 fonts are their own
  glyphs) and has a ToUnicode CMap that maps every code the font's widths cover (6.2.11);
* ``external`` — no Launch, JavaScript, ImportData or ResetForm actions, no reference XObjects, no
  PostScript XObjects, no embedded files (6.5.1, 6.2.9, 6.8);
* ``annotation`` — every annotation has the Print flag and is not hidden (6.3.2).

Not checked (veraPDF territory): the ICC profile's inner validity, glyph widths against the embedded
font programs, CIDSet/CharSet completeness, blend modes and transparency groups, the XMP extension
schemas' full shape (only their presence for custom namespaces is assumed), the file-structure rules
that qpdf --check covers (run it), and metadata of embedded images.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .pdfua import pikepdf_module, open_pdf

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}
_BAD_ACTIONS = ("/Launch", "/JavaScript", "/ImportData", "/ResetForm", "/Sound", "/Movie")


def _xmp_values(xml: bytes) -> dict[str, str]:
    """The XMP properties PDF/A compares, as text (the first item of a dc: container)."""
    root = ET.fromstring(xml)
    out = {}
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        for k, v in desc.attrib.items():  # properties written as attributes
            out[k] = v
        for el in desc:
            items = el.findall(f".//{{{_NS['rdf']}}}li")
            out[el.tag] = (items[0].text if items else el.text) or ""
    return out


def _pdf_date(s: str) -> str | None:
    """D:YYYYMMDDHHmmSS... -> 'YYYY-MM-DDTHH:MM:SS' (the offset compared separately is not needed here)."""
    m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?", s)
    if not m:
        return None
    y, mo, d, h, mi, se = (g or dflt for g, dflt in zip(m.groups(), ("", "01", "01", "00", "00", "00")))
    return f"{y}-{mo}-{d}T{h}:{mi}:{se}"


def _cmap_codes(data: bytes) -> set[int]:
    codes: set[int] = set()
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        codes.update(int(m, 16) for m in re.findall(rb"<([0-9A-Fa-f]+)>\s*<[0-9A-Fa-f]*>", block))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            codes.update(range(int(lo, 16), int(hi, 16) + 1))
    return codes


def check(pdf, report) -> None:
    """Add the PDF/A-2b violations of ``pdf`` (bytes or a path) to ``report``."""
    pikepdf = pikepdf_module()
    if isinstance(pdf, (bytes, bytearray)):
        head = bytes(pdf[:8])
    else:
        with open(pdf, "rb") as f:
            head = f.read(8)
    if not re.match(rb"%PDF-1\.[0-7]", head):
        report.add("header", 0, None, f"the header {head!r} is not %PDF-1.0 … %PDF-1.7")
    with open_pdf(pdf) as doc:
        report.pages = len(doc.pages)
        if doc.is_encrypted or "/Encrypt" in doc.trailer:
            report.add("encrypt", 0, None, "the file is encrypted")
        if "/ID" not in doc.trailer:
            report.add("id", 0, None, "the trailer has no /ID")
        root = doc.Root
        meta = root.get("/Metadata")
        xmp = {}
        if meta is None:
            report.add("xmp", 0, None, "no XMP metadata on the catalog")
        else:
            try:
                xmp = _xmp_values(meta.read_bytes())
            except ET.ParseError as e:
                report.add("xmp", 0, None, f"the XMP packet does not parse: {e}")
        if xmp or meta is not None:
            part = xmp.get(f"{{{_NS['pdfaid']}}}part")
            conf = xmp.get(f"{{{_NS['pdfaid']}}}conformance")
            if part != "2" or conf not in ("A", "B", "U"):
                report.add(
                    "xmp",
                    0,
                    None,
                    f"the XMP claims pdfaid:part {part!r}, conformance {conf!r}: PDF/A-2 needs part 2 and B (or A, U)",
                )
            info = doc.trailer.get("/Info") or {}
            twins = (
                ("/Title", "dc", "title"),
                ("/Author", "dc", "creator"),
                ("/Subject", "dc", "description"),
                ("/Keywords", "pdf", "Keywords"),
                ("/Creator", "xmp", "CreatorTool"),
                ("/Producer", "pdf", "Producer"),
                ("/CreationDate", "xmp", "CreateDate"),
                ("/ModDate", "xmp", "ModifyDate"),
            )
            for key, ns, name in twins:
                if key not in info:
                    continue
                value: str | None = str(info[key])
                if not value:
                    continue
                got: str | None = xmp.get(f"{{{_NS[ns]}}}{name}")
                if key.endswith("Date"):
                    value, got = _pdf_date(value), (got or "")[:19] or None
                if got != value:
                    report.add("xmp-info", 0, None, f"Info {key} {value!r} but XMP {ns}:{name} {got!r}")
        intents = [i for i in (root.get("/OutputIntents") or []) if str(i.get("/S", "")) == "/GTS_PDFA1"]
        if not intents:
            report.add("output-intent", 0, None, "no GTS_PDFA1 output intent")
        else:
            prof = intents[0].get("/DestOutputProfile")
            if prof is None or int(prof.get("/N", 0)) != 3 or prof.read_bytes()[36:40] != b"acsp":
                report.add("output-intent", 0, None, "the output intent's profile is not an RGB ICC profile")
        if "/Names" in root and "/EmbeddedFiles" in root.Names:
            report.add("external", 0, None, "embedded files")
        for act in _actions(pikepdf, doc):
            report.add("external", 0, None, f"a {act} action")
        fonts_seen = set()
        for i, page in enumerate(doc.pages):
            res = page.obj.get("/Resources") or {}
            for name, font in (res.get("/Font") or {}).items():
                if font.objgen in fonts_seen:
                    continue
                fonts_seen.add(font.objgen)
                _check_font(pikepdf, font, name, i + 1, report)
            for name, xo in (res.get("/XObject") or {}).items():
                if "/Ref" in xo or str(xo.get("/Subtype", "")) == "/PS":
                    report.add("external", i + 1, None, f"XObject {name} is a reference or PostScript XObject")
            for a in page.obj.get("/Annots") or []:
                flags = int(a.get("/F", 0))
                if not flags & 4 or flags & 2:
                    report.add(
                        "annotation",
                        i + 1,
                        None,
                        f"a {a.get('/Subtype')} annotation that does not print (or is hidden)",
                    )


def _actions(pikepdf, doc):
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Dictionary) and str(obj.get("/S", "")) in _BAD_ACTIONS:
            yield str(obj.S)[1:]


def _check_font(pikepdf, font, name, page, report) -> None:
    sub = str(font.get("/Subtype", ""))
    if sub == "/Type3":
        return
    desc = font.get("/FontDescriptor")
    if sub == "/Type0":
        kids = font.get("/DescendantFonts") or []
        desc = kids[0].get("/FontDescriptor") if len(kids) else None
    if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
        report.add("font", page, None, f"font {name} ({font.get('/BaseFont')}) is not embedded")
    tu = font.get("/ToUnicode")
    if tu is None:
        report.add("font", page, None, f"font {name} ({font.get('/BaseFont')}) has no ToUnicode map")
        return
    if sub in ("/TrueType", "/Type1") and "/FirstChar" in font and "/Widths" in font:
        codes = _cmap_codes(tu.read_bytes())
        first = int(font.FirstChar)
        missing = [first + k for k, w in enumerate(font.Widths) if float(w) and first + k not in codes]
        if missing:
            report.add(
                "font",
                page,
                None,
                f"font {name}'s ToUnicode map lacks {len(missing)} of its codes (first: {missing[0]})",
            )
