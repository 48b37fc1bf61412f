"""Body blocks for templates: each spec block in, the mapping a layout template sees for it out.

One conversion per block kind, looked up by the block's model class; a kind with no conversion is an
error naming the block, never a silent page break.  Every mapping holds ``kind`` and ``id`` (the block's
field path from :func:`docgen.spec.blocks.walk`, e.g. ``body.3`` or ``gongwen.fujian.0.body.1``), plus
the block's fields; templates write markup from it (``layouts/_shared/blocks.j2`` has the standard markup).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from ..errors import LayoutError
from ..spec.models import (BlockModel, ChartBlock, GenerateBlock, HeadingBlock, ImageBlock, ListBlock, Localized,
                           PageBreakBlock, ParagraphBlock, TableBlock)

Conversion = Callable[[Any, str, Any], dict]     # (block, id, data stage result) -> template fields
_CONVERSIONS: dict[type[BlockModel], Conversion] = {}


def converts(kind: type[BlockModel]) -> Callable[[Conversion], Conversion]:
    """Register the conversion of one block kind (a decorator)."""
    def register(fn: Conversion) -> Conversion:
        _CONVERSIONS[kind] = fn
        return fn
    return register


def to_template(block: BlockModel, block_id: str, data: Any = None) -> dict:
    """The template mapping of one block: ``{"kind": …, "id": …, **fields}``."""
    conv = _CONVERSIONS.get(type(block))
    if conv is None:
        raise LayoutError(f"{block_id}: the layout stage has no conversion for block kind "
                          f"{getattr(block, 'kind', type(block).__name__)!r} (add one in docgen/layout/blocks.py)")
    return {"kind": block.kind, "id": block_id, **conv(block, block_id, data)}


def dump(v):
    """Spec values for templates: models become dicts that hold every field (None when not given,
    so ``{% if meta.subtitle %}`` works under StrictUndefined); localized text keeps only its languages."""
    if v is None:
        return None
    if isinstance(v, Localized):
        return v.model_dump(exclude_none=True)
    if hasattr(type(v), "model_fields"):
        return {name: dump(getattr(v, name)) for name in type(v).model_fields}
    if isinstance(v, (list, tuple)):
        return [dump(x) for x in v]
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


@converts(HeadingBlock)
def _heading(b: HeadingBlock, _id, _data) -> dict:
    h = b.body
    return {"text": dump(h.text), "level": h.level, "toc": h.toc}


@converts(ParagraphBlock)
def _paragraph(b: ParagraphBlock, _id, _data) -> dict:
    return {"text": dump(b.paragraph)}


@converts(ListBlock)
def _list(b: ListBlock, _id, _data) -> dict:
    return {"items": [dump(x) for x in b.body.items], "ordered": b.body.ordered}


@converts(ImageBlock)
def _image(b: ImageBlock, _id, _data) -> dict:
    return dump(b.image)


@converts(GenerateBlock)
def _generate(b: GenerateBlock, _id, _data) -> dict:
    # the request itself travels in the layout tree (the <region ref=…> the template writes)
    return {"caption": dump(b.generate.caption), "width": b.generate.width, "has_text": b.generate.text is not None,
            "alt": dump(b.generate.alt)}


@converts(TableBlock)
def _table(b: TableBlock, _id, _data) -> dict:
    return dump(b.table)


_NO_FORMAT = {"type": "number", "decimals": None, "units": False, "currency": "CNY"}


@converts(ChartBlock)
def _chart(b: ChartBlock, block_id, data) -> dict:
    c, series = b.chart, (data.charts.get(block_id) if data is not None else None) or {}
    return {"type": c.type, "title": dump(c.title), "caption": dump(c.caption), "width": c.width, "height": c.height,
            "format": series.get("format") or dict(_NO_FORMAT), "categories": series.get("categories", []),
            "series": [{"key": s["key"], "name": dump(s["name"]), "values": s["values"]}
                       for s in series.get("series", [])]}


@converts(PageBreakBlock)
def _page_break(_b, _id, _data) -> dict:
    return {}
