"""OCR verification of text-bearing regions: generated pictures in, pictures whose text is right out.

Qwen-Image renders Chinese text well, but not always character-perfect, and a wrong character in an
official document is worse than no picture text at all.  So every picture that was asked to carry text
is read back with RapidOCR (its ONNX models ship in the wheel; nothing is downloaded) and compared with
the requested text after normalisation (NFKC, case-folded, letters and digits only).  On a mismatch the
region is generated again with a new seed (``seed + 1000·k``) up to the retry budget; if no attempt
reads right, the picture is generated once more *without* the text (no text clause, lettering in the
negative prompt) and returned with ``overlay_text`` set: the typesetter sets the text as real vector
type over it (its ink chosen by :func:`docgen.typeset.ink.overlay_colour`).

Policy when RapidOCR is not installed: a picture's text cannot be checked, so it is not trusted either —
text-bearing regions go straight to the vector-overlay path (``info["ocr"] = "unavailable"``).  The text
on the page is then always right; only the lettering *inside* the picture is lost.

``RegionImage.info`` records the path taken (``model-text`` | ``vector-overlay`` | ``no-text``), the
number of attempts, their seeds and what OCR read each time.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import io
import threading
import unicodedata
from dataclasses import dataclass, replace
from typing import Sequence

from docgen.regions.base import RegionBackend, RegionImage, RegionRequest
from docgen.regions.cache import RegionCache, cache_key

OCR_UNAVAILABLE = "ocr unavailable"
VERIFY_VERSION = 1              # part of the cache key of verified results

# The fallback picture should carry no lettering of its own: the vector text goes on top of it.
NO_TEXT_NEGATIVE = {"zh": "文字, 字母, 水印, 标志", "en": "text, letters, words, watermark, logo"}

_MIN_OCR_SIDE = 320             # small regions are upscaled before OCR (the detector wants ~30 px glyphs)


# --------------------------------------------------------------------------------------------
# Comparing texts
# --------------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """NFKC, case-folded, letters and digits only (whitespace, punctuation and symbols dropped)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def similarity(expected: str, reading: str) -> float:
    """1 − (edit distance of ``expected`` to its best-matching stretch of ``reading``) / len(expected).

    Both sides normalised.  The picture may carry other lettering besides the requested text (the draft
    art's mark, a model's flourish), so the expected text is aligned against any substring of the
    reading (a semi-global alignment): 1.0 means it is there exactly.
    """
    a, b = normalise(expected), normalise(reading)
    if not a:
        return 1.0
    previous = [0] * (len(b) + 1)            # row 0: the match may start anywhere in the reading
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j - 1] + (a[i - 1] != b[j - 1]), previous[j] + 1, current[j - 1] + 1)
        previous = current
    return max(0.0, 1.0 - min(previous) / len(a))   # ... and end anywhere


# --------------------------------------------------------------------------------------------
# OCR
# --------------------------------------------------------------------------------------------
_engine = None
_engine_lock = threading.Lock()


def ocr_version() -> str | None:
    """RapidOCR's version, or None when it is not installed."""
    try:
        return importlib.metadata.version("rapidocr")
    except importlib.metadata.PackageNotFoundError:
        return None


def _ocr_engine():
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr import RapidOCR
            _engine = RapidOCR(params={"Global.log_level": "error"})
        return _engine


def ocr_available() -> tuple[bool, str]:
    """Whether OCR can run here, and why not (for ``docgen doctor``)."""
    if ocr_version() is None:
        return False, "rapidocr is not installed (pip install rapidocr onnxruntime)"
    try:
        _ocr_engine()
    except Exception as exc:  # onnxruntime missing, models unreadable
        return False, f"rapidocr cannot start: {type(exc).__name__}: {exc}"
    return True, f"rapidocr {ocr_version()}"


def read_text(image_png: bytes) -> str:
    """Everything OCR reads in the picture, lines joined top to bottom."""
    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(image_png)).convert("RGB")
    short = min(image.size)
    if short < _MIN_OCR_SIDE:
        factor = min(4.0, _MIN_OCR_SIDE / short)
        image = image.resize((round(image.width * factor), round(image.height * factor)),
                             Image.Resampling.LANCZOS)
    result = _ocr_engine()(np.asarray(image))
    return "".join(result.txts or ())


def verify(image_png: bytes, expected_text: str, threshold: float = 1.0) -> tuple[bool, str, float]:
    """(ok, what OCR read, similarity score); ``(False, OCR_UNAVAILABLE, 0.0)`` when OCR cannot run."""
    if not ocr_available()[0]:
        return False, OCR_UNAVAILABLE, 0.0
    reading = read_text(image_png)
    score = similarity(expected_text, reading)
    return score >= threshold, reading, round(score, 4)


