"""Finishing with pypdf: typeset PDF bytes and document metadata in, final PDF bytes out.

Sets the document information (title, author, subject, keywords, dates from the spec, never the clock),
the catalog's /Lang, an XMP packet (with provenance of generated regions when there are any) and
viewer preferences; merges editions when asked.  Output is deterministic for the same input.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, BooleanObject, ByteStringObject, DictionaryObject, NameObject, \
    StreamObject, TextStringObject

FIXED_DATE = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)


def pdf_date(d: _dt.datetime) -> str:
    return d.strftime("D:%Y%m%d%H%M%S+00'00'")


def finish(pdf: bytes, *, title: str, author: str = "", subject: str = "", keywords: str = "",
           lang: str = "zh-CN", date: _dt.datetime | None = None, xmp: bytes | None = None,
           producer: str = "docgen") -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
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


def merge(pdfs: list[bytes]) -> bytes:
    """Concatenate PDFs (e.g. editions) into one, keeping their outlines."""
    writer = PdfWriter()
    for p in pdfs:
        writer.append(PdfReader(io.BytesIO(p)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
