"""Region requests: the layout tree's generated Figures in, one :class:`RegionRequest` per region out.

A Figure carries its picture request and the width of the frame it fills (from the layout stage); here
that becomes a pixel size — the spec's ``size`` if given, else the frame at :data:`DPI`, capped at
:data:`MAX_SIDE` and rounded to the model's multiple of 16.
"""
from __future__ import annotations

from ..layout import tree as T
from .base import RegionRequest

DPI = 200            # pixel density of generated regions on the page
MAX_SIDE = 2048


def _round16(x: float) -> int:
    return max(256, min(MAX_SIDE, int(round(x / 16.0)) * 16))


def pixel_size(fig: T.Figure) -> tuple[int, int]:
    req = fig.request
    assert req is not None
    if req.size:
        return req.size
    w_mm = fig.frame_width * fig.width
    h_mm = fig.height if fig.height else w_mm / req.aspect
    scale = DPI / 25.4
    px_w, px_h = w_mm * scale, h_mm * scale
    k = min(1.0, MAX_SIDE / max(px_w, px_h))
    return _round16(px_w * k), _round16(px_h * k)


def requests_for(tree: T.LayoutTree) -> list[RegionRequest]:
    """One request per generated Figure of the tree, in document order."""
    out = []
    for fig, _template in tree.figures():
        req = fig.request
        if req is None or fig.region is None:
            continue
        w, h = pixel_size(fig)
        out.append(RegionRequest(prompt=req.prompt, width=w, height=h, seed=req.seed, text=req.text,
                                 negative_prompt=req.negative_prompt, language=req.language, region_id=fig.region))
    return out
