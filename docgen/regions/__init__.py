"""The regions stage: generated-region requests in, pictures out, from the configured backend.

``DOCGEN_BACKEND`` (or ``--backend``) = ``auto`` (default: Qwen-Image when its weights and a GPU are
present, else draft), ``draft`` or ``qwen-image``.  Model location, dtype and memory mode come from
:class:`docgen.regions.config.ModelConfig` (env vars, config file, CLI flags) — never from a spec.
Heavy libraries load only inside the Qwen-Image backend, and only once weights were found.
"""
from __future__ import annotations

from typing import Sequence

from .base import RegionBackend, RegionImage, RegionRequest
from .draft import DraftBackend

__all__ = ["DraftBackend", "RegionBackend", "RegionImage", "RegionRequest", "generate_regions", "get_backend"]


def get_backend(name: str | None = None, config=None) -> tuple[RegionBackend, str | None]:
    """The backend to use, and a note when ``auto`` fell back to the draft backend (why)."""
    from .config import ModelConfig
    cfg = config or ModelConfig.from_env({"backend": name} if name else None)
    name = cfg.backend
    if name == "draft":
        return DraftBackend(), None
    from . import qwen
    backend, why = qwen.available_backend(required=(name == "qwen-image"), config=cfg)
    if backend is not None:
        return backend, None
    return DraftBackend(), why


def generate_regions(requests: Sequence[RegionRequest], backend: RegionBackend, config=None) -> list[RegionImage]:
    """One picture per request.  Model pictures go through the content-addressed cache and, where they
    must carry text, OCR verification (retries, then a picture without text plus a vector overlay).
    Draft art is drawn directly: it is instant, and its text is correct by construction."""
    if not requests:
        return []
    if isinstance(backend, DraftBackend):
        return backend.generate(list(requests))
    from .cache import RegionCache
    from .config import ModelConfig
    from .verify import generate_verified
    cfg = config or ModelConfig.from_env()
    return generate_verified(backend, list(requests), cache=RegionCache.from_config(cfg), budget=cfg.ocr_budget,
                             threshold=cfg.ocr_threshold)
