"""The document spec: Pydantic models that are at once the YAML format, the Python API and the JSON Schema.

Input: a dict (from YAML or Python).  Output: a validated :class:`Document`.  Nothing here knows about
layouts, fonts or PDF; the models only say what a user may write.  Text and the model base are in
:mod:`.base`, body blocks in :mod:`.blocks`, official-document fields in :mod:`.gongwen`; this module
puts them together and re-exports their names.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Literal, Union

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .base import ASPECTS, LANGS, Lang, Localized, SpecModel, Text, ValueType, text_in
from .blocks import (BLOCK_KINDS, BLOCKS, AnyTable, Block, BlockModel, Chart, ChartBlock, DataTable, Empty, Format,
                     FormatSpec, Generate, GenerateBlock, Heading, HeadingBlock, ImageBlock, ImageBlockBody, ListBlock,
                     ListBlockBody, PageBreakBlock, ParagraphBlock, Table, TableBlock, walk)
from .gongwen import Fujian, Gongwen
from .limits import value_problems
from .theme import ThemeOverrides

__all__ = ["ASPECTS", "AnyTable", "BLOCKS", "BLOCK_KINDS", "Block", "BlockModel", "Chart", "ChartBlock", "Cover",
           "DataSource", "DataTable", "Document", "Empty", "Format", "FormatSpec", "Fujian", "Generate",
           "GenerateBlock", "Gongwen", "Heading", "HeadingBlock", "ImageBlock", "ImageBlockBody", "LANGS", "Lang",
           "ListBlock", "ListBlockBody", "Localized", "Meta", "PageBreakBlock", "ParagraphBlock", "Param", "PdfOutput",
           "SpecModel", "Table", "TableBlock", "Text", "ValueType", "text_in", "walk"]


# ---- data: named sources, typed parameters (data-bound blocks are in .blocks) ------------------------------
class Param(SpecModel):
    """A document parameter (``--param month=2026-11``, a batch row, a schedule): typed, with a default."""

    type: ValueType = "text"
    default: Any = Field(None, description="value when none is given; without it the parameter is required")
    choices: list[Union[str, int, float]] | None = None
    description: str = ""


class DataSource(SpecModel):
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


class Cover(SpecModel):
    """The title page / hero area that layouts with a cover use."""

    generate: Generate | None = None
    image: ImageBlockBody | None = None
    subtitle: Text | None = None

    @model_validator(mode="after")
    def _one_picture(self):
        if self.generate and self.image:
            raise ValueError("give either generate or image, not both")
        return self


class PdfOutput(SpecModel):
    """What kind of PDF to write; the render call's and the CLI's flags can only add to it."""

    pdfa: bool = Field(False, description="an archival PDF/A-2b file (sRGB output intent, XMP, PDF 1.7)")
    pdfua: bool = Field(False, description="a tagged PDF that claims PDF/UA-1 (every picture needs alt:)")
    tagged: bool = Field(False, description="a tagged PDF (structure tree, marked content) without the claim")


class Meta(SpecModel):
    title: Text
    subtitle: Text | None = None
    author: Text | None = None
    date: _dt.date | None = Field(None, description="document date; also the PDF's creation date")
    subject: Text | None = None
    keywords: list[str] = Field(default_factory=list)


VALUES_ERROR = "docgen_values"     # the error type of _safe_values (split into problems by spec.load)

Bilingual = Literal["parallel", "stacked", "zh", "en"]


class Document(SpecModel):
    """A docgen document: what YAML specs and ``docgen.render({...})`` describe.

    ``layout`` names a bundled layout or a layout folder; ``languages`` and ``bilingual`` choose the
    editions; ``meta`` is the title, author, date…; ``body`` the blocks in order (see
    :data:`docgen.spec.blocks.BLOCKS`); ``params`` and ``data`` the typed parameters and named data
    sources; ``gongwen`` the fields of an official document.  ``docgen schema`` prints it as JSON Schema."""

    layout: str = Field("report", description="a folder in layouts/, or a path to a layout folder")
    languages: list[Lang] = Field(default_factory=lambda: ["zh", "en"], min_length=1, max_length=2)
    bilingual: Bilingual | None = Field(
        None, description="parallel | stacked | zh | en (default: stacked for two languages)")
    meta: Meta
    theme: ThemeOverrides = Field(default_factory=ThemeOverrides, description="overrides of the layout's theme")
    cover: Cover | None = None
    body: list[Block] = Field(default_factory=list)
    # where the spec came from: (file name, {field path: line}); set by the YAML loader
    _source: Any = PrivateAttr(default=None)
    params: dict[str, Param] = Field(
        default_factory=dict, description="parameters (typed); {name} in the spec's text is replaced by the value")
    data: dict[str, DataSource] = Field(default_factory=dict, description="named data sources")
    gongwen: Gongwen | None = Field(None, description="official-document fields (公文要素) for layout: gongwen")
    pdf: PdfOutput = Field(default_factory=lambda: PdfOutput.model_validate({}),
                           description="archival (pdfa) and accessible (pdfua, tagged) output; "
                                       "--pdfa/--pdfua/--tagged add to it")

    @model_validator(mode="before")
    @classmethod
    def _safe_values(cls, data):
        # one pass over every string and number, YAML, dict or models alike: control characters, lone
        # surrogates, NaN and sizes over docgen.spec.limits are refused with their field paths
        found = value_problems(data)
        if found:
            raise PydanticCustomError(VALUES_ERROR, "{problems}",
                                      {"problems": "\n".join(f"{'.'.join(p)}\t{m}" for p, m in found)})
        return data

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
