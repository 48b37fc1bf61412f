"""OCR verification of text-bearing regions, the retry budget, the vector-overlay fallback, overlay ink.

Pictures with right and wrong text come from the draft backend, which sets the requested text crisply
into its art; ``TypoBackend`` asks it for a misspelt text until a given attempt, standing in for a model
that gets a character wrong.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import io
from dataclasses import replace

import pytest
from PIL import Image

from docgen.regions import verify as verify_module
from docgen.regions.base import RegionRequest
from docgen.regions.cache import RegionCache
from docgen.regions.draft import DraftBackend
from docgen.regions.verify import (
    OCR_UNAVAILABLE,
    generate_verified,
    normalise,
    similarity,
    verify,
)
from docgen.typeset.ink import contrast_ratio, overlay_colour

needs_ocr = pytest.mark.skipif(not verify_module.ocr_available()[0], reason="rapidocr not installed")

TYPOS = {"西湖欢迎您": "西湖欢迎你", "Open Day": "Opem Dax"}


class TypoBackend(DraftBackend):
    """Draft art whose text is misspelt on attempts before ``right_from`` (attempt k has seed + 1000·k)."""

    name = "typo"

    def __init__(self, right_from: int | None):
        super().__init__(max_side=640)
        self.right_from = right_from
        self.requests: list[RegionRequest] = []

    def identity(self):
        return {"backend": "typo", "right_from": self.right_from}

    def generate(self, requests):
        self.requests.extend(requests)
        drawn = []
        for r in requests:
            attempt = (r.seed % 100_000) // 1000
            wrong = self.right_from is None or attempt < self.right_from
            text = tuple((lang, TYPOS.get(t, t) if wrong else t) for lang, t in r.text)
            drawn.append(replace(r, text=text))
        return super().generate(drawn)


def poster(text="西湖欢迎您", lang="zh", seed=10, **kw):
    return RegionRequest(prompt="湖边的春天", width=480, height=270, seed=seed, text=((lang, text),),
                         language=lang, **kw)


def test_normalise_and_similarity():
    assert normalise(" Hello, World！ ２０２５ ") == "helloworld2025"
    assert normalise("“西湖”欢迎您。") == "西湖欢迎您"
    assert similarity("西湖欢迎您", "DRAFT·草图 西湖欢迎您") == 1.0        # other lettering is fine
    assert similarity("西湖欢迎您", "西湖欢迎你") == pytest.approx(0.8)     # one wrong character
    assert similarity("西湖欢迎您", "") == 0.0 and similarity("", "x") == 1.0


@needs_ocr
@pytest.mark.parametrize("text, lang", [("西湖欢迎您", "zh"), ("Open Day", "en")])
def test_verify_reads_right_and_rejects_wrong_text(text, lang):
    draft = DraftBackend(max_side=640)
    right = draft.generate([poster(text, lang)])[0]
    wrong = draft.generate([poster(TYPOS[text], lang)])[0]
    ok, reading, score = verify(right.png, text)
    assert ok and score == 1.0 and normalise(text) in normalise(reading)
    ok, reading, score = verify(wrong.png, text)
    assert not ok and score < 1.0


@needs_ocr
def test_retry_with_a_new_seed_until_the_text_reads_right(tmp_path):
    backend = TypoBackend(right_from=1)
    cache = RegionCache(tmp_path / "cache")
    image = generate_verified(backend, [poster(region_id="cover")], cache=cache, budget=3)[0]
    assert image.info["path"] == "model-text" and image.overlay_text == {}
    assert image.info["attempts"] == 2 and image.info["seeds"] == [10, 1010]
    assert [a["ok"] for a in image.info["ocr"]] == [False, True]
    assert image.info["region_id"] == "cover"
    assert [r.seed for r in backend.requests] == [10, 1010]
    again = generate_verified(backend, [poster(region_id="cover")], cache=cache, budget=3)[0]
    assert len(backend.requests) == 2 and again.png == image.png          # warm: no generation, no OCR


@needs_ocr
def test_budget_spent_falls_back_to_vector_overlay(tmp_path):
    backend = TypoBackend(right_from=None)
    plain = RegionRequest(prompt="远山", width=160, height=90, seed=3)
    images = generate_verified(backend, [poster(), plain], cache=RegionCache(tmp_path / "c"), budget=2)
    fallback, picture = images
    assert fallback.info["path"] == "vector-overlay"
    assert fallback.overlay_text == {"zh": "西湖欢迎您"}
    assert fallback.info["seeds"] == [10, 1010, 10] and fallback.info["attempts"] == 3
    assert [a["ok"] for a in fallback.info["ocr"]] == [False, False]
    last = backend.requests[-1]
    assert last.text == () and "文字" in last.negative_prompt            # the picture without lettering
    assert picture.info["path"] == "no-text" and picture.overlay_text == {}


def test_without_ocr_text_goes_straight_to_vector_overlay(monkeypatch):
    monkeypatch.setattr(verify_module, "ocr_available", lambda: (False, "rapidocr is not installed"))
    backend = TypoBackend(right_from=0)
    image = generate_verified(backend, [poster()], budget=3)[0]
    assert image.info["path"] == "vector-overlay" and image.overlay_text == {"zh": "西湖欢迎您"}
    assert image.info["ocr"][0]["ocr"] == OCR_UNAVAILABLE
    assert [r.text for r in backend.requests] == [()]                   # no attempt wasted on model text
    assert verify(image.png, "西湖欢迎您") == (False, OCR_UNAVAILABLE, 0.0)


def _png(colours, size=(40, 20)):
    image = Image.new("RGB", size)
    width = size[0] // len(colours)
    for i, colour in enumerate(colours):
        image.paste(colour, (i * width, 0, (i + 1) * width, size[1]))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_overlay_colour_picks_ink_and_flags_busy_backgrounds():
    assert contrast_ratio(1.0, 0.0) == pytest.approx(21.0)
    assert overlay_colour(_png([(250, 250, 245)])) == ((0, 0, 0), True)
    assert overlay_colour(_png([(20, 30, 60)])) == ((255, 255, 255), True)
    assert overlay_colour(_png([(0, 0, 0), (255, 255, 255)]))[1] is False   # half black, half white
    # The box decides: the left half alone is dark.
    assert overlay_colour(_png([(0, 0, 0), (255, 255, 255)]), box=(0, 0, 20, 20)) == ((255, 255, 255), True)


@needs_ocr
def test_tiny_qwen_pictures_fail_ocr_and_fall_back(tmp_path):
    """With the real backend: random-weight pictures carry no legible text, so the budget is spent and
    the region comes back text-free with its text to set as vector type."""
    from qwen_tiny import tiny_config, tiny_model_dir

    from docgen.regions.qwen import QwenImageBackend

    backend = QwenImageBackend(tiny_config(tiny_model_dir(), tmp_path / "cache"))
    request = RegionRequest(prompt="海报", width=64, height=48, seed=1, text=(("zh", "西湖欢迎您"),))
    image = generate_verified(backend, [request], cache=RegionCache(tmp_path / "cache"), budget=2)[0]
    assert image.info["path"] == "vector-overlay" and image.overlay_text == {"zh": "西湖欢迎您"}
    assert image.info["seeds"] == [1, 1001, 1] and backend.generated == 3
    assert image.info["model"] == str(tiny_model_dir()) and image.backend == "qwen-image"


# -- exact comparison: numbers, symbols and whole words -------------------------------------------
@pytest.mark.parametrize("expected, reading", [
    ("1.28亿", "128亿"),            # a decimal point
    ("12:30", "1230"),              # a time's colon
    ("10%", "10"),                  # a percent sign missing ...
    ("10", "10%"),                  # ... or added
    ("¥99", "¥999"),                # one digit more
    ("¥99", "99"),                  # a currency sign
    ("全民阅读", "全民阅读节"),       # the reading runs on into a longer word
    ("25℃", "25"),                  # a unit
    ("3.5km", "35km"),
])
def test_numbers_and_words_are_compared_exactly(expected, reading):
    from docgen.regions.verify import text_found

    assert not text_found(expected, reading)
    assert similarity(expected, reading) < 1.0


@pytest.mark.parametrize("expected, reading", [
    ("1.28亿", "1.28亿"),            # exactly
    ("12:30", "开幕 12:30"),
    ("10%", "优惠10%"),              # after another kind of character
    ("¥99", "全民阅读节¥99"),         # lettering of another kind right next to it
    ("全民阅读", "全民阅读\n4月23日"),  # a line of its own
    ("Open Day", "OPEN  DAY 2025"),  # case and spacing
    ("“西湖”欢迎您。", "西湖欢迎您"),   # quotes and sentence punctuation set aside
    ("1,000", "1，000"),             # NFKC: the full-width comma is a comma
])
def test_exact_text_is_found(expected, reading):
    from docgen.regions.verify import text_found

    assert text_found(expected, reading) and similarity(expected, reading) == 1.0


def _lettering(text: str, size: tuple[int, int], glyph_px: int) -> bytes:
    """Clean dark lettering of ``glyph_px`` on a pale ground, in a bundled font."""
    from pathlib import Path

    from PIL import ImageDraw, ImageFont

    import docgen
    font = ImageFont.truetype(str(Path(docgen.__file__).parent / "fonts" / "NotoSansSC-Regular.ttf"), glyph_px)
    image = Image.new("RGB", size, (236, 226, 204))
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((size[0] - box[2]) // 2, size[1] * 2 // 3), text, font=font, fill=(40, 24, 12))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


class RawLetteringBackend:
    """Stands in for a model with fixed training resolutions: its raw picture is 1472×1104 with clean
    lettering of 32 px glyphs; the frame it fills is a quarter of that, so fitted the glyphs are 8 px."""

    name = "raw-lettering"
    from docgen.regions.base import Capabilities
    capabilities = Capabilities(generative=True, verify_text=True, cacheable=True)

    def __init__(self):
        self.requests = []

    def identity(self):
        return {"backend": self.name}

    def raw_size(self, request):
        return (1472, 1104)

    def fit(self, image, request):
        picture = Image.open(io.BytesIO(image.png)).resize((request.width, request.height), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        picture.save(buf, format="PNG")
        return replace(image, png=buf.getvalue(), width=request.width, height=request.height)

    def generate(self, requests):
        from docgen.regions.base import RegionImage

        self.requests.extend(requests)
        return [RegionImage(png=_lettering("全民阅读节 ¥99", (r.width, r.height), 32), width=r.width,
                            height=r.height, backend=self.name) for r in requests]


@needs_ocr
@pytest.mark.parametrize("glyph_px", [30, 40])
def test_small_clean_lettering_is_read(glyph_px):
    assert verify(_lettering("全民阅读节", (1328, 1328), glyph_px), "全民阅读节")[0]


@needs_ocr
def test_lettering_is_read_at_the_raw_resolution_not_the_frame(tmp_path):
    backend = RawLetteringBackend()
    request = RegionRequest(prompt="海报", width=368, height=276, seed=1, text=(("zh", "全民阅读节"),),
                            region_id="body.2")
    image = generate_verified(backend, [request], cache=RegionCache(tmp_path / "cache"), budget=3)[0]
    assert image.info["path"] == "model-text" and image.info["attempts"] == 1     # read at once
    assert (image.width, image.height) == (368, 276)                               # fitted after
    assert [(r.width, r.height) for r in backend.requests] == [(1472, 1104)]
    # the wrong figure is not accepted from the same picture
    wrong = RegionRequest(prompt="海报", width=368, height=276, seed=1, text=(("zh", "¥999"),))
    image = generate_verified(backend, [wrong], cache=RegionCache(tmp_path / "c2"), budget=1)[0]
    assert image.info["path"] == "vector-overlay"


def test_fallback_asks_for_no_lettering():
    from docgen.regions.verify import without_text

    fallback = without_text(poster())
    assert fallback.no_lettering and fallback.text == () and "文字" in fallback.negative_prompt
