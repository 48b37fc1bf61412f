"""Charts: a ``<chart>`` element of the layout tree (categories, series, a number format) in, flowables out.

The layout writes ``<chart type="bar|line|pie" width=… height=… format=…>`` holding ``<title>``,
``<category zh=… en=…/>`` per point, ``<series key=…>`` (its name as ``<t>`` text, then ``<v y=…/>`` per
point) and ``<caption>``.  Bars, lines, wedges, axes and grid lines are ReportLab graphics shapes (vector,
drawn with ``renderPDF``); every label — ticks, categories, legend — goes through the CLREQ line breaker
and ``draw_line`` with the theme's fonts, so Chinese labels use the document's CJK face and nothing falls
back to Helvetica.  Drawing is deterministic: the same data gives the same PDF operators.  In a tagged
document the plot is one ``Figure`` whose ``/Alt`` reads out the data, series by series.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus.flowables import Flowable

from ..errors import LayoutError
from ..layout import tree as T
from ..spec.inline import Span
from ..spec.models import Format
from . import extensions
from .breaker import break_lines
from .structure import marked
from .text import ParaFormat
from .textobject import draw_line

# Used when the theme names no chart1…chart8 colours: distinguishable, print-safe, colour-blind aware.
PALETTE = ("#2f5d8a", "#d1843b", "#5b9a68", "#a8514a", "#7a68a6", "#3d9aa6", "#b59a3a", "#777777")


@dataclass
class Series:
    name: str                  # legend text (the edition's languages joined)
    values: list[float]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] with about ``n`` steps of 1, 2, 2.5 or 5 × 10^k."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    count = int(round((end - start) / step))
    return [round(start + i * step, 10) for i in range(count + 1)]


class ChartFlowable(Flowable):
    """The plot itself (axes, marks, labels, legend), ``width`` × ``height`` of the frame."""

    def __init__(self, kind: str, categories: list[str], series: list[Series], fmt: Format, *, lang: str,
                 width_frac: float, height: float, label, format_value, colors: list[tuple], ink: tuple,
                 rule: tuple, tag: int | None = None):
        super().__init__()
        self.tag = tag                      # the Figure element (tagged documents)
        self.kind, self.categories, self.series, self.fmt = kind, categories, series, fmt
        self.lang = lang
        self.width_frac, self.box_h = width_frac, height
        self.label = label                  # text -> list[Run] in the chart's label style
        self.format_value = format_value    # (value, Format, lang) -> text: the spec's number formatting
        self.colors, self.ink, self.rule = colors, ink, rule
        self.spaceAfter = 4

    # -- text --------------------------------------------------------------------------------------------
    def _line(self, text: str):
        lines = break_lines(self.label(text), 10_000, ParaFormat(align="left", lang=self.lang))
        return lines[0] if lines else None

    def _text(self, text: str, x: float, y: float, align: str = "left"):
        """Draw ``text`` with its baseline at y: left-, centre- or right-aligned at x."""
        line = self._line(text)
        if line is None:
            return
        dx = {"left": 0.0, "center": -line.width / 2, "right": -line.width}[align]
        draw_line(self.canv, line, x + dx, y)

    def _width(self, text: str) -> float:
        line = self._line(text)
        return line.width if line is not None else 0.0

    def _fmt(self, v: float, decimals: int | None = None) -> str:
        f = self.fmt if decimals is None else self.fmt.model_copy(update={"decimals": decimals})
        return self.format_value(v, f, self.lang)

    def _tick_labels(self, ticks: list[float]) -> list[str]:
        if self.fmt.decimals is not None:
            return [self._fmt(t) for t in ticks]
        for d in range(0, 4):              # the fewest decimals that keep every tick distinct
            labels = [self._fmt(t, d) for t in ticks]
            if len(set(labels)) == len(labels):
                return labels
        return labels

    # -- flowable ----------------------------------------------------------------------------------------
    def wrap(self, aw, ah):
        self.width = aw
        self.height = self.box_h
        return aw, self.height

    def split(self, aw, ah):
        return []

    def draw(self):
        doc = getattr(self.canv, "_doctemplate", None)
        if getattr(doc, "dry", False):
            return
        w = self.width * self.width_frac
        x0 = (self.width - w) / 2
        self.size = self.label("0")[0].style.size if self.label("0") else 7.5
        with marked(self.canv, self.tag):
            if self.kind == "pie":
                self._pie(x0, w)
            else:
                self._xy(x0, w)

    def _drawing(self, w, h):
        from reportlab.graphics.shapes import Drawing
        d = Drawing(w, h)
        # the renderer sets an initial font even for shapes only: make it the theme's, never Helvetica
        runs = self.label("0")
        if runs:
            d.initialFontName = runs[0].style.fonts.latin[0].regular.name
        return d

    def _render(self, d, x, y):
        from reportlab.graphics import renderPDF
        renderPDF.draw(d, self.canv, x, y)

    def _legend(self, x0: float, w: float, top: float) -> float:
        """Legend entries in one row (wrapping) under ``top``; returns the height used."""
        from reportlab.graphics.shapes import Rect
        s = self.size
        sw, gap, row_h = s * 0.9, s * 1.6, s * 1.7
        entries = [(self.colors[i % len(self.colors)], ser.name) for i, ser in enumerate(self.series)]
        rows, cur, cur_w = [], [], 0.0
        for col, name in entries:
            ew = sw + s * 0.4 + self._width(name)
            if cur and cur_w + gap + ew > w:
                rows.append((cur, cur_w))
                cur, cur_w = [], 0.0
            cur.append((col, name, ew))
            cur_w += (gap if len(cur) > 1 else 0) + ew
        if cur:
            rows.append((cur, cur_w))
        d = self._drawing(w, len(rows) * row_h)
        labels = []
        for r, (items, rw) in enumerate(rows):
            x = (w - rw) / 2
            y = (len(rows) - r - 1) * row_h + (row_h - sw) / 2
            for col, name, ew in items:
                d.add(Rect(x, y, sw, sw, fillColor=_rl(col), strokeColor=None))
                labels.append((name, x0 + x + sw + s * 0.4, top - len(rows) * row_h + y + sw * 0.1))
                x += ew + gap
        self._render(d, x0, top - len(rows) * row_h)
        for name, x, y in labels:
            self._text(name, x, y)
        return len(rows) * row_h

    def _xy(self, x0: float, w: float):
        from reportlab.graphics.shapes import Circle, Line, PolyLine, Rect
        s, h = self.size, self.height
        legend_h = self._legend(x0, w, h) + s * 0.6 if len(self.series) > 1 else s * 0.8
        values = [v for ser in self.series for v in ser.values] or [0.0]
        ticks = nice_ticks(min(0.0, min(values)), max(0.0, max(values)))
        tick_labels = self._tick_labels(ticks)
        left = max(self._width(t) for t in tick_labels) + s * 0.8
        bottom = s * 2.2
        pw, ph = w - left - s * 0.5, h - legend_h - bottom
        if pw <= 10 or ph <= 10:
            raise LayoutError("a chart is too small for its labels: give it more height or width")
        lo, hi = ticks[0], ticks[-1]

        def ypos(v):
            return (v - lo) / (hi - lo) * ph

        d = self._drawing(pw, ph)
        for t in ticks:
            d.add(Line(0, ypos(t), pw, ypos(t), strokeColor=_rl(self.rule), strokeWidth=0.3))
        n = max(1, len(self.categories))
        slot = pw / n
        k = len(self.series)
        if self.kind == "bar":
            bw = slot * 0.7 / k
            for j, ser in enumerate(self.series):
                col = _rl(self.colors[j % len(self.colors)])
                for i, v in enumerate(ser.values):
                    x = i * slot + slot * 0.15 + j * bw
                    y0, y1 = sorted((ypos(0.0), ypos(v)))
                    d.add(Rect(x, y0, bw, y1 - y0, fillColor=col, strokeColor=None))
        else:
            for j, ser in enumerate(self.series):
                col = _rl(self.colors[j % len(self.colors)])
                pts = []
                for i, v in enumerate(ser.values):
                    pts += [i * slot + slot / 2, ypos(v)]
                if len(pts) >= 4:
                    d.add(PolyLine(pts, strokeColor=col, strokeWidth=1.4, strokeLineJoin=1, strokeLineCap=1))
                for i in range(0, len(pts), 2):
                    d.add(Circle(pts[i], pts[i + 1], 1.8, fillColor=col, strokeColor=None))
        d.add(Line(0, ypos(0.0), pw, ypos(0.0), strokeColor=_rl(self.ink), strokeWidth=0.6))
        self._render(d, x0 + left, bottom)
        for t, lab in zip(ticks, tick_labels):
            self._text(lab, x0 + left - s * 0.4, bottom + ypos(t) - s * 0.35, "right")
        # category labels: every one that fits, else every k-th
        widest = max((self._width(c) for c in self.categories), default=0.0)
        every = max(1, math.ceil((widest + s * 0.6) / slot)) if slot > 0 else 1
        for i, c in enumerate(self.categories):
            if i % every == 0:
                self._text(c, x0 + left + i * slot + slot / 2, bottom - s * 1.3, "center")

    def _pie(self, x0: float, w: float):
        from reportlab.graphics.shapes import Wedge
        s, h = self.size, self.height
        vals = self.series[0].values if self.series else []
        total = sum(vals)
        r = min(h / 2 - s * 0.5, w * 0.22)
        cx, cy = r + s, h / 2
        d = self._drawing(2 * r + 2, 2 * r + 2)
        angle = 90.0                  # start at twelve o'clock, go clockwise
        for i, v in enumerate(vals):
            if total <= 0 or v <= 0:
                continue
            sweep = 360.0 * v / total
            d.add(Wedge(r + 1, r + 1, r, angle - sweep, angle, fillColor=_rl(self.colors[i % len(self.colors)]),
                        strokeColor=_rl((1, 1, 1)), strokeWidth=0.8))
            angle -= sweep
        self._render(d, x0 + cx - r - 1, cy - r - 1)
        # legend: swatch, label, value and share, one entry per line beside the pie
        from reportlab.graphics.shapes import Rect
        lx = x0 + cx + r + s * 2
        row = s * 1.75
        top = cy + row * len(vals) / 2
        lg = self._drawing(s, max(row * len(vals), 1))
        pct = Format(type="percent", decimals=1)
        n = len(vals)
        for i, (cat, v) in enumerate(zip(self.categories, vals)):
            lg.add(Rect(0, (n - i - 1) * row + s * 0.05, s * 0.9, s * 0.9,
                        fillColor=_rl(self.colors[i % len(self.colors)]), strokeColor=None))
            share = self.format_value(v / total if total else 0.0, pct, self.lang)
            self._text(f"{cat}  {self._fmt(v)}  ({share})", lx + s * 1.4, top - (i + 1) * row + s * 0.12)
        self._render(lg, lx, top - row * len(vals))


def _rl(rgb):
    from reportlab.lib.colors import Color
    if isinstance(rgb, str):
        v = rgb.lstrip("#")
        rgb = tuple(int(v[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return Color(*rgb)


def _float(v: str | None, where: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise LayoutError(f"layout markup: <{where}> needs a number, not {v!r}") from None


def make_chart(ts, el: T.Element) -> list:
    """The ``chart`` extension: title blocks, the chart, caption blocks."""
    kind = el.attrs.get("type", "bar")
    if kind not in ("bar", "line", "pie"):
        raise LayoutError(f"layout markup: <chart type={kind!r}>: expected bar, line or pie")
    lang = ts.langs[0] if ts.langs else "zh"
    cats, series, title, caption = [], [], {}, {}
    for c in el.children:
        if c.tag == "category":
            cats.append(c.attrs.get(lang) or next(iter(c.attrs.values()), ""))
        elif c.tag == "series":
            names = [T.plain_of(c.texts, lg) for lg in (["*"] if "*" in c.texts else ts.langs)]
            name = " / ".join(dict.fromkeys(n for n in names if n)) or c.attrs.get("key", "")
            series.append(Series(name, [_float(v.attrs.get("y"), "v y") for v in c.children if v.tag == "v"]))
        elif c.tag == "title":
            title = c.texts
        elif c.tag == "caption":
            caption = c.texts
    for ser in series:
        if len(ser.values) != len(cats):
            raise LayoutError(f"layout markup: <chart> series {ser.name!r} has {len(ser.values)} values for "
                              f"{len(cats)} categories")
    fmt = Format(type=el.attrs.get("format", "number"),
                 decimals=int(el.attrs["decimals"]) if el.attrs.get("decimals") not in (None, "") else None,
                 units=el.attrs.get("units", "").lower() in ("1", "true", "yes"),
                 currency=el.attrs.get("currency") or "CNY")
    theme = ts.theme
    colors = [theme.color(f"chart{i}") for i in range(1, 9) if f"chart{i}" in theme.colors] or list(PALETTE)
    label_style = "chart-label" if "chart-label" in theme.styles else "caption"
    scale = 1.0 if label_style == "chart-label" else 0.9

    def label(text: str):
        return ts.runs([Span(text)], label_style, scale=scale, color="text")

    out: list = []
    title_style = "chart-title" if "chart-title" in theme.styles else "h3"
    if title:
        out += ts.bilingual(title, lambda lg, spans, second: ts.block(
            spans, lg, title_style, keep=True, indent=False, align="center", space_before=6,
            color=theme.stacked_secondary if second else None, scale=0.85 if second else 1.0))
    # what a reader who cannot see the plot is told: its data, series by series
    alt = "; ".join(f"{ser.name}: " + ", ".join(f"{c} {ts.format_value(v, fmt, lang)}"
                                                for c, v in zip(cats, ser.values))
                    for ser in series)
    out.append(ChartFlowable(kind, cats, series, fmt, lang=lang, width_frac=_float(el.attrs.get("width", "1"),
                             "chart width"), height=_float(el.attrs.get("height", "70"), "chart height") * mm,
                             label=label, format_value=ts.format_value, colors=colors, ink=theme.color("text"),
                             rule=theme.color("rule"), tag=ts.element("Figure", alt=alt or kind)))
    if caption:
        out += ts.caption(caption, "caption")
    return out


extensions.register("chart", make_chart)
