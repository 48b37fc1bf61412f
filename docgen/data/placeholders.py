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

from ..errors import Problem, SpecError
from ..spec.inline import escape
from ..spec.models import Document

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# values under these keys are not text a reader sees: never formatted
_SKIP = {"source", "x", "y", "columns", "format", "path", "type", "align", "widths", "size", "aspect"}


class RestrictedFormatter(string.Formatter):
    """``str.format`` limited to plain names, looked up in the mapping given."""

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
        try:
            return format(value, format_spec)
        except (ValueError, TypeError) as e:
            raise ValueError(f"cannot format {value!s} with {format_spec!r}: {e}") from None


_FMT = RestrictedFormatter()


class _InlineFormatter(RestrictedFormatter):
    """Values set into inline text are data: their markers are escaped."""

    def format_field(self, value, format_spec):
        return escape(super().format_field(value, format_spec))


_FMT_INLINE = _InlineFormatter()
# strings that are not inline text: prompts go to the image model, generate.text is painted as is
_RAW = {"prompt", "negative_prompt"}


def fill(text: str, values: dict[str, Any], *, inline: bool = False) -> str:
    """``text`` with its placeholders filled; ValueError (a user-facing message) when one is wrong.
    ``inline``: the text is parsed for **bold**, [links](…): escape the values set into it."""
    if "{" not in text and "}" not in text:
        return text
    return (_FMT_INLINE if inline else _FMT).vformat(text, (), values)


def _raw(path: tuple) -> bool:
    tail = path[-3:]
    return path[-1] in _RAW or any(tail[i:i + 2] == ("generate", "text") for i in range(len(tail) - 1))


def fill_document(doc: Document, values: dict[str, Any]) -> Document:
    if not doc.params:
        return doc
    problems: list[Problem] = []

    def walk(v, path):
        if isinstance(v, str):
            try:
                return fill(v, values, inline=not _raw(path))
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
    return Document.model_validate(data)
