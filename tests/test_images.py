"""Pictures in the PDF: a PNG a PDF image can hold as it is goes in unchanged (its IDAT data behind the
PNG predictor); every other picture goes through ReportLab; either way the PDF's pixels are the file's."""

import io
import struct
import zlib

import pypdf
import pytest
from PIL import Image, ImageChops, ImageDraw

import docgen
from docgen.typeset.images import embeddable


def _picture(mode: str, size=(96, 64)) -> Image.Image:
    im = Image.new("RGB", size, (30, 90, 160))
    d = ImageDraw.Draw(im)
    d.ellipse([10, 8, 60, 50], fill=(250, 200, 40))
    d.rectangle([50, 30, 90, 60], fill=(20, 160, 70))
    for x in range(0, size[0], 7):
        d.line([x, 0, size[0] - x, size[1]], fill=(x * 2 % 256, 40, 200 - x % 200))
    if mode == "RGBA":
        im = im.convert("RGBA")
        im.putalpha(Image.linear_gradient("L").resize(size))
        return im
    return im.convert(mode)


def _png(im: Image.Image, **save) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG", **save)
    return b.getvalue()


def _idat(png: bytes) -> bytes:
    pos, out = 8, b""
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            out += png[pos + 8 : pos + 8 + n]
        pos += 12 + n
    return out


def _render(tmp_path, pngs: dict[str, bytes], *, twice: bool = False) -> bytes:
    body = []
    for name, data in pngs.items():
        (tmp_path / name).write_bytes(data)
        body.append({"image": {"path": name, "width": 0.5}})
        if twice:
            body.append({"image": {"path": name, "width": 0.3}})
    spec = {"languages": ["en"], "meta": {"title": "Pictures"}, "body": body}
    return docgen.render(spec, base_dir=tmp_path).pdf


def _first_image(pdf: bytes) -> Image.Image:
    """The first picture of the PDF, decoded by pypdf (its filters and predictor applied)."""
    return next(im for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for im in page.images).image


def _xobjects(pdf: bytes) -> list:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    seen, out = set(), []
    for page in reader.pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            if ref.idnum not in seen and ref.get_object()["/Subtype"] == "/Image":
                seen.add(ref.idnum)
                out.append(ref.get_object())
    return out


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_an_rgb_or_grey_png_is_embedded_as_it_is_with_its_pixels(tmp_path, mode):
    im = _picture(mode)
    png = _png(im, optimize=True)  # Pillow's filters chosen per row: the predictor undoes each
    pdf = _render(tmp_path, {"a.png": png})
    (xo,) = _xobjects(pdf)
    assert xo["/Filter"] == "/FlateDecode"
    assert dict(xo["/DecodeParms"]) == {
        "/Predictor": 15,
        "/Colors": 1 if mode == "L" else 3,
        "/BitsPerComponent": 8,
        "/Columns": im.width,
    }
    assert xo._data == _idat(png)  # the file's image data, byte for byte
    out = _first_image(pdf)
    assert out.size == im.size and ImageChops.difference(out.convert(mode), im).getbbox() is None


@pytest.mark.parametrize("case", ["RGBA", "P", "tRNS", "16-bit", "interlaced", "JPEG"])
def test_other_pictures_go_through_reportlab_with_their_pixels(tmp_path, case):
    im = _picture("RGB")
    if case == "RGBA":
        data = _png(_picture("RGBA"))
    elif case == "P":
        data = _png(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16))
    elif case == "tRNS":
        data = _png(im, transparency=(30, 90, 160))
    elif case == "16-bit":
        data = _png(im.convert("I;16"))
    elif case == "interlaced":
        data = _interlaced(im)
    else:
        b = io.BytesIO()
        im.save(b, "JPEG", quality=95)
        data = b.getvalue()
    assert embeddable(data) is None
    pdf = _render(tmp_path, {"a.png" if case != "JPEG" else "a.jpg": data})
    xo = _xobjects(pdf)[0]
    assert "/DecodeParms" not in xo
    src = Image.open(io.BytesIO(data))
    out = _first_image(pdf)
    assert out.size == src.size
    if case in ("RGBA", "P", "tRNS", "interlaced"):  # lossless: the colour channels exactly
        assert ImageChops.difference(out.convert("RGB"), src.convert("RGB")).getbbox() is None


_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _interlaced(im: Image.Image) -> bytes:
    """An Adam7-interlaced RGB PNG (Pillow reads them but does not write them): seven passes of sub-images."""
    im = im.convert("RGB")
    w, h = im.size
    px = im.tobytes()
    raw = bytearray()
    for x0, y0, dx, dy in _ADAM7:
        xs = range(x0, w, dx)
        if not xs:
            continue
        for y in range(y0, h, dy):
            raw.append(0)
            for x in xs:
                raw += px[(y * w + x) * 3 : (y * w + x) * 3 + 3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def test_an_interlaced_png_is_refused_by_the_embedder():
    assert embeddable(_interlaced(_picture("RGB"))) is None
    assert embeddable(_png(_picture("RGB"))) is not None


def test_a_damaged_or_truncated_png_is_not_embedded_as_it_is():
    png = bytearray(_png(_picture("RGB")))
    assert embeddable(bytes(png)) is not None
    assert embeddable(bytes(png[:-20])) is None  # cut short: no IEND
    bad = bytearray(png)
    bad[60] ^= 0xFF  # a byte of the image data: its CRC fails
    assert embeddable(bytes(bad)) is None
    assert embeddable(b"not a png at all") is None


def test_the_same_png_drawn_twice_is_stored_once(tmp_path):
    pngs = {"a.png": _png(_picture("RGB")), "b.png": _png(_picture("RGB", (64, 96)))}
    pdf = _render(tmp_path, pngs, twice=True)
    assert sorted(xo._data for xo in _xobjects(pdf)) == sorted(_idat(p) for p in pngs.values())


def test_draft_pictures_reach_the_pdf_without_being_compressed_again(tmp_path):
    spec = {
        "languages": ["en"],
        "meta": {"title": "Draft"},
        "body": [{"generate": {"prompt": "a lake at dawn", "aspect": "16:9"}}],
    }
    res = docgen.render(spec, base_dir=tmp_path, backend="draft")
    (xo,) = _xobjects(res.pdf)
    assert "/DecodeParms" in xo and xo["/Width"] == 1024
