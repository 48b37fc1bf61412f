"""Reference pages: one page per layout and edition of the shipped examples against tests/golden/*.png.

After an intended change of the output: ``python3 tools/golden.py --update`` (see tests/golden/README.md)."""
import copy
import random
import sys

import pytest
import yaml
from PIL import Image, ImageChops

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import golden as G  # noqa: E402

MM_PX = G.DPI / 25.4


@pytest.mark.parametrize("case", G.CASES, ids=[c.name for c in G.CASES])
def test_page_matches_reference(case):
    cmp, msg = G.check(case)
    assert cmp.ok, msg


def _reference(name):
    img = Image.open(G.golden_path(name))
    img.load()
    return img.convert("L")


@pytest.fixture(scope="module")
def report():
    """The stacked report's body page: its reference, its example spec, and a re-render of a changed spec."""
    case = G.BY_NAME["report-stacked-body"]
    spec = yaml.safe_load((G.EXAMPLES / case.spec).read_text(encoding="utf-8"))

    def rerender(change):
        s = copy.deepcopy(spec)
        change(s)
        return G.rasterise(G.render_pdf(case, s), case.page)
    return _reference(case.name), rerender


def _text_line_band(img):
    """(top, bottom) rows of a line of text near the middle of the page: inked rows between blank ones."""
    w, h = img.size
    inked = [img.crop((0, y, w, y + 1)).getextrema()[0] < 160 for y in range(h)]
    bands, start = [], None
    for y, ink in enumerate(inked):
        if ink and start is None:
            start = y
        elif not ink and start is not None:
            bands.append((start, y))
            start = None
    bands = [b for b in bands if 5 <= b[1] - b[0] <= 14]        # a body line at 60 dpi, not a rule or picture
    return min(bands, key=lambda b: abs(b[0] - h / 2))


# -- the comparison tolerates rendering noise --------------------------------------------------------------

def test_tolerates_gamma_jitter_and_noise(report):
    ref, _ = report
    rnd = random.Random(1)
    noisy = Image.frombytes("L", ref.size, bytes(max(0, min(255, v + rnd.randint(-24, 24))) for v in ref.tobytes()))
    for variant in (ref.point(lambda v: round(255 * (v / 255) ** 1.3)),    # darker edge shading
                    ref.point(lambda v: round(255 * (v / 255) ** 0.8)),    # lighter edge shading
                    ImageChops.offset(ref, 1, 0), ImageChops.offset(ref, 0, 1),   # whole-pixel jitter
                    noisy):
        assert G.compare(variant, ref).ok


# -- ... and reports what a reader would notice -----------------------------------------------------------

def test_a_changed_word_is_a_difference(report):
    ref, rerender = report

    def change(s):
        p = s["body"][1]["paragraph"]
        p["en"] = p["en"].replace("Revenue", "Turnover")
    cmp = G.compare(rerender(change), ref)
    assert not cmp.ok and cmp.bad > 2 * G.MAX_BAD


def test_an_added_paragraph_is_a_difference(report):
    ref, rerender = report
    cmp = G.compare(rerender(lambda s: s["body"].insert(2, {"paragraph": {"zh": "新增一段。", "en": "One more."}})), ref)
    assert not cmp.ok


def test_a_line_moved_one_millimetre_is_a_difference(report):
    ref, _ = report
    top, bottom = _text_line_band(ref)
    line = ref.crop((0, top, ref.width, bottom))
    moved = ref.copy()
    moved.paste(Image.new("L", line.size, 255), (0, top))
    moved.paste(line, (0, top + round(MM_PX)))
    cmp = G.compare(moved, ref)
    assert not cmp.ok and cmp.bad > 2 * G.MAX_BAD


def test_a_failure_writes_actual_and_diff_images(tmp_path, monkeypatch):
    case = G.BY_NAME["report-zh-title"]
    ref = _reference(case.name)
    shifted = ImageChops.offset(ref, 0, 3)
    monkeypatch.setattr(G, "page_image", lambda c, spec=None: shifted)
    cmp, msg = G.check(case, failures=tmp_path)
    assert not cmp.ok
    assert str(tmp_path) in msg and "--update" in msg
    actual, diff = tmp_path / f"{case.name}.actual.png", tmp_path / f"{case.name}.diff.png"
    assert Image.open(actual).size == ref.size and Image.open(diff).mode == "RGB"


def test_references_are_small():
    pngs = list(G.GOLDEN.glob("*.png"))
    assert {p.stem for p in pngs} == set(G.BY_NAME)
    assert sum(p.stat().st_size for p in pngs) < 1_000_000
