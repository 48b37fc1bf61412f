"""The document spec: Pydantic models that are at once the YAML format, the Python API and the JSON Schema.

Input: a dict (from YAML or Python).  Output: a validated :class:`Document`.  Nothing here knows about
layouts, fonts or PDF; the models only say what a user may write.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, BeforeValidator, PositiveFloat, PrivateAttr, ConfigDict, Discriminator, Field, Tag, field_validator,
                      model_validator)

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")
ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Model):
    """Text in each language, e.g. ``{zh: 景点介绍, en: Highlights}``."""

    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _not_empty(self):
        if self.zh is None and self.en is None:
            raise ValueError("give the text in at least one language (zh or en)")
        return self

    def get(self, lang: str) -> str | None:
        return getattr(self, lang)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def _number_as_text(v):
    # table cells and the like: 55 or 3.5 in YAML mean the text "55" / "3.5", as written (the YAML loader's
    # numbers remember their source text, so 1.10 stays "1.10" and 0755 stays "0755")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return getattr(v, "source", None) or str(v)
    if isinstance(v, str):
        m = _CONTROL.search(v)
        if m:
            raise ValueError(f"control character U+{ord(m.group()):04X} is not allowed in text")
    return v


# A plain string means the same text in every language.
Text = Annotated[Union[str, Localized], BeforeValidator(_number_as_text),
                 Field(description="text, or {zh: …, en: …}")]


def text_in(text: "Text | None", lang: str) -> str | None:
    """The text of ``text`` in ``lang`` (a plain string serves every language)."""
    if text is None:
        return None
    if isinstance(text, str):
        return text
    return text.get(lang)


class Heading(_Model):
    """``heading: 标题``, ``heading: {zh: …, en: …}`` or ``heading: {zh: …, en: …, level: 2}``."""

    text: Text
    level: int = Field(1, ge=1, le=3)
    toc: bool = True

    @model_validator(mode="before")
    @classmethod
    def _inline_text(cls, v):
        if isinstance(v, dict) and "text" not in v and ("zh" in v or "en" in v):
            v = dict(v)
            v["text"] = {k: v.pop(k) for k in ("zh", "en") if k in v}
        return v


class ListBlockBody(_Model):
    items: list[Text] = Field(min_length=1)
    ordered: bool = False


class ImageBlockBody(_Model):
    path: str = Field(description="image file (PNG/JPEG), relative to the spec's folder")
    caption: Text | None = None
    width: float = Field(1.0, gt=0, le=1, description="fraction of the column width")


class Generate(_Model):
    """A region whose picture is generated (Qwen-Image, or the draft backend)."""

    prompt: str = Field(min_length=1, max_length=2000)
    text: Text | None = Field(None, description="display text the picture must carry")
    negative_prompt: str = ""
    aspect: Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"] | None = None
    size: tuple[int, int] | None = Field(None, description="[width, height] in pixels, multiples of 16")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    caption: Text | None = None
    width: float = Field(1.0, gt=0, le=1, description="fraction of the column width")

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


class Table(_Model):
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


# ---- data: named sources, typed parameters, data-bound blocks ---------------------------------------------
ValueType = Literal["text", "int", "number", "date", "month", "bool"]


class Param(_Model):
    """A document parameter (``--param month=2026-11``, a batch row, a schedule): typed, with a default."""

    type: ValueType = "text"
    default: Any = Field(None, description="value when none is given; without it the parameter is required")
    choices: list[Union[str, int, float]] | None = None
    description: str = ""


class DataSource(_Model):
    """A named source: a file (CSV, JSON or YAML: a list of records) or an SQL query on a database."""

    file: str | None = Field(None, description="CSV/JSON/YAML file relative to the spec's folder")
    records: str | None = Field(None, description="JSON/YAML: the key that holds the list of records")
    sql: str | None = Field(None, description="a query; parameters as :name, bound (never formatted in)")
    url: str | None = Field(None, description="SQLAlchemy URL, e.g. sqlite:///sales.sqlite (relative to the "
                                              "spec's folder) or postgresql://…")
    columns: dict[str, ValueType] = Field(default_factory=dict, description="column types (checked)")

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.file is None) == (self.sql is None):
            raise ValueError("give either file (CSV/JSON/YAML) or sql (with url)")
        if self.sql is not None and not self.url:
            raise ValueError("an sql source needs url (e.g. sqlite:///data.sqlite)")
        if self.file is not None and self.url:
            raise ValueError("url belongs to an sql source")
        if self.file is not None and not re.search(r"\.(csv|json|ya?ml)$", self.file, re.I):
            raise ValueError("file must be .csv, .json, .yaml or .yml")
        return self


def _format_shorthand(v):
    return {"type": v} if isinstance(v, str) else v


class Format(_Model):
    """How values print, per language: 千分位 grouping, 万/亿 units in Chinese, K/M/B in English."""

    type: Literal["text", "number", "currency", "percent", "date", "month"] = "number"
    decimals: int | None = Field(None, ge=0, le=6)
    units: bool = Field(False, description="large numbers in 万/亿 (zh) and K/M/B (en)")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


FormatSpec = Annotated[Format, BeforeValidator(_format_shorthand),
                       Field(description="number | currency | percent | date | month | text, or {type: …, "
                                         "decimals: …, units: …}")]


class DataTable(_Model):
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


class Chart(_Model):
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


class Empty(_Model):
    pass


# ---- body blocks: each is a one-key mapping, e.g. ``- paragraph: …`` -------------------------------------
class HeadingBlock(_Model):
    heading: Union[str, Heading]

    @property
    def body(self) -> Heading:
        return self.heading if isinstance(self.heading, Heading) else Heading(text=self.heading)


class ParagraphBlock(_Model):
    paragraph: Text


class ListBlock(_Model):
    list: Union[ListBlockBody, "list[Text]"]

    @property
    def body(self) -> ListBlockBody:
        return self.list if isinstance(self.list, ListBlockBody) else ListBlockBody(items=self.list)


class ImageBlock(_Model):
    image: ImageBlockBody


class GenerateBlock(_Model):
    generate: Generate


class TableBlock(_Model):
    table: AnyTable


class ChartBlock(_Model):
    chart: Chart


class PageBreakBlock(_Model):
    page_break: Empty | None = None


BLOCK_KINDS = ("heading", "paragraph", "list", "image", "generate", "table", "chart", "page_break")


def _block_kind(v: Any) -> str | None:
    if isinstance(v, dict):
        keys = [k for k in v if k in BLOCK_KINDS]
        return keys[0] if len(keys) == 1 and len(v) == 1 else None
    for k in BLOCK_KINDS:
        if getattr(v, k, None) is not None or (k == "page_break" and isinstance(v, PageBreakBlock)):
            return k
    return None


Block = Annotated[
    Union[
        Annotated[HeadingBlock, Tag("heading")],
        Annotated[ParagraphBlock, Tag("paragraph")],
        Annotated[ListBlock, Tag("list")],
        Annotated[ImageBlock, Tag("image")],
        Annotated[GenerateBlock, Tag("generate")],
        Annotated[TableBlock, Tag("table")],
        Annotated[ChartBlock, Tag("chart")],
        Annotated[PageBreakBlock, Tag("page_break")],
    ],
    Discriminator(
        _block_kind,
        custom_error_type="block_kind",
        custom_error_message="each body entry is one of: " + ", ".join(BLOCK_KINDS)
        + " (a mapping with exactly one of these keys)",
    ),
]


class Cover(_Model):
    """The title page / hero area that layouts with a cover use."""

    generate: Generate | None = None
    image: ImageBlockBody | None = None
    subtitle: Text | None = None

    @model_validator(mode="after")
    def _one_picture(self):
        if self.generate and self.image:
            raise ValueError("give either generate or image, not both")
        return self


class Meta(_Model):
    title: Text
    subtitle: Text | None = None
    author: Text | None = None
    date: _dt.date | None = Field(None, description="document date; also the PDF's creation date")
    subject: Text | None = None
    keywords: list[str] = Field(default_factory=list)


Bilingual = Literal["parallel", "stacked", "zh", "en"]

from .gongwen import Gongwen  # noqa: E402  (its fields use Text and Block, defined above)


class Document(_Model):
    """A docgen document."""

    layout: str = Field("report", description="a folder in layouts/, or a path to a layout folder")
    languages: list[Lang] = Field(default_factory=lambda: ["zh", "en"], min_length=1, max_length=2)
    bilingual: Bilingual | None = Field(
        None, description="parallel | stacked | zh | en (default: stacked for two languages)")
    meta: Meta
    theme: dict[str, Any] = Field(default_factory=dict, description="overrides of the layout's theme")
    cover: Cover | None = None
    body: list[Block] = Field(default_factory=list)
    # where the spec came from: (file name, {field path: line}); set by the YAML loader
    _source: Any = PrivateAttr(default=None)
    params: dict[str, Param] = Field(
        default_factory=dict, description="parameters (typed); {name} in the spec's text is replaced by the value")
    data: dict[str, DataSource] = Field(default_factory=dict, description="named data sources")
    gongwen: Gongwen | None = Field(None, description="official-document fields (公文要素) for layout: gongwen")

    @field_validator("languages")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("languages must not repeat")
        return v

    @field_validator("layout")
    @classmethod
    def _layout_name(cls, v):
        if not v.strip():
            raise ValueError("layout must not be empty")
        return v

    @model_validator(mode="after")
    def _mode(self):
        mode = self.bilingual
        if mode in ("parallel", "stacked") and len(self.languages) < 2:
            raise ValueError(f"bilingual: {mode} needs two languages (languages: [zh, en])")
        if mode in ("zh", "en") and mode not in self.languages:
            raise ValueError(f"bilingual: {mode} is not one of the document's languages {self.languages}")
        if self.layout == "gongwen" and self.gongwen is None:
            raise ValueError("layout: gongwen needs the gongwen: fields (biaozhi, chengwen_riqi, …)")
        return self

    @property
    def mode(self) -> str:
        """The bilingual mode in effect."""
        if self.bilingual:
            return self.bilingual
        return "stacked" if len(self.languages) == 2 else self.languages[0]

    @property
    def primary(self) -> str:
        return self.languages[0]
