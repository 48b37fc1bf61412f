"""Extension elements: layout markup tags beyond the core set, mapped to flowable factories.

A factory ``make(ts, el) -> list[Flowable]`` takes the :class:`~docgen.typeset.document.Typesetter` and
the :class:`docgen.layout.tree.Element` and returns ReportLab flowables.  Modules that provide elements
(typeset/charts.py, typeset/gongwen.py, a user's own) register them here at import; this module imports
the built-in ones lazily, so a document that uses none of them pays nothing.

The contract — all a factory may use of the Typesetter (nothing with a leading underscore):

* text: ``ts.runs(spans, style, *, color, scale)`` (runs in a theme style), ``ts.block(spans, lang, style,
  …)`` (a paragraph flowable), ``ts.caption(texts, style)`` (one block per language),
  ``ts.bilingual(texts, make)`` (``make(lang, spans, secondary)`` arranged by the edition's mode),
  ``ts.languages_of(texts)`` ((lang, spans) in edition order), ``ts.note_missing(runs, spans)`` (warn
  about characters no font covers, for runs built by hand), ``ts.format_value(value, Format, lang)``
  (numbers as the spec formats them);
* structure (tagged PDF): ``ts.element(role, parent, **attrs)`` (a structure element, None when untagged),
  ``ts.block(…, role=, parent=, tag=)``; a flowable draws its content inside
  ``typeset.structure.marked(canvas, element)`` or passes the element to ``draw_line(…, tag)``, and its
  decoration inside ``typeset.structure.artifact(canvas)``; lines drawn without either are a ``P`` each;
* state: ``ts.state(key, factory)``, the extension's own object for the current layout pass (a two-pass
  document starts over in the second);
* read-only facts: ``ts.theme``, ``ts.sty`` (the theme's styles and font stacks), ``ts.tree``,
  ``ts.langs``, ``ts.mode``, ``ts.page_w``/``ts.page_h`` (pt);
* what it may add to: ``ts.warnings`` (strings) and ``ts.headings`` ((level, title, key) of this pass, for
  the outline and the contents; the flowable bookmarks ``key`` when drawn).

When drawing, a flowable finds the document template at ``canv._doctemplate`` (ReportLab's): ``dry`` is
true in the first of two passes (nothing is drawn); ``heading_pages`` (key -> page) and ``outline_level``
are what a heading records when drawn; ``blank_pages`` and ``unnumbered_pages`` are the page-number sets
the folio reads.
"""
from __future__ import annotations

import importlib
from typing import Callable

_REGISTRY: dict[str, Callable] = {}
# tag -> module that registers it (imported the first time the tag is met)
_PROVIDERS: dict[str, str] = {"chart": "docgen.typeset.charts"}
# official documents (GB/T 9704-2012), layout gongwen
_PROVIDERS.update(dict.fromkeys(
    ("gw-head", "gw-title", "gw-zhusong", "gw-p", "gw-h", "gw-table", "gw-fujian-shuoming", "gw-sign", "gw-fuzhu",
     "gw-fujian-head", "gw-banji", "gw-renyuan"), "docgen.typeset.gongwen"))


def register(tag: str, factory: Callable) -> None:
    _REGISTRY[tag] = factory


def draws(tag: str) -> Callable[[Callable], Callable]:
    """Decorator form of :func:`register`."""
    def deco(factory: Callable) -> Callable:
        register(tag, factory)
        return factory
    return deco


def get(tag: str) -> Callable | None:
    if tag not in _REGISTRY:
        # a tag nobody provides may be a spec block kind without markup of its own: docgen.typeset.blocks
        importlib.import_module(_PROVIDERS.get(tag, "docgen.typeset.blocks"))
    return _REGISTRY.get(tag)


def names() -> list[str]:
    return sorted(set(_REGISTRY) | set(_PROVIDERS))
