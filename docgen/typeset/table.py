"""A data table flowable: rows of cells, each cell a stack of ``TextBlock`` s broken by our CLREQ line
breaker and drawn with ``draw_lines`` (one text object per table part).

It replaces ReportLab's ``platypus.Table`` for body tables, which wraps every cell flowable again on each
``wrap``/``split``/``draw`` and dominated the render time of long tables.  Here the geometry of a width
(column positions, row heights, their running sums) is computed once and cached, so repeated ``wrap``
calls (KeepTogether, ``Pair``, the frame's add/split dance) cost a dictionary lookup, and a split is a
binary search over the running sums; the parts share the rows and inherit the cached geometry.

Look (as the ReportLab table had it): header row on a tinted background, a rule above it and one below
it, a hairline below every body row; cells top-aligned inside their padding.  A table split across
frames repeats the header row at the top of each part; rows are never cut, except a row taller than a
whole frame, which is split between the lines of its cells (like a paragraph) rather than failing.

In a tagged document each cell block's lines are content of the block's element (``TextBlock.tag``, a
``P`` in a ``TH``/``TD``), all in the part's one text object; the repeated header of a continued part, the
header's tint and the rules are artifacts.
"""
from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import Sequence

from reportlab.platypus.flowables import Flowable

from .flowables import TextBlock
from .structure import ARTIFACT, artifact, structure_of
from .textobject import draw_lines

# below ReportLab's frame tolerance (1e-6): whatever this table says fits, the frame accepts
_EPS = 1e-7

Cell = Sequence[TextBlock]          # a cell: blocks stacked top to bottom (e.g. primary + secondary language)
Row = Sequence[Cell]


def _dry(canv) -> bool:
    d = getattr(canv, "_doctemplate", None)
    return bool(getattr(d, "dry", False))


class _Geom:
    """Geometry of a table part at one width."""

    __slots__ = ("col_x", "inner", "head_h", "row_h", "cum", "height")

    def __init__(self, col_x, inner, head_h, row_h, cum):
        self.col_x = col_x            # left edge of each column
        self.inner = inner            # text width of each column (padding taken off)
        self.head_h = head_h          # header row height (0 without header)
        self.row_h = row_h            # body row heights
        self.cum = cum                # running sums of row_h
        self.height = head_h + (cum[-1] if cum else 0.0)


