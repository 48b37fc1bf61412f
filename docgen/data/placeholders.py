"""Placeholders in a spec's text: ``{month}`` in a paragraph, filled from the document's parameters.

Input: a Document whose ``params`` are declared, and their values.  Output: the same Document with
``{name}`` (and ``{name:format}``, e.g. ``{month:%Y年%-m月}``) replaced in its text.  The formatter is
restricted: plain names only — no attribute or index access (``{x.__class__}``, ``{x[0]}`` are errors) —
so a parameter's value is data, never code.  ``{{`` and ``}}`` write literal braces.  Specs without
``params`` are left untouched.  Data sources, paths, column names and formats are never formatted.
"""
from __future__ import annotations

import re
import string
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, SpecError
from ..spec import limits
from ..spec.inline import escape
from ..spec.models import Document

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# values under these keys are not text a reader sees: never formatted
_SKIP = {"source", "x", "y", "columns", "format", "path", "type", "align", "widths", "size", "aspect"}


class RestrictedFormatter(string.Formatter):
    """``str.format`` limited to plain names, looked up in the mapping given, and to ``chars`` characters
    of filled-in values (``{a}{a}{a}…`` with a long ``a`` is refused before it takes the memory)."""

    def __init__(self, chars: int = limits.TEXT_CHARS):
        self.chars = chars

    def get_field(self, field_name, args, kwargs):
        if not _NAME.fullmatch(field_name):
            raise ValueError(f"{{{field_name}}}: only plain parameter names are allowed in placeholders")
        if field_name not in kwargs:
            known = ", ".join(sorted(kwargs)) or "none"
            raise ValueError(f"{{{field_name}}} is not a parameter (parameters: {known})")
        return kwargs[field_name], field_name

    def convert_field(self, value, conversion):
        if conversion not in (None, "s"):
            raise ValueError(f"!{conversion} is not allowed in placeholders")
        return value

    def format_field(self, value, format_spec):
        if any(int(w) > limits.PLACEHOLDER_WIDTH for w in _NUMBER.findall(format_spec)):
            raise ValueError(f"format {format_spec!r}: a width or precision over {limits.PLACEHOLDER_WIDTH}")
        try:
            out = format(value, format_spec)
        except (ValueError, TypeError) as e:
            raise ValueError(f"cannot format {value!s} with {format_spec!r}: {e}") from None
        self.chars -= len(out)
        if self.chars < 0:
            raise ValueError("the text with its placeholders filled is over the limit of "
                             f"{limits.TEXT_CHARS:,} characters (or the document's {limits.PLACEHOLDER_CHARS:,})")
        return out


_NUMBER = re.compile(r"\d+")


class _InlineFormatter(RestrictedFormatter):
    """Values set into inline text are data: their markers are escaped."""

    def format_field(self, value, format_spec):
        return escape(super().format_field(value, format_spec))


# strings that are not inline text: prompts go to the image model, generate.text is painted as is
_RAW = {"prompt", "negative_prompt"}


def fill(text: str, values: dict[str, Any], *, inline: bool = False, chars: int = limits.TEXT_CHARS) -> str:
    """``text`` with its placeholders filled; ValueError (a user-facing message) when one is wrong.
    ``inline``: the text is parsed for **bold**, [links](…): escape the values set into it.  ``chars``:
    at most this many characters of values are filled in."""
    if "{" not in text and "}" not in text:
        return text
    return (_InlineFormatter if inline else RestrictedFormatter)(chars).vformat(text, (), values)


def _raw(path: tuple) -> bool:
    tail = path[-3:]
    return path[-1] in _RAW or any(tail[i:i + 2] == ("generate", "text") for i in range(len(tail) - 1))


def fill_document(doc: Document, values: dict[str, Any]) -> Document:
    if not doc.params:
        return doc
    problems: list[Problem] = []
    left = [limits.PLACEHOLDER_CHARS]           # characters all the spec's filled texts may still take

    def walk(v, path):
        if isinstance(v, str):
            try:
                out = fill(v, values, inline=not _raw(path), chars=min(limits.TEXT_CHARS, left[0]))
                left[0] -= len(out)
                return out
            except (ValueError, IndexError) as e:
                problems.append(Problem(".".join(path), str(e)))
                return v
        if isinstance(v, dict):
            return {k: (x if k in _SKIP else walk(x, path + (str(k),))) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, path + (str(i),)) for i, x in enumerate(v)]
        return v

    data = doc.model_dump(exclude_unset=True)
    for key in ("meta", "cover", "body", "gongwen"):
        if key in data:
            data[key] = walk(data[key], (key,))
    if problems:
        raise SpecError(problems)
    try:
        return Document.model_validate(data)
    except ValidationError as e:                # e.g. a parameter's value put a control character in
        from ..spec.load import problems_from
        raise SpecError(problems_from(e)) from None
