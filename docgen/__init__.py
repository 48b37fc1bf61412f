"""docgen: document specs (YAML or Python) in, typeset bilingual Chinese/English PDFs out.

    import docgen
    result = docgen.render("guide.yaml", out="guide.pdf")

The public API is what ``__all__`` lists; everything else is internal.  Importing docgen never imports
torch: the Qwen-Image backend loads its libraries only when it generates.
"""
from .errors import DocgenError, SpecError
from .render import RenderResult, render
from .spec.models import Document

__version__ = "0.1.0"
__all__ = ["Document", "DocgenError", "RenderResult", "SpecError", "render", "__version__"]
