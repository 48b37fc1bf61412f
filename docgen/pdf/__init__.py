"""Finishing with pypdf: typeset PDF bytes and document metadata in, final PDF bytes out.

Sets the document information (title, author, subject, keywords, dates from the spec, never the clock),
the catalog's /Lang, an XMP packet (with provenance of generated regions when there are any) and
viewer preferences; repairs ToUnicode maps.  Output is deterministic for the same input.

Given the typesetter's structure records it makes the file a tagged PDF (pdf/structure.py: the structure
tree, ``/MarkInfo``, ``/StructParents`` and ``/Tabs /S`` on pages, ``/StructParent`` and ``/Contents`` on
link annotations); with ``pdfua`` it claims PDF/UA-1 in the XMP, with ``pdfa`` PDF/A-2b (a 1.7 header,
an sRGB output intent from pdf/pdfa.py, printable annotations, XMP mirroring the information dictionary).

The typeset file is not rewritten: pypdf reads only the objects that change (the catalog, the document
information, the ToUnicode maps that need repair) and writes them in an incremental update appended to
ReportLab's bytes (PDF 32000-1 7.5.6), with its own cross-reference section and a trailer whose /Prev
points at ReportLab's.  Parsing and re-serialising every object of a 50-page file instead costs ~23 ms;
this costs ~2 ms, and the file grows by under a kilobyte (plus the CMaps repaired, if any).  pypdf's own
``PdfWriter(incremental=True)`` writes such an update too, but it parses and hashes every object first (~19 ms).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import re
import zlib
from typing import Iterator, Mapping, Sequence

from pypdf import PdfReader
from pypdf.generic import ArrayObject, BooleanObject, ByteStringObject, DictionaryObject, IndirectObject, \
    NameObject, NullObject, NumberObject, PdfObject, StreamObject, TextStringObject, create_string_object

from . import structure as _structure

FIXED_DATE = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)


def pdf_date(d: _dt.datetime) -> str:
    return d.strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp_date(d: _dt.datetime) -> str:
    """The same instant as :func:`pdf_date`, as XMP writes dates (PDF/A wants the two to agree)."""
    return d.strftime("%Y-%m-%dT%H:%M:%S+00:00")


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{2,4})> <([0-9A-Fa-f]{5,6})>")
_TOUNICODE = re.compile(rb"/ToUnicode\s+(\d+)\s+(\d+)\s+R")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def _utf16(m: "re.Match") -> bytes:
    cp = int(m.group(2), 16)
    hi, lo = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
    return b"<%s> <%04X%04X>" % (m.group(1), hi, lo)


def fix_tounicode(cmap: StreamObject) -> int:
    """ReportLab writes characters outside the BMP into ToUnicode CMaps as 5-hex-digit values, which
    readers (pypdf among them) drop; a CMap destination is UTF-16BE, so write the surrogate pair.
    Returns the number of entries repaired; a CMap without any is left untouched."""
    new, n = _BFCHAR.subn(_utf16, cmap.get_data())
    if n:
        cmap.set_data(new)
    return n


def _tounicode_maps(pdf: bytes, reader: PdfReader) -> Iterator[tuple[IndirectObject, StreamObject]]:
    """The ToUnicode CMaps of the file's fonts (page fonts, and any in forms or annotations).  ReportLab writes
    no object streams, so every font dictionary is plain text in the file and its ``/ToUnicode n g R`` can be
    found there: reaching the fonts through the page tree parses every page and font dictionary instead, ~4 ms
    on 50 pages against ~0.3 ms.  A match that is not a CMap (the words in some string) is passed over."""
    size = int(reader.trailer["/Size"])
    seen = set()
    for m in _TOUNICODE.finditer(pdf):
        num, gen = int(m.group(1)), int(m.group(2))
        if (num, gen) in seen or not 0 < num < size:
            continue
        seen.add((num, gen))
        ref = IndirectObject(num, gen, reader)
        cmap = ref.get_object()
        if isinstance(cmap, StreamObject) and b"begincmap" in cmap.get_data():
            yield ref, cmap


def _increment(offset: int, objects: dict[int, tuple[int, PdfObject]], trailer: DictionaryObject) -> bytes:
    """An incremental update starting at byte ``offset`` of the file: ``objects`` (number -> generation, object)
    written in number order, a cross-reference section listing them, ``trailer`` and the startxref.

    Serialised structure elements (``RawObject`` s) go into one compressed object stream, found through a
    cross-reference stream that the trailer names in ``/XRefStm`` (a hybrid-reference update, PDF 32000-1
    7.5.8.4): written plainly, the ~2 500 elements of a 50-page report would double the file."""
    out = io.BytesIO()
    where = {}
    packed = sorted(n for n, (gen, obj) in objects.items() if gen == 0 and isinstance(obj, _structure.RawObject))
    if packed:
        size = int(trailer["/Size"])
        stm_num, xref_num = size, size + 1
        trailer[NameObject("/Size")] = NumberObject(size + 2)
        heads, bodies, pos = [], [], 0
        for num in packed:
            data = objects.pop(num)[1].data
            heads.append(b"%d %d" % (num, pos))
            bodies.append(data)
            pos += len(data) + 1
        head = b" ".join(heads) + b"\n"
        stm = StreamObject()
        stm._data = zlib.compress(head + b"\n".join(bodies), 6)
        stm.update({NameObject("/Type"): NameObject("/ObjStm"), NameObject("/N"): NumberObject(len(packed)),
                    NameObject("/First"): NumberObject(len(head)), NameObject("/Filter"): NameObject("/FlateDecode")})
        objects[stm_num] = 0, stm
        # the cross-reference stream: type 2 entries (object stream, index) for each packed object; rows
        # under the PNG Up predictor differ from the one above in the index only, and compress to nothing
        wide = 2 if stm_num < 1 << 16 else 4
        index, rows, k = [], [], 0
        while k < len(packed):
            run = 1
            while k + run < len(packed) and packed[k + run] == packed[k] + run:
                run += 1
            index += [packed[k], run]
            rows += [b"\x02" + stm_num.to_bytes(wide, "big") + (k + j).to_bytes(2, "big") for j in range(run)]
            k += run
        cols = 3 + wide
        prev, up = bytes(cols), []
        for row in rows:
            up.append(b"\x02" + bytes((a - b) & 0xFF for a, b in zip(row, prev)))
            prev = row
        xs = StreamObject()
        xs._data = zlib.compress(b"".join(up), 9)
        xs.update({NameObject("/Type"): NameObject("/XRef"), NameObject("/Size"): NumberObject(size + 2),
                   NameObject("/W"): ArrayObject([NumberObject(1), NumberObject(wide), NumberObject(2)]),
                   NameObject("/DecodeParms"): DictionaryObject({NameObject("/Predictor"): NumberObject(12),
                                                                 NameObject("/Columns"): NumberObject(cols)}),
                   NameObject("/Index"): ArrayObject([NumberObject(i) for i in index]),
                   NameObject("/Filter"): NameObject("/FlateDecode")})
        objects[xref_num] = 0, xs
    for num in sorted(objects):
        gen, obj = objects[num]
        where[num] = offset + out.tell(), gen
        out.write(b"%d %d obj\n" % (num, gen))
        obj.write_to_stream(out)
        out.write(b"\nendobj\n")
    if packed:
        trailer[NameObject("/XRefStm")] = NumberObject(where[xref_num][0])
    xref = offset + out.tell()
    out.write(b"xref\n")
    nums = sorted(where)
    while nums:                                       # one subsection per run of consecutive numbers
        run = 1
        while run < len(nums) and nums[run] == nums[0] + run:
            run += 1
        out.write(b"%d %d\n" % (nums[0], run))
        for num in nums[:run]:
            out.write(b"%010d %05d n \n" % where[num])      # each entry exactly 20 bytes
        nums = nums[run:]
    out.write(b"trailer\n")
    trailer.write_to_stream(out)
    out.write(b"\nstartxref\n%d\n" % xref + b"%%EOF\n")
    return out.getvalue()


def finish(pdf: bytes, *, title: str, author: str = "", subject: str = "", keywords: str = "",
           lang: str = "zh-CN", date: _dt.datetime | None = None, xmp: bytes | None = None,
           producer: str = "docgen", structure: Sequence[dict] | None = None, regions: Sequence[Mapping] = (),
           xmp_meta: Mapping | None = None, pdfa: bool = False, pdfua: bool = False) -> bytes:
    """The finished file.  ``structure``: the typesetter's records (a tagged PDF); ``regions``: provenance
    records of generated pictures (an XMP packet with the AIGC label when one is AI-generated) and
    ``xmp_meta`` the packet's other fields (docgen/pdf/xmp.py); ``xmp``: a ready packet instead;
    ``pdfa``/``pdfua``: PDF/A-2b, PDF/UA-1 (the latter needs ``structure``)."""
    if pdfua and structure is None:
        raise ValueError("a PDF/UA file needs the structure records of a tagged typesetting")
    m = _STARTXREF.search(pdf, max(0, len(pdf) - 1024))
    prev = int(m.group(1)) if m else -1
    if not pdf.startswith(b"xref", prev):
        # an update's cross-reference section has the form of the one it follows: ReportLab writes tables
        raise ValueError("finish expects ReportLab's output: a PDF ending in a cross-reference table")
    reader = PdfReader(io.BytesIO(pdf))
    trailer = reader.trailer
    size = int(trailer["/Size"])
    changed: dict[int, tuple[int, PdfObject]] = {}

    def new_object(obj: PdfObject) -> IndirectObject:
        nonlocal size
        changed[size] = 0, obj
        size += 1
        return IndirectObject(size - 1, 0, reader)

    for ref, cmap in _tounicode_maps(pdf, reader):
        if fix_tounicode(cmap):
            changed[ref.idnum] = ref.generation, cmap

    when = pdf_date(date or FIXED_DATE)
    info = {"/Title": title, "/Author": author, "/Subject": subject, "/Keywords": keywords,
            "/Creator": "docgen", "/Producer": producer, "/CreationDate": when, "/ModDate": when}
    info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
    if isinstance(info_ref, IndirectObject):
        info_dict = info_ref.get_object()
        changed[info_ref.idnum] = info_ref.generation, info_dict
    else:
        info_dict = DictionaryObject(info_ref or {})
        info_ref = new_object(info_dict)
    # entries ReportLab wrote stay unless the spec gives a value, as pypdf's add_metadata does; in a PDF/A or
    # PDF/UA file they are the spec's exactly (ReportLab's "anonymous" author is not the document's)
    info_dict.update({NameObject(k): create_string_object(v) for k, v in info.items() if v})
    if pdfa or pdfua:
        for k, v in info.items():
            if not v:
                info_dict.pop(NameObject(k), None)
    if xmp is None and (pdfa or pdfua or any(r["ai_generated"] for r in regions)):
        from .xmp import xmp_packet
        got = {k: str(v) for k, v in info_dict.items()}
        # the packet mirrors the information dictionary, value for value (PDF/A-2 6.6.3)
        xmp = xmp_packet(list(regions), {
            **dict(xmp_meta or {}), "title": got.get("/Title", ""), "creator": got.get("/Author", ""),
            "description": got.get("/Subject", ""), "keywords": got.get("/Keywords", ""),
            "producer": got.get("/Producer", ""), "creator_tool": got.get("/Creator", ""),
            "create_date": xmp_date(date or FIXED_DATE), "modify_date": xmp_date(date or FIXED_DATE),
            "pdfa": pdfa, "pdfua": pdfua})

    root_ref = trailer.raw_get("/Root")
    root = root_ref.get_object()
    changed[root_ref.idnum] = root_ref.generation, root
    root[NameObject("/Lang")] = TextStringObject(lang)
    prefs = DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(True)})
    root[NameObject("/ViewerPreferences")] = prefs
    if xmp:
        stream = StreamObject()
        stream.set_data(xmp)
        stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
        root[NameObject("/Metadata")] = new_object(stream)
    pages = _Pages(pdf, reader) if structure is not None or pdfa else None
    if structure is not None:
        _tag(reader, pages, root, structure, lang, changed, new_object)
    if pdfa:
        _archival(reader, pages, root, changed, new_object)
        if pdf[:5] == b"%PDF-" and pdf[5:8] < b"1.7":
            pdf = b"%PDF-1.7" + pdf[8:]            # same length: every offset stays

    # the file identifier is derived from the content, so equal input gives equal bytes
    ident = ByteStringObject(hashlib.md5(pdf + (xmp or b"") + title.encode()).digest())
    update = DictionaryObject({NameObject("/Size"): NumberObject(size), NameObject("/Root"): root_ref,
                               NameObject("/Info"): info_ref, NameObject("/Prev"): NumberObject(prev),
                               NameObject("/ID"): ArrayObject([ident, ident])})
    if structure is not None:
        # pages and annotations go into the update's object stream with the structure (~300 bytes a link
        # otherwise); the catalog and the information dictionary stay plain, for readers before PDF 1.5
        plain = {root_ref.idnum, info_ref.idnum}
        for num, (gen, obj) in list(changed.items()):
            if gen == 0 and num not in plain and type(obj) is DictionaryObject:
                changed[num] = gen, _packable(obj)
    head = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    return head + _increment(len(head), changed, update)


def _packable(obj: DictionaryObject) -> PdfObject:
    """A dictionary to be written into the update's object stream (pages: ~200 bytes each otherwise)."""
    out = io.BytesIO()
    obj.write_to_stream(out)
    return _structure.RawObject(out.getvalue())


