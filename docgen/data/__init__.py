"""The data stage: a Document, its folder and parameter values in, a :class:`Resolved` document out.

It types the parameters, loads every named source (files, SQL), fills ``{name}`` placeholders in the
spec's text, turns data-bound tables into plain tables (cells formatted per language) and gathers each
chart's series.  The layout stage then sees ordinary blocks, plus ``params``, ``data`` and the charts'
series in its template context.  SQLAlchemy is imported only when a spec has an SQL source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, SpecError
from ..spec.inline import escape
from ..spec.blocks import replace
from ..spec.models import Chart, ChartBlock, DataTable, Document, Format, Localized, Table, TableBlock, walk
from .formatting import format_value, is_numeric
from .params import parse_assignments, resolve_params
from .placeholders import fill, fill_document
from .sources import Dataset, files_of, load
from .values import Month, coerce, plain

__all__ = ["Dataset", "Month", "Resolved", "coerce", "data_files", "fill", "format_value", "parse_assignments",
           "plain", "resolve", "resolve_params"]


@dataclass
class Resolved:
    document: Document                                       # placeholders filled, data tables made plain
    params: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)    # block id ("body.3") -> series for the layout


def data_files(doc: Document, root: Path) -> list[Path]:
    """Every local file the spec's sources read (for a batch's change detection)."""
    out: list[Path] = []
    for name, src in doc.data.items():
        out += files_of(src, root, f"data.{name}")
    return out


def has_remote_source(doc: Document, root: Path) -> bool:
    """True when a source is a database that is not a local file (its content cannot be hashed)."""
    return any(src.sql is not None and not files_of(src, root, f"data.{n}") for n, src in doc.data.items())


def resolve(doc: Document, root: Path, params: dict[str, Any] | None = None) -> Resolved:
    values = resolve_params(doc.params, params)
    if not doc.data and not values and not _data_blocks(doc):
        return Resolved(doc)
    datasets = {name: load(name, src, root, values) for name, src in doc.data.items()}
    doc = fill_document(doc, values)
    tables: dict[str, TableBlock] = {}
    charts: dict[str, dict] = {}
    for where, b in walk(doc):          # body and attachments alike, by the blocks' ids
        if isinstance(b, TableBlock) and isinstance(b.table, DataTable):
            tables[where] = TableBlock(table=_table(b.table, _source(datasets, b.table.source,
                                                                     f"{where}.table.source"),
                                                    doc.languages, f"{where}.table"))
        elif isinstance(b, ChartBlock):
            charts[where] = _chart(b.chart, _source(datasets, b.chart.source, f"{where}.chart.source"),
                                   doc.languages, f"{where}.chart")
    return Resolved(replace(doc, tables), values, datasets, charts)


def _data_blocks(doc: Document) -> bool:
    return any(isinstance(b, ChartBlock) or (isinstance(b, TableBlock) and isinstance(b.table, DataTable))
               for _, b in walk(doc))


def _source(datasets: dict[str, Dataset], name: str, where: str) -> Dataset:
    if name not in datasets:
        raise SpecError(Problem(where, f"no data source {name!r} (data: {', '.join(datasets) or 'none'})"))
    return datasets[name]


def _localized(texts: dict[str, str]):
    """Per-language strings -> a plain string when they agree, else Localized."""
    vals = set(texts.values())
    if len(vals) == 1:
        return vals.pop()
    return Localized(**texts)


def _table(t: DataTable, ds: Dataset, langs: list[str], where: str) -> Table:
    cols = t.columns or list(ds.columns)
    for c in cols:
        ds.column(c, f"{where}.columns")
    rows = ds.rows[: t.limit] if t.limit else ds.rows
    cells = []
    for r in rows:
        row = []
        for c in cols:
            try:
                # cells are data: escaped so a value like "[x](https://…)" prints as it is
                row.append(_localized({lg: escape(format_value(r.get(c), t.format.get(c), lg)) for lg in langs}))
            except ValueError as e:
                raise SpecError(Problem(f"{where}.format.{c}", f"column {c!r}: {e}")) from None
        cells.append(row)
    align = t.align or ["right" if is_numeric(t.format.get(c)) else "left" for c in cols]
    return Table(header=[t.headers.get(c, c) for c in cols], rows=cells, caption=t.caption, widths=t.widths,
                 align=align)


def _chart(c: Chart, ds: Dataset, langs: list[str], where: str) -> dict:
    xs = ds.column(c.x, f"{where}.x")
    series = []
    for col in c.values:
        vals = ds.column(col, f"{where}.y")
        nums = []
        for i, v in enumerate(vals, start=1):
            try:
                nums.append(float(coerce(v, "number")) if v is not None else 0.0)
            except ValueError as e:
                raise SpecError(Problem(f"{where}.y", f"column {col!r}, row {i}: {e}")) from None
        name = c.series.get(col, col)
        series.append({"key": col, "name": name, "values": nums})
    if c.type == "pie" and any(v < 0 for v in series[0]["values"]):
        raise SpecError(Problem(f"{where}.y", "a pie chart cannot show negative values"))
    cats = []
    for x in xs:
        kind = "month" if isinstance(x, Month) else ("date" if hasattr(x, "isoformat") else "text")
        cats.append({lg: format_value(x, Format(type=kind), lg) for lg in langs})
    return {"type": c.type, "categories": cats, "series": series,
            "format": (c.format.model_dump() if c.format else {"type": "number", "decimals": None,
                                                                 "units": False, "currency": "CNY"})}
