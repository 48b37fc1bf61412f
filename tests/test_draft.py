"""The draft backend's pictures: deterministic, and PNG files any decoder reads (draft.py writes them itself)."""

import io
import zlib

from PIL import Image

from docgen.regions.base import RegionRequest
from docgen.regions.draft import DraftBackend, _png

REQUESTS = [
    RegionRequest(prompt="西湖 at dawn", width=1648, height=1408, text=(("zh", "西湖欢迎您"),)),
    RegionRequest(prompt="a lake", width=1376, height=768, seed=7),
    RegionRequest(prompt="tiny", width=3, height=5),  # drawn at the 16-pixel minimum
    RegionRequest(prompt="strip", width=4000, height=17, text=(("en", "Hello"),)),
]


def test_the_same_request_gives_the_same_bytes():
    a, b = DraftBackend().generate(REQUESTS), DraftBackend().generate(REQUESTS)
    assert [i.png for i in a] == [i.png for i in b]
    assert len({i.png for i in a}) == len(REQUESTS)


def test_a_draft_picture_is_a_png_of_its_size_that_verifies():
    for img in DraftBackend().generate(REQUESTS):
        assert img.png.startswith(b"\x89PNG\r\n\x1a\n")
        Image.open(io.BytesIO(img.png)).verify()  # chunk CRCs and structure
        pic = Image.open(io.BytesIO(img.png))
        assert (pic.format, pic.mode, pic.size) == ("PNG", "RGB", (img.width, img.height))
        assert max(img.width, img.height) <= DraftBackend().max_side and min(img.width, img.height) >= 16


def test_png_holds_the_pixels_exactly():
    im = Image.effect_noise((37, 11), 80).convert("RGB")  # odd sizes, every byte value likely
    out = _png(im)
    assert Image.open(io.BytesIO(out)).tobytes() == im.tobytes()
    # one IDAT of rows each led by filter type 0
    idat = out[out.index(b"IDAT") + 4 : out.index(b"IEND") - 8]
    rows = zlib.decompress(idat)
    stride = 3 * 37 + 1
    assert len(rows) == 11 * stride and all(rows[i * stride] == 0 for i in range(11))


def test_the_sky_is_a_vertical_gradient_a_colour_a_row():
    img = DraftBackend().generate([RegionRequest(prompt="a lake", width=512, height=512)])[0]
    pic = Image.open(io.BytesIO(img.png))
    top = [pic.getpixel((x, 2)) for x in range(0, 512, 8)]
    assert len(set(top)) == 1  # above the sun: one colour across the row
