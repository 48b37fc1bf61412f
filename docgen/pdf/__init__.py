"""Finishing with pypdf: typeset PDF bytes and document metadata in, final PDF bytes out.

Sets the document information (title, author, subject, keywords, dates from the spec, never the clock),
the catalog's /Lang, an XMP packet (with provenance of generated regions when there are any) and
viewer preferences; repairs ToUnicode maps.  Output is deterministic for the same input.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import re

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, BooleanObject, ByteStringObject, DictionaryObject, NameObject, \
    StreamObject, TextStringObject

FIXED_DATE = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)


def pdf_date(d: _dt.datetime) -> str:
    return d.strftime("D:%Y%m%d%H%M%S+00'00'")


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{2,4})> <([0-9A-Fa-f]{5,6})>")


def _utf16(m: "re.Match") -> bytes:
    cp = int(m.group(2), 16)
    hi, lo = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
    return b"<%s> <%04X%04X>" % (m.group(1), hi, lo)


def fix_tounicode(writer: PdfWriter) -> int:
    """ReportLab writes characters outside the BMP into ToUnicode CMaps as 5-hex-digit values, which
    readers (pypdf among them) drop; a CMap destination is UTF-16BE, so write the surrogate pair."""
    fixed = 0
    seen = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            tu = font.get("/ToUnicode")
            if tu is None or id(tu.get_object()) in seen:
                continue
            stream = tu.get_object()
            seen.add(id(stream))
            data = stream.get_data()
            new, n = _BFCHAR.subn(_utf16, data)
            if n:
                stream.set_data(new)
                fixed += n
    return fixed


def finish(pdf: bytes, *, title: str, author: str = "", subject: str = "", keywords: str = "",
           lang: str = "zh-CN", date: _dt.datetime | None = None, xmp: bytes | None = None,
           producer: str = "docgen") -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    fix_tounicode(writer)
    when = pdf_date(date or FIXED_DATE)
    info = {"/Title": title, "/Author": author, "/Subject": subject, "/Keywords": keywords,
            "/Creator": "docgen", "/Producer": producer, "/CreationDate": when, "/ModDate": when}
    writer.add_metadata({k: v for k, v in info.items() if v})
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(lang)
    prefs = DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(True)})
    root[NameObject("/ViewerPreferences")] = prefs
    if xmp:
        stream = StreamObject()
        stream.set_data(xmp)
        stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
        root[NameObject("/Metadata")] = writer._add_object(stream)
    # the file identifier is derived from the content, so equal input gives equal bytes
    ident = ByteStringObject(hashlib.md5(pdf + (xmp or b"") + title.encode()).digest())
    writer._ID = ArrayObject([ident, ident])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