_ANNOTS = re.compile(rb"/Annots\s*\[([^\]]*)\]")
_REF = re.compile(rb"(\d+)\s+(\d+)\s+R")


class _Pages:
    """The file's pages as ReportLab wrote them: (number, generation, dictionary bytes) in page order, and each
    page's annotations.  Read from the file's text through the cross-reference table (ReportLab writes no
    object streams) rather than through pypdf's page tree, which parses every page: ~30 ms on 50 pages."""

    def __init__(self, pdf: bytes, reader: PdfReader):
        self.pdf, self.reader = pdf, reader
        self.pages: list[tuple[int, int, bytes]] = []
        self._walk(reader.trailer["/Root"]["/Pages"]["/Kids"])

    def _body(self, num: int, gen: int) -> bytes:
        at = self.reader.xref[gen][num]
        start = self.pdf.index(b"obj", at) + 3
        return self.pdf[start:self.pdf.index(b"endobj", start)].strip()

    def _walk(self, kids) -> None:
        for kid in kids:
            body = self._body(kid.idnum, kid.generation)
            if b"/Kids" in body:                      # an intermediate node of the page tree
                self._walk(kid.get_object()["/Kids"])
            else:
                self.pages.append((kid.idnum, kid.generation, body))

    def annots(self, i: int) -> list[tuple[int, int]]:
        num, gen, body = self.pages[i]
        if b"/Annots" not in body:
            return []
        m = _ANNOTS.search(body)
        if m is not None:
            return [(int(a), int(b)) for a, b in _REF.findall(m.group(1))]
        arr = IndirectObject(num, gen, self.reader).get_object()["/Annots"].get_object()   # an indirect array
        return [(a.idnum, a.generation) for a in arr if isinstance(a, IndirectObject)]


