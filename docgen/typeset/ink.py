"""Ink for type set over a picture: a PNG (and the box the text covers) in, black or white ink and
whether it needs a plate out.

The regions stage may return a picture with ``overlay_text`` (OCR could not confirm the model's
lettering); the typesetter sets that text as vector type over the picture and asks here which ink
reads on it.  The rule is WCAG 2's contrast ratio, measured on the pixels under the text.
"""
from __future__ import annotations

import io

BLACK, WHITE = (0, 0, 0), (255, 255, 255)
MIN_CONTRAST = 4.5              # WCAG 2 AA for body text


def contrast_ratio(lum_a: float, lum_b: float) -> float:
    """WCAG contrast ratio of two relative luminances."""
    hi, lo = max(lum_a, lum_b), min(lum_a, lum_b)
    return (hi + 0.05) / (lo + 0.05)


def overlay_colour(png: bytes, box: tuple[int, int, int, int] | None = None) -> tuple[tuple[int, int, int], bool]:
    """Black or white ink for text set over ``box`` (x0, y0, x1, y1 in the picture's pixels; None = all).

    The ink is the one with the higher WCAG contrast against the box's mean relative luminance.  Against
    a mean, one of the two always reaches 4.58:1, so ``ok`` asks more: the ink must reach 4.5:1 against
    nine in ten of the box's pixels (the 90th percentile of the unfavourable side).  When ``ok`` is
    False the background is too busy for bare type; the typesetter should put a scrim or plate behind it.
    """
    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, y0 = max(0, min(x0, image.width - 1)), max(0, min(y0, image.height - 1))
        x1, y1 = max(x0 + 1, min(x1, image.width)), max(y0 + 1, min(y1, image.height))
        image = image.crop((x0, y0, x1, y1))
    rgb = np.asarray(image, dtype=np.float64) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lum = linear @ np.array([0.2126, 0.7152, 0.0722])
    mean = float(lum.mean())
    if contrast_ratio(1.0, mean) >= contrast_ratio(0.0, mean):
        ink, worst = WHITE, float(np.percentile(lum, 90))          # white ink: the brightest pixels
        return ink, contrast_ratio(1.0, worst) >= MIN_CONTRAST
    worst = float(np.percentile(lum, 10))                          # black ink: the darkest pixels
    return BLACK, contrast_ratio(0.0, worst) >= MIN_CONTRAST
