"""Layout markup: the XML a layout template writes in, a :class:`LayoutTree` out.

Elements: ``document`` (attr ``template``), ``p`` (attrs ``style``, ``once``: text the same in every
language set once, across a parallel edition's columns, not in each), ``h``, ``list``/``li``, ``image``, ``region``,
``table``/``thead``/``row``/``cell``, ``caption``, ``toc``, ``page-break``, ``spacer``,
``block`` (a spec block by id, for kinds without markup of their own); text lives in
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
    if len(el) == 1 and not el.text:            # the usual element: one <t> and nothing else
        t = el[0]
        if t.tag == "t":
            return {t.get("lang", "*"): parse(t.text or "")}
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


def parse_markup(markup: str, *, source: str = "template",
                 pictures: dict[str, T.PictureRequest] | None = None,
                 blocks: dict[str, dict] | None = None) -> T.LayoutTree:
    """``pictures``: the generate requests by region id; ``<region ref=…>`` must name one of them.
    ``blocks``: the spec's blocks' template mappings by id, for ``<block ref=…>``."""
    pictures = pictures or {}
    blocks = blocks or {}
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
            lt.blocks.append(T.Para(_texts(el), el.get("style", "body"), once=_bool(el, "once", False),
                                    ref=el.get("ref", "")))
        elif tag == "h":
            level = int(_float(el, "level", 1))
            lt.blocks.append(T.Heading(_texts(el), level, _bool(el, "toc", True), el.get("style", ""),
                                       el.get("ref", "")))
        elif tag == "list":
            lt.blocks.append(T.ListNode([_texts(li) for li in el.findall("li")], _bool(el, "ordered", False),
                                        el.get("style", "list"), el.get("ref", "")))
        elif tag in ("image", "region"):
            ref = el.get("ref") if tag == "region" else None
            if tag == "region" and ref not in pictures:
                known = ", ".join(sorted(pictures)) or "none"
                raise LayoutError(f"{source}: <region ref={ref!r}> names no picture the spec asks to be generated "
                                  f"(generate requests: {known})")
            lt.blocks.append(T.Figure(
                src=el.get("src") if tag == "image" else None,
                region=ref, request=pictures.get(ref) if ref else None,
                width=_float(el, "width", 1.0), height=_float(el, "height"),
                caption=_texts(el.find("caption")), style=el.get("style", "caption"),
                full_bleed=_bool(el, "full-bleed", False), alt=_texts(el.find("alt"))))
        elif tag == "table":
            head = el.find("thead")
            widths = el.get("widths")
            align = el.get("align")
            lt.blocks.append(T.TableNode(
                header=[_texts(c) for c in head.findall("cell")] if head is not None else [],
                rows=[[_texts(c) for c in row.findall("cell")] for row in el.findall("row")],
                caption=_texts(el.find("caption")),
                widths=[float(x) for x in widths.split(",")] if widths else None,
                align=align.split(",") if align else None, style=el.get("style", "table"), ref=el.get("ref", "")))
        elif tag == "toc":
            lt.blocks.append(T.Toc(_texts(el), el.get("style", "toc")))
        elif tag == "page-break":
            lt.blocks.append(T.PageBreak(el.get("template")))
        elif tag == "spacer":
            lt.blocks.append(T.Spacer(_float(el, "height", 5.0)))
        elif tag == "block":
            ref = el.get("ref")
            if ref not in blocks:
                raise LayoutError(f"{source}: <block ref={ref!r}> names no block of the spec")
            lt.blocks.append(T.Element(blocks[ref]["kind"], dict(el.attrib), data=blocks[ref]))
        else:
            lt.blocks.append(_element(el))
    return lt


def _element(el: ET.Element) -> T.Element:
    return T.Element(el.tag, dict(el.attrib), _texts(el), [_element(c) for c in el if c.tag != "t"])