def _tag(reader: PdfReader, pages: _Pages, root: DictionaryObject, records, lang: str, changed,
         new_object) -> None:
    """Write the structure tree and mark the catalog, pages and link annotations for it."""
    annots_of: dict[int, list] = {}

    def annots(i: int) -> list:
        got = annots_of.get(i)
        if got is None:
            got = annots_of[i] = pages.annots(i)
        return got

    def new_number() -> int:
        return new_object(NullObject()).idnum

    root_num, objects, parents, annot_keys = _structure.build(
        records, [(num, gen) for num, gen, _ in pages.pages], annots, lang, new_number)
    for num, obj in objects.items():
        changed[num] = 0, obj
    for i, (num, gen, body) in enumerate(pages.pages):
        if not body.endswith(b">>"):
            raise ValueError(f"page object {num} is not a dictionary as ReportLab writes them")
        extra = b"/StructParents %d" % parents[i] if i in parents else b""
        # tab order follows the structure; the page dictionary is ReportLab's text with the two entries added
        changed[num] = gen, _structure.RawObject(body[:-2] + extra + b"/Tabs/S>>")
    for (num, gen), (key, contents, _) in annot_keys.items():
        annot = IndirectObject(num, gen, reader).get_object()
        annot[NameObject("/StructParent")] = NumberObject(key)
        if contents and not str(annot.get("/Contents") or "").strip():
            annot[NameObject("/Contents")] = create_string_object(contents)
        changed[num] = gen, annot
    root[NameObject("/StructTreeRoot")] = IndirectObject(root_num, 0, reader)
    root[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})


def _archival(reader: PdfReader, pages: _Pages, root: DictionaryObject, changed, new_object) -> None:
    """PDF/A-2b's catalog and annotation requirements: an RGB output intent, annotations that print."""
    from .pdfa import SRGB, srgb_profile
    icc = StreamObject()
    icc.set_data(srgb_profile())
    icc[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/Info"): TextStringObject(SRGB), NameObject("/DestOutputProfile"): new_object(icc)})
    root[NameObject("/OutputIntents")] = ArrayObject([new_object(intent)])
    for i in range(len(pages.pages)):              # 6.3.2: annotations shall print (F bit 3), none hidden
        for num, gen in pages.annots(i):
            annot = changed[num][1] if num in changed else IndirectObject(num, gen, reader).get_object()
            annot[NameObject("/F")] = NumberObject(4)
            changed[num] = gen, annot
