"""docgen: document specs (YAML or Python) in, typeset bilingual Chinese/English PDFs out.

    import docgen
    result = docgen.render("guide.yaml", out="guide.pdf")
    report = docgen.check_pdf(result.pdf, "clreq")

The public API is what ``__all__`` lists: :func:`render`, :class:`Document` (the spec),
:class:`RenderResult`, :func:`check_pdf`, the region-backend types (:class:`RegionBackend`,
:class:`RegionRequest`, :class:`RegionImage`), :class:`Limits` and the errors; everything else is internal.  Importing
docgen never imports torch: the Qwen-Image backend loads its libraries only when it generates.
"""
from .check import Report, check_pdf
from .errors import DocgenError, LayoutError, ModelError, OutputError, RenderError, SpecError
from .regions.base import RegionBackend, RegionImage, RegionRequest
from .render import RenderResult, render
from .spec.limits import Limits
from .spec.models import Document

__version__ = "0.1.0"
__all__ = ["DocgenError", "Document", "LayoutError", "Limits", "ModelError", "OutputError", "RegionBackend",
           "RegionImage", "RegionRequest",
           "RenderError", "RenderResult", "Report", "SpecError", "check_pdf", "render", "__version__"]
