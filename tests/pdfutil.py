"""Reading PDFs back in tests: text (pypdf, pdfplumber), chars with positions, fonts."""
from __future__ import annotations

import io
import re

import pypdf

MM = 72 / 25.4
WS = re.compile(r"\s+")


def nows(s: str) -> str:
    """Whitespace removed: the comparison the text layer must pass (line ends and the CJK–Latin gap
    may add or drop whitespace; characters and their order must not change)."""
    return WS.sub("", s)


def pypdf_text(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def chars(pdf: bytes):
    """pdfplumber chars per page: dicts with text, x0, x1, top, bottom, size, fontname."""
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [(p.width, p.height, [dict(c, _h=p.height) for c in p.chars]) for p in doc.pages]


def baseline(c) -> float:
    """Distance of the char's baseline from the page top (fonts differ in descent; baselines don't)."""
    return c["_h"] - c["matrix"][5]


def lines_of(page_chars, ytol=1.0):
    """Group chars into visual lines by baseline (top->bottom), each sorted by x."""
    cs = sorted((c for c in page_chars if c["text"].strip()), key=lambda c: (round(baseline(c), 1), c["x0"]))
    out = []
    for c in cs:
        if out and abs(baseline(out[-1][0]) - baseline(c)) <= ytol:
            out[-1].append(c)
        else:
            out.append([c])
    return [sorted(ln, key=lambda c: c["x0"]) for ln in out]


def fonts(pdf: bytes) -> set[tuple[str, str, bool]]:
    """(subtype, base font, embedded) for every font on every page."""
    out = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for f in page["/Resources"].get("/Font", {}).values():
            f = f.get_object()
            desc = f.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in f:
                desc = f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            emb = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            out.add((str(f["/Subtype"]), str(f["/BaseFont"]), emb))
    return out