class TextTable(Flowable):
    """A table of ``TextBlock`` cells.

    ``header``: the header row (repeated at the top of every part) or None; ``rows``: body rows.  A row is a
    list of cells, one per column; a cell is a list of ``TextBlock`` s drawn one below the other (an empty
    cell is 1 pt tall, as ReportLab's ``Spacer(1, 1)`` was).  Each block's own ``ParaFormat`` aligns its
    lines within the column.  ``widths`` are relative column widths spread over the available width.
    ``full_height``: the height of the smallest frame the table may land in, if known; a row that cannot fit
    in it (under the header) is split between lines wherever it starts, instead of first moving on.
    """

    def __init__(self, header: Row | None, rows: Sequence[Row], widths: Sequence[float], *,
                 padding: tuple[float, float, float, float] = (4.0, 4.0, 2.5, 3.5),
                 head_background=(0.93, 0.93, 0.93), rule_color=(0.7, 0.7, 0.7),
                 rules: tuple[float, float, float] = (0.8, 0.6, 0.25), full_height: float | None = None,
                 space_before: float = 0.0, space_after: float = 0.0):
        super().__init__()
        n = len(widths)
        if n == 0:
            raise ValueError("a table needs at least one column")
        if header is not None and len(header) != n or any(len(r) != n for r in rows):
            raise ValueError(f"every row of the table needs {n} cells")
        tot = float(sum(widths))
        if tot <= 0 or any(w < 0 for w in widths):
            raise ValueError(f"bad column widths {list(widths)}")
        self.header = header
        self.rows = list(rows)
        self.fracs = [w / tot for w in widths]
        self.padding = padding
        self.head_background = head_background
        self.rule_color = rule_color
        self.rules = rules                  # above the header, below the header, below each body row
        self.full_height = full_height
        self.spaceBefore = space_before
        self.spaceAfter = space_after
        self.continued = False              # a later part: its header row repeats the first part's
        self._geoms: dict[float, _Geom] = {}      # geometry by width (rounded), see _geom

    # -- parts -----------------------------------------------------------------------------------------------
    def _part(self, rows: list, geom: _Geom | None, key: float | None) -> "TextTable":
        """A part of this table over ``rows`` (sharing cells, style and, where given, geometry)."""
        p = TextTable.__new__(TextTable)
        Flowable.__init__(p)
        p.header, p.rows, p.fracs, p.padding = self.header, rows, self.fracs, self.padding
        p.head_background, p.rule_color, p.rules = self.head_background, self.rule_color, self.rules
        p.full_height = self.full_height
        p.spaceBefore, p.spaceAfter = self.spaceBefore, self.spaceAfter
        p.continued = self.continued
        p._geoms = {key: geom} if geom is not None else {}
        return p

    # -- geometry --------------------------------------------------------------------------------------------
    @staticmethod
    def _cell_h(cell: Cell, w: float) -> float:
        if not cell:
            return 1.0
        h = 0.0
        for b in cell:
            h += len(b.lines(w)) * b.leading
        return h

    def _row_h(self, row: Row, inner: list[float]) -> float:
        cell_h = self._cell_h
        h = max(cell_h(c, w) for c, w in zip(row, inner))
        return h + self.padding[2] + self.padding[3]

    def _geom(self, aw: float) -> _Geom:
        key = round(aw, 3)
        g = self._geoms.get(key)
        if g is None:
            lp, rp = self.padding[0], self.padding[1]
            col_w = [aw * f for f in self.fracs]
            col_x = [0.0, *accumulate(col_w)][:-1]
            inner = [w - lp - rp for w in col_w]
            head_h = self._row_h(self.header, inner) if self.header is not None else 0.0
            row_h = [self._row_h(r, inner) for r in self.rows]
            if len(self._geoms) >= 8:             # a few widths at most in practice; never let it grow
                self._geoms.clear()
            g = self._geoms[key] = _Geom(col_x, inner, head_h, row_h, list(accumulate(row_h)))
        return g

    def wrap(self, aw, ah):
        g = self._geom(aw)
        self.width, self.height = aw, g.height
        return aw, g.height

    # -- splitting -------------------------------------------------------------------------------------------
    def _may_cut_row(self, n: int, row_h: float, head_h: float) -> bool:
        """May body row ``n``, the first that does not fit, be cut between lines here?  Only when it cannot
        fit whole anywhere: it is taller than a full frame (with the header), or it is the first row and
        the table stands at the top of an empty frame (which the frame tells while it asks for a split) or
        ReportLab has already moved the table on once (``_postponed``)."""
        if self.full_height is not None and head_h + row_h > self.full_height + _EPS:
            return True
        if n:
            return False
        fr = getattr(self, "_frame", None)
        if fr is not None and getattr(fr, "_atTop", False):
            return True
        return bool(getattr(self, "_postponed", False))

    def _cut_row(self, row: Row, inner: list[float], room: float):
        """Cut a row so that its first part's cells fit in ``room`` (content height): -> (head, rest), or
        None when not a single line fits (or nothing is left over).  Blocks are cut between lines; the
        pieces are ``TextBlock`` s holding their lines, as ``TextBlock.split`` makes them."""
        head, rest = [], []
        moved = 0
        for cell, w in zip(row, inner):
            h_cell, r_cell = [], []
            y = 0.0
            for b in cell:
                if r_cell:                       # an earlier block of this cell already ran over
                    r_cell.append(b)
                    continue
                lines = b.lines(w)
                k = min(len(lines), max(0, int((room - y + _EPS) // b.leading)))
                moved += k
                if k == len(lines):
                    h_cell.append(b)
                    y += k * b.leading
                    continue
                if k:
                    h_cell.append(_lines_block(b, lines[:k]))
                r_cell.append(_lines_block(b, lines[k:]) if k else b)
            head.append(h_cell)
            rest.append(r_cell)
        if not moved or not any(rest):
            return None
        return head, rest

    def split(self, aw, ah):
        g = self._geom(aw)
        if g.height <= ah + _EPS:
            return [self]
        key = round(aw, 3)
        room = ah - g.head_h
        n = bisect_right(g.cum, room + _EPS)      # body rows that fit under the header
        nrows = len(self.rows)
        if n < nrows and self._may_cut_row(n, g.row_h[n], g.head_h):
            # a row taller than the frame: fill this part with as many of its lines as fit
            used = g.cum[n - 1] if n else 0.0
            cut = self._cut_row(self.rows[n], g.inner, room - used - self.padding[2] - self.padding[3])
            if cut is not None:
                head, rest = cut
                first = self._part(self.rows[:n] + [head], None, None)
                second = self._part([rest] + self.rows[n + 1:], None, None)
                return self._finish_split(first, second)
        if n == 0:
            return []                               # not one row fits here: move the table on
        rh, cum = g.row_h, g.cum
        first = self._part(self.rows[:n], _Geom(g.col_x, g.inner, g.head_h, rh[:n], cum[:n]), key)
        rest_h = rh[n:]
        second = self._part(self.rows[n:], _Geom(g.col_x, g.inner, g.head_h, rest_h, list(accumulate(rest_h))),
                            key)
        return self._finish_split(first, second)

    def _finish_split(self, first: "TextTable", second: "TextTable") -> list:
        first.spaceAfter = 0.0
        second.spaceBefore = 0.0
        second.continued = True
        return [first, second]

    # -- drawing ---------------------------------------------------------------------------------------------
    def draw(self):
        c = self.canv
        if _dry(c):
            return            # the measuring pass of a two-pass layout: nothing to show
        g = self._geom(self.width)
        W, H = self.width, self.height
        lp, _, tp, _ = self.padding
        if self.header is not None and self.head_background is not None:
            with artifact(c):
                c.saveState()
                c.setFillColorRGB(*self.head_background)
                c.rect(0, H - g.head_h, W, g.head_h, stroke=0, fill=1)
                c.restoreState()
        # text, row by row and cell by cell (the reading order of the text layer)
        y = H
        xs = [x + lp for x in g.col_x]
        inner = g.inner
        rows = ([self.header] if self.header is not None else []) + self.rows
        heights = ([g.head_h] if self.header is not None else []) + g.row_h
        placed = []
        tags = [] if structure_of(c) is not None else None
        repeated = self.header is not None and self.continued
        for r, (row, h) in enumerate(zip(rows, heights)):
            for cell, x, w in zip(row, xs, inner):
                yc = y - tp
                for b in cell:
                    lead = b.leading
                    off = b.first_baseline()
                    lines = b.lines(w)
                    for i, line in enumerate(lines):
                        placed.append((line, x + b.left, yc - i * lead - off))
                    if tags is not None:
                        tags += [ARTIFACT if repeated and r == 0 else b.tag] * len(lines)
                    yc -= len(lines) * lead
            y -= h
        if tags is not None and None in tags:
            tags = None                     # cells without elements: the table is one paragraph of its own
        draw_lines(c, placed, tags)                         # links included
        # rules
        above, below_head, below_row = self.rules
        with artifact(c):
            self._draw_rules(c, g, W, H, above, below_head, below_row)

    def _draw_rules(self, c, g, W, H, above, below_head, below_row):
        c.saveState()
        c.setStrokeColorRGB(*self.rule_color)
        c.setLineCap(1)
        c.setLineJoin(1)
        if self.header is not None:
            if above:
                c.setLineWidth(above)
                c.line(0, H, W, H)
            if below_head:
                c.setLineWidth(below_head)
                c.line(0, H - g.head_h, W, H - g.head_h)
        if below_row and g.row_h:
            c.setLineWidth(below_row)
            top = H - g.head_h
            c.lines([(0, top - s, W, top - s) for s in g.cum])
        c.restoreState()

    def identity(self, maxLen=None):
        g = next(iter(self._geoms.values()), None)
        tall = f", tallest row {max(g.row_h):.1f} pt" if g is not None and g.row_h else ""
        s = f"<TextTable {len(self.rows)} rows x {len(self.fracs)} cols{tall}>"
        return s[:maxLen] if maxLen else s


def _lines_block(b: TextBlock, lines: list) -> TextBlock:
    """A block holding some of ``b`` 's lines, drawn like ``b``."""
    return TextBlock([], b.fmt, size=b.size, leading=b.leading, left=b.left, lines=lines, tag=b.tag)
