"""Typed values: raw values (CLI strings, CSV cells, YAML scalars, SQL results) in, checked Python values out.

Types: ``text``, ``int``, ``number``, ``date`` (2026-11-03), ``month`` (2026-11) and ``bool``.  A value
that does not fit its type raises ``ValueError`` with a message fit for a user; callers add the field
path.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class Month(_dt.date):
    """A calendar month: prints as ``2026-11``; ``{month:%Y年%-m月}`` formats it like a date."""

    def __new__(cls, year: int, month: int):
        return super().__new__(cls, year, month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return self.strftime(spec) if spec else str(self)

    def __reduce__(self):
        return (Month, (self.year, self.month))

    def previous(self) -> "Month":
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)


def coerce(value: Any, kind: str) -> Any:
    """``value`` as type ``kind``; None stays None (a missing value)."""
    if value is None:
        return None
    if isinstance(value, str) and kind != "text":
        value = value.strip()
        if value == "":
            return None
    if kind == "text":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
            return int(value)
        raise ValueError(f"{value!r} is not a whole number")
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        if isinstance(value, (int, float)):
            out = value
        else:
            try:
                out = float(str(value))
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        if isinstance(out, float) and not math.isfinite(out):
            raise ValueError(f"{value!r} is not a finite number")
        if hasattr(out, "__float__") and not isinstance(out, (int, float)):
            out = float(out)          # Decimal from a database driver
        return out
    if kind == "date":
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        try:
            return _dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if kind == "month":
        if isinstance(value, _dt.date):
            return Month(value.year, value.month)
        m = _MONTH.match(str(value)) or re.match(r"^(\d{4})-(\d{1,2})-\d{1,2}", str(value))
        if m and 1 <= int(m.group(2)) <= 12:
            return Month(int(m.group(1)), int(m.group(2)))
        raise ValueError(f"{value!r} is not a month (YYYY-MM)")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError(f"{value!r} is not true or false")
    raise ValueError(f"unknown type {kind!r}")


def plain(value: Any) -> Any:
    """A typed value as plain JSON/SQL data: dates as ISO text, months as ``YYYY-MM``."""
    if isinstance(value, Month):
        return str(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value
