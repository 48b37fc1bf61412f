"""Page geometry: a Theme and a page template's name in, the boxes text and pictures are set in out (mm).

The one place frame sizes are computed: the typesetter builds its ReportLab frames from :func:`frames`,
the regions stage sizes a generated picture from the frame width a Figure records, and the official-document
grid lays its rows over :func:`type_area`.  Origin: the page's bottom-left corner, as in PDF.
"""
from __future__ import annotations

from typing import NamedTuple

from .theme import PageTemplate, Theme


class Box(NamedTuple):
    x: float
    y: float
    width: float
    height: float


def page_template(theme: Theme, name: str | None) -> PageTemplate:
    """The named page template, or the theme's first one."""
    return theme.page_templates.get(name or "") or next(iter(theme.page_templates.values()))


def type_area(theme: Theme, pt: PageTemplate) -> Box:
    """The 版心: the page less its margins."""
    pw, ph = theme.page_size_mm()
    m = pt.margins
    return Box(m.inner, m.bottom, pw - m.inner - m.outer, ph - m.top - m.bottom)


def columns(pt: PageTemplate, mode: str) -> int:
    # parallel mode sets one frame a page, split by language into the zh and en columns
    return 1 if mode == "parallel" else pt.columns


def frames(theme: Theme, pt: PageTemplate, mode: str) -> list[Box]:
    """The text frames of a page: the type area split into the template's columns."""
    area = type_area(theme, pt)
    n = columns(pt, mode)
    w = (area.width - pt.gap * (n - 1)) / n
    return [Box(area.x + i * (w + pt.gap), area.y, w, area.height) for i in range(n)]


def frame_width(theme: Theme, template: str | None, mode: str, full_bleed: bool = False) -> float:
    """Width of what a block placed on pages of ``template`` fills: a frame, or the whole page."""
    if full_bleed:
        return theme.page_size_mm()[0]
    return frames(theme, page_template(theme, template), mode)[0].width


def min_frame_height(theme: Theme) -> float:
    """The shortest type area of any page template: the tallest a picture may be anywhere."""
    return min(type_area(theme, pt).height for pt in theme.page_templates.values())
