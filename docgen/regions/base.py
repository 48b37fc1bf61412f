"""Region backends: a request for a generated picture in, a PNG and its provenance out.

A layout asks for a generated region (``generate:`` in the spec).  The renderer turns each one into a
:class:`RegionRequest` (pixel size already chosen from the frame), hands the list to a backend, and
gets one :class:`RegionImage` back per request, in order.  Backends are small classes with one job;
heavy libraries (torch, diffusers) are imported inside the backend that needs them, never here.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol, Sequence


@dataclass(frozen=True)
class RegionRequest:
    """Everything that determines a generated picture (the spec's ``generate`` block, resolved)."""

    prompt: str
    width: int                       # pixels
    height: int                      # pixels
    seed: int = 0
    text: tuple[tuple[str, str], ...] = ()   # (language, text) the picture must carry; () = none
    negative_prompt: str = ""
    language: str = "zh"             # primary language of the document (quality suffix, OCR)
    region_id: str = ""              # stable id within the document (for reports), e.g. "body.3"
    no_lettering: bool = False       # the OCR fallback: a picture with no lettering of its own

    @property
    def text_map(self) -> dict[str, str]:
        return dict(self.text)

    def key_fields(self) -> dict:
        """The request's part of a cache key (canonical, JSON-serialisable)."""
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
            # The strings alone: which edition language a text belongs to changes no pixel, so a text
            # shared by both languages is one picture for every edition.
            "text": [t for _, t in self.text],
            "language": self.language,
            **({"no_lettering": True} if self.no_lettering else {}),
        }

    def prompt_hash(self) -> str:
        return hashlib.sha256(self.prompt.encode("utf-8")).hexdigest()[:16]


@dataclass
class RegionImage:
    """A generated picture and what the render report / XMP provenance says about it."""

    png: bytes
    width: int
    height: int
    backend: str                     # "draft", "qwen-image", ...
    # provenance: model, revision, seed, prompt_hash, steps, cfg, path taken ("model-text",
    # "vector-overlay", "draft"), ocr reading ... — all JSON-serialisable
    info: dict = field(default_factory=dict)
    # text to set as vector type over the picture (the OCR-fallback path); {} = none
    overlay_text: dict[str, str] = field(default_factory=dict)
    placeholder: bool = False        # True for draft art: not a real generated picture


@dataclass(frozen=True)
class Capabilities:
    """What a backend is, as the rest of docgen asks it (never by the backend's name)."""

    generative: bool = True         # a generative model makes the pictures
    verify_text: bool = True        # its lettering may be wrong: read text-bearing pictures back with OCR
    cacheable: bool = True          # same request + identity → same pixels, worth keeping in the region cache
    shared_process: bool = False    # holds a GPU: a batch runs one instance in a shared service, not per worker
    placeholder: bool = False       # marked placeholder art: no AI label, not a real picture


class RegionBackend(Protocol):
    """One job: requests in, images out (same order, same length).

    A backend whose picture depends on the frame's aspect but not its pixels (a model with fixed
    training resolutions) may also define ``raw_size(request) -> (w, h)`` and ``fit(image, request)
    -> RegionImage``: the cache then keeps the raw picture once and fits it to every frame and edition.
    """

    name: str                        # the name it is registered under (a batch's region service rebuilds it by name)
    capabilities: Capabilities

    def identity(self) -> dict:
        """What, besides the request, determines the pixels (model id, revision, dtype, versions…)."""

    def generate(self, requests: Sequence[RegionRequest]) -> list[RegionImage]:
        ...


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
