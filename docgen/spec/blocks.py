"""Body blocks: the one list of block kinds a spec may use, and a walker that gives every block its id.

Input: one body entry (a one-key mapping such as ``- paragraph: …``).  Output: a validated block model.
:data:`BLOCKS` is the only list of block kinds in docgen: the ``Block`` union, the error message for an
unknown kind and :data:`BLOCK_KINDS` are made from it, and every later stage converts a block by its
class (``docs/architecture.md`` has the recipe for adding a kind).
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Iterator, Literal, Union

from pydantic import (BeforeValidator, ConfigDict, Discriminator, Field, PositiveFloat, Tag, field_validator,
                      model_validator)

from .base import SpecModel, Text

def _inline_text_schema(schema: dict) -> None:
    """The schema of Heading also allows the text's languages inline: {zh: …, en: …, level: 2}."""
    full = dict(schema)
    inline = {"type": "object", "additionalProperties": False, "anyOf": [{"required": ["zh"]}, {"required": ["en"]}],
              "properties": {"zh": {"type": "string"}, "en": {"type": "string"},
                             "level": full["properties"]["level"], "toc": full["properties"]["toc"]}}
    schema.clear()
    schema.update({"title": full.get("title", "Heading"), "description": full.get("description", ""),
                   "anyOf": [{k: v for k, v in full.items() if k not in ("title", "description")}, inline]})


class Heading(SpecModel):
    """``heading: 标题``, ``heading: {zh: …, en: …}`` or ``heading: {zh: …, en: …, level: 2}``."""

    text: Text
    level: int = Field(1, ge=1, le=3)
    toc: bool = True
    model_config = ConfigDict(json_schema_extra=lambda schema: _inline_text_schema(schema))

    @model_validator(mode="before")
    @classmethod
    def _inline_text(cls, v):
        if isinstance(v, dict) and "text" not in v and ("zh" in v or "en" in v):
            v = dict(v)
            v["text"] = {k: v.pop(k) for k in ("zh", "en") if k in v}
        return v


class ListBlockBody(SpecModel):
    items: list[Text] = Field(min_length=1)
    ordered: bool = False


class ImageBlockBody(SpecModel):
    path: str = Field(description="image file (PNG/JPEG), relative to the spec's folder")
    caption: Text | None = None
    width: float = Field(1.0, gt=0, le=1, description="fraction of the column width")
    alt: Text | None = Field(None, description="what the picture shows, for readers who cannot see it "
                                               "(the tagged PDF's Figure /Alt); required with --pdfua")


class Generate(SpecModel):
    """A region whose picture is generated (Qwen-Image, or the draft backend)."""

    prompt: str = Field(min_length=1, max_length=2000)
    text: Text | None = Field(None, description="display text the picture must carry")
    negative_prompt: str = ""
    aspect: Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"] | None = None
    size: tuple[int, int] | None = Field(None, description="[width, height] in pixels, multiples of 16")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    caption: Text | None = None
    width: float = Field(1.0, gt=0, le=1, description="fraction of the column width")
    alt: Text | None = Field(None, description="what the picture shows (the tagged PDF's Figure /Alt); "
                                               "default: its text, or a description from the prompt")

    @field_validator("size")
    @classmethod
    def _size(cls, v):
        if v is None:
            return v
        w, h = v
        for n in (w, h):
            if n % 16 or not 256 <= n <= 2048:
                raise ValueError("each side must be a multiple of 16 between 256 and 2048")
        return v

    @model_validator(mode="after")
    def _one_shape(self):
        if self.aspect and self.size:
            raise ValueError("give either aspect or size, not both")
        return self

    def ratio(self) -> float:
        """Width / height."""
        if self.size:
            return self.size[0] / self.size[1]
        a, b = (self.aspect or "16:9").split(":")
        return int(a) / int(b)


