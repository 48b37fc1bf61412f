"""The regions stage: generated-region requests in, pictures out, from the configured backend.

``DOCGEN_BACKEND`` = ``auto`` (default: Qwen-Image when its weights and a GPU are present, else draft),
``draft`` or ``qwen-image``.  Heavy libraries load only inside the Qwen-Image backend.
"""
from __future__ import annotations

import os
from typing import Sequence

from .base import RegionBackend, RegionImage, RegionRequest
from .draft import DraftBackend

__all__ = ["DraftBackend", "RegionBackend", "RegionImage", "RegionRequest", "generate_regions", "get_backend"]


def get_backend(name: str | None = None) -> tuple[RegionBackend, str | None]:
    """The backend to use, and a note when ``auto`` fell back to the draft backend (why)."""
    name = name or os.environ.get("DOCGEN_BACKEND", "auto")
    if name == "draft":
        return DraftBackend(), None
    if name not in ("auto", "qwen-image"):
        from ..errors import DocgenError
        raise DocgenError(f"unknown region backend {name!r} (auto, draft, qwen-image)")
    try:
        from . import qwen
    except ImportError:
        qwen = None
    if qwen is not None and hasattr(qwen, "available_backend"):
        backend, why = qwen.available_backend(required=(name == "qwen-image"))
        if backend is not None:
            return backend, None
        return DraftBackend(), why
    if name == "qwen-image":
        from ..errors import ModelError
        raise ModelError("the qwen-image backend is not installed (pip install 'docgen[qwen]')")
    return DraftBackend(), "no Qwen-Image backend available"


def generate_regions(requests: Sequence[RegionRequest], backend: RegionBackend) -> list[RegionImage]:
    if not requests:
        return []
    return backend.generate(list(requests))
