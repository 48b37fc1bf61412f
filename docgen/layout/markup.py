"""Layout markup: the XML a layout template writes in, a :class:`LayoutTree` out.

Elements: ``document`` (attr ``template``), ``p``, ``h``, ``list``/``li``, ``image``, ``region``,
``table``/``thead``/``row``/``cell``, ``caption``, ``toc``, ``page-break``, ``spacer``; text lives in
``<t lang="zh|en|*">`` children and is parsed with the inline syntax (user text arrives here
autoescaped, so it is character data, never markup).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..errors import LayoutError
from . import tree as T
from ..spec.inline import parse


def _texts(el: ET.Element | None) -> T.Texts:
    out: T.Texts = {}
    if el is None:
        return out
    if el.text and el.text.strip() and el.find("t") is None:
        return {"*": parse(el.text.strip())}      # bare text: the same in every language
    for t in el.findall("t"):
        lang = t.get("lang", "*")
        out[lang] = parse(t.text or "")
    return out


def _float(el, name, default=None):
    v = el.get(name)
    if v is None:
        return default
    try:
        return float(v)
    except ValueError:
        raise LayoutError(f"layout markup: <{el.tag} {name}={v!r}> is not a number") from None


def _bool(el, name, default):
    v = el.get(name)
    return default if v is None else v.lower() in ("1", "true", "yes")


def parse_markup(markup: str, *, source: str = "template") -> T.LayoutTree:
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as e:
        line = e.position[0] if hasattr(e, "position") else "?"
        raise LayoutError(f"{source}: the template produced malformed markup (line {line} of its output): {e}") \
            from None
    if root.tag != "document":
        raise LayoutError(f"{source}: markup must have <document> at the top, not <{root.tag}>")
    lt = T.LayoutTree(first_template=root.get("template", "body"))
    for el in root:
        tag = el.tag
        if tag == "p":
            lt.blocks.append(T.Para(_texts(el), el.get("style", "body")))
        elif tag == "h":
            level = int(_float(el, "level", 1))
            lt.blocks.append(T.Heading(_texts(el), level, _bool(el, "toc", True), el.get("style", "")))
        elif tag == "list":
            lt.blocks.append(T.ListNode([_texts(li) for li in el.findall("li")], _bool(el, "ordered", False),
                                        el.get("style", "list")))
        elif tag in ("image", "region"):
            lt.blocks.append(T.Figure(
                src=el.get("src") if tag == "image" else None,
                region=el.get("ref") if tag == "region" else None,
                width=_float(el, "width", 1.0), height=_float(el, "height"),
                caption=_texts(el.find("caption")), style=el.get("style", "caption"),
                full_bleed=_bool(el, "full-bleed", False)))
        elif tag == "table":
            head = el.find("thead")
            widths = el.get("widths")
            align = el.get("align")
            lt.blocks.append(T.TableNode(
                header=[_texts(c) for c in head.findall("cell")] if head is not None else [],
                rows=[[_texts(c) for c in row.findall("cell")] for row in el.findall("row")],
                caption=_texts(el.find("caption")),
                widths=[float(x) for x in widths.split(",")] if widths else None,
                align=align.split(",") if align else None, style=el.get("style", "table")))
        elif tag == "toc":
            lt.blocks.append(T.Toc(_texts(el), el.get("style", "toc")))
        elif tag == "page-break":
            lt.blocks.append(T.PageBreak(el.get("template")))
        elif tag == "spacer":
            lt.blocks.append(T.Spacer(_float(el, "height", 5.0)))
        else:
            lt.blocks.append(_element(el))
    return lt


def _element(el: ET.Element) -> T.Element:
    return T.Element(el.tag, dict(el.attrib), _texts(el), [_element(c) for c in el if c.tag != "t"])
