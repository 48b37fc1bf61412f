"""Printing values per language: a value and a :class:`~docgen.spec.models.Format` in, text out.

Chinese: 千分位 grouping (``12,345,678``), large numbers in 万 and 亿 (``1.28亿``), ``¥`` amounts, dates as
``2026年11月3日``.  English: the same grouping, K/M/B units, ``CNY 1,234.50``, dates as ``3 Nov 2026``.
Pure and deterministic: the same value always prints the same.
"""
from __future__ import annotations

from typing import Any

from ..spec.models import Format
from .values import coerce

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SYMBOL = {"zh": {"CNY": "¥", "USD": "US$", "EUR": "€", "HKD": "HK$", "JPY": "日元"},
           "en": {"CNY": "CNY ", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "JPY "}}
_UNITS = {"zh": ((1e8, "亿"), (1e4, "万")), "en": ((1e9, "B"), (1e6, "M"), (1e3, "K"))}
MISSING = "—"


def _grouped(x: float, decimals: int) -> str:
    s = f"{abs(x):,.{decimals}f}"
    if float(s.replace(",", "")) == 0:
        return s                      # no "-0.00"
    return ("-" if x < 0 else "") + s


def number(x: float, lang: str, *, decimals: int | None = None, units: bool = False) -> str:
    """``1234567.8`` -> ``1,234,567.8`` (both languages); with units ``123.46万`` / ``1.23M``."""
    if units:
        for size, unit in _UNITS["zh" if lang == "zh" else "en"]:
            if abs(x) >= size:
                return _grouped(x / size, 2 if decimals is None else decimals) + unit
    if decimals is None:
        decimals = 0 if float(x).is_integer() else 2
    return _grouped(x, decimals)


def format_value(value: Any, fmt: Format | None, lang: str) -> str:
    """One value as text in ``lang`` (zh or en); None prints as an em dash."""
    if value is None:
        return MISSING
    fmt = fmt or Format(type="text")
    kind = fmt.type
    lang = "zh" if lang == "zh" else "en"
    if kind == "text":
        return str(value)
    if kind in ("date", "month"):
        d = coerce(value, "date") if kind == "date" else coerce(value, "month")
        if lang == "zh":
            return f"{d.year}年{d.month}月" + (f"{d.day}日" if kind == "date" else "")
        return (f"{d.day} " if kind == "date" else "") + f"{_MONTHS[d.month - 1]} {d.year}"
    x = coerce(value, "number")
    if kind == "percent":
        return _grouped(x * 100, 1 if fmt.decimals is None else fmt.decimals) + "%"
    if kind == "currency":
        sym = _SYMBOL[lang].get(fmt.currency, fmt.currency + " ")
        dec = 2 if fmt.decimals is None else fmt.decimals
        body = number(abs(x), lang, decimals=dec, units=fmt.units)
        sign = "-" if x < 0 and body.strip("0.,") else ""
        if lang == "zh" and not sym.startswith(("¥", "US$", "€", "HK$")):
            return f"{sign}{body}{sym}"           # 1,200日元
        return f"{sign}{sym}{body}"
    return number(x, lang, decimals=fmt.decimals, units=fmt.units)


def is_numeric(fmt: Format | None) -> bool:
    return fmt is not None and fmt.type in ("number", "currency", "percent")


