"""Pictures into the PDF: a PNG whose pixels a PDF image can hold as they are is embedded as it is.

ReportLab draws a PNG by decoding it to raw pixels (Pillow), hashing the pixels to name the image, and
compressing them again (zlib, level 6) — for a 1024 × 576 picture, 1.7 MB handled three times, ~10 ms.
A PDF image's Flate stream with the PNG predictors (``/DecodeParms << /Predictor 15 … >>``, ISO 32000-1
§7.4.4.4) *is* a PNG's image data: the concatenated IDAT chunks of an 8-bit, non-interlaced greyscale or
RGB PNG go into the PDF unchanged, the image named by the hash of the file.  The pixels are the same (the
page renders identically); the file is usually smaller too, since PNG encoders choose a filter per row
and ReportLab compresses without one.

Anything else — transparency (an alpha channel or a ``tRNS`` colour key), a palette, 16-bit or
sub-byte samples, interlacing, a JPEG, a chunk whose CRC is wrong — goes through ReportLab's own
``drawImage`` as before.  Spec assets are fully decoded once before typesetting (``render._assets``), so a
file reaching here has already been read as an image.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import NamedTuple

from reportlab.pdfbase import pdfdoc

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOURS = {0: (1, "DeviceGray"), 2: (3, "DeviceRGB")}  # PNG colour type -> (samples per pixel, space)


class PngImage(NamedTuple):
    width: int
    height: int
    colours: int
    space: str
    data: bytes  # the zlib stream of the PNG's IDAT chunks, filter bytes included


def embeddable(png: bytes) -> PngImage | None:
    """The PNG's image data when a PDF image can hold it unchanged, else None (draw it the usual way)."""
    if not png.startswith(_SIGNATURE):
        return None
    pos, end = len(_SIGNATURE), len(png)
    header: bytes | None = None
    idat: list[bytes] = []
    while pos + 12 <= end:
        n = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        stop = pos + 8 + n
        if stop + 4 > end or zlib.crc32(png[pos + 4 : stop]) != int.from_bytes(png[stop : stop + 4], "big"):
            return None  # truncated or damaged
        if kind == b"IHDR":
            header = png[pos + 8 : stop]
        elif kind == b"IDAT":
            if header is None:
                return None
            idat.append(png[pos + 8 : stop])
        elif kind == b"IEND":
            break
        elif kind in (b"tRNS", b"PLTE"):  # transparency or a palette: not as it is
            return None
        elif not (kind[0] & 0x20):  # an unknown critical chunk: leave it to Pillow
            return None
        pos = stop + 4
    else:
        return None  # no IEND
    if header is None or len(header) != 13 or not idat:
        return None
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, kind_, compression, filtering, interlace = header[8:13]
    if depth != 8 or kind_ not in _COLOURS or compression or filtering or interlace or not width or not height:
        return None
    colours, space = _COLOURS[kind_]
    return PngImage(width, height, colours, space, b"".join(idat))


class _PngXObject(pdfdoc.PDFImageXObject):
    """ReportLab's image XObject, holding a PNG's image data with the predictor that decodes it."""

    def __init__(self, name: str, img: PngImage):
        super().__init__(name)  # no source: ReportLab's placeholder, replaced here
        self.width, self.height = img.width, img.height
        self.bitsPerComponent = 8
        self.colorSpace = img.space
        self._colours = img.colours
        self._filters = ("FlateDecode",)
        self.streamContent = img.data
        self.mask = None

    def format(self, document):
        s = pdfdoc.PDFStream(content=self.streamContent)
        d = s.dictionary
        d["Type"] = pdfdoc.PDFName("XObject")
        d["Subtype"] = pdfdoc.PDFName("Image")
        d["Width"] = self.width
        d["Height"] = self.height
        d["BitsPerComponent"] = 8
        d["ColorSpace"] = pdfdoc.PDFName(self.colorSpace)
        d["Filter"] = pdfdoc.PDFName("FlateDecode")  # one filter, one parameter dictionary (not arrays:
        # an array of filters takes an array of parameters, and readers ignore a lone dictionary beside one)
        d["DecodeParms"] = pdfdoc.PDFDictionary(
            {"Predictor": 15, "Colors": self._colours, "BitsPerComponent": 8, "Columns": self.width}
        )
        d["Length"] = len(self.streamContent)
        return s.format(document)


def draw_png(canvas, img: PngImage, png: bytes, x: float, y: float, width: float, height: float) -> None:
    """``canvas.drawImage`` for a PNG :func:`embeddable` accepted: registered once per file (a second draw
    of the same bytes refers to the first), scaled into the box, recorded as the page's, as drawImage does."""
    canvas._currentPageHasImages = 1
    name = "png" + hashlib.sha1(png).hexdigest()
    doc = canvas._doc
    reg = doc.getXObjectName(name)
    if doc.idToObject.get(reg) is None:
        obj = _PngXObject(name, img)
        canvas._setXObjects(obj)
        doc.Reference(obj, reg)
        doc.addForm(name, obj)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(width, height)
    canvas._code.append(f"/{reg} Do")
    canvas.restoreState()
    canvas._formsinuse.append(name)
