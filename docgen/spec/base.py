"""The spec's building bricks: the model base class and localized text.

Input: plain values (from YAML or Python).  Output: validated text — a plain string (the same in every
language) or :class:`Localized` ``{zh: …, en: …}``.  Every other spec module builds on these.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")
ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
ValueType = Literal["text", "int", "number", "date", "month", "bool"]


class SpecModel(BaseModel):
    """Base of every spec model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

class Localized(SpecModel):
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
Text = Annotated[Union[str, Localized],
                 BeforeValidator(_number_as_text, json_schema_input_type=Union[str, int, float, Localized]),
                 Field(description="text, or {zh: …, en: …}")]


def text_in(text: "Text | None", lang: str) -> str | None:
    """The text of ``text`` in ``lang`` (a plain string serves every language)."""
    if text is None:
        return None
    if isinstance(text, str):
        return text
    return text.get(lang)

