"""Provenance of generated regions: the document's pictures in, plain provenance records out.

One record per region (a plain dict: region id, backend, whether a generative model made it, model,
weights revision, seed, prompt hash, path taken, attempts, the picture's sha256, overlay text), in the
form :func:`docgen.pdf.xmp.xmp_packet` writes into the PDF's XMP packet, with the implicit AIGC label
GB 45438-2025 asks for when any region is AI-generated.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

from docgen.regions.base import RegionImage


def is_ai_generated(region: RegionImage) -> bool:
    """A picture made by a generative model (draft placeholder art is not)."""
    return not region.placeholder and region.backend != "draft"


def provenance_records(regions: Sequence[RegionImage]) -> list[dict]:
    """One plain record per region, in order; a missing value is None."""
    return [_record(r) for r in regions]


def _record(region: RegionImage) -> dict:
    info = region.info
    return {
        "region_id": info.get("region_id"),
        "backend": region.backend,
        "ai_generated": is_ai_generated(region),
        "model": info.get("model"),
        "revision": info.get("revision") or info.get("weights"),
        "seed": info.get("seed"),
        "prompt_hash": info.get("prompt_hash"),
        "path": info.get("path"),
        "attempts": info.get("attempts"),
        "image_sha256": hashlib.sha256(region.png).hexdigest(),
        "overlay_text": dict(region.overlay_text),
    }