# --------------------------------------------------------------------------------------------
# Generating with verification
# --------------------------------------------------------------------------------------------
def without_text(request: RegionRequest) -> RegionRequest:
    """The same picture without lettering: no text (so no text clause), lettering in the negative prompt."""
    lang = "zh" if request.language.lower().startswith("zh") else "en"
    negative = NO_TEXT_NEGATIVE[lang]
    if request.negative_prompt.strip():
        negative = f"{request.negative_prompt.strip()}, {negative}"
    return replace(request, text=(), negative_prompt=negative)


@dataclass(frozen=True)
class VerifyPolicy:
    budget: int = 3                 # model attempts per text-bearing region before the fallback
    threshold: float = 1.0          # similarity needed; 1.0 = exact after normalisation

    def identity(self) -> dict:
        return {"verify": VERIFY_VERSION, "budget": self.budget, "threshold": self.threshold,
                "ocr": ocr_version() or "unavailable"}


def generate_verified(backend: RegionBackend, requests: Sequence[RegionRequest],
                      cache: RegionCache | None = None, budget: int = 3,
                      threshold: float = 1.0) -> list[RegionImage]:
    """One picture per request, in order, every text-bearing one either OCR-verified or set for overlay.

    Raw pictures (each attempt, the fallback) go through ``cache`` under their own keys, so a rerun —
    or a second process — never generates one twice; the verified outcome is cached too, under a key
    that adds the verification policy, so a warm rerun does not even run OCR.
    """
    policy = VerifyPolicy(budget=budget, threshold=threshold)
    identity = backend.identity()
    final_identity = {**identity, "verified": policy.identity()}
    results: list[RegionImage | None] = [None] * len(requests)
    final_keys = [cache_key(final_identity, r) for r in requests]
    if cache is not None:
        for i, key in enumerate(final_keys):
            results[i] = cache.get(key)

    def raw(reqs: list[RegionRequest]) -> list[RegionImage]:
        if not reqs:
            return []
        return cache.get_or_generate(backend, reqs, identity) if cache is not None else backend.generate(reqs)

    todo = [i for i, r in enumerate(results) if r is None]
    plain = [i for i in todo if not requests[i].text]
    pending = [i for i in todo if requests[i].text]

    for i, image in zip(plain, raw([requests[i] for i in plain])):
        results[i] = _annotate(image, requests[i], path="no-text", attempts=[{"seed": requests[i].seed}])

    attempts: dict[int, list[dict]] = {i: [] for i in pending}
    ocr_ok, ocr_why = ocr_available() if pending else (True, "")
    if not ocr_ok:
        for i in pending:
            attempts[i].append({"ocr": OCR_UNAVAILABLE, "detail": ocr_why})
    else:
        for k in range(policy.budget):
            if not pending:
                break
            tries = [replace(requests[i], seed=requests[i].seed + 1000 * k) for i in pending]
            still = []
            for i, req, image in zip(pending, tries, raw(tries)):
                checks = [verify(image.png, text, policy.threshold) for _, text in req.text]
                passed = all(ok for ok, _, _ in checks)
                attempts[i].append({"seed": req.seed, "readings": [reading for _, reading, _ in checks],
                                    "scores": [score for _, _, score in checks], "ok": passed})
                if passed:
                    results[i] = _annotate(image, requests[i], path="model-text", attempts=attempts[i])
                else:
                    still.append(i)
            pending = still

    # Fallback: the picture without lettering, the text set as vector type over it by the typesetter.
    fallbacks = [without_text(requests[i]) for i in pending]
    for i, req, image in zip(pending, fallbacks, raw(fallbacks)):
        results[i] = _annotate(image, requests[i], path="vector-overlay",
                               attempts=attempts[i] + [{"seed": req.seed, "without_text": True}],
                               overlay_text=requests[i].text_map)

    if cache is not None:
        for i in todo:
            if requests[i].text:      # a text-free picture is already cached under its raw key
                cache.put(final_keys[i], results[i])
    return results  # type: ignore[return-value]


def _annotate(image: RegionImage, request: RegionRequest, *, path: str, attempts: list[dict],
              overlay_text: dict[str, str] | None = None) -> RegionImage:
    info = dict(image.info)
    info.update({"region_id": request.region_id, "path": path, "attempts": len(attempts), "seeds": [a["seed"] for a in attempts if "seed" in a],
                 "ocr": [a for a in attempts if "readings" in a or "ocr" in a]})
    changes: dict = {"info": info}
    if overlay_text is not None:
        changes["overlay_text"] = dict(overlay_text)
    return dataclasses.replace(image, **changes)
