"""Extension elements: layout markup tags beyond the core set, mapped to flowable factories.

A factory takes the Typesetter and the :class:`docgen.layout.tree.Element` and returns flowables.
Modules that provide elements register them here at import; this module imports them lazily, so a
document that uses none of them pays nothing.
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
     "gw-fujian-head", "gw-banji"), "docgen.typeset.gongwen"))


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
