"""The regions stage: generated-region requests in, pictures out, from the configured backend.

``DOCGEN_BACKEND`` (or ``--backend``) = ``auto`` (default: Qwen-Image when its weights and a GPU are
present, else draft) or a registered backend (:mod:`docgen.regions.registry`: ``draft``,
``qwen-image``, and any :func:`register` adds).  Model location, dtype and memory mode come from
:class:`docgen.regions.config.ModelConfig` (env vars, config file, CLI flags) — never from a spec.
Heavy libraries load only inside the Qwen-Image backend, and only once weights were found.
"""
from __future__ import annotations

from typing import Sequence

from .base import Capabilities, RegionBackend, RegionImage, RegionRequest
from .draft import DraftBackend
from .registry import AUTO, backend_names, create_backend, get_backend, register

__all__ = ["AUTO", "Capabilities", "DraftBackend", "RegionBackend", "RegionImage", "RegionRequest",
           "backend_names", "create_backend", "generate_regions", "get_backend", "register", "unload"]


def generate_regions(requests: Sequence[RegionRequest], backend: RegionBackend, config=None) -> list[RegionImage]:
    """One picture per request, in order.  What happens between the backend and the page follows its
    capabilities: a cacheable backend's pictures go through the content-addressed cache; where its
    lettering may be wrong (``verify_text``), text-bearing pictures are read back with OCR (retries,
    then a picture without text plus a vector overlay).  Draft art needs neither: it is instant, and
    its text is correct by construction."""
    if not requests:
        return []
    caps = backend.capabilities
    if not (caps.cacheable or caps.verify_text):
        return backend.generate(list(requests))
    from .cache import RegionCache
    from .config import ModelConfig
    cfg = config or ModelConfig.from_env()
    if not caps.verify_text:        # so cacheable, by the test above
        return RegionCache.from_config(cfg).get_or_generate(backend, list(requests))
    cache = RegionCache.from_config(cfg) if caps.cacheable else None
    from .verify import generate_verified
    return generate_verified(backend, list(requests), cache=cache, budget=cfg.ocr_budget,
                             threshold=cfg.ocr_threshold)


def unload() -> None:
    """Free the loaded image model (every Qwen-Image pipeline of this process, and its GPU memory).

    A long-lived process calls it between jobs that need the memory; the next render loads again."""
    from .qwen.load import (
        unload_pipelines,  # imports no torch until a pipeline was loaded
    )
    unload_pipelines()
