"""OCR verification of text-bearing regions: generated pictures in, pictures whose text is right out.

Qwen-Image renders Chinese text well, but not always character-perfect, and a wrong character in an
official document is worse than no picture text at all.  So every picture that was asked to carry text
is read back with RapidOCR (its ONNX models ship in the wheel; nothing is downloaded) and compared with
the requested text exactly, character for character: only NFKC, case, whitespace, quotes and brackets,
and sentence punctuation that is not inside a number are set aside, so ``1.28亿`` ≠ ``128亿``, ``12:30``
≠ ``1230``, ``10%`` ≠ ``10`` and ``¥99`` ≠ ``¥999``; and the text must stand on its own in the reading
(``全民阅读`` is not found in ``全民阅读节``: the match may not run on into more of the same kind of
character).  OCR reads the raw picture cropped to the frame's aspect, at the model's resolution, so
lettering that is clean at 30 px is not lost by a downscale to a small frame first.  On a mismatch the
region is generated again with a new seed (``seed + 1000·k``) up to the retry budget; if no attempt
reads right, the picture is generated once more *without* the text (no text clause, lettering in the
negative prompt, ``no_lettering`` for backends that run without CFG and so ignore a negative prompt)
and returned with ``overlay_text`` set: the typesetter sets the text as real vector
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
from docgen.regions.cache import RegionCache, cache_key, fit_to_request, raw_request

OCR_UNAVAILABLE = "ocr unavailable"
VERIFY_VERSION = 2              # part of the cache key of verified results

# The fallback picture should carry no lettering of its own: the vector text goes on top of it.
NO_TEXT_NEGATIVE = {"zh": "文字, 字母, 水印, 标志", "en": "text, letters, words, watermark, logo"}

_MIN_OCR_SIDE = 640             # smaller pictures are upscaled before OCR (the detector wants ~30 px glyphs)


# --------------------------------------------------------------------------------------------
# Comparing texts
# --------------------------------------------------------------------------------------------
# Set aside when comparing: quotes and brackets (Unicode Pi/Pf/Ps/Pe and their ASCII forms), and
# sentence punctuation.  ``, . :`` count only between two digits (1,000 · 1.28 · 12:30), where they
# are part of the number; everything else — %, ¥, $, °, units, ·, every letter and digit — counts.
_QUOTES = set("\"'`")
_SENTENCE = set("。！？!?、；;…")
_IN_NUMBERS = set(",.:")


def _compact(text: str) -> tuple[str, set[int]]:
    """The comparable characters of ``text`` and the positions where a gap (whitespace, a new line or
    something set aside) came before one: the boundaries a match may start or end at."""
    text = unicodedata.normalize("NFKC", text).casefold()
    chars: list[str] = []
    gaps: set[int] = set()
    visible = [(i, ch) for i, ch in enumerate(text) if not ch.isspace()]
    for k, (i, ch) in enumerate(visible):
        gap_before = k == 0 or visible[k - 1][0] != i - 1
        if ch in _IN_NUMBERS:
            prev = visible[k - 1][1] if k else ""
            nxt = visible[k + 1][1] if k + 1 < len(visible) else ""
            keep = prev.isdigit() and nxt.isdigit()
        else:
            keep = not (ch in _QUOTES or ch in _SENTENCE or unicodedata.category(ch) in ("Pi", "Pf", "Ps", "Pe"))
        if not keep:
            gaps.add(len(chars))
            continue
        if gap_before:
            gaps.add(len(chars))
        chars.append(ch)
    gaps.add(len(chars))
    return "".join(chars), gaps


def normalise(text: str) -> str:
    """The characters compared: NFKC, case-folded, without whitespace, quotes, brackets and sentence
    punctuation (``, . :`` kept inside numbers)."""
    return _compact(text)[0]


def _kind(ch: str) -> str:
    """What a match may not run on into: more digits (and what belongs to a number), more letters of
    the same script."""
    if ch.isdigit() or ch in ",.:%‰¥$€£°":
        return "number"
    if ch.isalpha():
        return "han" if unicodedata.name(ch, "").startswith("CJK") else "letter"
    return ch


def text_found(expected: str, reading: str) -> bool:
    """Whether ``expected`` stands in ``reading`` exactly: every character the same, and not part of a
    longer word or number (the neighbours of the match are a gap or a different kind of character)."""
    a = normalise(expected)
    if not a:
        return True
    b, gaps = _compact(reading)
    start = b.find(a)
    while start >= 0:
        end = start + len(a)
        left = start in gaps or _kind(b[start - 1]) != _kind(a[0])
        right = end in gaps or _kind(b[end]) != _kind(a[-1])
        if left and right:
            return True
        start = b.find(a, start + 1)
    return False


def similarity(expected: str, reading: str) -> float:
    """1.0 when :func:`text_found`; else 1 − (edit distance of ``expected`` to its best-matching stretch
    of ``reading``) / len(expected), kept below 1.

    The picture may carry other lettering besides the requested text (the draft art's mark, a model's
    flourish), so the expected text is aligned against any substring of the reading (a semi-global
    alignment).  A stretch that matches but runs on into more of the same (``全民阅读`` in
    ``全民阅读节``) scores at most (n − 1) / n.
    """
    a, b = normalise(expected), normalise(reading)
    if not a:
        return 1.0
    if text_found(expected, reading):
        return 1.0
    previous = [0] * (len(b) + 1)            # row 0: the match may start anywhere in the reading
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j - 1] + (a[i - 1] != b[j - 1]), previous[j] + 1, current[j - 1] + 1)
        previous = current
    score = max(0.0, 1.0 - min(previous) / len(a))   # ... and end anywhere
    return min(score, (len(a) - 1) / len(a))


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
        factor = min(4.0, _MIN_OCR_SIDE / max(1, short))
        image = image.resize((round(image.width * factor), round(image.height * factor)),
                             Image.Resampling.LANCZOS)
    result = _ocr_engine()(np.asarray(image))
    return "\n".join(result.txts or ())      # lines stay apart: a match may not run across them


def verify(image_png: bytes, expected_text: str, threshold: float = 1.0) -> tuple[bool, str, float]:
    """(ok, what OCR read, similarity score); ``(False, OCR_UNAVAILABLE, 0.0)`` when OCR cannot run."""
    if not ocr_available()[0]:
        return False, OCR_UNAVAILABLE, 0.0
    reading = read_text(image_png)
    score = similarity(expected_text, reading)
    ok = text_found(expected_text, reading) if threshold >= 1.0 else score >= threshold
    return ok, reading, round(score, 4)


# --------------------------------------------------------------------------------------------
# Generating with verification
# --------------------------------------------------------------------------------------------
def without_text(request: RegionRequest) -> RegionRequest:
    """The same picture without lettering: no text (so no text clause), lettering in the negative prompt
    and ``no_lettering`` set (for a backend without CFG, which asks for it in the prompt instead)."""
    lang = "zh" if request.language.lower().startswith("zh") else "en"
    negative = NO_TEXT_NEGATIVE[lang]
    if request.negative_prompt.strip():
        negative = f"{request.negative_prompt.strip()}, {negative}"
    return replace(request, text=(), negative_prompt=negative, no_lettering=True)


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
        """Raw pictures (the backend's generation size), through the cache when there is one."""
        if not reqs:
            return []
        if cache is not None:
            return cache.get_or_generate_raw(backend, reqs, identity)
        return backend.generate([raw_request(backend, r) for r in reqs])

    todo = [i for i, r in enumerate(results) if r is None]
    plain = [i for i in todo if not requests[i].text]
    pending = [i for i in todo if requests[i].text]

    for i, image in zip(plain, raw([requests[i] for i in plain])):
        results[i] = _annotate(fit_to_request(backend, image, requests[i]), requests[i], path="no-text",
                               attempts=[{"seed": requests[i].seed}])

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
                view = ocr_view(image.png, req.width, req.height)
                image = fit_to_request(backend, image, req)
                checks = [verify(view, text, policy.threshold) for _, text in req.text]
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
        results[i] = _annotate(fit_to_request(backend, image, req), requests[i], path="vector-overlay",
                               attempts=attempts[i] + [{"seed": req.seed, "without_text": True}],
                               overlay_text=requests[i].text_map)

    if cache is not None:
        for i in todo:
            if requests[i].text:      # a text-free picture is already cached under its raw key
                cache.put(final_keys[i], results[i])
    return results  # type: ignore[return-value]


def ocr_view(png: bytes, width: int, height: int) -> bytes:
    """The part of a raw picture the frame shows (centre crop to ``width``:``height``), at the raw
    picture's resolution: what OCR reads, before any downscale to the frame's pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    w, h = image.size
    if abs(w * height - h * width) <= max(w, h):       # same aspect, to a pixel
        return png
    if w * height > h * width:                          # wider than the frame: crop the sides
        cw, ch = round(h * width / height), h
    else:
        cw, ch = w, round(w * height / width)
    left, top = (w - cw) // 2, (h - ch) // 2
    buf = io.BytesIO()
    image.convert("RGB").crop((left, top, left + cw, top + ch)).save(buf, format="PNG")
    return buf.getvalue()


def _annotate(image: RegionImage, request: RegionRequest, *, path: str, attempts: list[dict],
              overlay_text: dict[str, str] | None = None) -> RegionImage:
    info = dict(image.info)
    info.update({"region_id": request.region_id, "path": path, "attempts": len(attempts), "seeds": [a["seed"] for a in attempts if "seed" in a],
                 "ocr": [a for a in attempts if "readings" in a or "ocr" in a]})
    changes: dict = {"info": info}
    if overlay_text is not None:
        changes["overlay_text"] = dict(overlay_text)
    return dataclasses.replace(image, **changes)
