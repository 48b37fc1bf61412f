"""docgen: document specs (YAML or Python) in, typeset bilingual Chinese/English PDFs out.

    import docgen
    result = docgen.render("guide.yaml", out="guide.pdf")
    report = docgen.check_pdf(result.pdf, "clreq")

The public API is what ``__all__`` lists: :func:`render`, :class:`Document` (the spec),
:class:`RenderResult`, :func:`check_pdf`, the region-backend types (:class:`RegionBackend`,
:class:`RegionRequest`, :class:`RegionImage`), :class:`Limits` and the errors; everything else is internal.

Importing docgen imports nothing else: each name is loaded at its first use (``docgen.render`` loads the
spec models, the layouts and the typesetter; ``docgen.check_pdf`` the checker), so a service or a command
pays only for what it uses.  Importing docgen never imports torch: the Qwen-Image backend loads its
libraries only when it generates.
"""
from __future__ import annotations

import sys as _sys
import types as _types
from importlib import import_module as _import
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["DocgenError", "Document", "LayoutError", "Limits", "ModelError", "OutputError", "RegionBackend",
           "RegionImage", "RegionRequest",
           "RenderError", "RenderResult", "Report", "SpecError", "check_pdf", "render", "__version__"]

# public name -> the module that defines it
_HOME = {
    "Report": ".check", "check_pdf": ".check",
    "DocgenError": ".errors", "LayoutError": ".errors", "ModelError": ".errors", "OutputError": ".errors",
    "RenderError": ".errors", "SpecError": ".errors",
    "RegionBackend": ".regions.base", "RegionImage": ".regions.base", "RegionRequest": ".regions.base",
    "RenderResult": ".render", "render": ".render",
    "Limits": ".spec.limits",
    "Document": ".spec.models",
}

if TYPE_CHECKING:                       # what type checkers and editors see: the names, eagerly
    from .check import Report, check_pdf
    from .errors import DocgenError, LayoutError, ModelError, OutputError, RenderError, SpecError
    from .regions.base import RegionBackend, RegionImage, RegionRequest
    from .render import RenderResult, render
    from .spec.limits import Limits
    from .spec.models import Document


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'docgen' has no attribute {name!r}")
    value = getattr(_import(home, __name__), name)
    setattr(_sys.modules[__name__], name, value)       # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(_types.ModuleType):
    """The package's module object.  ``docgen.render`` is the function, though ``docgen/render.py`` is
    also a submodule of that name: importing the submodule (``from docgen.render import …``, as the
    CLI and the batch runner do) binds the package's attribute to the module, which is put right here
    (the function it defines), as ``from .render import render`` in an eager ``__init__`` would."""

    def __setattr__(self, name: str, value) -> None:
        if name == "render" and isinstance(value, _types.ModuleType):
            value = value.render
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