class Table(SpecModel):
    header: list[Text] = Field(min_length=1)
    rows: list[list[Text]] = Field(default_factory=list)
    caption: Text | None = None
    widths: list[PositiveFloat] | None = Field(None, description="relative column widths")
    align: list[Literal["left", "center", "right"]] | None = None

    @model_validator(mode="after")
    def _shape(self):
        n = len(self.header)
        for i, r in enumerate(self.rows):
            if len(r) != n:
                raise ValueError(f"row {i} has {len(r)} cells, the header has {n}")
        for name in ("widths", "align"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise ValueError(f"{name} has {len(v)} entries, the header has {n} columns")
        return self



def _format_shorthand(v):
    return {"type": v} if isinstance(v, str) else v


class Format(SpecModel):
    """How values print, per language: 千分位 grouping, 万/亿 units in Chinese, K/M/B in English."""

    type: Literal["text", "number", "currency", "percent", "date", "month"] = "number"
    decimals: int | None = Field(None, ge=0, le=6)
    units: bool = Field(False, description="large numbers in 万/亿 (zh) and K/M/B (en)")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


FormatSpec = Annotated[Format, BeforeValidator(_format_shorthand, json_schema_input_type=Union[
                           Literal["text", "number", "currency", "percent", "date", "month"], Format]),
                       Field(description="number | currency | percent | date | month | text, or {type: …, "
                                         "decimals: …, units: …}")]


class DataTable(SpecModel):
    """A table filled from a data source: ``table: {source: sales, columns: [...], format: {...}}``."""

    source: str
    columns: list[str] | None = Field(None, min_length=1, description="which columns, in order (default all)")
    headers: dict[str, Text] = Field(default_factory=dict, description="column -> header text")
    format: dict[str, FormatSpec] = Field(default_factory=dict, description="column -> format")
    caption: Text | None = None
    widths: list[PositiveFloat] | None = Field(None, description="relative column widths")
    align: list[Literal["left", "center", "right"]] | None = None
    limit: int | None = Field(None, ge=1, description="at most this many rows")

    @model_validator(mode="after")
    def _known_columns(self):
        if self.columns is not None:
            for name in ("headers", "format"):
                for k in getattr(self, name):
                    if k not in self.columns:
                        raise ValueError(f"{name}: {k!r} is not one of columns {self.columns}")
            for name in ("widths", "align"):
                v = getattr(self, name)
                if v is not None and len(v) != len(self.columns):
                    raise ValueError(f"{name} has {len(v)} entries, columns has {len(self.columns)}")
        return self


class Chart(SpecModel):
    """A chart drawn as vector graphics from a data source: x = category column, y = value column(s)."""

    type: Literal["bar", "line", "pie"]
    source: str
    x: str = Field(description="the category (label) column")
    y: Union[str, list[str]] = Field(description="the value column, or several (one series each)")
    series: dict[str, Text] = Field(default_factory=dict, description="value column -> legend name")
    title: Text | None = None
    caption: Text | None = None
    format: FormatSpec | None = None
    height: float = Field(70, ge=20, le=250, description="mm")
    width: float = Field(1.0, gt=0, le=1, description="fraction of the column width")

    @property
    def values(self) -> list[str]:
        return [self.y] if isinstance(self.y, str) else list(self.y)

    @model_validator(mode="after")
    def _shape(self):
        if not self.values:
            raise ValueError("y needs at least one column")
        if self.type == "pie" and len(self.values) != 1:
            raise ValueError("a pie chart has one value column")
        for k in self.series:
            if k not in self.values:
                raise ValueError(f"series: {k!r} is not one of the value columns {self.values}")
        return self


def _table_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "DataTable" if "source" in v else "Table"
    return type(v).__name__


AnyTable = Annotated[Union[Annotated[Table, Tag("Table")], Annotated[DataTable, Tag("DataTable")]],
                     Discriminator(_table_kind)]


class Empty(SpecModel):
    pass


# ---- body blocks: each is a one-key mapping, e.g. ``- paragraph: …``; the key is the block's kind ------------
class BlockModel(SpecModel):
    """A body block.  Its only field is named after its kind and holds the block's content."""

    kind: ClassVar[str]

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        names = [n for n, v in cls.__dict__.get("__annotations__", {}).items() if not str(v).startswith("ClassVar")]
        if len(names) == 1:
            cls.kind = names[0]

    @property
    def content(self) -> Any:
        return getattr(self, self.kind)


class HeadingBlock(BlockModel):
    heading: Union[str, Heading]

    @property
    def body(self) -> Heading:
        return self.heading if isinstance(self.heading, Heading) else Heading(text=self.heading)


class ParagraphBlock(BlockModel):
    paragraph: Text


class ListBlock(BlockModel):
    list: Union[ListBlockBody, "list[Text]"]

    @property
    def body(self) -> ListBlockBody:
        return self.list if isinstance(self.list, ListBlockBody) else ListBlockBody(items=self.list)


class ImageBlock(BlockModel):
    image: ImageBlockBody


class GenerateBlock(BlockModel):
    generate: Generate


class TableBlock(BlockModel):
    table: AnyTable


class ChartBlock(BlockModel):
    chart: Chart


class PageBreakBlock(BlockModel):
    page_break: Empty | None = None


# The block kinds, in the order the schema lists them.  Add a kind here (and its model above).
BLOCKS: tuple[type[BlockModel], ...] = (HeadingBlock, ParagraphBlock, ListBlock, ImageBlock, GenerateBlock,
                                        TableBlock, ChartBlock, PageBreakBlock)
BLOCK_KINDS: tuple[str, ...] = tuple(b.kind for b in BLOCKS)


def _block_kind(v: Any) -> str | None:
    if isinstance(v, dict):
        keys = [k for k in v if k in BLOCK_KINDS]
        return keys[0] if len(keys) == 1 and len(v) == 1 else None
    return v.kind if isinstance(v, BlockModel) else None


Block = Annotated[
    Union[tuple(Annotated[b, Tag(b.kind)] for b in BLOCKS)],  # type: ignore[valid-type]
    Discriminator(
        _block_kind,
        custom_error_type="block_kind",
        custom_error_message="each body entry is one of: " + ", ".join(BLOCK_KINDS)
        + " (a mapping with exactly one of these keys)",
    ),
]


def walk(model: Any, path: str = "") -> Iterator[tuple[str, BlockModel]]:
    """Every block in ``model`` (a Document, or any spec model) with its field path as id, in document
    order: ``body.3``, ``gongwen.fujian.0.body.1`` …  Blocks nested anywhere — attachments, or a block
    holding blocks — are found by the same walk, so each block has one id wherever it is used."""
    if isinstance(model, BlockModel):
        yield path, model
        yield from walk(model.content, path + "." + model.kind)
    elif isinstance(model, SpecModel):
        for name in type(model).model_fields:
            v = getattr(model, name)
            if isinstance(v, (SpecModel, list, tuple)):
                yield from walk(v, f"{path}.{name}" if path else name)
    elif isinstance(model, (list, tuple)):
        for i, x in enumerate(model):
            if isinstance(x, (SpecModel, list, tuple)):
                yield from walk(x, f"{path}.{i}")


def replace(model: Any, new: dict[str, Any], path: str = "") -> Any:
    """``model`` with the values at the given field paths (ids from :func:`walk`) replaced."""
    if not new:
        return model
    if isinstance(model, SpecModel):
        update = {}
        for name in type(model).model_fields:
            p = f"{path}.{name}" if path else name
            if p in new:
                update[name] = new[p]
            elif any(k.startswith(p + ".") for k in new):
                update[name] = replace(getattr(model, name), new, p)
        return model.model_copy(update=update) if update else model
    if isinstance(model, (list, tuple)):
        out = [new[f"{path}.{i}"] if f"{path}.{i}" in new else replace(x, new, f"{path}.{i}")
               for i, x in enumerate(model)]
        return type(model)(out)
    return model
