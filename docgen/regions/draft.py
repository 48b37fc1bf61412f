"""The draft region backend: a request in, a deterministic placeholder PNG out — no GPU, no weights.

The art (a calm gradient with soft hills, colours from the prompt's hash) says "a picture goes here";
a text-bearing request gets its text set crisply in the bundled CJK font, so layouts and the OCR check
can be exercised; a small "DRAFT · 草图" mark says it is not the real picture.
"""
from __future__ import annotations

import colorsys
import hashlib
import math
import struct
import zlib
from pathlib import Path
from typing import Sequence

from .base import Capabilities, RegionImage, RegionRequest

_FONTS = Path(__file__).resolve().parent.parent / "fonts"
_MAX_SIDE = 1024          # draft art is a placeholder; keep it light


def _palette(seed_bytes: bytes):
    h = seed_bytes[0] / 255
    def col(dh, s, v):
        r, g, b = colorsys.hsv_to_rgb((h + dh) % 1.0, s, v)
        return int(r * 255), int(g * 255), int(b * 255)
    return col(0, 0.25, 0.96), col(0.05, 0.45, 0.78), col(0.10, 0.55, 0.55), col(0.5, 0.6, 0.35)


def _font(size: int, bold: bool = True):
    from PIL import ImageFont
    for name in (("NotoSansSC-Bold.ttf",) if bold else ()) + ("NotoSansSC-Regular.ttf", "NotoSans-Bold.ttf"):
        p = _FONTS / name
        if p.is_file():
            return ImageFont.truetype(str(p), size)
    return ImageFont.load_default(size)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(img) -> bytes:
    """An RGB picture as PNG: every row's filter type 0 (none), zlib level 1.  A placeholder is not cached,
    and the PDF holds this image data as it is (:mod:`docgen.typeset.images`: not decoded, not compressed
    again); Pillow's encoder (a filter chosen per row, level 6) takes ~4x as long to write it (~30 ms against
    ~7 for a cover and a body picture) for a file a quarter smaller, and level 6 here ~2.5x as long for
    ~40 % fewer bytes — a placeholder's bytes matter less than its time."""
    w, h = img.size
    # the raw encoder's stride pads each row with a zero byte: a row's filter byte, one row late
    rows = img.tobytes("raw", "RGB", 3 * w + 1)
    z = zlib.compressobj(1)
    idat = z.compress(b"\0") + z.compress(memoryview(rows)[:-1]) + z.flush()
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, filter method 0, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


class DraftBackend:
    """Deterministic placeholder art; the default when no model is configured."""

    name = "draft"
    # Instant and deterministic, its text right by construction: nothing to cache or verify.
    capabilities = Capabilities(generative=False, verify_text=False, cacheable=False, shared_process=False,
                                placeholder=True)

    def __init__(self, max_side: int = _MAX_SIDE):
        self.max_side = max_side
        self.calls = 0

    def identity(self) -> dict:
        return {"backend": "draft", "version": 1, "max_side": self.max_side}

    def generate(self, requests: Sequence[RegionRequest]) -> list[RegionImage]:
        self.calls += 1
        return [self._one(r) for r in requests]

    def _one(self, req: RegionRequest) -> RegionImage:
        from PIL import Image, ImageDraw

        scale = min(1.0, self.max_side / max(req.width, req.height))
        w, h = max(16, round(req.width * scale)), max(16, round(req.height * scale))
        digest = hashlib.sha256(f"{req.prompt}\x00{req.seed}".encode("utf-8")).digest()
        sky, hill1, hill2, ink = _palette(digest)
        # vertical gradient: one colour a row, drawn as a 1-pixel column and widened (nearest: each row one
        # colour, as a line across the row draws it, without a call per row)
        column = bytearray()
        for y in range(h):
            f = y / max(1, h - 1)
            column += bytes(int(sky[i] * (1 - 0.35 * f) + hill1[i] * 0.35 * f) for i in range(3))
        img = Image.frombytes("RGB", (1, h), bytes(column)).resize((w, h), Image.Resampling.NEAREST)
        d = ImageDraw.Draw(img)
        # a sun and two ranges of soft hills, positions from the hash
        sx, sy, sr = w * (0.2 + 0.6 * digest[1] / 255), h * (0.18 + 0.2 * digest[2] / 255), min(w, h) * 0.09
        d.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=(255, 250, 235))
        for k, (col, base, amp) in enumerate(((hill1, 0.62, 0.10), (hill2, 0.78, 0.08))):
            ph = digest[3 + k] / 255 * math.tau
            fr = 1.5 + digest[5 + k] / 255 * 2.5
            pts = [(x, h * (base + amp * math.sin(ph + fr * math.tau * x / w)
                            + amp * 0.4 * math.sin(ph * 2 + 3.1 * fr * math.tau * x / w)))
                   for x in range(0, w + 8, 8)]
            d.polygon(pts + [(w, h), (0, h)], fill=col)
        text = " ".join(t for _, t in req.text)
        if text:
            self._display_text(img, text, ink)
        self._mark(img)
        return RegionImage(
            png=_png(img), width=w, height=h, backend=self.name, placeholder=True,
            info={"backend": "draft", "seed": req.seed, "prompt_hash": req.prompt_hash(),
                  "path": "draft-text" if text else "draft"})

    @staticmethod
    def _display_text(img, text: str, ink) -> None:
        from PIL import ImageDraw
        w, h = img.size
        d = ImageDraw.Draw(img)
        size = int(h * 0.16)
        font = _font(size)
        while size > 8:
            bbox = d.textbbox((0, 0), text, font=font)
            if bbox[2] - bbox[0] <= w * 0.86:
                break
            size = int(size * 0.9)
            font = _font(size)
        bbox = d.textbbox((0, 0), text, font=font)
        tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
        x, y = (w - tw) / 2 - bbox[0], h * 0.42 - th / 2 - bbox[1]
        pad = size * 0.35
        d.rounded_rectangle([x + bbox[0] - pad, y + bbox[1] - pad, x + bbox[2] + pad, y + bbox[3] + pad],
                            radius=pad, fill=(255, 255, 255))
        d.text((x, y), text, font=font, fill=(20, 20, 20))

    @staticmethod
    def _mark(img) -> None:
        from PIL import ImageDraw
        w, h = img.size
        d = ImageDraw.Draw(img)
        size = max(9, int(min(w, h) * 0.045))
        font = _font(size)
        label = "DRAFT · 草图"
        bbox = d.textbbox((0, 0), label, font=font)
        x, y = w - (bbox[2] - bbox[0]) - size, h - (bbox[3] - bbox[1]) - size
        d.rectangle([x - size * 0.4, y + bbox[1] - size * 0.3, x + bbox[2] + size * 0.4, y + bbox[3] + size * 0.3],
                    fill=(0, 0, 0))
        d.text((x, y), label, font=font, fill=(255, 255, 255))
